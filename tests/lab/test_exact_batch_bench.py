"""The exact-batch benchmark: both FAISS paths run on the same rows, agree, and leave the threshold as it was."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import faiss
import numpy as np

from engine.lab.scale import clustered_vectors

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_exact_batch.py"


def _bench():
    spec = importlib.util.spec_from_file_location("bench_exact_batch", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_blas_and_scan_return_the_same_top10_and_the_threshold_is_restored() -> None:
    bench = _bench()
    xb, xq = clustered_vectors(5_000, 16), clustered_vectors(50, 16, seed=1)
    index = faiss.IndexFlatIP(16)
    index.add(xb)
    before = faiss.cvar.distance_compute_blas_threshold
    qps_scan, ids_scan = bench.timed_batch(index, xq, 10**9, repeats=1)
    assert faiss.cvar.distance_compute_blas_threshold == before
    qps_blas, ids_blas = bench.timed_batch(index, xq, 0, repeats=1)
    assert faiss.cvar.distance_compute_blas_threshold == before
    truth = np.argsort(-(xq @ xb.T), axis=1)[:, :10]
    for ids in (ids_scan, ids_blas):
        assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, truth)]) > 0.99
    assert qps_scan > 0 and qps_blas > 0
