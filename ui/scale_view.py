"""The Scale lab's view-model: the verified result files, cached by their bytes, as the frames and
figures the page draws.  Speed-ups come from :meth:`engine.lab.results.ScaleResults.best_per_size`
(exact and ANN of the same run only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import streamlit as st

from engine.errors import MovieDNAError
from engine.lab.bigann import headline
from engine.lab.results import BackendResults, ScaleResults, backend_results, bigann_result, scale_results
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
def _bigann(stamp: tuple[int, int] | None) -> dict[str, Any] | None:
    doc = bigann_result()
    return None if doc is None else {"doc": doc, "headline": headline(doc)}


def _verified(loader, stem: str):
    """The loader's answer, or None with one sentence when the file fails its checks."""
    try:
        return loader(_stamp(stem))
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


def bigann_view() -> dict[str, Any] | None:
    """``{"doc": the verified bench_100m body, "headline": its figures}`` or None."""
    return _verified(_bigann, "bigann-100000000")


def backends_view() -> tuple[BackendResults, pd.DataFrame] | None:
    res = _verified(_backends, "backends")
    if res is None:
        return None
    return res, pd.DataFrame([r.__dict__ for r in res.rows]).rename(columns={"recall_at_10": "recall@10"})
