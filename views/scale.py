"""Scale lab: exact (brute force) vs ANN (HNSW, IVF) from 40k to millions of vectors."""

import pandas as pd
import streamlit as st

from ui.charts import bigann_curve_chart, pareto_chart, scale_latency_chart, scale_recall_chart
from ui.plain import escape, say
from ui.resources import built_models, engine
from ui.scale_view import backends_view, bigann_view, pareto_view, scale_view
from ui.text import t
from engine.core.errors import BusyError, MovieDNAError
from engine.lab.scale import live_limits, run_live
from engine.core.registry import SCALE_DISTRIBUTIONS, label
from engine.vectors.contract import BACKENDS, enabled_backends

st.title(t("page_scale"))

view = scale_view()  # verified result files, cached by their bytes; ratios within one run only
if view is None:
    st.warning(t("no_scale_results"))
else:
    say("caption", t("scale_caption", where=view.results.where))
    st.markdown(t("scale_claims"))
    cols = st.columns(3)
    for col, row in zip(cols, (view.smallest_exact, view.largest_exact)):
        if row is not None:
            col.metric(t("exact_at", n=f"{row.n:,}"), f"{row.p50_ms:.2f} ms")
    if len(view.best):
        st.caption(t("scale_best_caption"))
        st.dataframe(view.best, hide_index=True, key="scale_best")
    left, right = st.columns(2)
    left.plotly_chart(scale_latency_chart(view.rows), key="scale_lat_n")
    right.plotly_chart(scale_recall_chart(view.rows), key="scale_recall_lat")
    with st.expander(t("all_measurements")):
        st.dataframe(view.rows, hide_index=True, key="scale_rows")
        for line in view.results.notes:
            say("caption", line)

st.subheader(t("families_title"))
dist = st.radio(t("distribution"), SCALE_DISTRIBUTIONS, format_func=lambda v: t(f"dist_{v}"), horizontal=True,
                key="scale_distribution")
dist_name = t(f"dist_{dist}")
say("caption", t(f"dist_{dist}_what"))
fam = pareto_view(dist)  # verified scale-<distribution>.json and the distribution's 10M / 100M runs
if fam is None:
    say("info", t("no_family_results", dist=dist))
else:
    if fam.results.where:
        say("caption", t("families_where", dist=dist_name, where=fam.results.where, load=fam.load or "–"))
    if fam.results.data:
        say("caption", fam.results.data)
    if fam.sources:
        say("caption", t("families_sources", sources=fam.sources))
    say("info", fam.verdict)
    if len(fam.stats):
        st.caption(t("stats_caption", dist=dist_name))
        st.dataframe(fam.stats, hide_index=True, key="scale_dist_stats")
    st.caption(t("winners_caption", dist=dist_name))
    st.dataframe(fam.winners, hide_index=True, key="scale_winners")
    n_front = st.selectbox(t("pareto_size"), fam.sizes, format_func=lambda v: f"{v:,}", key="scale_pareto_n")
    st.plotly_chart(pareto_chart(fam.rows, n_front, dist_name), key="scale_pareto_chart")

big = bigann_view(dist)  # the 100M run of the distribution picked above
if big is None:
    say("caption", t("bigann_missing_dist", dist=dist_name, option=dist))
else:
    h, doc = big["headline"], big["doc"]
    st.subheader(t("bigann_title", n=f"{h['n']:,}"))
    say("caption", t("bigann_where", where=h["where"], d=h["d"], dist=dist_name))
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
                         rss=f"{doc.get('build_peak_rss_mb', 0) / 1024:.1f}"))
    fig = bigann_curve_chart(h["curve"], h["n"])
    if fig is not None:
        st.plotly_chart(fig, key="scale_bigann_curve")
    with st.expander(t("bigann_protocol")):
        st.markdown(t("bigann_protocol_text"))
        st.code(str(doc.get("command", "")), language="bash")

saved = backends_view()
if saved is not None:
    res, frame = saved
    st.subheader(t("backends_title"))
    say("caption", t("backends_caption", n=f"{res.n:,}", d=res.dim, source=res.source))
    st.dataframe(frame, hide_index=True, key="scale_backends")

st.subheader(t("backends_live"))
enabled = enabled_backends()
st.caption(t("backends_live_caption", enabled=", ".join(enabled),
             disabled=", ".join(b for b in BACKENDS if b not in enabled) or "–"))
bc1, bc2 = st.columns([1, 3])
space = bc1.selectbox(t("space"), built_models(), key="scale_backend_model", format_func=label)
if bc2.button(t("run_backends"), key="scale_backends_go", icon=":material/compare_arrows:"):
    try:
        with st.spinner(t("backends_running")):
            st.session_state["scale_backend_rows"] = engine().compare_backends(space)
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
