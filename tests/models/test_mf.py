"""iALS (engine/models/mf.py): both solvers learn a planted structure, CG converges to the exact
half-step, and the fold-in of a history solves the iALS normal equations."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from engine.data.interactions import Interactions
from engine.models.mf import MFConfig, MFModel, _csr, _solve_cg, _solve_exact

from .synth import GENRES, genre_by_gender_ratings, movies_frame


@pytest.fixture(scope="module")
def two_tastes():
    movies = movies_frame(40)
    data = Interactions.from_ratings(genre_by_gender_ratings(80, 40), movies)
    genre = {101 + i: GENRES[i % len(GENRES)] for i in range(40)}                 # first genre by movie id
    first = [genre[int(m)] for m in data.item_ids]                                # by item index
    pools = {"her": {i for i, g in enumerate(first) if g in ("Comedy", "Romance")},
             "his": {i for i, g in enumerate(first) if g in ("Action", "Horror")}}
    return data, pools


@pytest.mark.parametrize("solver", ["exact", "cg"])
def test_both_solvers_recommend_from_the_users_own_taste(two_tastes, solver):
    data, pools = two_tastes
    model = MFModel(MFConfig(dim=8, iterations=6, reg=1.0, solver=solver, cg_steps=3)).fit(data)
    scores = model.score_indices(data.sequences)                          # (users, items)
    hits = []
    for seq, row in zip(data.sequences, scores):
        pool = pools["her"] if set(seq) <= pools["her"] else pools["his"]
        row = row.copy()
        row[list(seq)] = -np.inf                                          # unseen movies only
        hits += [i in pool for i in np.argsort(-row)[:3]]
    # a pool holds half of the rated movies: chance is ~0.5
    assert np.mean(hits) >= 0.9, (solver, np.mean(hits))


def test_cg_converges_to_the_exact_half_step():
    rng = np.random.default_rng(0)
    n_rows, n_items, d = 30, 25, 6
    rows = np.repeat(np.arange(n_rows), 5)
    cols = rng.integers(0, n_items, len(rows))
    pairs = np.unique(rows * n_items + cols)
    ptr, idx = _csr(pairs // n_items, pairs % n_items, n_rows)
    Y = torch.from_numpy(rng.normal(size=(n_items, d)))
    exact = _solve_exact(Y, ptr, idx, alpha=2.0, reg=0.5)
    few = _solve_cg(torch.zeros(n_rows, d, dtype=torch.float64), Y, ptr, idx, 2.0, 0.5, steps=1)
    many = _solve_cg(torch.zeros(n_rows, d, dtype=torch.float64), Y, ptr, idx, 2.0, 0.5, steps=3 * d)
    assert torch.allclose(many, exact, atol=1e-8)
    assert not torch.allclose(few, exact, atol=1e-3)                      # one step is not yet there


def test_fold_in_solves_the_normal_equations(two_tastes):
    data, _ = two_tastes
    cfg = MFConfig(dim=8, iterations=2, reg=3.0, alpha=2.0)
    model = MFModel(cfg).fit(data)
    history = np.array([2, 5, 5, 11])                                     # a repeat counts once
    Y = model.Y.astype(np.float64)
    Yu = Y[[2, 5, 11]]
    A = Y.T @ Y + cfg.alpha * Yu.T @ Yu + cfg.reg * np.eye(cfg.dim)
    want = np.linalg.solve(A, (1 + cfg.alpha) * Yu.sum(0))
    np.testing.assert_allclose(model.user_vectors([history])[0], want, rtol=1e-4, atol=1e-6)
