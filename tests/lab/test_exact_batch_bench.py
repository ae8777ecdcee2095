"""The exact-batch benchmark: each timing runs under the threshold it names, both paths agree, and the
process-wide FAISS threshold is left as it was."""

from __future__ import annotations

import faiss
import numpy as np

from engine.lab.scale import clustered_vectors
from tests.fixtures import load_script


def _bench():
    return load_script("benchmarks/bench_exact_batch.py")


class _Recording:
    """A flat index that records FAISS's BLAS threshold at each search call."""

    def __init__(self, index: faiss.Index) -> None:
        self.index, self.seen = index, []

    def search(self, xq, k):
        self.seen.append(faiss.cvar.distance_compute_blas_threshold)
        return self.index.search(xq, k)


def test_each_path_runs_under_its_threshold_returns_the_true_top10_and_restores_it() -> None:
    bench = _bench()
    xb, xq = clustered_vectors(5_000, 16), clustered_vectors(50, 16, seed=1)
    flat = faiss.IndexFlatIP(16)
    flat.add(xb)
    before = faiss.cvar.distance_compute_blas_threshold
    scan_at = bench.scan_threshold(len(xq), 16, before)
    assert scan_at > len(xq) * 16 and scan_at >= before          # the batch stays below it: per-query scan
    truth = np.argsort(-(xq @ xb.T), axis=1)[:, :10]
    for threshold in (scan_at, 0):
        index = _Recording(flat)
        qps, ids = bench.timed_batch(index, xq, threshold, repeats=2)
        assert index.seen == [threshold, threshold]
        assert faiss.cvar.distance_compute_blas_threshold == before
        assert qps > 0 and np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids, truth)]) > 0.99
