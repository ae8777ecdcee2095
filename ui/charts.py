"""The pages' charts, built from engine answers and maps (Plotly figures; pages only draw them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from engine.core.registry import label
from ui.plain import plot_text

if TYPE_CHECKING:  # pragma: no cover
    from engine.recsys.figures import CurvePoint, MmrPoint
from ui.text import t


def taste_map(ids: np.ndarray, coords: np.ndarray, labels: Mapping[int, str], recommended: Sequence[int],
              disliked: Sequence[int], clicked: Sequence[int], stars: Sequence[np.ndarray]) -> go.Figure:
    """A space's UMAP map: every movie in grey, the recommended, disliked and clicked movies on top
    (clicks last), and one star per taste vector.  ids int64 (n,), coords float32 (n, 2)."""
    row = {int(m): i for i, m in enumerate(ids)}
    fig = go.Figure()
    fig.add_trace(go.Scattergl(x=coords[:, 0], y=coords[:, 1], mode="markers", name=t("all_movies"),
                               marker={"size": 4, "color": "rgba(128,128,128,0.35)"},
                               text=[plot_text(labels.get(int(m), "")) for m in ids], hoverinfo="text"))
    for group, colour, name in ((recommended, "#2ca02c", t("recommended_for_you")), (disliked, "#d62728", t("mode_dislike")),
                                (clicked, "#1f77b4", t("clicked"))):
        pts = [row[m] for m in group if m in row]
        fig.add_trace(go.Scattergl(x=coords[pts, 0], y=coords[pts, 1], mode="markers", name=name,
                                   marker={"size": 10, "color": colour, "line": {"width": 1, "color": "white"}},
                                   text=[plot_text(labels.get(int(ids[p]), "")) for p in pts], hoverinfo="text"))
    fig.add_trace(go.Scatter(x=[p[0] for p in stars], y=[p[1] for p in stars], mode="markers", name=t("taste_vector"),
                             marker={"symbol": "star", "size": 22, "color": "#ff7f0e",
                                     "line": {"width": 1.5, "color": "black"}}))
    fig.update_layout(height=460, margin={"l": 0, "r": 0, "t": 10, "b": 0}, legend={"orientation": "h", "y": -0.05},
                      xaxis={"visible": False}, yaxis={"visible": False})
    return fig


def rank_moves(frame: pd.DataFrame) -> go.Figure:
    """Retrieval + ranking's slope chart: each movie's stage-1 rank joined to its stage-2 rank."""
    fig = go.Figure()
    for _, r in frame.iterrows():
        up = r[t("col_move")] >= 0
        fig.add_trace(go.Scatter(x=[0, 1], y=[r[t("col_before")], r[t("col_after")]], mode="lines+markers",
                                 line={"color": "#2ca02c" if up else "#d62728", "width": 1.5},
                                 hovertext=plot_text(r[t("col_title")]), hoverinfo="text", showlegend=False))
    fig.update_layout(height=520, margin={"l": 0, "r": 0, "t": 10, "b": 0},
                      xaxis={"tickvals": [0, 1], "ticktext": [t("stage1_order"), t("stage2_order")], "range": [-0.1, 1.1]},
                      yaxis={"autorange": "reversed", "title": t("rank")})
    return fig


def measured_curve(curve: Sequence["CurvePoint"], k: int) -> go.Figure:
    """Retrieval + ranking's measured curve: NDCG@k of the final list against the candidates stage 1
    hands over, with both stages' p50 latency as bars on a second axis."""
    x = [t("all_candidates") if p.candidates is None else str(p.candidates) for p in curve]
    fig = go.Figure(go.Scatter(
        x=x, y=[p.ndcg for p in curve], mode="lines+markers", name=f"NDCG@{k}",
        hovertext=[f"HR@{k} {p.hr:.3f} · {p.stage1_ms:.2f} + {p.stage2_ms:.2f} ms" for p in curve],
        hoverinfo="text+y"))
    fig.add_trace(go.Bar(x=x, y=[p.stage1_ms + p.stage2_ms for p in curve], name=t("measured_latency"),
                         yaxis="y2", opacity=0.3, hoverinfo="y+name"))
    fig.update_layout(height=280, margin={"l": 0, "r": 0, "t": 10, "b": 0}, legend={"orientation": "h", "y": 1.15},
                      xaxis={"type": "category", "title": t("n_candidates")}, yaxis={"title": f"NDCG@{k}"},
                      yaxis2={"title": "ms", "overlaying": "y", "side": "right", "showgrid": False})
    return fig


def space_map(ids: np.ndarray, xy: np.ndarray, *, movies: pd.DataFrame, colour_by: str, brushed: set[int],
              title: str) -> go.Figure:
    """One space's UMAP map for the Embedding explorer: movies coloured by first genre, year or
    popularity (log ratings), the brushed ones ringed and the rest faded.  ids int64 (n,), xy float32
    (n, 2); ``movies`` indexed by movie_id with label, genres, year, n_ratings."""
    meta = movies.reindex(ids)
    labels = movies["label"].to_dict()
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
    fig.update_layout(height=430, margin={"l": 0, "r": 0, "t": 30, "b": 0}, title=title,
                      xaxis={"visible": False}, yaxis={"visible": False}, dragmode="lasso",
                      legend={"orientation": "h", "y": -0.02, "font": {"size": 10}})
    return fig


