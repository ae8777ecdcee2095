"""The Scale lab's result files: sealed on write, refused when edited or malformed, ratios within one run."""

from __future__ import annotations

import json

import pytest

from engine.core.artifacts import read_sealed_json, write_sealed_json
from engine.core.errors import ArtifactError
from engine.lab.results import backend_results, bigann_result, parse_scale, scale_results


def row(n, kind, p50, recall=1.0, run="A", label=None):
    return {"kind": kind, "label": label or f"{kind} {run}", "n": n, "d": 64, "recall_at_10": recall,
            "p50_ms": p50, "p99_ms": p50 * 2, "run": run}


def test_seal_round_trip_and_every_kind_of_damage(tmp_path):
    path = tmp_path / "scale.json"
    write_sealed_json(path, {"rows": [row(40_000, "exact", 1.0)], "machine": {"cpus": 2}})
    assert read_sealed_json(path)["rows"][0]["p50_ms"] == 1.0
    blob = json.loads(path.read_text())
    path.write_text(json.dumps(blob).replace('"p50_ms": 1.0', '"p50_ms": 0.5'))
    with pytest.raises(ArtifactError, match="does not match its sha256"):
        read_sealed_json(path)
    path.write_text(json.dumps({k: v for k, v in blob.items() if k != "sha256"}))
    with pytest.raises(ArtifactError, match="no sha256"):
        read_sealed_json(path)
    path.write_text("{not json")
    with pytest.raises(ArtifactError, match="cannot be read"):
        read_sealed_json(path)
    with pytest.raises(FileNotFoundError):
        read_sealed_json(tmp_path / "absent.json")


def test_a_sealed_file_without_its_figures_is_refused_in_one_sentence(tmp_path):
    write_sealed_json(tmp_path / "scale.json", {"rows": 5})
    with pytest.raises(ArtifactError, match="scale.json lacks"):
        scale_results(tmp_path)
    write_sealed_json(tmp_path / "backends.json", {"results": [{"status": "ok"}]})
    with pytest.raises(ArtifactError, match="backends.json lacks"):
        backend_results(tmp_path)
    assert scale_results(tmp_path / "nowhere") is None and bigann_result(folder=tmp_path) is None


def test_speed_up_pairs_exact_and_ann_of_the_same_run_only():
    res = parse_scale({"rows": [
        row(1_000_000, "exact", 20.0, run="A"), row(1_000_000, "ivf", 1.0, 0.995, run="A", label="ivf A"),
        row(1_000_000, "hnsw", 0.2, 0.999, run="B", label="hnsw B"),   # faster, but B timed no exact search
        row(1_000_000, "ivf", 0.5, 0.98, run="A", label="ivf A fast"),  # faster, but below the recall floor
        row(10_000_000, "hnsw", 2.0, 0.999, run="C"),                    # no exact at 10M in any run
    ]})
    (best,) = res.best_per_size(0.99)
    assert (best.n, best.label, best.exact_p50_ms, best.ratio) == (1_000_000, "ivf A", 20.0, 20.0)


def test_committed_result_files_verify():
    res = scale_results()
    assert res is not None and res.rows and res.best_per_size(0.99)
    assert all(b.run for b in res.best_per_size(0.99))
    assert backend_results() is not None and bigann_result() is not None
    from engine.lab.results import family_results

    assert 10_000_000 in family_results("real-like").sizes() and 100_000_000 in family_results("hard").sizes()


def _bigann(dist=None, ann_ms=109.0, recall=0.991, n=100_000_000):
    body = {"n": n, "d": 64, "chosen": "IVF65536_HNSW32,SQ8", "measured_on": {"cpus": 2}, "date": "2026-12-01",
            "exact": {"disk": {"p50_s": 16.7, "gb_per_s": 1.5}, "ram": {"p50_s": 1.33, "n": 60_000_000},
                      "disk_same_n_as_ram": {"p50_s": 10.0}},
            "build": {"IVF65536_HNSW32,SQ8": {"train_s": 1, "add_s": 2, "ram_bytes": 1, "disk_bytes": 1}},
            "best": {"IVF65536_HNSW32,SQ8": {"p50_ms": ann_ms, "recall_at_10": recall, "nprobe": 64, "k_factor": 8}},
            "search": {"IVF65536_HNSW32,SQ8": {"curve": []}}}
    return body if dist is None else body | {"distribution": dist}


