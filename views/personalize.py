"""Live personalization: click movies, the taste vector and recommendations follow at once."""

from functools import partial

import numpy as np
import pandas as pd
import streamlit as st

from ui.answers import live_genre_share, recommendations_frame, show_notes, timing_caption
from ui.charts import mmr_tradeoff, taste_map
from ui.evaluation import beyond, measured, measured_source
from ui.filters import filter_bar
from ui.plain import say
from ui.resources import built_models, engine, movies, projection, require_models, show_error
from ui.text import t
from ui.urlstate import clicks, dislikes, save_taste, warn_unknown_ids
from engine.core.errors import MovieDNAError
from engine.core.registry import COLLABORATIVE, NATIVE_TASTE, SPACES, TASTE_STRATEGIES, label
from engine.recsys.beyond import history_bucket
from engine.recsys.diversity import LAMBDAS
from engine.recsys.figures import DEFAULT_CANDIDATES

st.title(t("page_personal"))
st.caption(t("personal_caption"))
require_models(*SPACES)
df = movies()
labels = dict(zip(df["movie_id"], df["label"]))
df_ratings = dict(zip(df["movie_id"], df["n_ratings"]))
genres_of = dict(zip(df["movie_id"], df["genres"]))
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
more = beyond(engine())
n_clicks = len(st.session_state["clicks"])
bucket = history_bucket(max(n_clicks, 1))


def _strategy_label(name: str) -> str:
    """A strategy with its measured NDCG in this space at the current number of clicks, when known."""
    text = t(f"strategy_{name}")
    cell = more.strategies.cell(model, name, bucket) if more is not None else None
    if cell is None or cell.ndcg is None:
        return text
    return t("strategy_measured", label=text, v=cell.ndcg, k=more.k, bucket=bucket)


s1, s2 = st.columns([3, 1])
mean_taste = taste_kind == "mean" and not rerank      # the strategies and MMR shape the taste vector's list
if "taste_strategy" not in st.session_state:        # chosen on validation for this space
    st.session_state["taste_strategy"] = more.strategies.default_for(model) if more is not None else TASTE_STRATEGIES[0]
strategy = s1.radio(t("strategy"), list(TASTE_STRATEGIES), key="taste_strategy", horizontal=True,
                    format_func=_strategy_label, disabled=not mean_taste)
lam = s2.select_slider(t("mmr_lambda"), list(LAMBDAS), value=1.0, key="taste_lambda", help=t("mmr_lambda_help"),
                       disabled=not mean_taste)
if more is not None:
    st.caption(t("strategy_default", label=t(f"strategy_{more.strategies.default_for(model)}")))
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
                                   recency_half_life=hl, n_candidates=DEFAULT_CANDIDATES, where=where,
                                   strategy=strategy if mean_taste else "average", diversity=lam if mean_taste else 1.0,
                                   split_below=more.strategies.split_for(model) if more is not None else None)
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
    threshold = more.support.threshold.get(model) if more is not None else None
    if threshold is not None and model in COLLABORATIVE:
        thin = [m for m in liked if int(df_ratings.get(m, 0)) < threshold]
        if thin:
            say("warning", t("support_warn_clicks", n=len(thin), threshold=threshold, space=label(model)))
    shared, live = live_genre_share(res, [genres_of.get(m, ()) for m in liked])
    if live is not None:
        st.markdown(t("genre_live", genres=", ".join(sorted(shared)), live=live,
                      base=float(df["genres"].map(lambda g: bool(shared & set(g))).mean())))
    g = more.genre if more is not None else None
    cell = g.shares.get((model, strategy if mean_taste else "average")) if g is not None else None
    if cell is not None and g.base_rate is not None:
        romance = (t("genre_romance", users=g.romance_users, share=cell[1], base=g.romance_base_rate)
                   if cell[1] is not None and g.romance_base_rate is not None else "")
        st.caption(t("genre_measured", users=g.users, share=cell[0], base=g.base_rate, romance=romance))
    if more is not None and model in more.mmr:
        st.plotly_chart(mmr_tradeoff({model: more.mmr[model]}, lam, more.k, more.content_space or "text"),
                        key="taste_mmr_chart")
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
        # one star per taste vector: the multi-interest strategy has one per interest
        stars = ([engine().place(model, v, map_ids=ids, coords=coords) for v in np.atleast_2d(res.vector)]
                 if res.vector is not None else
                 [engine().taste_position(liked, disliked, model, hl, map_ids=ids, coords=coords)])
    except MovieDNAError as exc:
        show_error(exc)
        st.stop()
    st.plotly_chart(taste_map(ids, coords, labels, res.ids(), disliked, liked, stars), key="taste_map_chart")
