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
