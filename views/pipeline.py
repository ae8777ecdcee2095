"""Retrieval + ranking: the two-stage pipeline step by step for the current taste."""

import streamlit as st

from ui.answers import reranked_frame, show_notes
from ui.charts import measured_curve, rank_moves
from ui.evaluation import measured, measured_source
from ui.filters import filter_bar
from ui.resources import built_models, engine, movies, require_models, show_error
from ui.text import t
from ui.urlstate import clicks, dislikes, save_taste, warn_unknown_ids
from engine.core.errors import MovieDNAError
from engine.core.registry import label

DEMO = ["Star Wars", "The Empire Strikes Back", "Return of the Jedi", "Raiders of the Lost Ark"]

st.title(t("page_pipeline"))
st.caption(t("pipeline_caption"))
require_models("sasrec")
df = movies()
labels = dict(zip(df["movie_id"], df["label"]))
liked, disliked = clicks(), dislikes()
warn_unknown_ids()
save_taste()


def _demo() -> None:
    ids = []
    for title in DEMO:
        hit = df[df["title"] == title]
        if len(hit):
            ids.append(int(hit["movie_id"].iloc[0]))
    st.session_state["clicks"] = ids or df["movie_id"].head(4).tolist()
    st.session_state["dislikes"] = []
    save_taste()


if not liked:
    st.info(t("pipeline_no_taste"))
    st.button(t("use_demo_taste"), key="pipeline_demo", on_click=_demo, icon=":material/movie:")
    st.stop()

st.text(t("current_taste") + " " + " · ".join(labels.get(m, str(m)) for m in liked))  # titles as plain text, never Markdown
c1, c2, c3, c4 = st.columns(4)
stage1 = [m for m in built_models() if m != "sasrec"] + ["sasrec"]  # SASRec last: it also ranks stage 2
model = c1.radio(t("stage1_space"), stage1, key="pipeline_model", horizontal=True, format_func=label)
# the candidate counts the evaluation measures (engine.recsys.stages.StagesConfig), so each has its figure
n_cand = c2.select_slider(t("n_candidates"), [25, 50, 100, 200, 500], value=100, key="pipeline_n")
index = c3.radio(t("index_kind"), ["exact", "hnsw", "ivf"], key="pipeline_index", horizontal=True,
                 format_func=lambda s: {"exact": t("exact"), "hnsw": "HNSW", "ivf": "IVF"}[s])
ranker = c4.radio(t("ranker"), engine().rankers() or ["sasrec"], key="pipeline_ranker", horizontal=True,
                  format_func=label)
if "widedeep" not in engine().rankers():
    st.caption(t("widedeep_not_built"))
ranker_name = label(ranker)
where = filter_bar("pipeline")

try:
    res = engine().two_stage(liked, disliked, model=model, k=n_cand, n_candidates=n_cand, index=index, ranker=ranker,
                             where=where)
except MovieDNAError as exc:
    show_error(exc)
    st.stop()
show_notes(res.notes)

tm = res.timings_ms
cols = st.columns(4)
cols[0].metric(t("stage_taste"), f"{tm.get('taste', 0):.2f} ms")
cols[1].metric(t("stage_retrieve"), f"{tm.get('retrieve', 0):.2f} ms", help=t("stage_retrieve_help", n=n_cand))
cols[2].metric(t("stage_rerank", ranker=ranker_name), f"{tm.get('rerank', 0):.2f} ms",
               help=t("stage_rerank_help", ranker=ranker_name))
cols[3].metric(t("stage_total"), f"{tm.get('total', 0):.2f} ms")

# the measured "90 -> 99" curve for this stage-1 space and ranker (figures computed by the engine)
with st.expander(t("measured_curve"), expanded=True):
    figures = measured(engine())  # verified once per evaluation, cached by its hash
    curve = figures.curve(model, ranker) if figures is not None else ()
    if not curve:
        st.caption(t("measured_none"))
    else:
        st.plotly_chart(measured_curve(curve, figures.k), key="pipeline_measured")
        st.caption(t("measured_curve_caption", space=label(model), ranker=ranker_name, n=n_cand)
                   + " " + measured_source(figures))

frame = reranked_frame(res, labels)
left, right = st.columns([3, 2])
with left:
    st.subheader(t("reranked_list"))
    st.dataframe(frame.head(30), hide_index=True, key="pipeline_table",
                 column_config={t("col_move"): st.column_config.NumberColumn(format="%+d")})
with right:
    st.subheader(t("what_moved"))
    fig = rank_moves(frame.head(20))
    st.plotly_chart(fig, key="pipeline_slope")
moved = int((frame[t("col_move")] != 0).sum())
st.caption(t("pipeline_summary", moved=moved, n=len(frame)))
