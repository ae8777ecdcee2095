"""Embedding explorer: UMAP maps of each space side by side, with linked brushing."""

from functools import partial

import pandas as pd
import streamlit as st

from ui.charts import space_map
from ui.resources import agreement_table, built_models, movies, projection, require_models
from ui.text import t
from engine.core.registry import SPACES

st.title(t("page_explorer"))
st.caption(t("explorer_caption"))
require_models(*SPACES)
models = built_models()
df = movies().set_index("movie_id")
labels = df["label"].to_dict()

c1, c2, c3 = st.columns([1, 2, 1])
colour_by = c1.radio(t("colour_by"), ["genre", "year", "popularity"], key="explorer_colour",
                     format_func=lambda c: t(f"colour_{c}"), horizontal=True)
picked = c2.multiselect(t("highlight_movies"), df.index.tolist(), key="explorer_pick",
                        format_func=lambda m: labels.get(m, str(m)), max_selections=20)
if c3.button(t("clear_selection"), key="explorer_clear"):
    st.session_state["explorer_brushed"] = []
brushed = set(st.session_state.get("explorer_brushed", [])) | set(picked)

maps = {m: projection(m) for m in models}


def _brush(model: str) -> None:
    """Points lasso- or box-selected in one map become the selection of every map."""
    state = st.session_state.get(f"explorer_map_{model}")
    points = state.selection.points if state is not None else []
    ids = maps[model][0]
    st.session_state["explorer_brushed"] = [int(ids[p["point_index"]]) for p in points if "point_index" in p]


cols = st.columns(len(models))
for col, model in zip(cols, models):
    with col:
        st.plotly_chart(space_map(*maps[model], movies=df, colour_by=colour_by, brushed=brushed,
                                  title=t(f"space_{model}")), key=f"explorer_map_{model}", on_select=partial(_brush, model),
                        selection_mode=("lasso", "box", "points"))
st.caption(t("brush_hint", n=len(brushed)))

if brushed:
    sel = df.loc[[m for m in brushed if m in df.index]]
    st.dataframe(pd.DataFrame({t("col_title"): sel["label"], t("col_genres"): sel["genres"].str.join(", "),
                               t("col_ratings"): sel["n_ratings"]}), hide_index=True, key="explorer_selected")

st.subheader(t("agreement_title"))
st.caption(t("agreement_caption"))
st.dataframe(agreement_table(tuple(models)), hide_index=True, key="explorer_agreement")
