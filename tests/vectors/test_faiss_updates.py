"""FAISS indexes updated in place: add / remove_ids (HNSW: masked) equal a fresh index over the edited rows."""

from __future__ import annotations

import numpy as np
import pytest

from engine.vectors.contract import exact_search, normalize
from engine.vectors.faiss_index import FaissIndex, FaissStore, IndexCache, IndexConfig
from tests.vectors.conftest import clustered


@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_updates_match_brute_force_over_the_edited_rows(kind):
    ids, vecs = clustered(1500, 24)
    cfg = IndexConfig(kind=kind, nprobe=64, ef_search=256)
    idx = FaissIndex.build(ids, vecs, cfg, check_recall=False)
    rng = np.random.default_rng(3)
    new_ids = np.array([10**6, 10**6 + 1], np.int64)
    new = rng.normal(size=(2, 24)).astype(np.float32)
    gone = ids[[0, 10, 700]]
    up = idx.updated(new_ids, new, gone)
    up = up.updated(np.zeros(0, np.int64), np.zeros((0, 24), np.float32), new_ids[1:])  # the second one again out
    keep = ~np.isin(ids, gone)
    all_ids, all_vecs = np.concatenate([ids[keep], new_ids[:1]]), np.concatenate([vecs[keep], new[:1]])
    assert up.ntotal == len(all_ids) and idx.ntotal == len(ids)   # the original is untouched
    queries = np.concatenate([new, vecs[[0, 10, 700, 5]]])
    _, truth = exact_search(all_vecs, all_ids, queries, 10)
    _, got = up.search(queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(truth, got)])
    assert recall >= (1.0 if kind == "exact" else 0.95)
    assert not np.isin(got, gone).any() and not np.isin(got, new_ids[1:]).any()
    assert got[0, 0] == new_ids[0]
    _, fifty = up.search(queries, 50)   # masked rows never take a place: still k rows, all live
    assert (fifty >= 0).all() and np.isin(fifty, all_ids).all()
    if kind == "exact":
        _, everything = up.search(queries[:1], len(all_ids) + 5)   # never more rows than it holds
        assert (everything[0] >= 0).sum() == len(all_ids) and set(everything[0][everything[0] >= 0]) == set(all_ids)


def test_sq8_ivf_is_rebuilt_not_updated():
    ids, vecs = clustered(800, 16)
    idx = FaissIndex.build(ids, vecs, IndexConfig(kind="ivf", ivf_codec="sq8"), check_recall=False)
    assert idx.updated(ids[:1] + 10**6, vecs[:1], []) is None


def test_index_cache_moves_indexes_to_the_new_hash_and_never_serves_old_files(tmp_path):
    ids, vecs = clustered(600, 16)
    unit = normalize(vecs)
    cache = IndexCache(tmp_path)
    for kind in ("exact", "hnsw"):
        cache.get("mf", ids, unit, "a" * 64, IndexConfig(kind=kind))
    new_id, new = np.array([9_999_999]), unit[:1] * -1
    assert cache.update("mf", "a" * 64, "b" * 64, new_id, new, ids[:1]) == 2
    edited_ids = np.concatenate([ids[1:], new_id])
    edited = np.concatenate([unit[1:], new])
    for kind in ("exact", "hnsw"):
        got = cache.get("mf", edited_ids, edited, "b" * 64, IndexConfig(kind=kind))
        assert got.source == "updated" and got.search(new, 1)[1][0, 0] == new_id[0]
    fresh = IndexCache(tmp_path)   # another process: the old hash's files do not describe these vectors
    got = fresh.get("mf", edited_ids, edited, "b" * 64, IndexConfig())
    assert got.source == "built" and got.search(new, 1)[1][0, 0] == new_id[0]


def test_faiss_store_add_and_delete():
    ids, vecs = clustered(300, 8)
    store = FaissStore()
    store.upsert("mf", ids, vecs)
    store.add("mf", [42], vecs[:1] * -1)
    store.delete("mf", ids[:2])
    assert store.count("mf") == 299
    _, got = store.search("mf", vecs[:1] * -1, 1)
    assert got[0, 0] == 42
    _, got = store.search("mf", vecs[:2], 5)
    assert not np.isin(got, ids[:2]).any()
