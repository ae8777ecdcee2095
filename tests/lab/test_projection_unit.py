"""Placing a vector on a map of unit rows does not normalise the whole space again (it did, every click)."""

import numpy as np

from engine.core.arrays import normalize
from engine.lab import projection


def test_unit_rows_are_used_as_they_are_with_the_same_answer(monkeypatch):
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(500, 8)).astype(np.float32)
    coords = rng.normal(size=(500, 2)).astype(np.float32)
    query = rng.normal(size=8).astype(np.float32)
    unit = normalize(raw)
    expected = projection.place(query, raw, coords)
    calls = []
    real = projection.normalize
    monkeypatch.setattr(projection, "normalize", lambda x: calls.append(x.shape) or real(x))
    got = projection.place(query, unit, coords, unit=True)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    assert calls == [(1, 8)]   # the query only, never the (500, 8) rows
