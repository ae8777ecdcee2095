"""MMR re-ranking against hand-computed picks."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import BadQueryError
from engine.recsys.diversity import check_lambda, mmr, mmr_order


def _unit():
    # 0 and 1 are near duplicates, 2 points elsewhere
    v = np.array([[1.0, 0.0], [0.99, 0.141], [0.0, 1.0]])
    return v / np.linalg.norm(v, axis=1, keepdims=True)


def test_lambda_one_keeps_the_relevance_order():
    u = _unit()
    assert mmr(np.array([10, 11, 12]), np.array([0.9, 0.8, 0.3]), u, 3, 1.0).tolist() == [10, 11, 12]


def test_low_lambda_skips_the_near_duplicate():
    u = _unit()
    # lam 0.5: after 10, candidate 11 scores 0.5*0.8 - 0.5*0.99 = -0.095, candidate 12 scores 0.5*0.3 - 0 = 0.15
    assert mmr(np.array([10, 11, 12]), np.array([0.9, 0.8, 0.3]), u, 2, 0.5).tolist() == [10, 12]
    # lam 0.9: 0.72 - 0.099 = 0.621 for 11 beats 0.27 for 12
    assert mmr(np.array([10, 11, 12]), np.array([0.9, 0.8, 0.3]), u, 2, 0.9).tolist() == [10, 11]


def test_batched_rows_are_independent_and_non_candidates_come_last():
    u = _unit()
    sims = np.stack([u @ u.T, u @ u.T])
    rel = np.array([[0.9, 0.8, 0.3], [-np.inf, 0.8, 0.9]])
    got = mmr_order(rel, sims, 3, 0.5)
    assert got[0].tolist() == [0, 2, 1]
    assert got[1].tolist()[:2] == [2, 1] and got[1, 2] == 0


@pytest.mark.parametrize("bad", [-0.1, 1.5, "x", None, True])
def test_lambda_is_checked(bad):
    with pytest.raises(BadQueryError):
        check_lambda(bad)
