"""Index cache and index settings under damage and hostile values."""

from __future__ import annotations

import json

import numpy as np
import pytest

from engine.core.errors import BadQueryError
from engine.vectors.faiss_index import IndexCache, IndexConfig

HASH = "a" * 64


@pytest.fixture
def data():
    x = np.random.default_rng(1).normal(size=(300, 8)).astype(np.float32)
    return np.arange(1, 301, dtype=np.int64), x


@pytest.mark.parametrize("which", ["index", "sidecar", "both"])
def test_a_directory_at_the_index_path_is_replaced(which, tmp_path, data):
    ids, x = data
    cfg = IndexConfig("hnsw", hnsw_m=8, ef_construction=40)
    path, side = IndexCache(tmp_path).paths("mf", HASH, cfg)
    for p in ((path,) if which == "index" else (side,) if which == "sidecar" else (path, side)):
        p.mkdir(parents=True)
        (p / "junk").write_text("x")
    idx = IndexCache(tmp_path).get("mf", ids, x, HASH, cfg)       # was IsADirectoryError
    assert idx.search(x[:2], 3)[1].shape == (2, 3)
    assert path.is_file() and side.is_file()
    assert IndexCache(tmp_path).get("mf", ids, x, HASH, cfg).source == "cache"   # healed


def test_a_sidecar_that_is_not_an_object_is_rebuilt(tmp_path, data):
    ids, x = data
    cache = IndexCache(tmp_path)
    cache.get("mf", ids, x, HASH)
    _, side = cache.paths("mf", HASH, IndexConfig())
    side.write_text(json.dumps(["not", "a", "sidecar"]))
    assert IndexCache(tmp_path).get("mf", ids, x, HASH).source == "built"


def test_an_unwritable_cache_still_serves(tmp_path, data):
    ids, x = data
    blocker = tmp_path / "file"
    blocker.write_text("x")
    idx = IndexCache(blocker / "indexes").get("mf", ids, x, HASH)  # parent is a file: cannot mkdir
    assert idx.search(x[:1], 1)[1][0, 0] == ids[0]


@pytest.mark.parametrize("field,value", [
    ("ef_search", 10**12), ("ef_search", 2.5), ("ef_search", "64"), ("ef_search", None), ("ef_search", True),
    ("nprobe", 10**30), ("hnsw_m", 10**30), ("hnsw_m", 1), ("ef_construction", 10**12), ("nlist", "x"),
    ("refine_factor", 10**30), ("kind", 3), ("ivf_codec", None),
])
def test_bad_index_settings_are_named_errors(field, value):
    with pytest.raises(BadQueryError, match=field if field not in ("kind", "ivf_codec") else "Unknown"):
        IndexConfig(**{"kind": "hnsw", field: value})


def test_numpy_integers_are_accepted():
    cfg = IndexConfig("ivf", nprobe=np.int64(8), nlist=np.int32(4))
    assert cfg.nprobe == 8 and type(cfg.nprobe) is int
