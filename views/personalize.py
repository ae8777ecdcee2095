"""Live personalization: click movies, the taste vector and recommendations follow at once."""

from functools import partial

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from ui.plain import plot_text
from ui.resources import built_models, engine, measured_source, movies, projection, require_models, show_error
from ui.text import t
from ui.urlstate import clicks, dislikes, save_taste, warn_unknown_ids
from engine.errors import MovieDNAError
from engine.recsys.stages import curve_point

st.title(t("page_personal"))
st.caption(t("personal_caption"))
require_models("mf", "sasrec", "text")
df = movies()
labels = dict(zip(df["movie_id"], df["label"]))
_ = clicks(), dislikes()  # seed from the URL on first use
warn_unknown_ids()
save_taste()  # and keep the URL in step, so the state can be shared as a link


def _add(movie_id: int) -> None:
    """Add a movie to clicks or dislikes, by the chosen click mode (never both)."""
    like = st.session_state.get("taste_mode", "like") == "like"
    target, other = ("clicks", "dislikes") if like else ("dislikes", "clicks")
    if movie_id in st.session_state[other]:
        st.session_state[other].remove(movie_id)
    if movie_id not in st.session_state[target]:
        st.session_state[target].append(movie_id)
    save_taste()


def _from_table(key: str, ids_key: str) -> None:
    sel = st.session_state.get(key)
    rows = sel.selection.rows if sel is not None else []
    if rows:
        _add(st.session_state[ids_key][rows[0]])


def _sync(widget: str, target: str) -> None:
    st.session_state[target] = list(st.session_state[widget])
    save_taste()


def _clear() -> None:
    st.session_state["clicks"], st.session_state["dislikes"] = [], []
    save_taste()


c1, c2, c3, c4 = st.columns([1.2, 1.3, 1, 1])
model = c1.radio(t("space"), built_models(), key="taste_model", horizontal=True, format_func=lambda m: m.upper())
c2.segmented_control(t("click_means"), ["like", "dislike"], key="taste_mode", default="like",
                     format_func=lambda m: t(f"mode_{m}"))
rerank = c3.toggle(t("rerank_toggle"), key="taste_rerank", disabled="sasrec" not in built_models())
half_life = c4.select_slider(t("recency"), [0, 1, 2, 3, 5, 10], value=0, key="taste_recency",
                             format_func=lambda v: t("recency_off") if v == 0 else str(v))
measured = engine().measured() or {}


def _taste_label(kind: str) -> str:
    """'average of my clicks' / 'the model's own user vector', with the measured NDCG@10 of exactly
    that choice (the average at the recency set above) when known."""
    label = t(f"taste_{kind}")
    if kind == "mean" and half_life:
        v = measured.get("taste_by_half_life", {}).get(model, {}).get(f"{half_life:g}")
        return t("taste_recency_ndcg", label=label, v=v, hl=half_life) if v is not None else label
    v = measured.get("taste" if kind == "mean" else "native", {}).get(model)
    return t("taste_ndcg", label=label, v=v) if v is not None else label


native_ok = model in ("mf", "sasrec") and not rerank         # the two stages start from the taste vector
kinds = ["mean", "native"] if native_ok else ["mean"]
if st.session_state.get("taste_kind") not in kinds:           # e.g. the space changed to one without a user vector
    st.session_state["taste_kind"] = "mean"
taste_kind = st.radio(t("taste_kind"), kinds, key="taste_kind", horizontal=True, format_func=_taste_label,
                      help=t("taste_help"))
if measured:
    st.caption(measured_source(measured))

st.session_state["clicks_widget"] = list(st.session_state["clicks"])
st.session_state["dislikes_widget"] = list(st.session_state["dislikes"])
a, b = st.columns([3, 2])
a.multiselect(t("clicked_movies"), df["movie_id"].tolist(), key="clicks_widget", on_change=_sync,
              args=("clicks_widget", "clicks"), format_func=lambda m: labels.get(m, str(m)),
              placeholder=t("search_to_add"))
b.multiselect(t("less_like_this"), df["movie_id"].tolist(), key="dislikes_widget", on_change=_sync,
              args=("dislikes_widget", "dislikes"), format_func=lambda m: labels.get(m, str(m)))
