"""Collaborative expansion: which queries it applies to, its seeds and their centroid."""

from __future__ import annotations

import numpy as np
import pytest

from engine.recsys import expand as X
from engine.recsys import hybrid as H


def test_off_by_weight_and_gated_by_bm25_confidence():
    assert not X.ExpansionConfig(weight=0).applies(False)
    on = X.ExpansionConfig(weight=0.5)
    assert on.applies(True) and on.applies(False)
    gated = X.ExpansionConfig(weight=0.5, unsure_only=True)
    assert gated.applies(False) and not gated.applies(True)
    for bad in ({"seeds": 0}, {"depth": 0}, {"weight": -1.0}, {"weight": float("nan")}):
        with pytest.raises(ValueError):
            X.ExpansionConfig(**bad)


def test_seeds_are_the_fusions_best_movies_the_space_holds():
    ranked = [[1, 2, 3, 4], [2, 5, 1], []]
    weights = [1.0, 1.0, 0.0]
    fused = [m for m, _, _ in H.rrf(ranked, 10, c=60, weights=weights)]
    assert fused[:3] == [2, 1, 5]
    cfg = X.ExpansionConfig(seeds=2, weight=1.0)
    assert X.seed_ids(ranked, weights, {1, 2, 3, 4, 5}, cfg, 60) == [2, 1]
    assert X.seed_ids(ranked, weights, {5, 3}, cfg, 60) == [5, 3]     # movies the space lacks are skipped
    assert X.seed_ids(ranked, weights, set(), cfg, 60) == []


def test_centroid_is_the_normalised_mean_of_unit_rows():
    v = np.array([[3.0, 0.0], [0.0, 0.5]], np.float32)             # lengths differ: each row counts once
    c = X.centroid(v)
    assert c.dtype == np.float32 and c == pytest.approx(np.array([1, 1]) / np.sqrt(2))
    assert X.centroid(np.zeros((0, 4), np.float32)).tolist() == [0, 0, 0, 0]
    with pytest.raises(ValueError):
        X.centroid(np.ones(3, np.float32))
