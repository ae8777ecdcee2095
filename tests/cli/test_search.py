"""``python -m engine similar|search|recommend`` on a tiny local ml-100k with stored vectors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import engine.models.encoders as search_mod
from engine.cli.main import main

D = 8


@pytest.fixture
def data_dir(dir_100k, monkeypatch) -> Path:
    """ml-100k files (5 movies) whose catalogue holds mf, sasrec and text vectors."""
    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset

    cat = open_catalogue(load_dataset("ml-100k", dir_100k, verify=False))
    ids = np.arange(1, 6, dtype=np.int64)
    rng = np.random.default_rng(0)
    for model in ("mf", "sasrec", "text"):
        cat.put_vectors(model, ids, rng.standard_normal((5, D)).astype(np.float32), {"test": True})
    monkeypatch.setattr(search_mod, "_ENCODER", lambda texts: np.ones((len(texts), D), np.float32))
    return dir_100k


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_similar_json(data_dir, capsys):
    code, out, _ = run(capsys, "similar", "Star Wars", "--model", "mf", "-k", "3", "--json", "--data-dir", str(data_dir))
    assert code == 0
    data = json.loads(out)
    assert data["query"]["movie_id"] == 4 and len(data["items"]) == 3
    assert 4 not in [it["movie_id"] for it in data["items"]]


def test_similar_by_id_and_all(data_dir, capsys):
    code, out, _ = run(capsys, "similar", "--id", "1", "--model", "all", "-k", "2", "--data-dir", str(data_dir))
    assert code == 0 and "agreement" in out and "mf vs sasrec" in out
    code, out, _ = run(capsys, "similar", "--id", "1", "--model", "all", "--json", "--data-dir", str(data_dir))
    assert len(json.loads(out)["overlaps"]) == 3


def test_search_and_recommend(data_dir, capsys):
    code, out, _ = run(capsys, "search", "a heartwarming story", "-k", "2", "--compare", "--json",
                       "--data-dir", str(data_dir))
    data = json.loads(out)
    assert code == 0 and len(data["items"]) == 2 and "keyword" in data
    code, out, _ = run(capsys, "recommend", "--clicks", "1,2", "--dislikes", "3", "-k", "5", "--json",
                       "--data-dir", str(data_dir))
    data = json.loads(out)
    assert code == 0 and {it["movie_id"] for it in data["items"]} <= {4, 5}
    assert all("because_title" in it for it in data["items"])


@pytest.mark.parametrize("argv, needle", [
    (["similar", "Nonexistent Movie Title"], "No movie titled"),
    (["similar"], "title or --id"),
    (["similar", "--id", "999"], "999"),
    (["search", "   "], "empty"),
    (["search", "🎬🍿"], "no letters"),
    (["search", "x" * 10_000], "characters"),
    (["search", "happy", "-k", "0"], "positive"),
    (["search", "happy", "-k", "5000"], "at most"),
    (["recommend", "--clicks", "1,1"], "Duplicate"),
    (["recommend", "--clicks", "1,99999"], "99999"),
    (["recommend", "--clicks", "a,b"], "whole-number"),
    (["recommend", "--clicks", ","], "empty"),
    (["similar", "Star Wars", "--model", "bogus"], "invalid choice"),
])
def test_bad_input_exits_2(data_dir, capsys, argv, needle):
    code, out, err = run(capsys, *argv, "--data-dir", str(data_dir))
    assert code == 2, err
    assert needle in err and err.startswith("error: ") and "Traceback" not in err


def test_rerank_without_sasrec_is_clear(data_dir, capsys):
    code, _, err = run(capsys, "recommend", "--clicks", "1,2", "--rerank", "sasrec", "--data-dir", str(data_dir))
    assert code == 2 and "sasrec" in err.lower() and "build" in err


@pytest.mark.slow
def test_subprocess_exit_code(data_dir, isolated_cache):
    env = {**os.environ, "MOVIEDNA_CACHE_DIR": str(isolated_cache)}
    p = subprocess.run([sys.executable, "-m", "engine", "similar", "Unknown Film", "--data-dir", str(data_dir)],
                       cwd=Path(__file__).resolve().parents[2], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 2 and p.stderr.startswith("error: ") and p.stdout == ""


@pytest.mark.parametrize("mode", ["semantic", "keyword", "bm25", "hybrid"])
def test_search_modes_name_mode_space_and_encoder(data_dir, capsys, mode):
    code, out, _ = run(capsys, "search", "star wars", "--mode", mode, "-k", "2", "--json", "--data-dir", str(data_dir))
    data = json.loads(out)
    assert code == 0 and data["mode"] == mode == data["query"]["mode"]
    assert {"kind", "query", "items", "timings_ms", "notes", "mode", "space", "encoder"} <= set(data)
    assert data["space"] == ("text" if mode in ("semantic", "hybrid") else None)  # use is not built here
    if mode in ("keyword", "bm25"):
        assert data["items"][0]["movie_id"] == 4                                   # "Star Wars (1977)"


def test_search_default_mode_and_space_override(data_dir, capsys):
    from engine.recsys.hybrid import DEFAULT_MODE

    code, out, _ = run(capsys, "search", "star wars", "--json", "--data-dir", str(data_dir))
    assert code == 0 and json.loads(out)["mode"] == DEFAULT_MODE
    code, out, _ = run(capsys, "search", "star wars", "--mode", "hybrid", "--data-dir", str(data_dir))
    assert code == 0 and "Search (hybrid in the text space" in out
    code, _, err = run(capsys, "search", "star wars", "--space", "use", "--data-dir", str(data_dir))
    assert code == 2 and "use" in err and "build" in err
    code, _, err = run(capsys, "search", "star wars", "--mode", "fuzzy", "--data-dir", str(data_dir))
    assert code == 2 and "invalid choice" in err
