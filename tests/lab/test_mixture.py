"""The real-like distribution: a mixture fitted to a catalogue's vectors, drawn in chunks, verified on load,
and the statistics that say how well it matches."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import ArtifactError, BadQueryError
from engine.lab.mixture import (catalogue_mixture, fit_mixture, load_mixture, mixture_chunks, mixture_path,
                                mixture_vectors, save_mixture, unit_rows, vector_stats)
from engine.lab.scale import clustered_vectors, draw
from tests.fixtures import synthetic_movies

SOURCE = {"dataset": "toy", "space": "mf", "vectors_sha256": "abc"}


def low_rank(n: int = 3000, d: int = 32, rank: int = 4, seed: int = 0) -> np.ndarray:
    """Unit vectors on a few skewed low-rank clusters: the shape real embeddings have, made to order."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((6, d)) * 2
    dirs = rng.standard_normal((6, rank, d))
    lab = rng.choice(6, n, p=[0.4, 0.25, 0.15, 0.1, 0.06, 0.04])
    x = centres[lab] + np.einsum("nr,nrd->nd", rng.standard_normal((n, rank)), dirs[lab]) \
        + 0.02 * rng.standard_normal((n, d))
    return unit_rows(x.astype(np.float32))


@pytest.fixture(scope="module")
def model():
    return fit_mixture(low_rank(), SOURCE, k=8, rank=6, seed=0)


def test_fit_shapes_and_weights(model):
    assert (model.k, model.rank, model.d) == (8, 6, 32)
    assert model.weights.sum() == pytest.approx(1.0) and (model.weights > 0).all()
    assert model.source["n"] == 3000 and model.source["space"] == "mf"
    with pytest.raises(BadQueryError):
        fit_mixture(np.ones((5, 8), np.float32), SOURCE)


def test_draws_are_seeded_unit_rows_and_chunk_invariant(model):
    x = mixture_vectors(model, 2500, seed=3)
    assert x.shape == (2500, 32) and x.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1, atol=1e-5)
    np.testing.assert_array_equal(x, mixture_vectors(model, 2500, seed=3, chunk=7))
    blocks = list(mixture_chunks(model, 2500, seed=3, chunk=1000))
    assert [s for s, _ in blocks] == [0, 1000, 2000] and [len(b) for _, b in blocks] == [1000, 1000, 500]
    assert not np.array_equal(x[:50], mixture_vectors(model, 50, seed=4))


def test_generated_vectors_keep_the_real_shape_the_hard_ones_lose(model):
    """The fitted mixture reproduces the low intrinsic dimension of what it was fitted to; the hard
    distribution of the same dimension does not."""
    real = vector_stats(low_rank(), queries=500)
    gen = vector_stats(mixture_vectors(model, 3000, seed=1), queries=500)
    hard = vector_stats(clustered_vectors(3000, 32), queries=500)
    assert abs(gen.pca90_dims - real.pca90_dims) <= 3 < hard.pca90_dims - real.pca90_dims
    assert gen.twonn_dim < hard.twonn_dim and real.twonn_dim < hard.twonn_dim
    assert gen.mean_10nn_cos > hard.mean_10nn_cos and gen.relative_contrast > hard.relative_contrast
    assert abs(gen.mean_10nn_cos - real.mean_10nn_cos) < 0.1


def test_stats_on_known_shapes():
    rng = np.random.default_rng(0)
    line = unit_rows(np.c_[np.ones(2000), rng.uniform(-1, 1, 2000), np.zeros((2000, 14))].astype(np.float32))
    ball = unit_rows(rng.standard_normal((2000, 16)).astype(np.float32))
    s_line, s_ball = vector_stats(line, queries=300), vector_stats(ball, queries=300)
    assert s_line.twonn_dim < 1.5 and s_line.pca90_dims == 1
    assert s_ball.twonn_dim > 8 and s_ball.pca90_dims >= 13
    assert s_line.relative_contrast > 10 * s_ball.relative_contrast
    with pytest.raises(BadQueryError):
        vector_stats(ball[:5])


def test_saved_model_is_verified_on_load(model, tmp_path):
    path = tmp_path / "m.npz"
    saved = save_mixture(path, model)
    back = load_mixture(path, expect_source=SOURCE)
    assert back.sha256 == saved.sha256 and len(saved.sha256) == 64
    np.testing.assert_array_equal(mixture_vectors(back, 100, seed=2), mixture_vectors(model, 100, seed=2))
    with pytest.raises(ArtifactError, match="fitted to vectors_sha256"):
        load_mixture(path, expect_source={**SOURCE, "vectors_sha256": "other"})
    blob = bytearray(path.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    path.write_bytes(bytes(blob))
    with pytest.raises(ArtifactError):
        load_mixture(path)


def test_catalogue_mixture_is_refitted_when_the_vectors_change(tmp_path, monkeypatch):
    from engine.core.config import catalogue_path
    from engine.data.catalogue import Catalogue

    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(tmp_path))
    path = catalogue_path("toy")
    path.parent.mkdir(parents=True)
    cat = Catalogue(path)
    cat.write_movies(synthetic_movies(400))
    ids = np.arange(1, 401, dtype=np.int64)
    cat.put_vectors("mf", ids, low_rank(400, 16), {"v": 1})
    first, real = catalogue_mixture("toy", "mf", k=4, rank=3)
    assert real.shape == (400, 16) and first.source["dataset"] == "toy"
    assert mixture_path("toy", "mf", 4, 3, 0).exists()
    assert catalogue_mixture("toy", "mf", k=4, rank=3)[0].sha256 == first.sha256   # loaded, verified
    cat.put_vectors("mf", ids, low_rank(400, 16, seed=5), {"v": 2})
    again, _ = catalogue_mixture("toy", "mf", k=4, rank=3)
    assert again.source["vectors_sha256"] != first.source["vectors_sha256"] and again.sha256 != first.sha256


def test_draw_names_both_distributions(model):
    assert draw("real-like", 10, 99, seed=0, mixture=model).shape == (10, 32)   # the mixture's own d
    np.testing.assert_array_equal(draw("hard", 10, 8), clustered_vectors(10, 8))
    with pytest.raises(BadQueryError):
        draw("real-like", 10, 8)
    with pytest.raises(BadQueryError):
        draw("easy", 10, 8)


def test_the_100m_file_of_the_real_like_distribution_holds_the_mixtures_rows(model, tmp_path):
    from engine.lab import bigann

    saved = save_mixture(tmp_path / "m.npz", model)
    vf = bigann.write_mixture(tmp_path / "v.f32", saved, 5_000, chunk=1_234)
    np.testing.assert_array_equal(np.asarray(vf.memmap()), mixture_vectors(saved, 5_000))
    assert vf.meta["mixture_sha256"] == saved.sha256 and vf.meta["source"] == dict(saved.source)
    assert vf.meta["source"]["vectors_sha256"] == SOURCE["vectors_sha256"]   # names the real vectors behind it
    again = bigann.write_mixture(tmp_path / "v.f32", saved, 5_000)
    assert again.meta["seconds"] == vf.meta["seconds"]                       # reused, not rewritten
    other = save_mixture(tmp_path / "m2.npz", fit_mixture(low_rank(), SOURCE, k=4, rank=6, seed=1))
    assert bigann.write_mixture(tmp_path / "v.f32", other, 5_000).sha256 != vf.sha256   # another mixture: rewritten
