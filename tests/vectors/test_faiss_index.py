"""FAISS index layer: exactness, ANN recall, persistence, corruption, threads, FaissStore."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from engine.core.errors import BadQueryError, DimensionMismatchError, InvalidNameError, ModelNotBuiltError
from engine.vectors.contract import normalize
from engine.vectors.faiss_index import FaissIndex, FaissStore, IndexCache, IndexConfig
from engine.lab.scale import clustered_vectors
from engine.vectors.contract import VectorStore, open_store


@pytest.fixture(scope="module")
def data():
    x = clustered_vectors(3000, 24, n_clusters=30, seed=1) * np.random.default_rng(0).uniform(0.5, 3, (3000, 1))
    ids = np.arange(3000, dtype=np.int64) * 7 + 100
    return ids, x.astype(np.float32)


def brute(x: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    s = normalize(q) @ normalize(x).T
    return np.argsort(-s, axis=1, kind="stable")[:, :k]


def test_exact_matches_numpy_cosine(data):
    ids, x = data
    idx = FaissIndex.build(ids, x)
    q = x[:20] + 0.1
    scores, got = idx.search(q, 5)
    assert scores.dtype == np.float32 and got.dtype == np.int64 and got.shape == (20, 5)
    np.testing.assert_array_equal(got, ids[brute(x, q, 5)])
    assert np.all(scores <= 1.0001) and np.all(np.diff(scores, axis=1) <= 1e-6)


@pytest.mark.parametrize("cfg", [IndexConfig("hnsw", hnsw_m=16, ef_construction=80, ef_search=64),
                                 IndexConfig("ivf", nprobe=16), IndexConfig("ivf", nprobe=16, ivf_codec="sq8")])
def test_ann_recall_against_exact(data, cfg):
    ids, x = data
    idx = FaissIndex.build(ids, x, cfg)
    assert idx.recall_at_10 is not None and idx.recall_at_10 >= 0.9
    q = clustered_vectors(100, 24, n_clusters=30, seed=5)
    truth = ids[brute(x, q, 10)]
    _, got = idx.search(q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(got, truth)])
    assert recall >= 0.9


def test_padding_when_k_exceeds_n():
    idx = FaissIndex.build(np.array([5, 6]), np.eye(2, dtype=np.float32))
    s, i = idx.search(np.array([1.0, 0.0], np.float32), 4)
    assert i.tolist() == [[5, 6, -1, -1]] and np.isneginf(s[0, 2:]).all()


@pytest.mark.parametrize("k", [0, -3, 10**7, 2.5, True])
def test_bad_k(data, k):
    idx = FaissIndex.build(*data)
    with pytest.raises(BadQueryError):
        idx.search(data[1][:1], k)


def test_bad_shapes(data):
    ids, x = data
    idx = FaissIndex.build(ids, x)
    with pytest.raises(DimensionMismatchError):
        idx.search(np.ones((1, 5), np.float32), 3)
    with pytest.raises(DimensionMismatchError):
        idx.search(np.full((1, 24), np.nan, np.float32), 3)
    with pytest.raises(DimensionMismatchError):
        FaissIndex.build(ids[:5], x)
    with pytest.raises(BadQueryError):
        IndexConfig("annoy")  # type: ignore[arg-type]
    with pytest.raises(BadQueryError):
        IndexConfig("ivf", ivf_codec="pq")


def test_cache_persists_and_reloads(tmp_path, data):
    ids, x = data
    cfg = IndexConfig("hnsw", hnsw_m=8, ef_construction=40)
    a = IndexCache(tmp_path).get("mf", ids, x, "h" * 64, cfg)
    assert a.source == "built"
    files = sorted(p.suffix for p in tmp_path.iterdir())
    assert files == [".faiss", ".json"]
    b = IndexCache(tmp_path).get("mf", ids, x, "h" * 64, IndexConfig("hnsw", hnsw_m=8, ef_construction=40, ef_search=99))
    assert b.source == "cache" and b.config.ef_search == 99
    np.testing.assert_array_equal(a.search(x[:5], 5)[1], b.with_search_params(ef_search=cfg.ef_search).search(x[:5], 5)[1])


def test_cache_invalidated_when_vectors_change(tmp_path, data):
    ids, x = data
    cache = IndexCache(tmp_path)
    cache.get("mf", ids, x, "a" * 64)
    x2 = x[::-1].copy()
    b = IndexCache(tmp_path).get("mf", ids, x2, "b" * 64)
    assert b.source == "built"
    np.testing.assert_array_equal(b.search(x2[:3], 1)[1][:, 0], ids[:3])
    assert not any("aaaa" in p.name for p in tmp_path.iterdir()), "stale index files are removed"


def test_corrupted_index_is_detected_and_rebuilt(tmp_path, data, caplog):
    ids, x = data
    IndexCache(tmp_path).get("mf", ids, x, "c" * 64)
    path = next(tmp_path.glob("*.faiss"))
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with caplog.at_level("WARNING"):
        again = IndexCache(tmp_path).get("mf", ids, x, "c" * 64)
    assert again.source == "built" and "corrupt" in caplog.text
    meta = json.loads(next(tmp_path.glob("*.json")).read_text())
    from engine.core.artifacts import sha256_file
    assert sha256_file(path) == meta["file_sha256"]
    np.testing.assert_array_equal(again.search(x[:3], 1)[1][:, 0], ids[:3])


def test_truncated_file_and_bad_sidecar_rebuild(tmp_path, data):
    ids, x = data
    IndexCache(tmp_path).get("mf", ids, x, "d" * 64)
    next(tmp_path.glob("*.faiss")).write_bytes(b"junk")
    assert IndexCache(tmp_path).get("mf", ids, x, "d" * 64).source == "built"
    next(tmp_path.glob("*.json")).write_text("{not json")
    assert IndexCache(tmp_path).get("mf", ids, x, "d" * 64).source == "built"


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_threads_return_what_serial_returns(data, kind):
    ids, x = data
    idx = FaissIndex.build(ids, x, IndexConfig(kind, hnsw_m=16, ef_construction=64), check_recall=False)
    queries = clustered_vectors(400, 24, n_clusters=30, seed=9)
    serial = [idx.search(q, 10) for q in queries]
    barrier = threading.Barrier(8)

    def work(chunk: range):
        barrier.wait()
        return [(i, idx.search(queries[i], 10)) for i in chunk]

    with ThreadPoolExecutor(8) as pool:
        parts = list(pool.map(work, [range(t, 400, 8) for t in range(8)]))
    for part in parts:
        for i, (s, got) in part:
            np.testing.assert_array_equal(got, serial[i][1])
            np.testing.assert_allclose(s, serial[i][0], rtol=1e-6)


def test_cache_concurrent_get_builds_once(tmp_path, data):
    ids, x = data
    cache = IndexCache(tmp_path)
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: cache.get("mf", ids, x, "e" * 64, IndexConfig("ivf")), range(8)))
    assert len({id(g.index) for g in got}) == 1


def test_faiss_store_protocol(data):
    ids, x = data
    store = open_store("faiss")
    assert isinstance(store, VectorStore) and store.name == "faiss"
    assert store.count("mf") == 0
    with pytest.raises(ModelNotBuiltError):
        store.search("mf", x[:1], 3)
    store.upsert("mf", ids, x)
    assert store.count("mf") == len(ids)
    s, i = store.search("mf", x[:2], 3)
    assert i[:, 0].tolist() == ids[:2].tolist() and s.shape == (2, 3)
    with pytest.raises(InvalidNameError):
        store.upsert("1; DROP TABLE", ids, x)
    with pytest.raises(DimensionMismatchError):
        store.upsert("dup", np.array([1, 1]), x[:2])
    store.drop("mf")
    assert store.count("mf") == 0
    store.close()


def test_store_hnsw_option(data):
    ids, x = data
    store = FaissStore(config={"kind": "hnsw", "hnsw_m": 8})
    store.upsert("text", ids, x)
    assert store.search("text", x[:1], 1)[1][0, 0] == ids[0]


def test_a_second_cache_loads_the_index_from_disk_without_building(tmp_path, monkeypatch):
    """How fast that is: benchmarks/bench_catalogue.py; here, that nothing is built again."""
    x = clustered_vectors(20_000, 64, seed=2)
    ids = np.arange(20_000, dtype=np.int64)
    first = IndexCache(tmp_path).get("mf", ids, x, "f" * 64, IndexConfig("exact"))
    monkeypatch.setattr(IndexCache, "_build_and_save", lambda *a, **k: pytest.fail("built again"))
    idx = IndexCache(tmp_path).get("mf", ids, x, "f" * 64, IndexConfig("exact"))
    assert first.source != "cache" and idx.source == "cache"
    np.testing.assert_array_equal(idx.search(x[:5], 3)[1], first.search(x[:5], 3)[1])


def test_recall_vs_exact_scores_neighbours_not_the_query_itself(data):
    """An index that finds each query's own row and nothing else has recall 0 for "movies like this"
    (scoring the own row would credit it with 1/k for free)."""
    ids, x = data
    xn = normalize(x)
    idx = FaissIndex.build(ids, x, check_recall=False)
    assert idx.recall_vs_exact(xn) == 1.0                       # exact against exact
    own = {tuple(np.round(v, 5)): i for v, i in zip(xn, ids)}

    def only_itself(q, k):
        first = np.array([own[tuple(np.round(v, 5))] for v in q], dtype=np.int64)
        rest = np.full((len(q), k - 1), ids[-1], dtype=np.int64)    # one far-away movie, repeated
        return np.zeros((len(q), k), np.float32), np.column_stack([first, rest])

    idx.search = only_itself
    assert idx.recall_vs_exact(xn) <= 0.01


@pytest.mark.parametrize("codec", ["flat", "sq8", "pqfs"])
def test_an_ivf_on_a_shared_quantizer_equals_one_that_trained_its_own(codec):
    """The Scale lab runs k-means once per nlist and hands the centroids to every codec: the index
    must be the one a build of its own gives (same lists, same answers)."""
    from engine.vectors.faiss_index import build_faiss, search_params, train_coarse

    rng = np.random.default_rng(3)
    x = rng.standard_normal((5_000, 16)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    cfg = IndexConfig("ivf", nlist=32, nprobe=4, ivf_codec=codec)
    coarse = train_coarse(x, cfg)
    own, shared = build_faiss(x, cfg), build_faiss(x, cfg, coarse)
    params = search_params(cfg)
    a = own.search(x[:50], 10, params=params)
    b = shared.search(x[:50], 10, params=params)
    np.testing.assert_array_equal(a[1], b[1])
    np.testing.assert_allclose(a[0], b[0], rtol=1e-6)
    assert coarse.ntotal == 32                              # the shared one is copied, never filled by a build
    with pytest.raises(ValueError, match="centroids"):
        build_faiss(x, IndexConfig("ivf", nlist=64, ivf_codec=codec), coarse)
