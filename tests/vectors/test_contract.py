"""The VectorStore contract, its shared input checks, open_store and the scale-lab comparison."""

from __future__ import annotations

import numpy as np
import pytest

from engine.vectors.compare import compare_backends, format_table, recall_at_k
from engine.errors import BadQueryError, DimensionMismatchError, InvalidNameError, UnknownBackendError
from engine.vectors.contract import (VectorStore, default_backend, exact_search, open_store, pad_results, prepare_queries,
                          prepare_vectors, validate_model_name)


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


@pytest.mark.backend
def test_open_store_uses_cache_dir_by_default(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a URI the Milvus Lite file goes under MOVIEDNA_CACHE_DIR (here a tmp dir)."""
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("MOVIEDNA_VECTOR_BACKEND", "milvus")
    store = open_store()
    try:
        assert isinstance(store, VectorStore) and store.name == "milvus"
        assert store.uri == str((tmp_path / "c" / "milvus.db").resolve())
    finally:
        store.close()


@pytest.mark.backend
@pytest.mark.slow
def test_compare_backends_side_by_side(tmp_path, pg_tmp, data) -> None:
    ids, vecs, queries = data
    rows = compare_backends(
        ids, vecs, queries[:20], k=10, backends=("faiss", "pgvector", "milvus", "nope"),
        options={"pgvector": {"data_dir": pg_tmp / "pgdata"}, "milvus": {"uri": str(tmp_path / "m.db")}},
    )
    by = {r["backend"]: r for r in rows}
    assert by["nope"]["status"] == "skipped" and "Unknown vector backend" in by["nope"]["reason"]
    assert by["faiss"]["status"] in {"ok", "skipped"}  # FaissStore may not exist yet: skipped with the reason
    for name in ("pgvector", "milvus"):
        r = by[name]
        assert r["status"] == "ok", r
        assert r["n"] == len(ids) and r["load_s"] > 0 and 0 < r["p50_ms"] <= r["p99_ms"]
        assert r["recall@10"] >= 0.9
    assert "pgvector" in format_table(rows)


@pytest.mark.backend
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["pgvector", "milvus"])
def test_searches_during_a_reload_never_fail(backend: str, tmp_path, pg_tmp, data) -> None:
    """upsert swaps in a new collection; readers in other threads see the old or the new one."""
    import threading

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
