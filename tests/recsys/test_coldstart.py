"""Cold-start maps: text vector -> ratings-space vector, chosen on validation, stored verified."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import ArtifactError
from engine.recsys import coldstart


def related(n=600, ds=24, dt=12, noise=0.05, seed=0):
    """Text vectors and a ratings space that is a noisy linear image of them."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, ds)).astype(np.float32)
    y = (x @ rng.normal(size=(ds, dt)) + noise * rng.normal(size=(n, dt))).astype(np.float32)
    return np.arange(1, n + 1, dtype=np.int64), x, y


def test_a_linear_relation_is_learned_and_beats_random():
    ids, x, y = related()
    train, test = coldstart.split(len(ids))
    m = coldstart.choose({"text": (ids[train], x[train])}, "mf", ids[train], y[train])
    assert m.method == "ridge" and m.source == "text" and m.validation > 0.6
    pred = m.predict(x[test])
    assert pred.shape == (len(test), y.shape[1]) and pred.dtype == np.float32
    base = coldstart.normalize(y[train])
    ours = coldstart.overlap_at_k(pred, y[test], base).mean()
    rand = coldstart.overlap_at_k(np.random.default_rng(1).normal(size=pred.shape).astype(np.float32),
                                  y[test], base).mean()
    assert ours > 0.6 > 0.2 > rand
    np.testing.assert_allclose(np.linalg.norm(pred, axis=1), m.norm, rtol=1e-4)


def test_the_better_source_space_is_chosen_and_cold_rows_are_left_out():
    ids, x, y = related()
    noise = np.random.default_rng(5).normal(size=x.shape).astype(np.float32)
    m = coldstart.choose({"use": (ids, noise), "text": (ids, x)}, "mf", ids, y)
    assert m.source == "text"
    common, _, _ = coldstart.paired(ids, x, ids, y, exclude=ids[:10])
    assert len(common) == len(ids) - 10 and not set(ids[:10]) & set(common)


def test_save_load_verifies_and_ties(tmp_path):
    ids, x, y = related(200)
    m = coldstart.choose({"text": (ids, x)}, "mf", ids, y, tied={"mf": "w1", "text": "t1"})
    path = coldstart.map_path(tmp_path, "mf")
    coldstart.save(path, m)
    back = coldstart.load(path, {"mf": "w1", "text": "t1"})
    np.testing.assert_allclose(back.predict(x[:5]), m.predict(x[:5]), rtol=1e-5)
    assert coldstart.load(path, {"mf": "w2", "text": "t1"}) is None  # fitted from other weights
    assert coldstart.load(tmp_path / "none.npz") is None
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    with pytest.raises(ArtifactError):
        coldstart.load(path)


def test_for_space_fits_on_demand_then_reads_the_stored_map(tmp_path):
    from tests.fixtures import synthetic_catalogue

    cat = synthetic_catalogue(200, 8, models=("mf", "text"))
    first = coldstart.for_space(cat, "mf", ("text",), tmp_path)
    assert coldstart.map_path(tmp_path, "mf").is_file()
    again = coldstart.for_space(cat, "mf", ("text",), tmp_path)
    assert (again.method, again.param, again.source) == (first.method, first.param, first.source)
