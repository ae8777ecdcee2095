"""Milvus backend against a real Milvus Lite database (pymilvus MilvusClient)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from engine.vectors.milvus import MilvusStore, milvus_identifier
from engine.core.errors import BackendError, BadQueryError, DimensionMismatchError, InvalidNameError, ModelNotBuiltError
from engine.vectors.contract import VectorStore, exact_search

pytestmark = [pytest.mark.backend]


@pytest.fixture(scope="module")
def uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    return str(tmp_path_factory.mktemp("milvus") / "milvus.db")


@pytest.fixture(scope="module")
def store(uri: str, data) -> MilvusStore:
    """HNSW at an exhaustive ef for the module's shared data."""
    s = MilvusStore(uri=uri, index="HNSW", ef=1000)
    ids, vecs, _ = data
    s.upsert("mf", ids, vecs)
    yield s
    s.close()


def test_is_a_vector_store(store: MilvusStore) -> None:
    assert isinstance(store, VectorStore) and store.name == "milvus"
    assert store.count("mf") == 2000 and store.count("absent") == 0


def _assert_exact(found: np.ndarray, scores: np.ndarray, data) -> None:
    ids, vecs, queries = data
    exact_scores, exact_ids = exact_search(vecs, ids, queries, 10)
    assert found.dtype == np.int64 and scores.dtype == np.float32 and found.shape == (len(queries), 10)
    assert [set(r) for r in found] == [set(r) for r in exact_ids]
    np.testing.assert_allclose(scores, exact_scores, atol=1e-5)


def test_hnsw_equals_exact_top10_at_high_ef(store: MilvusStore, data) -> None:
    scores, found = store.search("mf", data[2], 10)
    _assert_exact(found, scores, data)


def test_flat_equals_exact_top10(uri: str, data) -> None:
    ids, vecs, queries = data
    with MilvusStore(uri=uri, index="FLAT") as s:
        s.upsert("flat", ids, vecs)
        scores, found = s.search("flat", queries, 10)
        s.drop("flat")
    _assert_exact(found, scores, data)


def test_stores_in_one_process_share_one_client(store: MilvusStore, uri: str) -> None:
    other = MilvusStore(uri=uri)
    assert other._client is store._client
    other.close()
    assert store.count("mf") == 2000, "closing one store leaves the shared client open"


def test_concurrent_queries_match_serial(store: MilvusStore, data) -> None:
    queries = data[2]
    serial = [store.search("mf", q[None], 10) for q in queries]
    with ThreadPoolExecutor(max_workers=8) as pool:
        parallel = list(pool.map(lambda q: store.search("mf", q[None], 10), queries))
    for (s1, i1), (s2, i2) in zip(serial, parallel):
        np.testing.assert_array_equal(i1, i2)
        np.testing.assert_array_equal(s1, s2)


def test_upsert_replaces_and_pads(store: MilvusStore) -> None:
    store.upsert("small", np.array([5, 9, 2]), np.eye(3, 8, dtype=np.float32) * 3)
    scores, found = store.search("small", np.eye(1, 8, dtype=np.float32), 5)
    assert found[0, 0] == 5 and set(found[0, 1:3]) == {9, 2}
    assert found[0, 3:].tolist() == [-1, -1] and np.isneginf(scores[0, 3:]).all()
    store.upsert("small", np.array([1, 2]), np.ones((2, 4), np.float32))
    assert store.count("small") == 2
    with pytest.raises(DimensionMismatchError):
        store.search("small", np.ones((1, 8), np.float32), 3)
    store.drop("small")
    assert store.count("small") == 0
    with pytest.raises(ModelNotBuiltError):
        store.search("small", np.ones((1, 4), np.float32), 3)


def test_collection_names_are_injective(store: MilvusStore) -> None:
    assert len({milvus_identifier(m) for m in ["a-b", "a_b", "a_hb", "a_ub", "ab"]}) == 5
    store.upsert("a-b", np.array([1]), np.ones((1, 4), np.float32))
    store.upsert("a_b", np.array([1, 2]), np.ones((2, 4), np.float32))
    assert (store.count("a-b"), store.count("a_b")) == (1, 2)
    store.drop("a-b"), store.drop("a_b")


