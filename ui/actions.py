"""Long-running actions started from a page (the build), with live progress."""

from __future__ import annotations

import time

import streamlit as st

from engine.core.errors import MovieDNAError
from ui.plain import escape, say
from ui.resources import _engine, dataset
from ui.text import t


def build_models(models: list[str]) -> None:
    """Run the engine's build for ``models`` with a live progress bar (message, elapsed time and
    an estimate of the rest); errors as st.error.

    The build runs in this script thread, so every progress call reaches the browser at once."""
    from engine.service import build as engine_build

    ds = dataset()
    bar = st.progress(0.0, text=t("build_running"))
    t0 = time.perf_counter()

    def progress(fraction: float, message: str) -> None:
        f = min(max(float(fraction), 0.0), 1.0)
        elapsed = time.perf_counter() - t0
        eta = t("build_eta", secs=elapsed * (1 - f) / f) if f >= 0.02 else ""
        bar.progress(f, text=escape(message) + f" · {elapsed:.0f} s{eta}")

    try:
        engine_build.build(ds.name, models=models, progress=progress)
    except MovieDNAError as exc:
        bar.empty()
        say("error", exc)
        return
    bar.empty()
    st.success(t("build_done", secs=time.perf_counter() - t0))
    _engine.clear()
    st.rerun()
