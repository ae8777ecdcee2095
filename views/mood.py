"""Mood search: one query ranked three ways side by side (semantic, keyword BM25, hybrid RRF), LIKE baseline below."""

import pandas as pd
import streamlit as st

from ui.plain import escape, say
from ui.resources import engine, require_models, show_error
from ui.text import t
from ui.urlstate import set_param
from engine.errors import MovieDNAError
from engine.recsys.query import clean_query

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
LANGUAGE_KO = {"English": "영어", "Hangul script": "한국어"}

MAX_INPUT_CHARS = 2000  # the engine refuses long queries with a message; the box stops at this

lang = st.session_state.get("lang", "en")
examples = EXAMPLES.get(lang, EXAMPLES["en"])

st.title(t("page_mood"))
st.caption(t("mood_caption"))
require_models("text", "use")

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
opts, cols = st.columns([2, 1])
# labels fixed at script time: a format_func that reads the session's language later (AppTest does,
# outside the script run) would label the options in English on the Korean page
space_labels = {s: t(f"mood_space_{s}") for s in ("auto", "use", "text")}
space = opts.radio(t("mood_space"), list(space_labels), format_func=space_labels.__getitem__,
                   horizontal=True, key="mood_space", help=t("mood_space_help"))
k = cols.slider(t("how_many"), 5, 30, 10, key="mood_k")

if not query.strip():
    st.warning(t("empty_query"))
    st.stop()
try:  # one sentence for a query every mode refuses (too long, no letters), not one per column
    clean_query(query)
except MovieDNAError as exc:
    show_error(exc)
    st.stop()
set_param("q", query)


def table(hits) -> pd.DataFrame:
    fused = [*(hits.query.get("fusion") or {}).get("spaces", []), "bm25"]  # the hybrid's lists, in order
    rows = []
    for it in hits.items:
        row = {t("col_title"): it["title"], t("col_year"): it.get("year"),
               t("col_genres"): ", ".join(it.get("genres") or []), t("col_score"): round(it["score"], 3)}
        if "semantic_rank" in it:
            row[t("col_ranks_lists", lists=" · ".join(m if m != "bm25" else "BM25" for m in fused))] = " · ".join(
                "–" if it.get(f"{m}_rank") is None else str(it[f"{m}_rank"]) for m in fused)
        rows.append(row)
    return pd.DataFrame(rows)


def timing(hits) -> None:
    st.caption(t("timing", parts=" · ".join(f"{n} {v:.1f} ms" for n, v in hits.timings_ms.items())))


def language(name: str) -> str:
    return LANGUAGE_KO.get(name, name) if lang == "ko" else name


columns = st.columns(3)
for col, mode, title in zip(columns, ("semantic", "bm25", "hybrid"),
                            ("semantic_results", "bm25_results", "hybrid_results")):
    with col:
        st.subheader(t(title))
        try:
            with st.spinner(t("encoding")):
                hits = engine().search(query, mode=mode, space=space, k=k)
            q = hits.query
            if q.get("space"):
                st.caption(t("served_by", space=escape(q["space"]),  # the encoder's name comes from stored data
                             encoder=escape((q.get("encoder") or {}).get("name", "?")),
                             language=escape(language(q.get("language", "")))))
            if hits.items:
                st.dataframe(table(hits), hide_index=True, key=f"mood_{mode}")
            elif mode == "bm25":
                lang_name = q.get("language", "English")
                st.info(t("bm25_empty") if lang_name == "English" else t("bm25_empty_foreign", language=language(lang_name)))
            if mode == "hybrid" and hits.items and all(it["bm25_rank"] is None for it in hits.items):
                st.caption(t("hybrid_semantic_only"))
            elif mode == "hybrid" and not q.get("fusion", {}).get("bm25_confident", True):
                st.caption(t("hybrid_bm25_unsure"))
            if lang == "en" and mode != "bm25":  # engine notes are English; routing and BM25 are shown above
                for note in hits.notes:
                    if note != f"{q.get('route')}." and not note.startswith("BM25"):
                        say("caption", note)  # notes may quote the query: plain text
            timing(hits)
        except MovieDNAError as exc:
            show_error(exc)

with st.expander(t("like_baseline")):
    try:
        kw = engine().keyword_search(query, k=k)
        if kw.items:
            st.dataframe(table(kw), hide_index=True, key="mood_keyword")
        else:
            st.info(t("bm25_empty"))
        timing(kw)
    except MovieDNAError as exc:
        show_error(exc)
