"""The VectorStore contract, its shared input checks, open_store and the scale-lab comparison."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core import errors
from engine.vectors import compare, contract
from engine.vectors.compare import compare_backends, format_table, recall_at_k
from engine.core.errors import BadQueryError, DimensionMismatchError, InvalidNameError, MovieDNAError, UnknownBackendError
from engine.vectors.contract import (VectorStore, default_backend, exact_search, open_store, pad_results, prepare_queries,
                                     prepare_vectors, validate_model_name)


@pytest.fixture
def operator_enabled(monkeypatch: pytest.MonkeyPatch):
    """Backends enabled with enable_backends() in a test are forgotten after it."""
    monkeypatch.setattr(contract, "_OPERATOR_ENABLED", set(), raising=False)


@pytest.fixture
def no_servers(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record (and refuse) every attempt to start an embedded PostgreSQL or open a Milvus client."""
    from engine.vectors import _embedded_pg, milvus

    calls: list[str] = []

    def refuse(what):
        def _fn(*args, **kwargs):
            calls.append(what)
            raise errors.BackendError(f"test: {what} must not be started")
        return _fn

    monkeypatch.setattr(_embedded_pg, "acquire", refuse("postgres"))
    monkeypatch.setattr(milvus, "_acquire_client", refuse("milvus"))
    return calls


@pytest.mark.parametrize("good", ["mf", "SASRec", "text-minilm_v2", "a" * 40])
def test_valid_model_names(good: str) -> None:
    assert validate_model_name(good) == good


@pytest.mark.parametrize("bad", ["", "_x", "-x", "a" * 41, "a.b", "a/b", "a'b", "a\nb", "ü", "..", "/tmp/x", 3, None])
def test_invalid_model_names(bad) -> None:
    with pytest.raises(InvalidNameError):
        validate_model_name(bad)


def test_prepare_vectors_normalises_and_checks() -> None:
    ids, vecs = prepare_vectors([3, 1], [[3.0, 4.0], [0.0, 0.0]])
    assert ids.dtype == np.int64 and vecs.dtype == np.float32
    np.testing.assert_allclose(vecs, [[0.6, 0.8], [0.0, 0.0]])  # zero rows stay zero, no NaN
    for ids_, vecs_ in [([1, 2], [[1.0, 2.0]]), ([1, 1], [[1.0], [2.0]]), ([1], [1.0, 2.0]), ([1], [[np.nan]])]:
        with pytest.raises(DimensionMismatchError):
            prepare_vectors(ids_, vecs_)


def test_prepare_queries_checks_dimension_and_k() -> None:
    q, k = prepare_queries(np.array([1.0, 1.0]), 2, 5)
    assert q.shape == (1, 2) and k == 5
    with pytest.raises(DimensionMismatchError):
        prepare_queries(np.ones((1, 3)), 2, 5)
    for bad_k in (0, -1, 2.5, True):
        with pytest.raises(BadQueryError):
            prepare_queries(np.ones((1, 2)), 2, bad_k)


def test_exact_search_and_padding() -> None:
    vecs = np.array([[1, 0], [0, 1], [1, 1]], np.float32)
    scores, ids = exact_search(vecs, np.array([10, 20, 30]), np.array([[1, 0]], np.float32), 4)
    assert ids.tolist() == [[10, 30, 20, -1]]
    np.testing.assert_allclose(scores[0, :3], [1.0, np.sqrt(0.5), 0.0], atol=1e-6)
    assert np.isneginf(scores[0, 3])
    s, i = pad_results([[(7, 0.5)], []], 2)
    assert i.tolist() == [[7, -1], [-1, -1]] and s.dtype == np.float32 and i.dtype == np.int64


def test_recall_at_k() -> None:
    truth = np.array([[1, 2, 3, 4]])
    assert recall_at_k(np.array([[4, 3, 9, -1]]), truth) == 0.5


