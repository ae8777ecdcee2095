"""Catalogue reliability: atomic vector replacement under kill -9, identity-bound vector hashes,
and a content hash over the movies table."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from engine.core.artifacts import array_hash
from engine.data.catalogue import Catalogue, open_catalogue
from engine.data.dataset import load_dataset
from engine.core.errors import ArtifactError, CatalogueError

REPO = Path(__file__).resolve().parents[2]

# The child replaces "mf" (old: 3-d, 5000 rows) with a new set (4-d, 9000 rows: three chunks) and
# SIGKILLs itself when SQLite starts its statement number KILL_AT (sqlite3 trace callback), i.e.
# between any two statements of put_vectors, including between chunk INSERTs.
CHILD = textwrap.dedent("""
    import os, signal, sys
    import numpy as np
    from engine.data.catalogue import Catalogue
    path, kill_at = sys.argv[1], int(sys.argv[2])
    cat = Catalogue(path)
    seen = []
    def trace(stmt):
        seen.append(stmt)
        if len(seen) == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)
    cat._conn.set_trace_callback(trace)
    cat.put_vectors("mf", np.arange(9000), np.full((9000, 4), 2.0, np.float32), {"v": "new"})
    cat._conn.set_trace_callback(None)
    print(len(seen))
""")


def _run_child(path: Path, kill_at: int) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", CHILD, str(path), str(kill_at)], env=env,
                          capture_output=True, text=True, timeout=120)


def test_put_vectors_killed_at_any_statement_leaves_old_or_new(tmp_path):
    path = tmp_path / "c.sqlite"
    old = Catalogue(path)
    old_hash = old.put_vectors("mf", np.arange(5000), np.ones((5000, 3), np.float32), {"v": "old"})
    old.close()
    # a run without a kill tells how many statements put_vectors executes
    clean = _run_child(tmp_path / "count.sqlite", 10**9)
    assert clean.returncode == 0, clean.stderr
    n_statements = int(clean.stdout.strip())
    assert n_statements >= 5  # BEGIN/DROP/CREATE/3 chunk INSERTs/registry/COMMIT (or their old equivalents)
    outcomes = set()
    for kill_at in range(1, n_statements + 1):
        res = _run_child(path, kill_at)
        assert res.returncode == -9, (kill_at, res.stderr)
        cat = Catalogue(path)
        try:
            vs = cat.get_vectors("mf")  # must not raise: the set is complete, old or new
        finally:
            cat.close()
        assert vs.config["v"] in ("old", "new")
        if vs.config["v"] == "old":
            assert vs.content_hash == old_hash and vs.vectors.shape == (5000, 3)
        else:
            assert vs.vectors.shape == (9000, 4) and float(vs.vectors.min()) == 2.0
        outcomes.add(vs.config["v"])
        if vs.config["v"] == "new":  # restore the old set for the next kill point
            c = Catalogue(path)
            c.put_vectors("mf", np.arange(5000), np.ones((5000, 3), np.float32), {"v": "old"})
            c.close()
    assert outcomes == {"old"}  # every kill lands before COMMIT completes: the old set survives


def test_failure_between_statements_rolls_back(tmp_path):
    """An exception raised by SQLite mid-replacement (here: a unique-key violation in the
    registry insert, forced by a trigger) leaves the previous set readable."""
    path = tmp_path / "c.sqlite"
    cat = Catalogue(path)
    cat.put_vectors("mf", np.arange(10), np.ones((10, 3), np.float32), {"v": "old"})
    cat._conn.execute("CREATE TRIGGER boom BEFORE INSERT ON models BEGIN SELECT RAISE(ABORT, 'injected'); END")
    cat._conn.commit()
    with pytest.raises(Exception):
        cat.put_vectors("mf", np.arange(20), np.ones((20, 5), np.float32), {"v": "new"})
    vs = cat.get_vectors("mf")
    assert vs.config == {"v": "old"} and vs.vectors.shape == (10, 3)


def test_hash_consistent_vectors_of_another_model_or_dimension_are_rejected(tmp_path):
    """Replacing mf's rows with other vectors and a hash recomputed over ids + vectors (the old
    formula) must not pass: the hash binds the model name, dimension and config."""
    path = tmp_path / "c.sqlite"
    cat = Catalogue(path)
    cat.put_vectors("mf", np.arange(6), np.ones((6, 4), np.float32), {"factors": 4})
    cat.put_vectors("text", np.arange(6), np.full((6, 8), 0.5, np.float32), {"model_name": "x"})
    cat.close()
    ids, wrong = np.arange(6, dtype=np.int64), np.full((6, 8), 0.5, np.float32)
    con = sqlite3.connect(path)
    con.execute('UPDATE "vec_mf" SET movie_ids = ?, vectors = ?', (ids.tobytes(), wrong.tobytes()))
    con.execute("UPDATE models SET dim = 8, content_hash = ? WHERE name = 'mf'", (array_hash(ids, wrong),))
    con.commit()
    # and a copy of text's registry row (its own valid hash) under the name mf
    text_hash = con.execute("SELECT content_hash FROM models WHERE name = 'text'").fetchone()[0]
    con.close()
    with pytest.raises(ArtifactError, match="build --models mf"):
        Catalogue(path).get_vectors("mf")
    con = sqlite3.connect(path)
    con.execute("UPDATE models SET content_hash = ?, config = ? WHERE name = 'mf'",
                (text_hash, json.dumps({"model_name": "x"})))
    con.commit()
    con.close()
    with pytest.raises(ArtifactError):
        Catalogue(path).get_vectors("mf")


def test_flipped_byte_in_a_title_is_detected_and_healed(dir_csv, isolated_cache):
    ds = load_dataset("ml-25m", dir_csv)
    cat = open_catalogue(ds)
    path = cat.path
    assert cat.movies_hash_ok()
    cat.close()
    con = sqlite3.connect(path)
    title = con.execute("SELECT title FROM movies WHERE movie_id = 2").fetchone()[0]
    flipped = title[:4] + chr(ord(title[4]) ^ 0x01) + title[5:]
    con.execute("UPDATE movies SET title = ? WHERE movie_id = 2", (flipped,))
    con.commit()
    con.close()
    cat = Catalogue(path)
    for read in (cat.movies, lambda: cat.movie(2), lambda: cat.keyword_search("prison")):
        with pytest.raises(CatalogueError, match="engine data"):
            read()
    cat.close()
    healed = open_catalogue(ds)  # the sync on open rewrites a table that fails its hash
    assert healed.movie(2)["title"] == title and healed.movies_hash_ok()


def test_edit_by_another_connection_after_a_good_read_is_detected(dir_csv, isolated_cache):
    cat = open_catalogue(load_dataset("ml-25m", dir_csv))
    assert len(cat.movies()) == 5
    con = sqlite3.connect(cat.path)
    con.execute("UPDATE movies SET title = 'x' WHERE movie_id = 1")
    con.commit()
    con.close()
    with pytest.raises(CatalogueError):
        cat.movies()
