"""Mood search: one query ranked three ways side by side (semantic, keyword BM25, hybrid RRF), LIKE baseline below."""

import pandas as pd
import streamlit as st

from ui.answers import search_frame, show_notes, timing_caption
from ui.charts import mmr_tradeoff
from ui.evaluation import beyond
from ui.filters import filter_bar
from ui.plain import escape
from ui.resources import engine, require_models, show_error
from ui.text import language_name, t
from ui.urlstate import set_param
from engine.core.errors import MovieDNAError
from engine.core.inputs import clean_query
from engine.recsys.diversity import LAMBDAS, MMR_CANDIDATES
from engine.core.registry import TEXT_SPACES

EXAMPLES = {
    "en": [
        "a heartwarming space adventure",
        "feel-good story about friendship",
        "dark and gritty crime in the city",
        "something to make me cry",
        "spooky film for a stormy night",
        "epic battles and sword fights",
    ],
    "ko": [
        "가슴이 웅장해지는 우주 영화",
        "우울할 때 보기 좋은 영화",
        "도시의 어두운 범죄 이야기",
        "눈물 없이 볼 수 없는 영화",
        "비 오는 밤에 보는 무서운 영화",
        "칼싸움과 웅장한 전투",
    ],
}

MAX_INPUT_CHARS = 2000  # the engine refuses long queries with a message; the box stops at this

lang = st.session_state.get("lang", "en")
examples = EXAMPLES.get(lang, EXAMPLES["en"])

st.title(t("page_mood"))
st.caption(t("mood_caption"))
require_models(*TEXT_SPACES)

if "mood_query" not in st.session_state:
    st.session_state["mood_query"] = str(st.query_params.get("q", examples[0]))[:MAX_INPUT_CHARS]
elif st.session_state["mood_query"] in {ex[0] for code, ex in EXAMPLES.items() if code != lang}:
    st.session_state["mood_query"] = examples[0]  # the other language's untouched default: follow the switch


def _use(example: str) -> None:
    st.session_state["mood_query"] = example


query = st.text_input(t("mood_input"), key="mood_query", max_chars=MAX_INPUT_CHARS, placeholder=examples[0])
chips = st.columns(len(examples))
for i, (col, ex) in enumerate(zip(chips, examples)):
    col.button(ex, key=f"mood_example_{i}", on_click=_use, args=(ex,), width="stretch")
opts, lam_col, cols = st.columns([2, 1, 1])
# labels fixed at script time: a format_func that reads the session's language later (AppTest does,
# outside the script run) would label the options in English on the Korean page
space_labels = {s: t(f"mood_space_{s}") for s in ("auto", *sorted(TEXT_SPACES, key=lambda s: not TEXT_SPACES[s]))}
space = opts.radio(t("mood_space"), list(space_labels), format_func=space_labels.__getitem__,
                   horizontal=True, key="mood_space", help=t("mood_space_help"))
k = cols.slider(t("how_many"), 5, 30, 10, key="mood_k")
lam = lam_col.select_slider(t("mmr_lambda"), list(LAMBDAS), value=1.0, key="mood_lambda", help=t("mmr_lambda_help"))

if not query.strip():
    st.warning(t("empty_query"))
    st.stop()
try:  # one sentence for a query every mode refuses (too long, no letters), not one per column
    clean_query(query)
except MovieDNAError as exc:
    show_error(exc)
    st.stop()
set_param("q", query)
where = filter_bar("mood")


columns = st.columns(3)
for col, mode, title in zip(columns, ("semantic", "bm25", "hybrid"),
                            ("semantic_results", "bm25_results", "hybrid_results")):
    with col:
        st.subheader(t(title))
        try:
            with st.spinner(t("encoding")):
                hits = engine().search(query, mode=mode, space=space, k=k if lam >= 1.0 else max(k, MMR_CANDIDATES),
                                       where=where)
                hits = engine().diversify(hits, lam, k)     # MMR in the space that answered (1: unchanged)
            q = hits.query
            if q.space:
                st.caption(t("served_by", space=escape(q.space),  # the encoder's name comes from stored data
                             encoder=escape(q.encoder.name if q.encoder else "?"),
                             language=escape(language_name(q.language))))
            if hits.items:
                st.dataframe(search_frame(hits), hide_index=True, key=f"mood_{mode}")
            # routing is said by the caption above; BM25's empty answer and the fusion by their own notes
            show_notes(hits.notes, skip={q.route.code} if q.route else ())
            st.caption(timing_caption(hits))
        except MovieDNAError as exc:
            show_error(exc)

measured = beyond(engine())
if measured is not None and measured.mmr:
    st.plotly_chart(mmr_tradeoff({m: measured.mmr[m] for m in TEXT_SPACES if m in measured.mmr}, lam, measured.k,
                                 measured.content_space or "text"), key="mood_mmr_chart")
else:
    st.caption(t("mmr_not_measured"))

with st.expander(t("like_baseline")):
    try:
        kw = engine().keyword_search(query, k=k, where=where)
        if kw.items:
            st.dataframe(search_frame(kw), hide_index=True, key="mood_keyword")
        show_notes(kw.notes)
        st.caption(timing_caption(kw))
    except MovieDNAError as exc:
        show_error(exc)
