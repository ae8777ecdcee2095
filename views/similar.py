"""Similar movies: one movie, its nearest neighbours in MF | SASRec | Text (MiniLM) | USE side by side."""

import streamlit as st

from ui.answers import shared_ids, show_notes, similar_frame
from ui.charts import mmr_tradeoff
from ui.evaluation import beyond
from ui.filters import filter_bar
from ui.plain import say
from ui.resources import engine, movies, require_models, show_error
from ui.text import t
from ui.urlstate import parse_id, set_param
from engine.core.errors import MovieDNAError
from engine.recsys.diversity import LAMBDAS
from engine.core.registry import COLLABORATIVE, SPACES, label

st.title(t("page_similar"))
st.caption(t("similar_caption"))
models = require_models(*SPACES)
df = movies()
labels = dict(zip(df["movie_id"], df["label"]))
ids = df["movie_id"].tolist()

if "similar_movie" not in st.session_state:
    wanted = str(st.query_params.get("movie", ""))
    movie = parse_id(wanted)
    known = movie is not None and movie in labels
    st.session_state["similar_movie"] = movie if known else ids[0]
    if wanted and not known:
        st.session_state["similar_unknown"] = wanted
if st.session_state.get("similar_unknown") and st.session_state["similar_movie"] == ids[0]:   # until another pick
    # the link's text and the title are shown as plain text, never as Markdown
    say("info", t("unknown_movie_param", movie=st.session_state["similar_unknown"][:40], first=labels[ids[0]]))


def _pick(model: str) -> None:
    """A row clicked in a result table becomes the current movie."""
    sel = st.session_state.get(f"similar_table_{model}")
    rows = sel.selection.rows if sel is not None else []
    if rows:
        st.session_state["similar_movie"] = st.session_state["similar_last"][model][rows[0]]


left, mid, right = st.columns([3, 1, 1])
movie_id = left.selectbox(t("pick_movie"), ids, key="similar_movie", format_func=lambda m: labels.get(m, str(m)))
k = right.slider(t("how_many"), 5, 30, 10, key="similar_k")
lam = mid.select_slider(t("mmr_lambda"), list(LAMBDAS), value=1.0, key="similar_lambda", help=t("mmr_lambda_help"))
debias = st.toggle(t("debias_toggle"), key="similar_debias")
set_param("movie", movie_id)
where = filter_bar("similar")
measured = beyond(engine())
ratings = dict(zip(df["movie_id"], df["n_ratings"]))
support = int(ratings.get(movie_id, 0))
# below the measured threshold a collaborative space knows this movie from too few ratings: say so and
# show the text space first
thin = [m for m in models if measured is not None and m in measured.support.threshold
        and support < measured.support.threshold[m]]
for m in thin:
    say("warning", t("support_warn", title=labels.get(movie_id, str(movie_id)), n=support,
                     threshold=measured.support.threshold[m], space=label(m)))
if thin:
    models = sorted(models, key=lambda m: m in COLLABORATIVE)

try:
    res = engine().similar_all(int(movie_id), models=models, k=k, where=where, diversity=lam)
    fair = {m: engine().similar_debiased(int(movie_id), m, k, where=where) for m in models
            if debias and m in COLLABORATIVE}
except MovieDNAError as exc:
    show_error(exc)
    st.stop()

shared = shared_ids(res.spaces)

agree = st.columns(len(res.overlaps) or 1)
for col, o in zip(agree, res.overlaps):
    col.metric(t("overlap_label", a=label(o.a), b=label(o.b)), f"{o.count} / {k}",
               help=t("overlap_help"))

st.session_state["similar_last"] = {}
cols = st.columns(len(res.spaces))
for col, (model, hits) in zip(cols, res.spaces.items()):
    col.subheader(t(f"space_{model}"))
    frame = similar_frame(hits, shared, ratings if model in COLLABORATIVE else None)
    st.session_state["similar_last"][model] = hits.ids()
    styled = frame.style.format(precision=3).apply(
        lambda r: ["background-color: rgba(255, 193, 7, 0.35)" if r["_shared"] else "" for _ in r], axis=1)
    col.dataframe(styled, key=f"similar_table_{model}", on_select=_pick, selection_mode="single-row",
                  hide_index=True, column_order=[c for c in frame.columns if c != "_shared"])
    if model in fair:
        d = measured.debias.get(model) if measured is not None else None
        col.caption(t("debias_title", space=label(model), method=d.method if d else "penalty"))
        col.dataframe(similar_frame(fair[model], set(), ratings).drop(columns="_shared").style.format(precision=3),
                      key=f"similar_fair_{model}", hide_index=True)
        if d is not None:
            col.caption(t("debias_measured", k=measured.k, n0=d.plain.ndcg, n1=d.debiased.ndcg, c0=d.plain.coverage,
                          c1=d.debiased.coverage, p0=d.plain.popularity_share, p1=d.debiased.popularity_share))
st.caption(t("shared_legend"))
if where is not None:  # how the filter ran (the same plan in every space): said once
    show_notes([n for n in next(iter(res.spaces.values())).notes if n.code.startswith("filter_")])
if measured is not None and measured.mmr:
    st.plotly_chart(mmr_tradeoff({m: measured.mmr[m] for m in models if m in measured.mmr}, lam, measured.k,
                                 measured.content_space or "text"), key="similar_mmr_chart")
else:
    st.caption(t("mmr_not_measured"))