def test_open_store_unknown_backend(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UnknownBackendError):
        open_store("sqlite-vec")
    assert default_backend() == "faiss"
    monkeypatch.setenv("MOVIEDNA_VECTOR_BACKEND", "Milvus")
    assert default_backend() == "milvus"


# --- operator policy: which backends may start ----------------------------------------------
def test_only_faiss_is_enabled_by_default(operator_enabled) -> None:
    assert contract.enabled_backends() == ("faiss",)
    assert contract.require_enabled("FAISS") == "faiss"


@pytest.mark.parametrize("backend", ["pgvector", "milvus"])
def test_a_disabled_backend_never_starts_a_server(backend, tmp_path, operator_enabled, no_servers) -> None:
    """open_store (what the app, the engine and the comparison use) refuses before anything starts:
    no initdb / postgres, no OS user, no Milvus Lite file under the cache."""
    with pytest.raises(MovieDNAError, match="MOVIEDNA_BACKENDS") as caught:
        open_store(backend)
    assert type(caught.value).__name__ == "BackendNotEnabledError" and no_servers == []
    with pytest.raises(errors.BackendNotEnabledError):
        contract.require_enabled(backend)
    cache = tmp_path / "cache"
    assert not (cache / "pgdata").exists() and not (cache / "milvus.db").exists()


def test_the_operator_enables_backends(monkeypatch: pytest.MonkeyPatch, operator_enabled) -> None:
    enabled_backends = contract.enabled_backends
    monkeypatch.setenv("MOVIEDNA_BACKENDS", "faiss, Milvus")
    assert enabled_backends() == ("faiss", "milvus")
    monkeypatch.setenv("MOVIEDNA_BACKENDS", "pgvector")
    monkeypatch.setenv("MOVIEDNA_VECTOR_BACKEND", "milvus")  # the default backend is always enabled
    assert enabled_backends() == ("pgvector", "milvus")
    monkeypatch.setenv("MOVIEDNA_BACKENDS", "pgvectr")  # a typo is loud, not a silently disabled backend
    with pytest.raises(UnknownBackendError, match="MOVIEDNA_BACKENDS"):
        enabled_backends()


def test_enable_backends_is_the_cli_opt_in(operator_enabled) -> None:
    contract.enable_backends("pgvector")
    assert contract.enabled_backends() == ("faiss", "pgvector")
    with pytest.raises(UnknownBackendError):
        contract.enable_backends("oracle")


@pytest.mark.parametrize("backend", ["pgvector", "milvus"])
def test_engine_refuses_a_disabled_backend(backend, operator_enabled, no_servers) -> None:
    from engine.service import Engine
    from tests.fixtures import synthetic_catalogue

    with pytest.raises(MovieDNAError, match="not enabled"):
        Engine("synthetic", catalogue=synthetic_catalogue(n=20, d=4), backend=backend).similar(1, "mf", k=3)
    assert no_servers == []


def test_comparison_runs_only_enabled_backends(data, tmp_path, operator_enabled, no_servers) -> None:
    """The Scale lab's "every backend": FAISS only here; a named disabled backend is skipped, not started."""
    ids, vecs, queries = data
    rows = compare_backends(ids, vecs, queries[:5], k=5)
    assert [(r["backend"], r["status"]) for r in rows] == [("faiss", "ok")]
    rows = compare_backends(ids, vecs, queries[:5], k=5, backends=("faiss", "pgvector", "milvus"))
    by = {r["backend"]: r for r in rows}
    assert by["faiss"]["status"] == "ok"
    assert all(by[b]["status"] == "skipped" and "BackendNotEnabledError" in by[b]["reason"] for b in ("pgvector", "milvus"))
    assert no_servers == []
    assert not (tmp_path / "cache" / "pgdata").exists() and not (tmp_path / "cache" / "milvus.db").exists()


