"""Mood search: free text embedded by the text model vs the SQL LIKE keyword baseline."""

import pandas as pd
import streamlit as st

from ui.resources import engine, require_models, show_error
from ui.text import t
from ui.urlstate import set_param
from engine.errors import MovieDNAError

EXAMPLES = [
    "a heartwarming space adventure",
    "feel-good story about friendship",
    "dark and gritty crime in the city",
    "something to make me cry",
    "spooky film for a stormy night",
    "epic battles and sword fights",
]

st.title(t("page_mood"))
st.caption(t("mood_caption"))
require_models("text")

if "mood_query" not in st.session_state:
    st.session_state["mood_query"] = st.query_params.get("q", EXAMPLES[0])


def _use(example: str) -> None:
    st.session_state["mood_query"] = example


query = st.text_input(t("mood_input"), key="mood_query", max_chars=2000, placeholder=EXAMPLES[0])
chips = st.columns(len(EXAMPLES))
for i, (col, ex) in enumerate(zip(chips, EXAMPLES)):
    col.button(ex, key=f"mood_example_{i}", on_click=_use, args=(ex,), width="stretch")
k = st.slider(t("how_many"), 5, 30, 10, key="mood_k")
st.info(t("korean_note"), icon=":material/translate:")

if not query.strip():
    st.warning(t("empty_query"))
    st.stop()
set_param("q", query)


def table(hits) -> pd.DataFrame:
    return pd.DataFrame([{
        t("col_title"): it["title"], t("col_year"): it.get("year"),
        t("col_genres"): ", ".join(it.get("genres") or []), t("col_score"): round(it["score"], 3),
    } for it in hits.items])


left, right = st.columns(2)
with left:
    st.subheader(t("semantic_results"))
    try:
        with st.spinner(t("encoding")):
            sem = engine().mood_search(query, k=k)
        for note in sem.notes:
            st.caption(note)
        st.dataframe(table(sem), hide_index=True, key="mood_semantic")
        st.caption(t("timing", parts=" · ".join(f"{n} {v:.1f} ms" for n, v in sem.timings_ms.items())))
    except MovieDNAError as exc:
        show_error(exc)
with right:
    st.subheader(t("keyword_results"))
    try:
        kw = engine().keyword_search(query, k=k)
        if kw.items:
            st.dataframe(table(kw), hide_index=True, key="mood_keyword")
        for note in kw.notes:
            st.info(note)
        st.caption(t("timing", parts=" · ".join(f"{n} {v:.1f} ms" for n, v in kw.timings_ms.items())))
    except MovieDNAError as exc:
        show_error(exc)