@pytest.mark.parametrize("bad", ["", "-mf", "mf; drop", "a b", "x" * 41, "é", None])
def test_bad_names_are_rejected(store: MilvusStore, bad) -> None:
    with pytest.raises(InvalidNameError):
        store.upsert(bad, np.array([1]), np.ones((1, 4), np.float32))
    with pytest.raises(InvalidNameError):
        store.count(bad)


def test_wrong_shapes_are_rejected(store: MilvusStore) -> None:
    with pytest.raises(DimensionMismatchError):
        store.search("mf", np.ones((2, 33), np.float32), 10)
    with pytest.raises(DimensionMismatchError):
        store.upsert("x", np.arange(3), np.ones((2, 4), np.float32))
    with pytest.raises(BadQueryError):
        store.search("mf", np.ones((1, 32), np.float32), -1)
    with pytest.raises(BackendError):
        MilvusStore(uri=str(Path(store.uri).parent / "x.db"), index="IVF_PQ")


@pytest.mark.slow
def test_persistence_across_restart(tmp_path: Path, data) -> None:
    ids, vecs, queries = data
    uri = str(tmp_path / "m.db")
    with MilvusStore(uri=uri, index="FLAT") as s:
        s.upsert("mf", ids, vecs)
        before = s.search("mf", queries, 10)
    with MilvusStore(uri=uri, index="FLAT") as s:  # the Lite server was stopped and reopens the files
        assert s.count("mf") == len(ids)
        after = s.search("mf", queries, 10)
    np.testing.assert_array_equal(before[1], after[1])


CHILD = """
import numpy as np
from engine.vectors.milvus import MilvusStore
s = MilvusStore(uri={uri!r})
s.upsert("mf", np.arange(300), np.random.default_rng(0).normal(size=(300, 16)).astype(np.float32))
print("READY", flush=True)
import time; time.sleep(600)
"""


@pytest.mark.slow
def test_killed_client_then_next_start_recovers(tmp_path: Path, sigkill_child) -> None:
    uri = str(tmp_path / "m.db")
    sigkill_child(CHILD.format(uri=uri), {})
    with MilvusStore(uri=uri) as s:  # the flock died with the process; the WAL is replayed
        assert s.count("mf") == 300
        assert s.search("mf", np.ones((1, 16), np.float32), 5)[1].shape == (1, 5)


@pytest.mark.slow
def test_second_process_gets_a_named_error(tmp_path: Path) -> None:
    import subprocess
    import sys

    from .conftest import REPO

    uri = str(tmp_path / "m.db")
    with MilvusStore(uri=uri) as s:
        s.upsert("mf", np.arange(3), np.ones((3, 4), np.float32))
        code = ("import sys\nfrom engine.vectors.milvus import MilvusStore\nfrom engine.core.errors import BackendError\n"
                f"try:\n    MilvusStore(uri={uri!r})\nexcept BackendError as e:\n    print('BackendError', e)\n")
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.stdout.startswith("BackendError"), out.stdout + out.stderr[-2000:]


def test_k_larger_than_ef_still_returns_k(uri: str, store: MilvusStore, data) -> None:
    with MilvusStore(uri=uri, ef=16) as s:
        scores, found = s.search("mf", data[2][:3], 150)
    assert (found >= 0).all() and all(len(set(r)) == 150 for r in found)


@pytest.mark.slow
def test_normal_exit_frees_the_file_for_the_next_process(tmp_path: Path) -> None:
    import subprocess
    import sys

    from .conftest import REPO

    uri = str(tmp_path / "m.db")
    code = ("import numpy as np\nfrom engine.vectors.milvus import MilvusStore\n"
            f"s = MilvusStore(uri={uri!r})\ns.upsert('mf', np.arange(3), np.ones((3, 4), np.float32))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    with MilvusStore(uri=uri) as s:
        assert s.count("mf") == 3
