"""Embedding explorer: UMAP maps of each space side by side, with linked brushing."""

from functools import partial

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from ui.plain import plot_text
from ui.resources import agreement_table, built_models, movies, projection, require_models
from ui.text import t
from engine.registry import SPACES

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


def figure(model: str) -> go.Figure:
    ids, xy = maps[model]
    meta = df.reindex(ids)
    hover = [plot_text(labels.get(int(m), "")) for m in ids]  # titles from the data files: text, not HTML
    sel = np.array([int(m) in brushed for m in ids]) if brushed else np.ones(len(ids), bool)
    opacity = np.where(sel, 0.9, 0.08)
    if colour_by == "genre":
        first = meta["genres"].map(lambda g: g[0] if isinstance(g, list) and g else "(none)")
        fig = go.Figure()
        palette = px.colors.qualitative.Dark24  # 12 genres: no colour used twice
        for i, g in enumerate(first.value_counts().index[:12]):
            m = (first == g).to_numpy()
            fig.add_trace(go.Scattergl(x=xy[m, 0], y=xy[m, 1], mode="markers", name=plot_text(g), text=np.array(hover)[m],
                                       hoverinfo="text", marker={"size": 5, "opacity": opacity[m], "color": palette[i]}))
    else:
        val = meta["year"].astype("float") if colour_by == "year" else np.log10(1 + meta["n_ratings"].astype(float))
        fig = go.Figure(go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers", text=hover, hoverinfo="text",
                                     marker={"size": 5, "opacity": opacity, "color": val, "colorscale": "Viridis",
                                             "showscale": True, "colorbar": {"title": t(f"colour_{colour_by}"),
                                                                              "thickness": 8}}))
    if brushed:
        pts = [i for i, m in enumerate(ids) if int(m) in brushed]
        fig.add_trace(go.Scattergl(x=xy[pts, 0], y=xy[pts, 1], mode="markers", name=t("selected"),
                                   text=[hover[i] for i in pts], hoverinfo="text",
                                   marker={"size": 9, "color": "rgba(0,0,0,0)", "line": {"width": 2, "color": "#ff4b4b"}}))
    fig.update_layout(height=430, margin={"l": 0, "r": 0, "t": 30, "b": 0}, title=t(f"space_{model}"),
                      xaxis={"visible": False}, yaxis={"visible": False}, dragmode="lasso",
                      legend={"orientation": "h", "y": -0.02, "font": {"size": 10}})
    return fig


cols = st.columns(len(models))
for col, model in zip(cols, models):
    with col:
        st.plotly_chart(figure(model), key=f"explorer_map_{model}", on_select=partial(_brush, model),
                        selection_mode=("lasso", "box", "points"))
st.caption(t("brush_hint", n=len(brushed)))

if brushed:
    sel = df.loc[[m for m in brushed if m in df.index]]
    st.dataframe(pd.DataFrame({t("col_title"): sel["label"], t("col_genres"): sel["genres"].str.join(", "),
                               t("col_ratings"): sel["n_ratings"]}), hide_index=True, key="explorer_selected")

st.subheader(t("agreement_title"))
st.caption(t("agreement_caption"))
st.dataframe(agreement_table(tuple(models)), hide_index=True, key="explorer_agreement")
