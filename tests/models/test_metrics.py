"""HR@k / NDCG@k against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.models.metrics import (full_ranks, hit_ratio, holdout_metrics, holdout_negatives, ndcg, sampled_ranks,
                            target_ranks)
from engine.models.base import Holdout


def test_hit_ratio_and_ndcg_by_hand():
    ranks = np.array([0, 1, 9, 10])
    assert hit_ratio(ranks, 10) == 0.75
    expected = (1 + 1 / math.log2(3) + 1 / math.log2(11) + 0) / 4
    assert ndcg(ranks, 10) == pytest.approx(expected)
    assert ndcg(np.array([0]), 1) == 1.0 and hit_ratio(np.array([1]), 1) == 0.0


def test_target_ranks_counts_higher_and_half_the_ties():
    scores = np.array([[0.5, 0.9, 0.1, 0.7],      # target col 0: two higher -> rank 2
                       [1.0, 1.0, 1.0, 1.0],      # all tied: 3 ties -> rank 1
                       [0.2, -np.inf, 0.1, 0.3]]) # excluded item never above
    assert target_ranks(scores, np.array([0, 2, 0])).tolist() == [2, 1, 1]
    with pytest.raises(ValueError):
        target_ranks(np.array([[-np.inf, 1.0]]), np.array([0]))


class _Fixed:
    """A 'model' with fixed scores over 5 items: higher index = better."""

    def score_indices(self, histories):
        return np.tile(np.arange(5, dtype=np.float32), (len(histories), 1))

    def score_candidates(self, histories, candidates):
        return np.take_along_axis(self.score_indices(histories), candidates, axis=1)


def test_full_ranks_exclude_history():
    h = Holdout(histories=(np.array([4]), np.array([0])), targets=np.array([3, 3]),
                exclude=(np.array([4]), np.array([0])))
    # user 0: item 4 excluded -> item 3 is first; user 1: item 4 above -> rank 1
    assert full_ranks(_Fixed(), h).tolist() == [0, 1]


def test_sampled_ranks_use_only_candidates():
    h = Holdout(histories=(np.array([0]),), targets=np.array([2]), exclude=(np.array([0]),))
    assert sampled_ranks(_Fixed(), h, np.array([[1, 3, 4]])).tolist() == [2]
    assert sampled_ranks(_Fixed(), h, np.array([[0, 1]])).tolist() == [0]


def test_holdout_negatives_avoid_known_items_and_target():
    h = Holdout(histories=(np.array([0, 1]), np.array([5])), targets=np.array([2, 6]),
                exclude=(np.array([0, 1]), np.array([5])))
    neg = holdout_negatives(h, n_items=8, n=4, seed=3)
    assert neg.shape == (2, 4) and neg.dtype == np.int64
    assert not set(neg[0]) & {0, 1, 2} and len(set(neg[0])) == 4      # without replacement
    assert not set(neg[1]) & {5, 6}
    assert np.array_equal(neg, holdout_negatives(h, n_items=8, n=4, seed=3))   # seeded


def test_holdout_metrics_match_the_two_protocols():
    h = Holdout(histories=(np.array([4]), np.array([0])), targets=np.array([3, 3]),
                exclude=(np.array([4]), np.array([0])))
    neg = np.array([[4, 2], [4, 0]])          # user 0: item 4 is a candidate here, excluded in full ranking
    m = holdout_metrics(_Fixed(), h, neg)
    assert m["full"] == pytest.approx(ndcg(full_ranks(_Fixed(), h)))
    assert m["sampled"] == pytest.approx(ndcg(sampled_ranks(_Fixed(), h, neg)))
    assert m["full"] > m["sampled"]