def test_compare_space_taste_queries_and_one_at_a_time(data, operator_enabled) -> None:
    from engine.vectors.compare import compare_space, taste_like_queries

    ids, vecs, _ = data
    q = taste_like_queries(vecs, n=7, seed=3)
    assert q.shape == (7, vecs.shape[1]) and q.dtype == np.float32
    np.testing.assert_array_equal(q, taste_like_queries(vecs, n=7, seed=3))
    rows = compare_space(ids, vecs, model="mf", n_queries=20)
    assert [r["backend"] for r in rows] == ["faiss"] and rows[0]["status"] == "ok"
    for bad in (0, 10_001, 2.5, True):
        with pytest.raises(BadQueryError):
            compare_space(ids, vecs, model="mf", n_queries=bad)
    assert compare._SPACE_LOCK.acquire(blocking=False)
    try:
        with pytest.raises(errors.BusyError):
            compare_space(ids, vecs, model="mf", n_queries=20)
    finally:
        compare._SPACE_LOCK.release()


@pytest.mark.backend
def test_open_store_uses_cache_dir_by_default(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a URI the Milvus Lite file goes under MOVIEDNA_CACHE_DIR (here a tmp dir)."""
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("MOVIEDNA_BACKENDS", "milvus")
    monkeypatch.setenv("MOVIEDNA_VECTOR_BACKEND", "milvus")
    store = open_store()
    try:
        assert isinstance(store, VectorStore) and store.name == "milvus"
        assert store.uri == str((tmp_path / "c" / "milvus.db").resolve())
    finally:
        store.close()


@pytest.mark.backend
@pytest.mark.slow
def test_compare_backends_side_by_side(tmp_path, pg_tmp, data, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MOVIEDNA_BACKENDS", "faiss,pgvector,milvus")
    ids, vecs, queries = data
    rows = compare_backends(
        ids, vecs, queries[:20], k=10, backends=("faiss", "pgvector", "milvus", "nope"),
        options={"pgvector": {"data_dir": pg_tmp / "pgdata"}, "milvus": {"uri": str(tmp_path / "m.db")}},
    )
    by = {r["backend"]: r for r in rows}
    assert by["nope"]["status"] == "skipped" and "Unknown vector backend" in by["nope"]["reason"]
    for name in ("faiss", "pgvector", "milvus"):  # FAISS is always installed: it must run, not be skipped
        r = by[name]
        assert r["status"] == "ok", r
        # load_s is rounded to 0.1 ms: FAISS adds 2,000 rows faster than that, so 0.0 is a real reading
        assert r["n"] == len(ids) and r["load_s"] >= 0 and 0 < r["p50_ms"] <= r["p99_ms"]
        assert r["recall@10"] >= 0.9
    assert "pgvector" in format_table(rows)


@pytest.mark.backend
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["pgvector", "milvus"])
def test_searches_during_a_reload_never_fail(backend: str, tmp_path, pg_tmp, data,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """upsert swaps in a new collection; readers in other threads see the old or the new one."""
    import threading

    monkeypatch.setenv("MOVIEDNA_BACKENDS", backend)
    ids, vecs, queries = data
    opts = {"pgvector": {"data_dir": pg_tmp / "pgdata"}, "milvus": {"uri": str(tmp_path / "m.db")}}[backend]
    store = open_store(backend, **opts)
    try:
        store.upsert("swap", ids[:500], vecs[:500])
        errors: list[BaseException] = []
        done = threading.Event()

        def reader() -> None:
            while not done.is_set():
                try:
                    _, found = store.search("swap", queries[:2], 10)
                    assert (found >= 0).all()
                except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                    errors.append(exc)
                    return

        threads = [threading.Thread(target=reader) for _ in range(3)]
        for t in threads:
            t.start()
        for i in range(3):
            store.upsert("swap", ids[: 400 + 50 * i], vecs[: 400 + 50 * i])
        done.set()
        for t in threads:
            t.join(30)
        assert not errors, errors[:3]
        assert store.count("swap") == 500
    finally:
        store.close()
