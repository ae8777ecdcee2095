"""Scale lab: exact (brute force) vs ANN (HNSW, IVF) from 40k to millions of vectors."""

import json
from pathlib import Path

import pandas as pd
import plotly.express as px
import streamlit as st

from ui.plain import escape, say
from ui.resources import engine
from ui.text import t
from engine.errors import BusyError, MovieDNAError
from engine.lab.bigann import headline
from engine.machine import where_measured
from engine.lab.scale import live_limits, run_live
from engine.vectors.compare import compare_space
from engine.vectors.contract import BACKENDS, enabled_backends
from engine.published import published_dir

RESULTS = published_dir()

st.title(t("page_scale"))


@st.cache_data(show_spinner=False)
def _load(name: str, mtime: float) -> dict:
    return json.loads((RESULTS / name).read_text())


def load(name: str) -> dict | None:
    path = RESULTS / name
    try:
        return _load(name, path.stat().st_mtime) if path.exists() else None
    except (OSError, ValueError) as exc:
        say("error", t("results_unreadable", name=name, err=str(exc)))
        return None


@st.cache_data(show_spinner=False)
def protocol_text() -> str:
    """The protocol section of docs/SCALE.md (our own file, rendered as Markdown)."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "SCALE.md").read_text(encoding="utf-8")
    start = doc.find("## The 100-million row")
    end = doc.find("\n## ", start + 1)
    return doc[start:end if end > 0 else None] if start >= 0 else doc


data = load("scale.json")
measured_100m = load("bigann-100000000.json")
if data is None:
    st.warning(t("no_scale_results"))
else:
    say("caption", t("scale_caption", where=where_measured(data.get("machine", {}), data.get("updated") or data.get("generated"))))
    rows = pd.DataFrame(data.get("rows", []))
    st.markdown(t("scale_claims"))
    exact = rows[rows["kind"] == "exact"].sort_values("n")
    ann = rows[rows["kind"] != "exact"]
    good = ann[ann["recall_at_10"] >= 0.99]
    cols = st.columns(3)
    if len(exact):
        small = exact.iloc[0]
        big = exact.iloc[-1]
        cols[0].metric(t("exact_at", n=f"{int(small['n']):,}"), f"{small['p50_ms']:.2f} ms")
        cols[1].metric(t("exact_at", n=f"{int(big['n']):,}"), f"{big['p50_ms']:.2f} ms")
    for est in data.get("estimates", []) if measured_100m is None else []:  # the 100M row is measured below
        cols[2].metric(t("exact_estimate", n=f"{int(est['n']):,}"), f"{est['p50_ms']:,.0f} ms",
                       help=t("estimate_help", basis=escape(est.get("basis", ""))))
    if len(good) and len(exact):
        best = good.sort_values("p50_ms").groupby("n").head(1)
        merged = best.merge(exact[["n", "p50_ms"]], on="n", suffixes=("", "_exact"))
        merged["speed-up"] = (merged["p50_ms_exact"] / merged["p50_ms"]).round(1)
        st.dataframe(merged[["n", "label", "recall_at_10", "p50_ms", "p50_ms_exact", "speed-up"]],
                     hide_index=True, key="scale_best")
    left, right = st.columns(2)
    fig = px.line(rows.sort_values("n"), x="n", y="p50_ms", color="label", markers=True, log_x=True, log_y=True,
                  title=t("latency_vs_n"), labels={"n": t("n_vectors"), "p50_ms": "p50 (ms)"})
    left.plotly_chart(fig, key="scale_lat_n")
    ann = ann.assign(family=ann["kind"].str.upper(), size=ann["n"].map(lambda v: f"{int(v):,}"))
    fig = px.scatter(ann, x="recall_at_10", y="p50_ms", color="family", symbol="size", log_y=True,
                     hover_name="label", title=t("recall_vs_latency"),
                     labels={"recall_at_10": "recall@10", "p50_ms": "p50 (ms)", "family": "", "size": t("n_vectors")})
    right.plotly_chart(fig, key="scale_recall_lat")
    with st.expander(t("all_measurements")):
        st.dataframe(rows, hide_index=True, key="scale_rows")
        say("caption", json.dumps(data.get("machine", {})))

try:
    h = headline(measured_100m) if measured_100m is not None else None
except MovieDNAError as exc:
    say("error", exc)
    h = None
if measured_100m is None:
    say("caption", t("bigann_missing"))
elif h is not None:
    st.subheader(t("bigann_title", n=f"{h['n']:,}"))
    say("caption", t("bigann_where", where=h["where"], d=h["d"]))
    c = st.columns(4)
    c[0].metric(t("bigann_exact_disk", n=f"{h['n']:,}"), f"{h['exact_disk_s']:.1f} s",
                help=t("bigann_exact_disk_help", gbps=h["exact_disk_gbps"]))
    c[1].metric(t("bigann_exact_ram", n=f"{h['ram_n']:,}"), f"{h['exact_ram_s']:.2f} s",
                help=t("bigann_ratio_help", ratio=f"{h['disk_over_ram']:.1f}"))
    if h["best"]:
        b = h["best"]
        c[2].metric(t("bigann_ann"), f"{b['p50_ms']:.1f} ms",
                    help=t("bigann_ann_help", factory=h["factory"], nprobe=b["nprobe"], kf=b["k_factor"], recall=f"{b['recall_at_10']:.3f}"))
        c[3].metric(t("bigann_speedup"), f"{h['speedup_vs_disk']:,.0f}x")
    if h["build"]:
        bd = h["build"]
        say("caption", t("bigann_build", factory=h["factory"], train=f"{bd['train_s']:,.0f}", add=f"{bd['add_s']:,.0f}",
                         ram=f"{bd['ram_bytes'] / 2**30:.1f}", disk=f"{bd['disk_bytes'] / 2**30:.1f}",
                         rss=f"{measured_100m.get('build_peak_rss_mb', 0) / 1024:.1f}"))
    curve = pd.DataFrame(h["curve"])
    if len(curve):
        curve = curve.assign(short_list=curve["k_factor"].map(lambda kf: t("bigann_rerank", n=10 * kf) if kf > 1 else t("bigann_no_rerank")))
        fig = px.line(curve, x="recall_at_10", y="p50_ms", color="short_list", markers=True, log_y=True,
                      hover_data=["nprobe", "p99_ms"], title=t("bigann_curve", n=f"{h['n']:,}"),
                      labels={"recall_at_10": "recall@10", "p50_ms": "p50 (ms)", "short_list": ""})
        st.plotly_chart(fig, key="scale_bigann_curve")
    with st.expander(t("bigann_protocol")):
        st.markdown(protocol_text())
        st.code(str(measured_100m.get("command", "")), language="bash")

backends = load("backends.json")
if backends and backends.get("results"):
    st.subheader(t("backends_title"))
    n_stored = backends.get("n")
    say("caption", t("backends_caption", n=f"{n_stored:,}" if isinstance(n_stored, int) else "?", d=backends.get("dim", "?"),
                     source=backends.get("source", "")))
    frame = pd.DataFrame(backends["results"])
    cols = [c for c in ("backend", "status", "load_s", "p50_ms", "p99_ms", "qps_serial", "recall@10", "reason")
            if c in frame.columns]
    st.dataframe(frame[cols], hide_index=True, key="scale_backends")

st.subheader(t("backends_live"))
enabled = enabled_backends()
st.caption(t("backends_live_caption", enabled=", ".join(enabled),
             disabled=", ".join(b for b in BACKENDS if b not in enabled) or "–"))
bc1, bc2 = st.columns([1, 3])
space = bc1.selectbox(t("space"), ["mf", "sasrec", "text"], key="scale_backend_model", format_func=str.upper)
if bc2.button(t("run_backends"), key="scale_backends_go", icon=":material/compare_arrows:"):
    try:
        vs = engine().catalogue.get_vectors(space)
        with st.spinner(t("backends_running")):
            st.session_state["scale_backend_rows"] = compare_space(vs.movie_ids, vs.vectors, model=space)
    except BusyError as exc:
        say("warning", exc)
    except MovieDNAError as exc:
        say("error", exc)
if st.session_state.get("scale_backend_rows"):
    frame = pd.DataFrame(st.session_state["scale_backend_rows"])
    cols = [c for c in ("backend", "status", "n", "load_s", "p50_ms", "p99_ms", "qps_serial", "recall@10", "reason")
            if c in frame.columns]
    st.dataframe(frame[cols], hide_index=True, key="scale_backend_live_table")

st.subheader(t("live_run"))
max_n, max_seconds = live_limits()
sizes = [v for v in (10_000, 20_000, 40_000, 100_000, 200_000, 500_000, 1_000_000) if v <= max_n] or [max_n]
st.caption(t("live_limits", n=f"{max_n:,}", secs=f"{max_seconds:.0f}"))
c1, c2 = st.columns(2)
n = c1.select_slider(t("n_vectors"), sizes, value=40_000 if 40_000 in sizes else sizes[-1],
                     key="scale_live_n")
d = c2.select_slider(t("dimension"), [32, 64, 128, 384], value=64, key="scale_live_d")
if st.button(t("run_live"), key="scale_live_go", icon=":material/play_arrow:"):
    bar = st.progress(0.0, text=t("starting"))
    try:
        run = run_live(n, d, progress=lambda f, msg: bar.progress(min(max(f, 0.0), 1.0), text=escape(msg)))
        st.session_state["scale_live_rows"], st.session_state["scale_live_cut"] = run.rows, run.cut
    except BusyError as exc:
        say("warning", exc)
    except MovieDNAError as exc:
        say("error", exc)
    bar.empty()
if st.session_state.get("scale_live_cut"):
    say("warning", t("live_cut", cut=st.session_state["scale_live_cut"]))
if st.session_state.get("scale_live_rows"):
    live = pd.DataFrame(st.session_state["scale_live_rows"])
    st.dataframe(live[["label", "n", "d", "recall_at_10", "p50_ms", "p99_ms", "batch_qps", "build_s", "memory_mb"]],
                 hide_index=True, key="scale_live_table")
