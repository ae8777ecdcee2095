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
