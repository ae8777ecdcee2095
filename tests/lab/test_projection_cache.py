"""The projection cache heals from whatever takes its file's name.

UMAP itself is replaced by a stand-in module (first two columns as the map): these tests are
about the cache around it, and real UMAP needs 12-38 s of numba compilation per process.
"""

from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from engine.core.artifacts import save_arrays
from engine.lab.projection import ProjectionConfig, cache_file, project

CFG = ProjectionConfig(n_neighbors=5)
HASH = "c" * 64


@pytest.fixture
def fake_umap(monkeypatch):
    calls = []

    class UMAP:
        def __init__(self, **kw):
            pass

        def fit_transform(self, x):
            calls.append(len(x))
            return np.asarray(x)[:, :2] * 1.0

    monkeypatch.setitem(sys.modules, "umap", types.SimpleNamespace(UMAP=UMAP))
    return calls


@pytest.fixture
def vectors():
    return np.random.default_rng(0).normal(size=(30, 6)).astype(np.float32)


def _damage(path, kind, vectors):
    if kind == "other_npz":          # a valid, hash-consistent artifact of another kind
        save_arrays(path, {"content_hash": HASH}, weights=np.ones(3, np.float32))
    elif kind == "plain_npz":        # an ordinary numpy file
        np.savez(path, coords=np.zeros((30, 2), np.float32))
    elif kind == "wrong_shape":
        save_arrays(path, {"content_hash": HASH, "config": {}}, coords=np.zeros((7, 2), np.float32))
    elif kind == "nan":
        save_arrays(path, {"content_hash": HASH, "config": {"n_neighbors": 5, "min_dist": 0.1, "metric": "cosine",
                                                            "seed": 42}},
                    coords=np.full((30, 2), np.nan, np.float32))
    elif kind == "directory":
        path.mkdir()
        (path / "inside").write_text("x")


@pytest.mark.parametrize("kind", ["other_npz", "plain_npz", "wrong_shape", "nan", "directory"])
def test_anything_else_at_the_cache_name_is_recomputed_and_replaced(kind, tmp_path, vectors, fake_umap):
    path = cache_file(tmp_path, HASH, CFG)
    _damage(path, kind, vectors)
    coords = project(vectors, HASH, tmp_path, CFG)
    np.testing.assert_array_equal(coords, vectors[:, :2])
    assert fake_umap == [30] and path.is_file()
    again = project(vectors, HASH, tmp_path, CFG)         # healed: served from the cache now
    np.testing.assert_array_equal(again, coords)
    assert fake_umap == [30]
