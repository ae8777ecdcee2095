"""Beyond-accuracy metrics (coverage, novelty, diversity, popularity share) against hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.models.metrics import (catalogue_coverage, genre_diversity, head_items, intra_list_diversity,
                                   jaccard_matrix, list_ranks, novelty, popularity_share, self_information, top_k)


def test_top_k_drops_excluded_and_pads_non_finite():
    s = np.array([[0.1, 0.9, 0.5, 0.7], [0.3, -np.inf, -np.inf, -np.inf]])
    got = top_k(s, [np.array([1]), np.array([], dtype=np.int64)], k=3)
    assert got.tolist() == [[3, 2, 0], [0, -1, -1]]
    assert np.isfinite(s[0]).all() and s[0, 1] == 0.9                      # not modified


def test_coverage_counts_distinct_items_of_the_catalogue():
    assert catalogue_coverage(np.array([[0, 1], [1, 2], [2, -1]]), 6) == pytest.approx(3 / 6)


def test_novelty_is_mean_self_information():
    counts = np.array([4, 2, 1, 1, 0])            # total 8; the unseen item counts as once
    info = self_information(counts)
    assert info.tolist() == pytest.approx([1.0, 2.0, 3.0, 3.0, 3.0])
    assert novelty(np.array([[0, 1], [2, 4]]), counts) == pytest.approx((1 + 2 + 3 + 3) / 4)


def test_popularity_share_is_the_head_share_of_recommended_items():
    counts = np.array([50, 1, 40, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18])   # 20 items
    head = head_items(counts, 0.1)                # ceil(2) items: 0 and 2
    assert np.flatnonzero(head).tolist() == [0, 2]
    assert popularity_share(np.array([[0, 1, 2, 3], [2, 5, -1, -1]]), counts, 0.1) == pytest.approx(3 / 6)


def test_intra_list_diversity_by_hand():
    unit = np.array([[1.0, 0.0], [0.0, 1.0], [math.sqrt(0.5), math.sqrt(0.5)]])
    # list [0, 1]: cosine 0 -> diversity 1; list [0, 2]: cosine 0.7071 -> 0.2929
    assert intra_list_diversity(np.array([[0, 1]]), unit) == pytest.approx(1.0)
    assert intra_list_diversity(np.array([[0, 1], [0, 2]]), unit) == pytest.approx((1 + 1 - math.sqrt(0.5)) / 2)
    # three items: pairs (0,1)=0, (0,2)=(1,2)=0.7071 -> mean 0.4714
    assert intra_list_diversity(np.array([[0, 1, 2]]), unit) == pytest.approx(1 - 2 * math.sqrt(0.5) / 3)
    # identical items are not diverse; a one-item list has no pair and is skipped
    assert intra_list_diversity(np.array([[0, 0], [1, -1]]), unit) == pytest.approx(0.0)


def test_genre_diversity_uses_jaccard():
    g = np.array([[1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]], dtype=bool)
    j = jaccard_matrix(g)
    assert j[0, 1] == pytest.approx(0.5) and j[0, 2] == 0.0 and j[3, 3] == 0.0
    assert genre_diversity(np.array([[0, 1]]), g) == pytest.approx(0.5)
    assert genre_diversity(np.array([[0, 1, 2]]), g) == pytest.approx(1 - (0.5 + 0 + 0) / 3)


def test_list_ranks_places_a_missing_target_after_the_list():
    lists = np.array([[4, 2, 7], [1, 3, 5]])
    assert list_ranks(lists, np.array([7, 9])).tolist() == [2, 3]
