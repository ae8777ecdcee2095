"""The Scale lab's view-model: the verified result files, cached by their bytes, as the frames and
figures the page draws.  Speed-ups come from :meth:`engine.lab.results.ScaleResults.best_per_size`
(exact and ANN of the same run only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from engine.core.errors import MovieDNAError
from engine.lab.bigann import headline
from engine.lab.results import (BIGANN_SIZES, GUIDE_ANN_S, BackendResults, GuideVerdict, ScaleResults, backend_results,
                                bigann_result, bigann_stem, family_results, guide_verdict, scale_results, scale_stem)
from engine.published import published_dir
from ui.plain import say
from ui.text import t


def _stamp(stem: str) -> tuple[int, int] | None:
    """(mtime_ns, size) of a result file: the cache key, so an edited file is read (and verified) again."""
    try:
        st_ = (published_dir() / f"{stem}.json").stat()
    except OSError:
        return None
    return st_.st_mtime_ns, st_.st_size


@st.cache_data(show_spinner=False)
def _scale(stamp: tuple[int, int] | None) -> ScaleResults | None:
    return scale_results()


@st.cache_data(show_spinner=False)
def _backends(stamp: tuple[int, int] | None) -> BackendResults | None:
    return backend_results()


@st.cache_data(show_spinner=False)
def _bigann(stamp: tuple[int, int] | None, distribution: str = "hard") -> dict[str, Any] | None:
    doc = bigann_result(distribution=distribution)
    return None if doc is None else {"doc": doc, "headline": headline(doc)}


@st.cache_data(show_spinner=False)
def _families(stamps: tuple[tuple[int, int] | None, ...], distribution: str) -> ScaleResults | None:
    return family_results(distribution)


def _verified(loader, stem: str | tuple[str, ...], *args):
    """The loader's answer (its cache keyed by the files' stamps), or None with one sentence when a
    file fails its checks."""
    try:
        key = _stamp(stem) if isinstance(stem, str) else tuple(_stamp(s) for s in stem)
        return loader(key, *args)
    except MovieDNAError as exc:
        say("error", exc)
        return None


@dataclass(frozen=True)
class ScaleView:
    results: ScaleResults
    rows: pd.DataFrame          # every measured row (one per size and index setting)
    best: pd.DataFrame          # per size: fastest ANN at recall@10 >= 0.99 against exact of the same run
    smallest_exact: Any         # ScaleRow | None
    largest_exact: Any


def scale_view() -> ScaleView | None:
    res = _verified(_scale, "scale")
    if res is None:
        return None
    rows = pd.DataFrame([r.__dict__ for r in res.rows])
    best = pd.DataFrame([{
        t("col_n"): b.n, t("col_index"): b.label, "recall@10": round(b.recall_at_10, 4), "p50 (ms)": b.p50_ms,
        t("col_exact_same_run"): b.exact_p50_ms, t("col_speedup"): round(b.ratio, 1), t("col_run"): b.run,
    } for b in res.best_per_size(0.99)])
    exact = res.exact()
    return ScaleView(res, rows, best, exact[0] if exact else None, exact[-1] if exact else None)


def bigann_view(distribution: str = "hard") -> dict[str, Any] | None:
    """``{"doc": the verified bench_100m body of ``distribution``, "headline": its figures}`` or None."""
    return _verified(_bigann, bigann_stem(100_000_000, distribution), distribution)


def backends_view() -> tuple[BackendResults, pd.DataFrame] | None:
    res = _verified(_backends, "backends")
    if res is None:
        return None
    return res, pd.DataFrame([r.__dict__ for r in res.rows]).rename(columns={"recall_at_10": "recall@10"})


FLOORS = (0.95, 0.99)


@dataclass(frozen=True)
class ParetoView:
    """One distribution's index-family results: ``rows`` every measured row (``on_front``: on its
    size's Pareto front of memory x recall@10 x p50), ``winners`` the fastest setting per size at each
    recall floor (speed-up against exact of the same run), ``stats`` the shape figures of the real
    and generated vectors, ``load`` the load average at the start of each size."""

    results: ScaleResults
    sizes: tuple[int, ...]
    rows: pd.DataFrame
    winners: pd.DataFrame
    stats: pd.DataFrame
    load: str
    verdict: str                # the guide's "10 s vs 0.01 s at 99 %" on this distribution, in the UI's language
    sources: str = ""           # the bench_100m runs joined in (size: machine, date), "" when none


def _duration(seconds: float) -> str:
    """``16.7 s`` from one second up, ``28.4 ms`` / ``0.543 ms`` below (three significant digits)."""
    return f"{seconds:.3g} s" if seconds >= 1 else f"{seconds * 1e3:.3g} ms"


def verdict_text(v: GuideVerdict | None) -> str:
    """One sentence on the guide's claim from a :class:`GuideVerdict` (measured figures only)."""
    if v is None:
        return t("guide_verdict_none")
    if v.ann_s is None:
        return t("guide_verdict_unreached", n=f"{v.n:,}")
    fmt = {"n": f"{v.n:,}", "exact": _duration(v.exact_s) if v.exact_s is not None else "–",
           "where": t(f"guide_exact_{v.exact_where}"), "ann": _duration(v.ann_s), "recall": f"{v.ann_recall:.3f}",
           "index": v.ann_label, "ratio": f"{v.ratio:,.0f}" if v.ratio else "–"}
    if not v.at_guide_size:
        return t("guide_verdict_smaller", **fmt)
    return t("guide_verdict_holds" if v.ann_holds else "guide_verdict_fails", times=_times(v.ann_s / GUIDE_ANN_S), **fmt)


