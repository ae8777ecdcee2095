"""App fixtures: the real ml-100k with all three spaces built by the real pipeline.

Epochs are cut to a few so the suite stays fast; the models, the catalogue, the FAISS
indexes and the UMAP projections are the production code paths.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

APP = str(Path(__file__).resolve().parents[2] / "app.py")
QUICK_EPOCHS = 3


@pytest.fixture(scope="session")
def built_cache(ml100k_cache) -> Path:
    from engine.build import build

    old = os.environ.get("MOVIEDNA_CACHE_DIR")
    os.environ["MOVIEDNA_CACHE_DIR"] = str(ml100k_cache)
    try:
        build("ml-100k", epochs=QUICK_EPOCHS)
    finally:
        if old is None:
            os.environ.pop("MOVIEDNA_CACHE_DIR", None)
        else:
            os.environ["MOVIEDNA_CACHE_DIR"] = old
    return ml100k_cache


@pytest.fixture
def built(built_cache, monkeypatch) -> Path:
    """MOVIEDNA_CACHE_DIR -> a cache with ml-100k and every space built; fresh Streamlit caches."""
    import streamlit as st

    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(built_cache))
    st.cache_data.clear()
    st.cache_resource.clear()
    return built_cache
