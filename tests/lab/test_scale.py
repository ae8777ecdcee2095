"""Scale lab: synthetic data, measurement rows, live run, 100M estimate, committed results."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import BadQueryError
from engine.vectors.faiss_index import IndexConfig
from engine.lab.scale import (RESULTS_PATH, clustered_vectors, estimate_exact, load_results, recall_at, run_grid,
                              run_live)
from tests.fixtures import synthetic_catalogue

ROW_KEYS = {"kind", "label", "config", "n", "d", "build_s", "memory_mb", "recall_at_10", "p50_ms", "p99_ms",
            "timed_queries", "batch_qps"}


def test_clustered_vectors():
    x = clustered_vectors(5000, 32, seed=1, chunk=1000)
    assert x.shape == (5000, 32) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(x, clustered_vectors(5000, 32, seed=1))
    assert not np.array_equal(x[:10], clustered_vectors(10, 32, seed=2))
    # clustered: nearest neighbours are much closer than random pairs
    sims = x[:200] @ x.T
    np.fill_diagonal(sims[:, :200], -1)
    assert sims.max(1).mean() > 2 * np.abs(x[:200] @ x[200:400].T).mean()


def test_recall_at():
    assert recall_at(np.array([[1, 2, 3]]), np.array([[3, 2, 9]])) == pytest.approx(2 / 3)


def test_run_grid_rows():
    seen = []
    rows = run_grid(3000, 16, [IndexConfig("hnsw", hnsw_m=8, ef_construction=40, ef_search=16),
                               IndexConfig("hnsw", hnsw_m=8, ef_construction=40, ef_search=64),
                               IndexConfig("ivf", nprobe=4)],
                    n_queries=50, latency_seconds=0.2, progress=lambda f, m: seen.append(f))
    assert [r["kind"] for r in rows] == ["exact", "hnsw", "hnsw", "ivf"]
    assert all(ROW_KEYS <= set(r) for r in rows)
    assert rows[0]["recall_at_10"] == 1.0
    assert rows[2]["recall_at_10"] >= rows[1]["recall_at_10"] and rows[1]["build_s"] == rows[2]["build_s"]
    assert all(0 <= r["recall_at_10"] <= 1 and r["p99_ms"] >= r["p50_ms"] > 0 for r in rows)
    assert seen[0] == 0.0 and seen[-1] == 1.0


def test_run_live_limits():
    for n, d in [(10, 64), (10**7, 64), (5000, 1), (5000, 5000)]:
        with pytest.raises(BadQueryError):
            run_live(n, d)


@pytest.mark.slow
def test_run_live_default_measures_every_index_kind(monkeypatch):
    """The default live run measures exact, HNSW and IVF; how long it takes is the benchmarks' business
    (a busy machine must not fail this), so the operator's time guard is set out of the way here."""
    monkeypatch.setenv("MOVIEDNA_LIVE_MAX_SECONDS", "3600")
    run = run_live(progress=lambda f, m: None)
    assert run.cut is None
    assert {r["kind"] for r in run.rows} == {"exact", "hnsw", "ivf"}
    assert all(0.0 <= r["recall_at_10"] <= 1.0 for r in run.rows)
    assert next(r for r in run.rows if r["kind"] == "exact")["recall_at_10"] == 1.0


def test_estimate_exact_is_linear_and_labelled():
    rows = [{"kind": "exact", "n": n, "d": 64, "p50_ms": n / 1e5} for n in (40_000, 1_000_000, 10_000_000)]
    est = estimate_exact(rows, 100_000_000, 64)
    assert est["estimated"] is True and est["p50_ms"] == pytest.approx(1000, rel=1e-6)
    with pytest.raises(BadQueryError):
        estimate_exact(rows[:1])


def test_committed_results_are_readable():
    if not RESULTS_PATH.exists():
        pytest.skip("engine/published/scale.json not generated yet")
    res = load_results()
    assert res["rows"] and all(ROW_KEYS <= set(r) for r in res["rows"])
    assert all(e["estimated"] for e in res.get("estimates", []))


def test_synthetic_catalogue():
    cat = synthetic_catalogue(40, 8, models=("mf",))
    assert cat.n_movies() == 40 and cat.get_vectors("mf").vectors.shape == (40, 8)


def test_merge_rows_replaces_same_size_and_label(tmp_path):
    from engine.lab.scale import merge_rows

    path = tmp_path / "scale.json"
    base = {"kind": "exact", "label": "Exact", "d": 64, "p50_ms": 1.0}
    merge_rows([{**base, "n": 40_000}, {**base, "n": 1_000_000, "p50_ms": 25.0}], path, machine="x")
    doc = merge_rows([{**base, "n": 1_000_000, "p50_ms": 20.0}], path)
    assert [(r["n"], r["p50_ms"]) for r in doc["rows"]] == [(40_000, 1.0), (1_000_000, 20.0)]
    assert doc["machine"] == "x" and doc["estimates"][0]["estimated"] is True
    assert load_results(path)["rows"] == doc["rows"]
