"""The Scale lab's index families against brute force on a small set, their memory figures, and the
Pareto front / winners read from a results file."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.artifacts import write_sealed_json
from engine.core.errors import ArtifactError, BadQueryError
from engine.lab.results import parse_scale, scale_results
from engine.lab.scale import exact_truth, family, index_memory_mb, measure
from engine.vectors.faiss_index import IndexConfig, build_faiss
from tests.lab.test_mixture import low_rank


@pytest.fixture(scope="module")
def data():
    xb = low_rank(4000, 32, seed=0)
    xq = low_rank(200, 32, seed=0)  # the same clusters (same seed), jittered so no query is a database row
    xq = xq + 0.05 * np.random.default_rng(1).standard_normal(xq.shape).astype(np.float32)
    xq /= np.linalg.norm(xq, axis=1, keepdims=True)
    _, truth, _ = exact_truth(xb, xq)
    return xb, xq, truth


@pytest.mark.parametrize("cfg, floor", [
    (IndexConfig("hnsw", hnsw_m=16, ef_construction=100, ef_search=128), 0.95),
    (IndexConfig("ivf", nlist=32, nprobe=32), 0.999),                      # every list: exact scores
    (IndexConfig("ivf", nlist=32, nprobe=32, ivf_codec="sq8", refine_factor=4), 0.99),
    (IndexConfig("ivf", nlist=32, nprobe=32, ivf_codec="pqfs", refine_factor=16), 0.95),
])
def test_each_family_finds_the_true_neighbours(data, cfg, floor):
    xb, xq, truth = data
    row = measure(cfg, xb, xq, truth, latency_seconds=0.05)
    assert row["family"] == family(cfg) and row["recall_at_10"] >= floor
    assert row["nlist"] == (32 if cfg.kind == "ivf" else None)


def test_fewer_lists_probed_find_fewer_neighbours_and_codes_take_less_memory(data):
    xb, xq, truth = data
    cfgs = {c: IndexConfig("ivf", nlist=64, nprobe=1, ivf_codec=c, refine_factor=4) for c in ("flat", "sq8", "pqfs")}
    assert measure(cfgs["flat"], xb, xq, truth, latency_seconds=0.05)["recall_at_10"] < 0.99
    mem = {c: index_memory_mb(build_faiss(xb, cfg), *xb.shape) for c, cfg in cfgs.items()}
    # every family keeps the float32 rows (to scan or to re-rank); the codes come on top, per
    # row for 4-bit PQ (d/2 sub-quantizers of 4 bits: d/4 bytes), d bytes for SQ8
    assert mem["pqfs"] - mem["flat"] == pytest.approx(4000 * 8 / 2**20)
    assert mem["sq8"] - mem["flat"] == pytest.approx(4000 * 32 / 2**20)
    with pytest.raises(BadQueryError):
        IndexConfig("ivf", ivf_codec="pq9")


def _row(n, label, recall, p50, mem, kind="ivf", dist="real-like"):
    return {"kind": kind, "family": kind, "label": label, "n": n, "d": 64, "recall_at_10": recall, "p50_ms": p50,
            "p99_ms": 2 * p50, "memory_mb": mem, "build_s": 1.0, "batch_qps": 100.0, "distribution": dist}


DOC = {"distribution": "real-like", "load_avg": {"40000": 2.5}, "rows": [
    _row(40_000, "exact", 1.0, 5.0, 10.0, kind="exact"),
    _row(40_000, "a", 0.90, 0.1, 11.0),
    _row(40_000, "b", 0.96, 0.2, 11.0),
    _row(40_000, "c", 0.96, 0.3, 11.0),      # dominated by b (same memory and recall, slower)
    _row(40_000, "d", 0.995, 0.5, 20.0),
    _row(40_000, "e", 0.999, 0.4, 30.0),     # faster and better than d, but more memory: both on the front
    _row(200_000, "f", 0.97, 1.0, 50.0),
]}


def test_pareto_front_and_winners():
    res = parse_scale(DOC)
    assert res.distribution == "real-like" and res.sizes() == (40_000, 200_000) and res.load_avg == ((40_000, 2.5),)
    assert [r.label for r in res.pareto(40_000)] == ["a", "b", "d", "e"]
    assert res.winner(40_000, 0.95).label == "b" and res.winner(40_000, 0.99).label == "e"
    assert res.winner(200_000, 0.99) is None and res.exact_at(40_000).p50_ms == 5.0


def test_distribution_files_are_verified_and_must_say_what_they_hold(tmp_path):
    write_sealed_json(tmp_path / "scale-real-like.json", DOC)
    assert scale_results(tmp_path, "real-like").winner(40_000, 0.95).label == "b"
    write_sealed_json(tmp_path / "scale-hard.json", DOC)           # real-like rows under the hard name
    with pytest.raises(ArtifactError, match="real-like distribution, not hard"):
        scale_results(tmp_path, "hard")
    mixed = {**DOC, "rows": DOC["rows"] + [_row(40_000, "g", 0.9, 0.1, 1.0, dist="hard")]}
    write_sealed_json(tmp_path / "scale-real-like.json", mixed)
    with pytest.raises(ArtifactError, match="mixes rows"):
        scale_results(tmp_path, "real-like")
    with pytest.raises(BadQueryError):
        scale_results(tmp_path, "easy")
    assert scale_results(tmp_path / "none", "hard") is None
