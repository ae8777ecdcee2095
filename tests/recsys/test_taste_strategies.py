"""Several interests: k-means interests, best score, interleaving, and the page's candidates per strategy."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import BadQueryError
from engine.recsys.taste import Space, Taste, best_scores, candidates, check_split, interests, interleave
from engine.vectors.faiss_index import FaissIndex


def _two_clusters():
    # movies 0-4 around the x axis ("romance"), 5-9 around the y axis ("horror"), 10 in between
    rng = np.random.default_rng(0)
    a = np.array([1.0, 0.0, 0.0]) + 0.05 * rng.standard_normal((5, 3))
    b = np.array([0.0, 1.0, 0.0]) + 0.05 * rng.standard_normal((5, 3))
    mid = np.array([[0.7, 0.7, 0.1]])
    return Space("t", np.arange(100, 111), np.vstack([a, b, mid]).astype(np.float32))


def test_interests_split_two_groups_and_put_the_larger_first():
    sp = _two_clusters()
    rows = np.array([0, 1, 2, 5, 6])                       # three of one kind, two of the other
    cent, labels = interests(sp.unit[rows], max_interests=2)
    assert labels.tolist() == [0, 0, 0, 1, 1]
    assert cent.shape == (2, 3) and np.allclose(np.linalg.norm(cent, axis=1), 1.0, atol=1e-5)
    assert cent[0][0] > 0.9 and cent[1][1] > 0.9


def test_interests_never_exceed_the_clicks_and_drop_empty_ones():
    sp = _two_clusters()
    cent, labels = interests(sp.unit[[0]], max_interests=3)
    assert cent.shape[0] == 1 and labels.tolist() == [0]
    same = np.repeat(sp.unit[[0]], 3, axis=0)               # three identical clicks are one interest
    cent, labels = interests(same, max_interests=3)
    assert cent.shape[0] == 1 and labels.tolist() == [0, 0, 0]


def test_two_kinds_clicked_twice_each_make_two_interests_not_three():
    sp = _two_clusters()
    rows = np.array([0, 1, 5, 6])                          # two romances, two horror films
    cent, labels = interests(sp.unit[rows])                # room for three; the clicks decide
    assert cent.shape[0] == 2
    assert labels.tolist() in ([0, 0, 1, 1], [1, 1, 0, 0])
    assert sorted(np.argmax(np.abs(cent[:, :2]), axis=1).tolist()) == [0, 1]     # one per kind


def test_the_split_cosine_decides_how_many_interests():
    sp = _two_clusters()
    rows = np.array([0, 1, 5, 6])
    assert interests(sp.unit[rows], split_below=1.0)[0].shape[0] == 3      # always split: the maximum
    assert interests(sp.unit[rows], split_below=-1.0)[0].shape[0] == 1     # never split: the mean
    one_kind = sp.unit[[0, 1, 2, 3]]                                       # all romance: one interest
    cent, labels = interests(one_kind)
    assert cent.shape[0] == 1 and labels.tolist() == [0, 0, 0, 0]
    three = np.eye(3, dtype=np.float32)                                    # three unrelated clicks: three
    assert interests(three)[0].shape[0] == 3
    with pytest.raises(BadQueryError):
        check_split(1.5)


def test_best_score_by_hand():
    unit = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    clicks = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    assert best_scores(unit, clicks).tolist() == pytest.approx([1.0, 1.0, 0.8])
    dis = np.array([[0.0, 1.0]], dtype=np.float32)
    assert best_scores(unit, clicks, dis, 0.5).tolist() == pytest.approx([1.0, 0.5, 0.4])


def test_interleave_round_robin_without_repeats():
    got = interleave([np.array([1, 2, 3]), np.array([2, 4]), np.array([5])], 5)
    assert got.tolist() == [1, 2, 5, 3, 4]
    assert interleave([np.array([1]), np.array([], dtype=np.int64)], 4).tolist() == [1]


def test_multi_interest_serves_both_tastes_where_the_average_lands_between():
    sp = _two_clusters()
    idx = FaissIndex.build(sp.ids, sp.unit)
    taste = Taste.of([100, 101, 102, 105, 106, 107])         # three of each
    avg, _, _ = candidates(sp, idx, taste, 3, "average")
    assert avg[0] == 110                                     # the midpoint movie first
    multi, _, vecs = candidates(sp, idx, taste, 4, "multi")
    assert 110 not in multi[:2]
    kinds = {int(m) < 105 for m in multi[:2]}
    assert kinds == {True, False}                            # one of each interest first
    assert not set(multi) & set(taste.clicks) and vecs.shape[0] == 2            # two kinds: two interests


def test_best_strategy_excludes_seen_and_ranks_by_best_click():
    sp = _two_clusters()
    idx = FaissIndex.build(sp.ids, sp.unit)
    taste = Taste.of([100, 105], dislikes=[101])
    ids, scores, _ = candidates(sp, idx, taste, 5, "best")
    assert not {100, 105, 101} & set(ids.tolist())
    assert np.all(np.diff(scores) <= 1e-7)
    with pytest.raises(BadQueryError):
        candidates(sp, idx, taste, 5, "median")
