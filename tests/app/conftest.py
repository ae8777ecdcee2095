"""App fixtures: the real ml-100k with all three spaces built by the real pipeline.

Epochs are cut to a few so the suite stays fast; the models, the catalogue, the FAISS
indexes and the UMAP projections are the production code paths.
"""

from __future__ import annotations

from pathlib import Path

import pytest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def built(built_cache, monkeypatch) -> Path:
    """MOVIEDNA_CACHE_DIR -> a cache with ml-100k and every space built; fresh Streamlit caches."""
    import streamlit as st

    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(built_cache))
    st.cache_data.clear()
    st.cache_resource.clear()
    return built_cache
