"""Filtered search on FAISS: exact equals brute force over the matching rows; ANN keeps recall@10 >= 0.95
at selectivities 50 %, 10 %, 1 % and 0.1 % and always returns min(k, matching) rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import engine.vectors.contract as contract
from engine.data.filters import Facets, Filter
from engine.vectors.contract import exact_search
from engine.vectors.faiss_index import FaissIndex, IndexConfig
from tests.vectors.conftest import clustered

N, D = 20_000, 32
SELECTIVITIES = (0.5, 0.1, 0.01, 0.001)


@pytest.fixture(scope="module")
def space():
    """(ids, vectors, queries, facets): n_ratings is a permutation of 0..N-1, so ``min_ratings = N - m``
    keeps exactly m movies; genres cycle through three."""
    ids, vecs = clustered(N, D, n_clusters=40, seed=3)
    rng = np.random.default_rng(4)
    queries = (vecs[rng.integers(0, N, 60)] + 0.3 * rng.normal(size=(60, D))).astype(np.float32)
    movies = pd.DataFrame({"movie_id": ids, "year": 1950 + np.arange(N) % 70,
                           "n_ratings": rng.permutation(N),
                           "genres": [[("Comedy", "Drama", "Horror")[i % 3]] for i in range(N)]})
    return ids, vecs, queries, Facets(movies, "synthetic")


@pytest.fixture(scope="module")
def indexes(space):
    ids, vecs, _, _ = space
    return {kind: FaissIndex.build(ids, vecs, IndexConfig(kind=kind), check_recall=False)
            for kind in ("exact", "hnsw", "ivf")}


def truth(space, sel, k):
    ids, vecs, queries, _ = space
    keep = sel.mask(ids)
    return exact_search(vecs[keep], ids[keep], queries, k)


@pytest.fixture(params=["planner", "index"])
def path(request, monkeypatch):
    """Run each test with the planner's choice and with the index path forced (no few-rows shortcut)."""
    if request.param == "index":
        monkeypatch.setattr(contract, "SUBSET_MAX", 0)
    return request.param


FILTERS = [Filter(genres=("Comedy",)), Filter(genres=("Comedy", "Horror")), Filter(year_min=1990, year_max=1999),
           Filter(min_ratings=N - 150), Filter(exclude=tuple(range(1000, 1000 + 7 * 500, 7)))]


@pytest.mark.parametrize("flt", FILTERS, ids=lambda f: f.describe())
def test_exact_filtered_top_k_equals_brute_force(space, indexes, path, flt):
    sel = space[3].select(flt)
    scores, got = indexes["exact"].search(space[2], 10, sel)
    want_scores, want = truth(space, sel, 10)
    assert got.tolist() == want.tolist()
    np.testing.assert_allclose(scores, want_scores, atol=1e-5)
    assert indexes["exact"].plan(sel).path == ("subset" if path == "planner" and sel.matching <= contract.SUBSET_MAX
                                              else "index")


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
@pytest.mark.parametrize("selectivity", SELECTIVITIES)
def test_ann_recall_and_rows_at_every_selectivity(space, indexes, path, kind, selectivity):
    m = int(N * selectivity)
    sel = space[3].select(Filter(min_ratings=N - m))
    assert sel.matching == m
    for k in (10, 50):
        _, got = indexes[kind].search(space[2], k, sel)
        _, want = truth(space, sel, k)
        rows = (got >= 0).sum(axis=1)
        assert (rows == min(k, m)).all(), f"{kind} at {selectivity:.1%} returned {rows.min()} rows, not {min(k, m)}"
        assert set(got[got >= 0].tolist()) <= set(sel.ids.tolist())
        kk = min(k, m)
        recall = np.mean([len(set(a[:kk]) & set(b[:kk])) / kk for a, b in zip(got, want)])
        assert recall >= 0.95, f"{kind} recall@{k} {recall:.3f} at {selectivity:.1%}"


def test_a_filter_matching_nothing_returns_no_rows(space, indexes):
    sel = space[3].select(Filter(min_ratings=N + 1))
    for idx in indexes.values():
        scores, got = idx.search(space[2][:3], 10, sel)
        assert (got == -1).all() and np.isneginf(scores).all()
        plan = idx.plan(sel)
        assert plan.path == "none" and [n.code for n in plan.notes()] == ["filter_none"]


def test_the_plan_says_which_path_ran_and_what_it_widened(space, indexes, monkeypatch):
    wide = space[3].select(Filter(genres=("Comedy", "Drama")))  # two thirds of the rows
    few = space[3].select(Filter(min_ratings=N - 20))
    assert indexes["hnsw"].plan(few).path == "subset"
    monkeypatch.setattr(contract, "SUBSET_MAX", 100)
    plan = indexes["hnsw"].plan(wide)
    assert plan.path == "index" and plan.params.startswith("efSearch=") and plan.matching == wide.matching
    assert int(plan.params.split("=")[1]) > IndexConfig().ef_search
    assert indexes["ivf"].plan(wide).params.startswith("nprobe=")
    note = plan.notes()[0]
    assert note.code == "filter_index" and note.params["matching"] == wide.matching
    assert indexes["exact"].plan(None).path == "all" and not indexes["exact"].plan(None).notes()
