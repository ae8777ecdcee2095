import numpy as np
import pytest

from engine.core.errors import DimensionMismatchError
from engine.lab.projection import ProjectionConfig, align, cache_file, neighbour_agreement, place, project


@pytest.fixture
def clusters():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(3, 16)) * 5
    x = np.concatenate([c + rng.normal(size=(40, 16)) for c in centres]).astype(np.float32)
    return x


@pytest.mark.slow
def test_project_caches_and_separates_clusters(clusters, tmp_path, monkeypatch):
    coords = project(clusters, "h" * 64, tmp_path, ProjectionConfig(n_neighbors=10))
    assert coords.shape == (120, 2) and coords.dtype == np.float32 and np.isfinite(coords).all()
    centroids = np.stack([coords[i * 40:(i + 1) * 40].mean(0) for i in range(3)])
    spread = max(coords[i * 40:(i + 1) * 40].std(0).max() for i in range(3))
    gaps = [np.linalg.norm(centroids[i] - centroids[j]) for i in range(3) for j in range(i + 1, 3)]
    assert min(gaps) > 2 * spread  # the three clusters stay apart on the map

    import umap

    def boom(*a, **k):
        raise AssertionError("UMAP recomputed although the projection is cached")
    monkeypatch.setattr(umap.UMAP, "fit_transform", boom)
    np.testing.assert_array_equal(project(clusters, "h" * 64, tmp_path, ProjectionConfig(n_neighbors=10)), coords)


@pytest.mark.slow
def test_damaged_projection_cache_is_recomputed(clusters, tmp_path):
    cfg = ProjectionConfig(n_neighbors=10)
    path = cache_file(tmp_path, "x" * 64, cfg)
    path.write_bytes(b"garbage")
    coords = project(clusters, "x" * 64, tmp_path, cfg)
    assert coords.shape == (120, 2)
    assert path.stat().st_size > 100


def test_project_rejects_bad_shapes(tmp_path):
    with pytest.raises(DimensionMismatchError):
        project(np.zeros((3, 4), np.float32), "h", tmp_path)
    with pytest.raises(DimensionMismatchError):
        project(np.zeros(10, np.float32), "h", tmp_path)


def test_place_lands_near_the_closest_movies():
    vectors = np.array([[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9]], np.float32)
    coords = np.array([[0, 0], [0.2, 0], [10, 10], [10.2, 10]], np.float32)
    pos = place(np.array([1, 0.05]), vectors, coords, k=4)
    assert np.linalg.norm(pos - [0.1, 0]) < 0.5
    with pytest.raises(DimensionMismatchError):
        place(np.ones(3), vectors, coords)


def test_neighbour_agreement_identical_and_unrelated(clusters):
    assert neighbour_agreement(clusters, clusters * 2.0, k=5).min() == 1.0
    rng = np.random.default_rng(1)
    noise = rng.normal(size=clusters.shape).astype(np.float32)
    assert neighbour_agreement(clusters, noise, k=5).mean() < 0.3


def test_align():
    common, ia, ib = align(np.array([1, 2, 3, 5]), np.array([2, 5, 7]))
    assert common.tolist() == [2, 5] and ia.tolist() == [1, 3] and ib.tolist() == [0, 1]


def test_knn_sets_match_brute_force():
    from engine.lab.projection import knn_sets

    x = np.random.default_rng(1).normal(size=(300, 12)).astype(np.float32)
    u = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = u @ u.T
    np.fill_diagonal(sims, -np.inf)
    want = np.argsort(-sims, axis=1)[:, :7]
    got = knn_sets(x, 7)
    assert got.shape == (300, 7) and got.dtype == np.int64
    assert all(set(a) == set(b) for a, b in zip(got.tolist(), want.tolist()))
    q = np.array([5, 17, 299])
    assert np.array_equal(knn_sets(x, 7, q), got[q])


def test_agreement_at_scale_never_builds_the_n_by_n_matrix():
    """20,000 movies: an n x n float32 matrix would be 1.6 GB; numpy's peak here stays small."""
    import tracemalloc

    rng = np.random.default_rng(0)
    a = rng.normal(size=(20_000, 16)).astype(np.float32)
    b = a + 0.05 * rng.normal(size=a.shape).astype(np.float32)
    tracemalloc.start()
    agree = neighbour_agreement(a, b, k=10, max_queries=2000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert agree.shape == (2000,) and agree.mean() > 0.5
    assert peak < 50e6, f"numpy peak {peak / 1e6:.0f} MB"
    # the sampled mean estimates the full one
    full = neighbour_agreement(a[:3000], b[:3000], k=10, max_queries=None)
    sampled = neighbour_agreement(a[:3000], b[:3000], k=10, max_queries=1000)
    assert abs(full.mean() - sampled.mean()) < 0.03
