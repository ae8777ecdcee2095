"""``python -m engine build``, ``evaluate`` and ``recommend --rerank`` succeed with ``--json``:
exactly one JSON object on stdout, exit 0, and the figures it reports are the ones computed."""

from __future__ import annotations

import json

import pytest

from engine.cli.main import main


def run(capsys, *argv: str) -> tuple[int, dict]:
    code = main(list(argv))
    out = capsys.readouterr()
    assert code == 0, out.err
    return code, json.loads(out.out)


@pytest.fixture
def tiny(dir_csv, tmp_path):
    """Five movies, three users (tests/conftest.py), as a catalogue without a published checksum."""
    return ["--dataset", "ml-25m", "--data-dir", str(dir_csv)]


def test_build_then_recommend_with_rerank(capsys, tiny):
    _, report = run(capsys, "build", *tiny, "--models", "mf,sasrec", "--epochs", "1", "--json")
    assert {m: r["status"] for m, r in report["models"].items()} == {"mf": "built", "sasrec": "built"}
    assert report["models"]["mf"]["n"] == 5 and report["models"]["sasrec"]["fit_info"]["epochs_run"] == [1, 1]
    _, again = run(capsys, "build", *tiny, "--models", "mf", "--epochs", "1", "--json")
    assert again["models"]["mf"]["status"] != "built"                   # up to date: not trained again
    _, hits = run(capsys, "recommend", *tiny, "--clicks", "1,2", "--rerank", "sasrec", "--candidates", "3",
                  "-k", "2", "--json")
    assert hits["kind"] == "two_stage" and hits["query"]["reranker"] == "sasrec"
    assert hits["query"]["n_candidates"] == 3 and len(hits["items"]) == 2
    ids = [it["movie_id"] for it in hits["items"]]
    assert not {1, 2} & set(ids)                                         # the clicks are never recommended
    scores = [it["rerank_score"] for it in hits["items"]]
    assert scores == sorted(scores, reverse=True) and [it["rank_after"] for it in hits["items"]] == [1, 2]
    assert all(1 <= it["rank_before"] <= 3 for it in hits["items"])     # each came from the 3 candidates


def test_evaluate_json_on_ml100k(capsys, ml100k):
    """The record the CLI prints is the evaluation's (same figures as the Python API), and
    ``--no-store`` stores nothing.  (MF against popularity: tests/recsys/test_evaluate.py.)"""
    from engine.recsys.evaluation import evaluate

    _, res = run(capsys, "evaluate", "--dataset", "ml-100k", "--models", "popularity", "--no-stages",
                 "--no-store", "--json")
    assert list(res["models"]) == ["popularity"] and "stages" not in res
    assert res["protocol"] == {**res["protocol"], "k": 10, "negatives": 100, "seed": 0}
    assert res["split"] == {"users": 943, "items": 1349, "interactions": 99287}
    again = evaluate(dataset=ml100k, models="popularity", stages=False, store=False)
    assert res["models"]["popularity"]["full"] == again["models"]["popularity"]["full"]
    from engine.data.catalogue import open_catalogue

    cat = open_catalogue(ml100k)
    try:
        assert cat.get_json("evaluation") is None                       # --no-store stored nothing
    finally:
        cat.close()


def test_progress_lines_without_a_terminal_one_per_stage_and_periodic_with_eta():
    """What ``build > build.log`` writes: a line when a stage starts and one per interval in between."""
    import io

    from engine.cli.progress import ProgressLines

    now = [0.0]
    out = io.StringIO()
    p = ProgressLines(out, interval=15, clock=lambda: now[0])
    p(0.0, "loading data set")
    for step in range(1, 100):                      # mf: 99 updates in 20 s -> its first line, one 15 s later
        now[0] = step * 0.2
        p(0.5 * step / 100, f"mf: sweep {step}")
    now[0] = 30.0
    p(0.5, "sasrec: training")
    now[0] = 60.0
    p(1.0, "build done in 60s")
    lines = out.getvalue().splitlines()
    assert [ln.split("] ", 1)[1].split("  (")[0] for ln in lines] == [
        "loading data set", "mf: sweep 1", "mf: sweep 76", "sasrec: training", "build done in 60s"]
    assert "ETA 0:30" in lines[3] and "elapsed 0:30" in lines[3]   # half done in 30 s: 30 s to go
    assert lines[-1].startswith("[100.0%]") and lines[-1].endswith("done)")


def test_build_to_a_log_file_reports_progress_on_stderr(capsys, tiny):
    code = main(["build", *tiny, "--models", "mf", "--epochs", "1"])
    err = capsys.readouterr().err
    assert code == 0
    assert "loading data set" in err and "mf: " in err and "elapsed" in err
