"""Long-running actions started from a page (the build), with live progress."""

from __future__ import annotations

import streamlit as st

from engine.errors import MovieDNAError
from ui.resources import _engine, dataset
from ui.text import t


def build_models(models: list[str]) -> None:
    """Run the engine's build for ``models`` with a live progress bar; errors as st.error."""
    import time

    from engine import build as engine_build

    ds = dataset()
    bar = st.progress(0.0, text=t("build_running"))
    t0 = time.perf_counter()
    try:
        engine_build.build(ds.name, models=models,
                           progress=lambda f, msg: bar.progress(min(max(float(f), 0.0), 1.0), text=msg))
    except MovieDNAError as exc:
        bar.empty()
        st.error(str(exc))
        return
    bar.empty()
    st.success(t("build_done", secs=time.perf_counter() - t0))
    _engine.clear()
    st.rerun()
