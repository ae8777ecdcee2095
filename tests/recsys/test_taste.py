"""Taste-vector maths: mean, normalisation, recency, dislikes, exclusion, explanations."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import BadQueryError, UnknownMovieError
from engine.vectors.faiss_index import FaissIndex
from engine.recsys.taste import Space, TasteConfig, check_ids, explain, recency_weights, recommend, taste_vector
from engine.lab.scale import clustered_vectors


@pytest.fixture(scope="module")
def world():
    ids = np.arange(10, 410, dtype=np.int64)
    x = clustered_vectors(400, 8, n_clusters=6, seed=3) * 5.0  # stored vectors are not normalised
    space = Space("mf", ids, x)
    return space, FaissIndex.build(ids, x)


def test_taste_is_normalised_mean_of_unit_vectors(world):
    space, _ = world
    clicks = [10, 11, 12]
    u = space.unit[[0, 1, 2]]
    expected = u.mean(0) / np.linalg.norm(u.mean(0))
    t = taste_vector(space, clicks)
    assert t.dtype == np.float32 and t.shape == (8,)
    np.testing.assert_allclose(t, expected, atol=1e-6)
    assert abs(np.linalg.norm(t) - 1) < 1e-5


def test_single_click_taste_is_that_movie(world):
    space, _ = world
    np.testing.assert_allclose(taste_vector(space, [42]), space.unit[32], atol=1e-6)


def test_recency_weights_favour_last_click(world):
    space, _ = world
    w = recency_weights(3, 1.0)
    np.testing.assert_allclose(w, [0.25, 0.5, 1.0])
    t = taste_vector(space, [10, 200], config=TasteConfig(recency_half_life=0.5))
    assert t @ space.unit[190] > t @ space.unit[0]


def test_dislike_pushes_away(world):
    space, _ = world
    base = taste_vector(space, [10, 11])
    pushed = taste_vector(space, [10, 11], dislikes=[300])
    d = space.unit[290]
    assert pushed @ d < base @ d
    expected = base - 0.5 * d
    np.testing.assert_allclose(pushed, expected / np.linalg.norm(expected), atol=1e-5)


def test_recommend_excludes_clicked_and_disliked_and_explains(world):
    space, index = world
    clicks, dislikes = [10, 11, 12, 13], [14, 15]
    recs = recommend(space, index, clicks, dislikes, k=20).rows
    got = [r.movie_id for r in recs]
    assert len(got) == 20 and not set(got) & set(clicks + dislikes)
    t = taste_vector(space, clicks, dislikes)
    sims = space.unit @ t
    sims[[0, 1, 2, 3, 4, 5]] = -np.inf
    assert got == space.ids[np.argsort(-sims, kind="stable")[:20]].tolist()
    for r in recs:
        cos = [space.unit[space.row[r.movie_id]] @ space.unit[space.row[c]] for c in clicks]
        assert r.because_id == clicks[int(np.argmax(cos))]
        assert r.because_score == pytest.approx(max(cos), abs=1e-5)


def test_explain_returns_closest_click(world):
    space, _ = world
    assert explain(space, [10], [10, 300]) == [(10, pytest.approx(1.0, abs=1e-5))]


def test_recommend_exhausts_small_space():
    space = Space("mf", np.array([1, 2, 3]), np.eye(3, dtype=np.float32) + 0.1)
    index = FaissIndex.build(space.ids, space.unit)
    recs = recommend(space, index, [1], k=10).rows
    assert sorted(r.movie_id for r in recs) == [2, 3]


@pytest.mark.parametrize("clicks, err", [
    ([], BadQueryError), ([10, 10], BadQueryError), ([10, 999999], UnknownMovieError),
    (["10"], BadQueryError), ("10,11", BadQueryError), ([1.5], BadQueryError), (list(range(10, 1000)), BadQueryError),
])
def test_bad_clicks(world, clicks, err):
    space, _ = world
    with pytest.raises(err):
        taste_vector(space, clicks)


def test_unknown_ids_are_named(world):
    space, _ = world
    with pytest.raises(UnknownMovieError, match="999999"):
        taste_vector(space, [10, 999999])
    with pytest.raises(UnknownMovieError, match="disliked"):
        taste_vector(space, [10], dislikes=[5])


def test_clicked_and_disliked_conflict(world):
    space, _ = world
    with pytest.raises(BadQueryError, match="both"):
        taste_vector(space, [10, 11], dislikes=[11])


def test_opposite_clicks_cancel():
    space = Space("mf", np.array([1, 2]), np.array([[1, 0], [-1, 0]], np.float32))
    with pytest.raises(BadQueryError, match="cancel"):
        taste_vector(space, [1, 2])


def test_bad_config():
    with pytest.raises(BadQueryError):
        TasteConfig(recency_half_life=0)
    with pytest.raises(BadQueryError):
        TasteConfig(dislike_weight=-1)
    assert check_ids(None, "dislikes", allow_empty=True) == []
