"""Live personalization: click movies, the taste vector and recommendations follow at once."""

from functools import partial

import pandas as pd
import streamlit as st

from ui.answers import recommendations_frame, show_notes, timing_caption
from ui.charts import taste_map
from ui.evaluation import measured, measured_source
from ui.filters import filter_bar
from ui.resources import built_models, engine, movies, projection, require_models, show_error
from ui.text import t
from ui.urlstate import clicks, dislikes, save_taste, warn_unknown_ids
from engine.errors import MovieDNAError
from engine.registry import NATIVE_TASTE, SPACES, label
from engine.recsys.figures import DEFAULT_CANDIDATES

st.title(t("page_personal"))
st.caption(t("personal_caption"))
require_models(*SPACES)
df = movies()
labels = dict(zip(df["movie_id"], df["label"]))
_ = clicks(), dislikes()  # read from the URL on first use
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
model = c1.radio(t("space"), built_models(), key="taste_model", horizontal=True, format_func=label)
c2.segmented_control(t("click_means"), ["like", "dislike"], key="taste_mode", default="like",
                     format_func=lambda m: t(f"mode_{m}"))
rerank = c3.toggle(t("rerank_toggle"), key="taste_rerank", disabled="sasrec" not in built_models())
half_life = c4.select_slider(t("recency"), [0, 1, 2, 3, 5, 10], value=0, key="taste_recency",
                             format_func=lambda v: t("recency_off") if v == 0 else str(v))
figures = measured(engine())  # verified once per evaluation, cached by its hash


def _taste_label(kind: str) -> str:
    """'average of my clicks' / 'the model's own user vector', with the measured NDCG of exactly
    that choice (the average at the recency set above) when known."""
    label = t(f"taste_{kind}")
    cell = None if figures is None else (figures.taste_cell(model, half_life or None) if kind == "mean"
                                         else figures.native_cell(model))
    if cell is None:
        return label
    if kind == "mean" and half_life:
        return t("taste_recency_ndcg", label=label, v=cell.ndcg, hl=half_life, k=figures.k)
    return t("taste_ndcg", label=label, v=cell.ndcg, k=figures.k)


native_ok = model in NATIVE_TASTE and not rerank         # the two stages start from the taste vector
kinds = ["mean", "native"] if native_ok else ["mean"]
if st.session_state.get("taste_kind") not in kinds:           # e.g. the space changed to one without a user vector
    st.session_state["taste_kind"] = "mean"
taste_kind = st.radio(t("taste_kind"), kinds, key="taste_kind", horizontal=True, format_func=_taste_label,
                      help=t("taste_help"))
if figures is not None:
    st.caption(measured_source(figures))

st.session_state["clicks_widget"] = list(st.session_state["clicks"])
st.session_state["dislikes_widget"] = list(st.session_state["dislikes"])
a, b = st.columns([3, 2])
a.multiselect(t("clicked_movies"), df["movie_id"].tolist(), key="clicks_widget", on_change=_sync,
              args=("clicks_widget", "clicks"), format_func=lambda m: labels.get(m, str(m)),
              placeholder=t("search_to_add"))
b.multiselect(t("less_like_this"), df["movie_id"].tolist(), key="dislikes_widget", on_change=_sync,
              args=("dislikes_widget", "dislikes"), format_func=lambda m: labels.get(m, str(m)))
st.button(t("clear_clicks"), key="taste_clear", on_click=_clear, icon=":material/restart_alt:")
where = filter_bar("taste")

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
    hl = None if half_life == 0 else float(half_life)
    try:
        res = engine().personalize(liked, disliked, model=model, k=10, taste=taste_kind, rerank=rerank,
                                   recency_half_life=hl, n_candidates=DEFAULT_CANDIDATES, where=where)
    except MovieDNAError as exc:
        show_error(exc)
        st.stop()
    st.subheader(t("recommended_for_you"))
    st.session_state["taste_rec_ids"] = res.ids()
    st.dataframe(recommendations_frame(res), key="taste_recs",
                 on_select=partial(_from_table, "taste_recs", "taste_rec_ids"), selection_mode="single-row",
                 hide_index=True)
    st.caption(t("click_row_hint") + " · " + timing_caption(res))
    show_notes(res.notes)
    # the toggle runs the two stages on the plain taste vector with 100 candidates: its measured figure
    point = figures.point(model, "sasrec", DEFAULT_CANDIDATES) if figures is not None else None
    alone = figures.taste_cell(model) if figures is not None else None
    if rerank and not half_life and point is not None and alone is not None:
        st.caption(t("rerank_measured", space=label(model), n=DEFAULT_CANDIDATES, v=point.ndcg, alone=alone.ndcg,
                     k=figures.k))

with map_col:
    st.subheader(t("taste_map", model=label(model)))
    ids, coords = projection(model)
    try:
        # the answer's own taste vector; the model's user vector lives in another space, so its map shows the clicks' mean
        pos = (engine().place(model, res.vector, map_ids=ids, coords=coords) if res.vector is not None else
               engine().taste_position(liked, disliked, model, hl, map_ids=ids, coords=coords))
    except MovieDNAError as exc:
        show_error(exc)
        st.stop()
    st.plotly_chart(taste_map(ids, coords, labels, res.ids(), disliked, liked, [pos]), key="taste_map_chart")
