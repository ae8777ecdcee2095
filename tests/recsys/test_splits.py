"""Leave-one-out split, k-core filter and negative sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.core.errors import DataFormatError
from engine.recsys.splits import k_core, leave_one_out, sort_interactions


def frame(rows):
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "timestamp"]).assign(rating=4.0)


def test_sort_is_stable_on_equal_timestamps():
    r = sort_interactions(frame([(1, 30, 5), (1, 10, 5), (1, 20, 4)]))
    assert r["movie_id"].tolist() == [20, 30, 10]


def _one_pass(r, k):
    """Users then items, once: what an implementation that does not iterate returns."""
    r = r[r["user_id"].map(r["user_id"].value_counts()) >= k]
    return r[r["movie_id"].map(r["movie_id"].value_counts()) >= k]


def _pairs(r):
    return set(zip(r["user_id"].tolist(), r["movie_id"].tolist()))


def test_k_core_iterates_until_stable():
    # k=2. One pass keeps every user (all have 2) and drops item 4 (1 user); that leaves user 4
    # with one interaction, whose removal leaves item 3 with one user, whose removal leaves
    # user 3 with one: only users 1 and 2 on items 1 and 2 survive the cascade.
    rows = [(1, 1, 1), (1, 2, 2), (2, 1, 1), (2, 2, 2), (3, 1, 1), (3, 3, 2), (4, 3, 1), (4, 4, 2)]
    expected = {(1, 1), (1, 2), (2, 1), (2, 2)}
    assert _pairs(_one_pass(frame(rows), 2)) != expected      # the case needs more than one pass
    out = k_core(frame(rows), k=2)
    assert _pairs(out) == expected
    assert out["user_id"].value_counts().min() >= 2 and out["movie_id"].value_counts().min() >= 2
    # a k that nothing satisfies empties the frame instead of looping or keeping a partial core
    assert len(k_core(frame(rows), k=3)) == 0


def test_k_core_result_is_a_fixed_point():
    rng = np.random.default_rng(4)
    rows = [(int(u), int(m), t) for t, (u, m) in enumerate(zip(rng.integers(0, 60, 900), rng.zipf(1.6, 900) % 80))]
    r = frame(rows).drop_duplicates(["user_id", "movie_id"])
    out = k_core(r, k=5)
    assert len(out) > 0 and _pairs(k_core(out, k=5)) == _pairs(out)
    assert out["user_id"].value_counts().min() >= 5 and out["movie_id"].value_counts().min() >= 5


def test_leave_one_out_roles_and_negatives():
    rows = [(u, m, 100 * u + t) for u in (1, 2, 3) for t, m in enumerate([10, 20, 30, 40, 50][u - 1:] + [60, 70])]
    rows += [(4, 99, 1)]                                       # single interaction -> dropped
    rows += [(5, 80, 1), (5, 60, 2), (5, 70, 3)]
    s = leave_one_out(frame(rows), min_count=1)
    assert s.user_ids.tolist() == [1, 2, 3, 5]
    ids = s.item_ids
    assert ids[s.test].tolist() == [70] * 4 and ids[s.valid].tolist() == [60] * 4
    assert [ids[t].tolist() for t in s.train] == [[10, 20, 30, 40, 50], [20, 30, 40, 50], [30, 40, 50], [80]]
    th = s.test_holdout()
    assert ids[th.histories[0]].tolist() == [10, 20, 30, 40, 50, 60]
    neg = s.sample_negatives(1, seed=3)
    assert neg.shape == (4, 1)
    assert ids[neg[0, 0]] == 80 and ids[neg[1, 0]] in (10, 80)   # only never-seen items
    assert np.array_equal(neg, s.sample_negatives(1, seed=3))
    with pytest.raises(DataFormatError):
        s.sample_negatives(5)


def test_negatives_unique_and_unseen():
    rng = np.random.default_rng(0)
    rows = [(u, int(m), t) for u in range(20) for t, m in enumerate(rng.choice(200, 30, replace=False))]
    s = leave_one_out(frame(rows), min_count=1)
    neg = s.sample_negatives(100, seed=0)
    for u in range(s.n_users):
        seen = set(s.train[u].tolist()) | {int(s.valid[u]), int(s.test[u])}
        assert len(set(neg[u].tolist())) == 100 and not seen & set(neg[u].tolist())


def test_bad_inputs_are_clear():
    with pytest.raises(DataFormatError, match="no ratings"):
        leave_one_out(frame([]))
    with pytest.raises(DataFormatError, match="too small"):
        leave_one_out(frame([(1, 1, 1), (2, 2, 1)]), min_count=1)
    with pytest.raises(DataFormatError, match="column"):
        leave_one_out(pd.DataFrame({"user_id": [1], "movie_id": [1]}))
