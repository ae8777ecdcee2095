"""The index-design script: its distance counter counts the graph's work, and each design it prints
finds the true neighbours on easy data."""

from __future__ import annotations

import re

import faiss
import numpy as np
import pytest

from engine.lab.scale import clustered_vectors
from tests.fixtures import load_script


def _bench():
    return load_script("benchmarks/bench_scale_alternatives.py")


@pytest.fixture(scope="module")
def data():
    xb, xq = clustered_vectors(4_000, 16), clustered_vectors(40, 16, seed=1)
    truth = np.argsort(-(xq @ xb.T), axis=1)[:, :10]
    return xb, xq, truth


def test_distance_count_grows_with_ef_search_and_stays_below_a_full_scan(data) -> None:
    bench = _bench()
    xb, xq, _ = data
    index = faiss.IndexHNSWFlat(16, 16, faiss.METRIC_INNER_PRODUCT)
    index.add(xb)
    counts = []
    for ef in (16, 64, 256):
        index.hnsw.efSearch = ef
        counts.append(bench.hnsw_distances(index, xq))
    assert 10 <= counts[0] < counts[1] < counts[2] < len(xb)


def test_graph_designs_print_recall_distances_and_speed_up(data, capsys) -> None:
    bench = _bench()
    xb, xq, truth = data
    bench.graphs({"hnsw", "hnsw-sq8"}, xb, xq, truth, exact_ms=1.0, seconds=0.05, rng=np.random.default_rng(0))
    out = capsys.readouterr().out
    recalls = {name: float(r) for name, r in re.findall(r"^(HNSW32,\w+ efS=96(?: re-rank 40)?)\s+recall ([0-9.]+)",
                                                        out, flags=re.M)}
    assert set(recalls) == {"HNSW32,Flat efS=96", "HNSW32,SQ8 efS=96 re-rank 40"}
    assert min(recalls.values()) > 0.95
    assert len(re.findall(r"distances a query, \d+ ns each", out)) == 4
    assert "PCA32" not in out   # only the designs asked for


def test_unknown_design_is_refused(monkeypatch) -> None:
    bench = _bench()
    monkeypatch.setattr("sys.argv", ["bench_scale_alternatives.py", "--designs", "hnsw,nsg"])
    with pytest.raises(SystemExit) as exc:
        bench.main()
    assert exc.value.code == 2