def test_the_guides_claim_is_judged_on_measured_rows_of_its_own_distribution():
    from engine.lab.results import guide_verdict

    fam = parse_scale({"distribution": "real-like", "rows": [
        {**row(40_000, "exact", 1.0), "distribution": "real-like"},
        {**row(200_000, "exact", 5.0, run="B"), "distribution": "real-like"},
        {**row(200_000, "ivf", 0.2, 0.995, run="B", label="IVF B"), "distribution": "real-like"},
        {**row(200_000, "ivf", 0.05, 0.98, run="B", label="IVF fast"), "distribution": "real-like"}]})
    hard_100m = _bigann()                                    # written before the field existed: hard
    v = guide_verdict("hard", None, hard_100m)
    assert (v.at_guide_size, v.exact_s, v.exact_where, v.ann_s, v.ann_holds) == (True, 16.7, "disk", 0.109, False)
    assert v.ratio == pytest.approx(16_700 / 109)
    assert guide_verdict("hard", None, _bigann(ann_ms=8.0)).ann_holds is True
    # the real-like file never borrows the hard 100M run: it is read at its own largest size, not judged
    r = guide_verdict("real-like", fam, hard_100m)
    assert (r.n, r.at_guide_size, r.ann_holds, r.ann_label, r.exact_s) == (200_000, False, None, "IVF B", 0.005)
    assert r.ratio == pytest.approx(25.0)
    assert guide_verdict("real-like", fam, _bigann("real-like", ann_ms=9.0)).ann_holds is True
    assert guide_verdict("real-like", None, None) is None
    unreached = parse_scale({"rows": [row(40_000, "exact", 1.0), row(40_000, "ivf", 0.1, 0.9)]})
    assert guide_verdict("hard", unreached).ann_s is None
    with pytest.raises(ArtifactError, match="lacks"):
        guide_verdict("hard", None, {"n": 5})


def test_a_100m_file_is_read_for_its_own_distribution_only(tmp_path):
    from engine.core.errors import BadQueryError
    from engine.lab.results import bigann_stem

    assert bigann_stem(100_000_000) == "bigann-100000000"
    assert bigann_stem(10_000_000, "real-like") == "bigann-10000000-real-like"
    with pytest.raises(BadQueryError):
        bigann_stem(10, "../x")
    write_sealed_json(tmp_path / "bigann-100000000-real-like.json", _bigann("hard"))   # hard rows, real-like name
    with pytest.raises(ArtifactError, match="describes the hard distribution"):
        bigann_result(folder=tmp_path, distribution="real-like")
    write_sealed_json(tmp_path / "bigann-100000000-real-like.json", _bigann("real-like"))
    assert bigann_result(folder=tmp_path, distribution="real-like")["distribution"] == "real-like"
    assert bigann_result(folder=tmp_path) is None                       # no hard file in this folder


def _bench_100m(n, dist, ram_n, batch_reranks=True):
    """A bench_100m body: two factories sharing one k-means, one curve point each without and with re-ranking."""
    curve = [{"nprobe": 64, "k_factor": 1, "recall_at_10": 0.97, "p50_ms": 3.0, "p99_ms": 4.0, "batch_qps": 900.0},
             {"nprobe": 64, "k_factor": 4, "recall_at_10": 0.995, "p50_ms": 4.0, "p99_ms": 6.0, "batch_qps": 500.0}]
    if batch_reranks:
        curve = [r | {"batch_reranks": True} for r in curve]
    return {"n": n, "d": 64, "distribution": dist, "date": "2026-12-05", "measured_on": {"cpus": 2},
            "command": "python benchmarks/bench_100m.py", "chosen": "IVF16384_HNSW32,SQ8",
            "exact": {"disk": {"p50_s": 17.0, "seconds": [17.0, 18.0]}, "ram": {"p50_s": 0.3, "n": ram_n, "seconds": [0.3, 0.4]},
                      "disk_same_n_as_ram": {"p50_s": 2.0}},
            "build": {"IVF16384_HNSW32,SQ8": {"train_s": 300.0, "add_s": 100.0, "ram_bytes": 2**30, "kmeans": "two-level"},
                      "IVF16384_HNSW32,PQ32x4fs": {"train_s": 5.0, "add_s": 50.0, "ram_bytes": 2**29, "kmeans": "shared"}},
            "best": {}, "search": {"IVF16384_HNSW32,SQ8": {"curve": curve}, "IVF16384_HNSW32,PQ32x4fs": {"curve": curve}}}


