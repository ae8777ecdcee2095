"""pgvector honours the engine's index choice: exact = a sequential scan (brute force), HNSW with
the requested ef_search."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest

from engine.vectors.contract import exact_search

pytestmark = [pytest.mark.backend, pytest.mark.slow]

PgVectorStore = pytest.importorskip("engine.vectors.pgvector").PgVectorStore


@pytest.fixture(scope="module")
def store(data):
    path = Path(tempfile.mkdtemp(prefix="moviedna-pgtest-"))
    # ef_search 1 (the store default here): HNSW alone misses true neighbours, so exact must scan
    s = PgVectorStore(data_dir=path / "pgdata", ef_search=1, m=4, ef_construction=8)
    ids, vecs, _ = data
    s.upsert("mf", ids, vecs)
    yield s
    s.close()
    shutil.rmtree(path, ignore_errors=True)


def test_exact_search_is_a_scan_and_equals_brute_force(store, data):
    ids, vecs, queries = data
    plan = store.explain_search("mf", queries[0], 10, exact=True)
    assert "Index Scan" not in plan and "Seq Scan" in plan, plan
    scores, found = store.search("mf", queries, 10, exact=True)
    exact_scores, exact_ids = exact_search(vecs, ids, queries, 10)
    assert [set(r) for r in found] == [set(r) for r in exact_ids]
    np.testing.assert_allclose(scores, exact_scores, atol=1e-5)


def test_ef_search_is_applied_per_call(store, data):
    ids, vecs, queries = data
    _, truth = exact_search(vecs, ids, queries, 10)

    def recall(found):
        return np.mean([len(set(a) & set(b)) / 10 for a, b in zip(found, truth)])

    low = recall(store.search("mf", queries, 10, ef_search=10)[1])
    high = recall(store.search("mf", queries, 10, ef_search=400)[1])
    assert high > low and high >= 0.95
    # the per-call setting did not stick to the pooled connection
    assert recall(store.search("mf", queries, 10)[1]) == pytest.approx(low, abs=0.15)
