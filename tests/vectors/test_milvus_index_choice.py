"""Milvus takes a per-call HNSW ef (the engine's ef_search) and says which kinds it can serve."""

from __future__ import annotations

import numpy as np
import pytest

from engine.vectors.contract import exact_search

pytestmark = [pytest.mark.backend]

MilvusStore = pytest.importorskip("engine.vectors.milvus").MilvusStore


@pytest.fixture(scope="module")
def store(tmp_path_factory, data):
    s = MilvusStore(uri=str(tmp_path_factory.mktemp("milvus-choice") / "m.db"), index="HNSW", ef=10)
    ids, vecs, _ = data
    s.upsert("mf", ids, vecs)
    yield s
    s.close()


def test_per_call_ef_search_returns_correct_answers(store, data):
    ids, vecs, queries = data
    _, truth = exact_search(vecs, ids, queries, 10)
    scores, found = store.search("mf", queries, 10, ef_search=1000)
    assert found.shape == (len(queries), 10) and np.all(np.diff(scores, axis=1) <= 1e-6)
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)]) >= 0.99
    assert store.search("mf", queries, 10, ef_search=1)[1].shape == (len(queries), 10)  # raised to k


def test_search_modes_follow_the_collection_index(store, tmp_path):
    assert store.search_modes == ("hnsw",)
    flat = MilvusStore(uri=str(tmp_path / "f.db"), index="FLAT")
    try:
        assert flat.search_modes == ("exact",)
    finally:
        flat.close()