def test_bench_100m_runs_join_their_distributions_families_as_one_run_each(tmp_path):
    from engine.lab.results import bigann_rows, family_results

    rows = bigann_rows(_bench_100m(10_000_000, "real-like", ram_n=10_000_000))
    exact = [r for r in rows if r.kind == "exact"]
    assert [(r.label, r.p50_ms, r.p99_ms) for r in exact] == [("flat inner product, in RAM", 300.0, 400.0)]
    assert len({r.run for r in rows}) == 1 and all(r.distribution == "real-like" for r in rows)
    pq = [r for r in rows if r.family == "ivf-pqfs"]
    assert [r.build_s for r in pq] == [355.0, 355.0]            # its add and codes, plus the k-means it shared
    assert pq[1].label.endswith("x4 from disk") and pq[1].memory_mb == 512.0
    # at 100M the set does not fit in RAM: exact is the stream from disk; an old file's batch QPS timed no re-ranking
    old = bigann_rows(_bench_100m(100_000_000, "real-like", ram_n=60_000_000, batch_reranks=False))
    assert [r.label for r in old if r.kind == "exact"] == ["exact, streamed from disk"]
    assert [r.batch_qps for r in old if r.kind != "exact"][:2] == [900.0, None]
    with pytest.raises(ArtifactError, match="lacks"):
        bigann_rows({"n": 10, "d": 64})

    assert family_results("real-like", tmp_path) is None
    write_sealed_json(tmp_path / "scale-real-like.json", {"distribution": "real-like", "rows": [
        {**row(1_000_000, "exact", 28.0), "distribution": "real-like"},
        {**row(1_000_000, "hnsw", 0.5, 0.995, label="HNSW"), "distribution": "real-like"},
        {**row(10_000_000, "exact", 250.0, run="S"), "distribution": "real-like"},          # bench_scale's own 10M run
        {**row(10_000_000, "ivf", 30.0, 0.999, run="S", label="IVF S"), "distribution": "real-like"}]})
    write_sealed_json(tmp_path / "bigann-10000000-real-like.json", _bench_100m(10_000_000, "real-like", 10_000_000))
    write_sealed_json(tmp_path / "bigann-10000000.json", _bench_100m(10_000_000, "hard", 10_000_000))
    fam = family_results("real-like", tmp_path)
    assert fam.sizes() == (1_000_000, 10_000_000)
    w = fam.winner(10_000_000, 0.99)
    # equal p50: less memory wins
    assert (w.label, fam.exact_at(10_000_000, w.run).p50_ms) == ("IVF16384_HNSW32,PQ32x4fs nprobe=64 x4 from disk", 300.0)
    assert fam.exact_at(10_000_000, "another run") is None and fam.exact_at(10_000_000, "S").p50_ms == 250.0
    assert fam.sources == ("10,000,000: 2 cores, 2026-12-05",)
    hard = family_results("hard", tmp_path)                                 # the hard run alone, no scale file
    assert hard.sizes() == (10_000_000,) and hard.where == "" and len(hard.sources) == 1

    from engine.lab.results import guide_verdict

    v = guide_verdict("real-like", fam)            # judged at 10M: the winner's own run's exact, never run S's
    assert (v.n, v.exact_s, v.exact_where) == (10_000_000, 0.3, "ram") and v.ratio == pytest.approx(75.0)
    write_sealed_json(tmp_path / "bigann-10000000-real-like.json", _bench_100m(10_000_000, "real-like", 5_000_000))
    v = guide_verdict("real-like", family_results("real-like", tmp_path))
    assert (v.exact_s, v.exact_where) == (17.0, "disk")           # the whole set did not fit: streamed from disk
