"""On the real ml-100k: similar, search, recommend (taste and native) and two_stage with every filter kind
are brute-force exact with exact search, and ANN keeps recall@10 >= 0.95 with min(k, matching) rows at
selectivities 50 %, 10 %, 1 % and 0.1 %."""

from __future__ import annotations

import numpy as np
import pytest

import engine.vectors.contract as contract
from engine.data.filters import Filter
from engine.service import Engine
from engine.service.engine import load_built
from tests.service.test_service_filters import brute

pytestmark = pytest.mark.slow

FILTERS = [
    Filter(genres=("Comedy",)), Filter(genres=("Comedy", "Romance")), Filter(genres=("Comedy", "Romance"), genre_mode="all"),
    Filter(year_min=1990, year_max=1994), Filter(min_ratings=200), Filter(exclude=(1, 2, 3, 4, 5, 7, 8, 9, 10, 12)),
    Filter(genres=("Sci-Fi", "Horror"), year_min=1970, year_max=1999, min_ratings=50, exclude=(181,)),
]
IDS = lambda f: f.describe()  # noqa: E731
CLICKS = [50, 181, 172, 174]


@pytest.fixture
def eng(built_cache, monkeypatch) -> Engine:
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(built_cache))
    return Engine("ml-100k")


@pytest.mark.parametrize("flt", FILTERS, ids=IDS)
def test_every_search_with_every_filter_kind(eng, flt):
    allowed = set(eng.select(flt).ids.tolist())
    for model in ("mf", "sasrec", "text", "use"):
        hits = eng.similar(50, model, k=10, where=flt)
        assert hits.ids() == brute(eng, model, hits.vector, flt, 10, drop=[50])
    assert all(set(h.ids()) <= allowed for h in eng.similar_all(50, k=10, where=flt).spaces.values())
    for mode in ("semantic", "bm25", "keyword", "hybrid"):
        found = eng.search("space adventure with aliens", mode=mode, k=10, where=flt)
        assert set(found.ids()) <= allowed
        if mode == "semantic":
            assert len(found.ids()) == min(10, len(allowed))
    rec = eng.recommend(CLICKS, model="mf", k=10, where=flt)
    assert rec.ids() == brute(eng, "mf", rec.vector, flt, 10, drop=CLICKS)
    for model in ("mf", "sasrec"):
        native = eng.recommend_native(CLICKS, model=model, k=10, where=flt)
        every, _ = load_built("ml-100k", model).recommend(CLICKS, 10**6)  # the whole catalogue, best first
        assert native.ids() == [int(m) for m in every if int(m) in allowed][:10]
    two = eng.two_stage(CLICKS, model="mf", k=10, n_candidates=100, where=flt)
    cands = brute(eng, "mf", two.vector, flt, 100, drop=CLICKS)
    assert set(two.ids()) <= set(cands) and len(two.ids()) == min(10, len(cands))
    assert two.query.n_candidates == len(cands)


@pytest.mark.parametrize("forced", [False, True], ids=["planner", "index"])
@pytest.mark.parametrize("index", ["hnsw", "ivf"])
def test_ann_recall_and_rows_at_every_selectivity(eng, monkeypatch, index, forced):
    if forced:  # the index with its selector even where the planner would scan the few rows
        monkeypatch.setattr(contract, "SUBSET_MAX", 0)
    counts = np.sort(eng.facets().n_ratings)[::-1]
    for selectivity in (0.5, 0.1, 0.01, 0.001):
        m = max(1, int(round(len(counts) * selectivity)))
        flt = Filter(min_ratings=int(counts[m - 1]))
        sel = eng.select(flt)
        recalls = []
        for movie in (1, 50, 100, 181, 258, 288, 300, 500, 1000, 1500):
            hits = eng.similar(movie, "mf", k=10, index=index, where=flt)
            truth = brute(eng, "mf", hits.vector, flt, 10, drop=[movie])
            assert len(hits.ids()) == len(truth) == min(10, sel.matching - (movie in sel.ids))
            assert set(hits.ids()) <= set(sel.ids.tolist())
            recalls.append(len(set(hits.ids()) & set(truth)) / max(len(truth), 1))
        assert np.mean(recalls) >= 0.95, (index, selectivity, np.mean(recalls))