st.button(t("clear_clicks"), key="taste_clear", on_click=_clear, icon=":material/restart_alt:")

recs_col, map_col = st.columns([3, 2])
liked, disliked = st.session_state["clicks"], st.session_state["dislikes"]
with recs_col:
    if not liked:
        st.info(t("no_clicks_yet"))
        st.subheader(t("popular_start"))
        pop = df.head(60)
        st.session_state["taste_pop_ids"] = pop["movie_id"].tolist()
        st.dataframe(pd.DataFrame({t("col_title"): pop["label"], t("col_genres"): pop["genres"].str.join(", "),
                                   t("col_ratings"): pop["n_ratings"]}),
                     key="taste_pop", on_select=partial(_from_table, "taste_pop", "taste_pop_ids"),
                     selection_mode="single-row", hide_index=True, height=420)
        st.stop()
    try:
        hl = None if half_life == 0 else float(half_life)
        if rerank:
            res = engine().two_stage(liked, disliked, model=model, k=10, recency_half_life=hl)
        else:
            res = (engine().recommend_native(liked, disliked, model=model, k=10) if taste_kind == "native"
                   else engine().recommend(liked, disliked, model=model, k=10, recency_half_life=hl))
    except MovieDNAError as exc:
        show_error(exc)
        st.stop()
    st.subheader(t("recommended_for_you"))
    rows = [{t("col_title"): f"{it['title']} ({it.get('year') or '?'})", t("col_score"): round(it["score"], 3),
             t("col_because"): it.get("because_title", "")} for it in res.items]
    frame = pd.DataFrame(rows)
    if rerank:
        frame.insert(0, t("col_move"), [f"{it['rank_before']}→{it['rank_after']}" for it in res.items])
    st.session_state["taste_rec_ids"] = res.ids()
    st.dataframe(frame, key="taste_recs", on_select=partial(_from_table, "taste_recs", "taste_rec_ids"),
                 selection_mode="single-row", hide_index=True)
    st.caption(t("click_row_hint") + " · " + t("timing", parts=" · ".join(
        f"{n} {v:.1f} ms" for n, v in res.timings_ms.items())))
    # the toggle runs the two stages on the plain taste vector with 100 candidates: its measured figure
    cell = curve_point(measured, model, "sasrec", 100)
    if rerank and not half_life and cell and model in measured.get("taste", {}):
        st.caption(t("rerank_measured", space=model.upper(), n=100, v=cell["ndcg@10"], alone=measured["taste"][model]))

with map_col:
    st.subheader(t("taste_map", model=model.upper()))
    ids, coords = projection(model)
    try:
        pos = engine().taste_position(liked, disliked, model, None if half_life == 0 else float(half_life),
                                      map_ids=ids, coords=coords)
    except MovieDNAError as exc:
        show_error(exc)
        st.stop()
    row = {int(m): i for i, m in enumerate(ids)}
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=coords[:, 0], y=coords[:, 1], mode="markers", name=t("all_movies"),
                               marker={"size": 4, "color": "rgba(128,128,128,0.35)"},
                               text=[plot_text(labels.get(int(m), "")) for m in ids], hoverinfo="text"))
    for group, colour, name in ((res.ids(), "#2ca02c", t("recommended_for_you")), (disliked, "#d62728", t("mode_dislike")),
                                (liked, "#1f77b4", t("clicked"))):  # clicks drawn last, on top
        pts = [row[m] for m in group if m in row]
        fig.add_trace(go.Scattergl(x=coords[pts, 0], y=coords[pts, 1], mode="markers", name=name,
                                   marker={"size": 10, "color": colour, "line": {"width": 1, "color": "white"}},
                                   text=[plot_text(labels.get(int(ids[p]), "")) for p in pts], hoverinfo="text"))
    fig.add_trace(go.Scatter(x=[pos[0]], y=[pos[1]], mode="markers", name=t("taste_vector"),
                             marker={"symbol": "star", "size": 22, "color": "#ff7f0e", "line": {"width": 1.5, "color": "black"}}))
    fig.update_layout(height=460, margin={"l": 0, "r": 0, "t": 10, "b": 0}, legend={"orientation": "h", "y": -0.05},
                      xaxis={"visible": False}, yaxis={"visible": False})
    st.plotly_chart(fig, key="taste_map_chart")
