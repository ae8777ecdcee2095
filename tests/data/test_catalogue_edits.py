"""Catalogue edits are one transaction: an interrupted or killed add leaves the old catalogue or the new one."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from engine.data.catalogue import Catalogue, NewMovie, VectorRows
from engine.core.errors import CatalogueError, UnknownMovieError
from tests.fixtures import synthetic_catalogue

REPO = Path(__file__).resolve().parents[2]
SPACES = ("mf", "sasrec", "text")
D = 8


def consistent(cat: Catalogue) -> set[int]:
    """Assert the catalogue agrees with itself; return its movie ids."""
    assert cat.movies_hash_ok()
    movies = {r[0] for r in cat._q("SELECT movie_id FROM movies")}
    fts = {r[0] for r in cat._q("SELECT rowid FROM movies_fts")}
    assert fts == movies
    for m in SPACES:
        vs = cat.get_vectors(m)  # verifies the content hash
        assert set(vs.movie_ids.tolist()) == movies, m
        assert set(cat.cold_start(m).tolist()) <= movies
        assert cat.get_json(f"build:{m}")["vectors_hash"] == vs.content_hash
    log = cat.edit_log()
    assert set(log.added) <= movies and not set(log.removed) & movies
    return movies


def file_catalogue(path: Path, n: int = 300) -> Catalogue:
    src = synthetic_catalogue(n, D, models=SPACES)
    cat = Catalogue(path)
    cat.write_movies(src.movies())
    for m in SPACES:
        vs = src.get_vectors(m)
        cat.put_json(f"build:{m}", {"vectors_hash": cat.put_vectors(m, vs.movie_ids, vs.vectors, vs.config)})
    return cat


def add_rows(cat: Catalogue, mid: int, seed: int = 0) -> list[VectorRows]:
    rng = np.random.default_rng(seed)
    return [VectorRows(m, np.array([mid]), rng.normal(size=(1, D)).astype(np.float32), m != "text")
            for m in SPACES]


def test_add_and_remove_agree_everywhere(tmp_path):
    cat = file_catalogue(tmp_path / "c.sqlite")
    mid = cat.next_movie_id()
    cat.edit(add=NewMovie(mid, "Quokka Dawn", 2020, ("Comedy",), ("cute",), "An overview."),
             rows=add_rows(cat, mid))
    assert mid in consistent(cat) and cat.cold_start("mf").tolist() == [mid]
    cat.edit(remove=5)
    assert 5 not in consistent(cat)
    with pytest.raises(UnknownMovieError):
        cat.edit(remove=5)
    with pytest.raises(CatalogueError):  # a stored space without a row for the new movie
        cat.edit(add=NewMovie(mid + 1, "X", 2000, ("Drama",)), rows=add_rows(cat, mid + 1)[:2])
    assert consistent(cat) == set(range(1, 302)) - {5}


def test_the_data_import_keeps_the_edits(tmp_path):
    cat = file_catalogue(tmp_path / "c.sqlite")
    base = cat.movies()
    mid = cat.next_movie_id()
    cat.edit(add=NewMovie(mid, "Quokka Dawn", 2020, ("Comedy",), (), "Overview text."), rows=add_rows(cat, mid))
    cat.edit(remove=7)
    edited = cat.apply_edits(base)
    assert mid in edited["movie_id"].tolist() and 7 not in edited["movie_id"].tolist()
    assert edited.set_index("movie_id").loc[mid, "overview"] == "Overview text."
    cat.write_movies(edited)
    assert consistent(cat)


def test_an_edit_interrupted_at_any_statement_changes_nothing(tmp_path):
    """SQLite's progress handler aborts the transaction after N virtual-machine steps, N random."""
    cat = file_catalogue(tmp_path / "c.sqlite")
    before = consistent(cat)
    hashes = [v["content_hash"] for v in cat.vector_info()]
    rng = random.Random(0)
    aborted = 0
    for trial in range(25):
        mid = cat.next_movie_id()
        budget = rng.randint(1, 4000)
        steps = {"n": 0}

        def handler() -> int:
            steps["n"] += 1
            return 1 if steps["n"] == budget else 0  # once: the rollback itself runs

        cat._conn.set_progress_handler(handler, 1)
        try:
            cat.edit(add=NewMovie(mid, f"Film {trial}", 2000, ("Drama",)), rows=add_rows(cat, mid, trial))
        except (CatalogueError, sqlite3.OperationalError):
            aborted += 1
        finally:
            cat._conn.set_progress_handler(None, 1)
        ids = consistent(cat)
        if mid not in ids:
            assert ids == before and [v["content_hash"] for v in cat.vector_info()] == hashes
        else:
            before, hashes = ids, [v["content_hash"] for v in cat.vector_info()]
    assert aborted > 0


CHILD = """
import sys, numpy as np
from engine.data.catalogue import Catalogue
from engine.service import Engine
def enc(texts):
    return np.stack([np.random.default_rng(sum(map(ord, t)) % 2**32).normal(size=8) for t in texts]).astype(np.float32)
eng = Engine("synthetic", catalogue=Catalogue.open_existing(sys.argv[1]), encoder=enc, index_dir=sys.argv[2])
print("READY", flush=True)
i = 0
while True:
    done = eng.add_movie(f"Killed film {i}", 2000 + i % 50, "Drama|Comedy", overview="x" * (i % 300))
    if i % 3 == 2:
        eng.remove_movie(done.movie_id - 1)
    i += 1
"""


@pytest.mark.slow
def test_kill_9_during_adds_leaves_a_consistent_catalogue(tmp_path):
    path = tmp_path / "c.sqlite"
    file_catalogue(path).close()
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    rng = random.Random(1)
    seen_growth = False
    for trial in range(6):
        proc = subprocess.Popen([sys.executable, "-c", CHILD, str(path), str(tmp_path / "idx")], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read()[-2000:]
        time.sleep(rng.uniform(0.05, 2.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
        cat = Catalogue.open_existing(path)
        try:
            ids = consistent(cat)
            seen_growth |= max(ids) > 300
        finally:
            cat.close()
    assert seen_growth  # the child did edit before it was killed