def _times(x: float) -> str:
    """How many times the guide's 0.01 s: ``1.8`` when it is missed narrowly (not "2"), ``11`` from 10 up;
    a miss never reads ``1.0``."""
    if round(x, 1) >= 10:
        return f"{x:.0f}"
    return f"{x:.2f}" if round(x, 1) <= 1.0 else f"{x:.1f}"


def pareto_view(distribution: str) -> ParetoView | None:
    """The verified ``scale-<distribution>.json`` joined by the distribution's bench_100m runs
    (:func:`engine.lab.results.family_results`) as frames, or None (none, or refused with one sentence)."""
    stems = (scale_stem(distribution), *(bigann_stem(n, distribution) for n in BIGANN_SIZES))
    res = _verified(_families, stems, distribution)  # bench_scale's sizes and bench_100m's 10M / 100M runs
    if res is None:
        return None
    front = {(r.n, r.label) for n in res.sizes() for r in res.pareto(n)}
    rows = pd.DataFrame([{**r.__dict__, "on_front": (r.n, r.label) in front} for r in res.rows])
    winners = []
    for n in res.sizes():
        for floor in FLOORS:
            w = res.winner(n, floor)
            exact = res.exact_at(n, w.run if w is not None else None)
            same_run = w is not None and exact is not None and exact.run == w.run
            winners.append({
                t("col_n"): n, t("col_floor"): f"≥ {floor}", t("col_index"): w.label if w else t("not_reached"),
                "recall@10": w.recall_at_10 if w else None, "p50 (ms)": w.p50_ms if w else None,
                "p99 (ms)": w.p99_ms if w else None, t("col_qps"): w.batch_qps if w else None,
                t("col_build_s"): w.build_s if w else None, t("col_memory_mb"): w.memory_mb if w else None,
                t("col_exact_same_run"): exact.p50_ms if exact else None,
                t("col_speedup"): round(exact.p50_ms / w.p50_ms, 1) if same_run and w.p50_ms > 0 else None})
    stats = pd.DataFrame([{t("col_vectors"): s.what, t("col_n"): s.n, "d": s.d, "TwoNN": s.twonn_dim,
                           t("col_pca90"): s.pca90_dims, t("col_contrast"): s.relative_contrast,
                           t("col_nn_cos"): s.mean_10nn_cos} for s in res.stats])
    load = ", ".join(f"{n:,}: {v:.1f}" for n, v in res.load_avg)
    big = bigann_view(distribution)
    try:
        verdict = verdict_text(guide_verdict(distribution, res, big["doc"] if big else None))
    except MovieDNAError as exc:
        verdict = str(exc)
    return ParetoView(res, res.sizes(), rows, pd.DataFrame(winners), stats, load, verdict, "; ".join(res.sources))