def scale_latency_chart(rows: pd.DataFrame) -> go.Figure:
    """p50 single-query latency against the number of vectors, one line per index setting."""
    return px.line(rows.sort_values("n"), x="n", y="p50_ms", color="label", markers=True, log_x=True, log_y=True,
                   title=t("latency_vs_n"), labels={"n": t("n_vectors"), "p50_ms": "p50 (ms)"})


def scale_recall_chart(rows: pd.DataFrame) -> go.Figure:
    """Recall@10 against p50 latency of every ANN row, by index family and size."""
    ann = rows[rows["kind"] != "exact"]
    ann = ann.assign(family=ann["kind"].str.upper(), size=ann["n"].map(lambda v: f"{int(v):,}"))
    return px.scatter(ann, x="recall_at_10", y="p50_ms", color="family", symbol="size", log_y=True,
                      hover_name="label", title=t("recall_vs_latency"),
                      labels={"recall_at_10": "recall@10", "p50_ms": "p50 (ms)", "family": "", "size": t("n_vectors")})


def pareto_chart(rows: pd.DataFrame, n: int, distribution: str) -> go.Figure:
    """Recall@10 against single-query p50 of every ANN row of size ``n``, marker area by memory (index
    plus re-rank rows), colour by family; the rows on the Pareto front (memory x recall x p50) ringed.
    ``rows``: :class:`ui.scale_view.ParetoView` rows; ``distribution``: its display name (in the title)."""
    ann = rows[(rows["n"] == n) & (rows["kind"] != "exact")].sort_values("p50_ms")
    ann = ann.assign(label=ann["label"].map(plot_text))  # from a result file: text, not HTML
    fig = px.scatter(ann, x="p50_ms", y="recall_at_10", color="family", size="memory_mb", size_max=22, log_x=True,
                     hover_name="label", hover_data={"memory_mb": True, "p99_ms": True, "batch_qps": True},
                     title=t("pareto_title", n=f"{int(n):,}", dist=distribution),
                     labels={"recall_at_10": "recall@10", "p50_ms": "p50 (ms)", "family": "", "memory_mb": "MB",
                             "p99_ms": "p99 (ms)", "batch_qps": "QPS"})
    front = ann[ann["on_front"]].sort_values("recall_at_10")
    fig.add_trace(go.Scatter(x=front["p50_ms"], y=front["recall_at_10"], mode="markers", name=t("pareto_front"),
                             marker={"symbol": "circle-open", "size": 16, "color": "black", "line": {"width": 1.5}},
                             hoverinfo="skip"))
    for floor in (0.95, 0.99):
        fig.add_hline(y=floor, line={"width": 1, "color": "grey"}, annotation_text=f"{floor}")
    fig.update_layout(height=420, margin={"l": 0, "r": 0, "t": 40, "b": 0}, legend={"orientation": "h", "y": -0.2})
    return fig


def bigann_curve_chart(curve: Sequence[Mapping], n: int) -> go.Figure | None:
    """The 100M recall–latency curve, one line per short-list length (None without points)."""
    frame = pd.DataFrame(list(curve))
    if not len(frame):
        return None
    frame = frame.assign(short_list=frame["k_factor"].map(
        lambda kf: t("bigann_rerank", n=10 * kf) if kf > 1 else t("bigann_no_rerank")))
    return px.line(frame, x="recall_at_10", y="p50_ms", color="short_list", markers=True, log_y=True,
                   hover_data=["nprobe", "p99_ms"], title=t("bigann_curve", n=f"{n:,}"),
                   labels={"recall_at_10": "recall@10", "p50_ms": "p50 (ms)", "short_list": ""})


def mmr_tradeoff(curves: Mapping[str, Sequence["MmrPoint"]], lam: float, k: int, content: str) -> go.Figure:
    """The measured MMR trade-off: NDCG@k against intra-list diversity (in the ``content`` space), one
    line per space through its lambdas, the current ``lam`` ringed."""
    fig = go.Figure()
    for space, pts in curves.items():
        pts = [p for p in pts if p.ild is not None]
        if not pts:
            continue
        fig.add_trace(go.Scatter(x=[p.ild for p in pts], y=[p.ndcg for p in pts], mode="lines+markers+text",
                                 name=label(space), text=[f"λ={p.lam:g}" for p in pts], textposition="top center"))
        cur = [p for p in pts if abs(p.lam - lam) < 1e-9]
        if cur:
            fig.add_trace(go.Scatter(x=[cur[0].ild], y=[cur[0].ndcg], mode="markers", showlegend=False,
                                     name=t("mmr_current"), hoverinfo="name",
                                     marker={"size": 18, "color": "rgba(0,0,0,0)", "line": {"width": 3, "color": "#d62728"}}))
    fig.update_layout(height=300, margin={"l": 0, "r": 0, "t": 10, "b": 0}, legend={"orientation": "h", "y": -0.25},
                      xaxis={"title": t("mmr_x", space=label(content))}, yaxis={"title": f"NDCG@{k}"})
    return fig
