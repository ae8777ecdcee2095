"""App fixtures: the real ml-100k with every space built by the real pipeline.

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


OPERATOR_VARS = ("MOVIEDNA_BACKENDS", "MOVIEDNA_VECTOR_BACKEND", "MOVIEDNA_DATASETS", "MOVIEDNA_PG_URL",
                 "MOVIEDNA_MILVUS_URI", "MOVIEDNA_LIVE_MAX_N", "MOVIEDNA_LIVE_MAX_SECONDS")


@pytest.fixture
def tiny_catalogue(monkeypatch, dir_csv, isolated_cache) -> Path:
    """The ml-25m name over the tiny CSV files, every space built with random vectors, no operator
    settings, fresh Streamlit caches; returns the catalogue's path (closed, as after a build)."""
    import numpy as np
    import streamlit as st

    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset

    st.cache_data.clear()
    st.cache_resource.clear()
    for var in OPERATOR_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("MOVIEDNA_DATASET", "ml-25m")
    monkeypatch.setenv("MOVIEDNA_DATA_DIR", str(dir_csv))
    cat = open_catalogue(load_dataset())
    rng = np.random.default_rng(0)
    for m in ("mf", "sasrec", "text"):
        cat.put_vectors(m, np.arange(1, 6), rng.normal(size=(5, 8)).astype(np.float32), {"test": True})
    cat.close()  # no connection keeps the WAL alive
    return Path(cat.path)
