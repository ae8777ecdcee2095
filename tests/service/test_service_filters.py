"""Every Engine search honours a Filter: similar (one space and all), search (semantic, bm25, keyword,
hybrid), recommend (taste vector and native user vector) and two_stage, on FAISS, pgvector and Milvus."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.filters import Filter
from engine.core.errors import UnknownGenreError
from engine.service import Engine
from engine.vectors.contract import exact_search
from tests.fixtures import synthetic_catalogue
from tests.service.test_service import D, FakeSASRec, fake_encoder

FILTERS = [
    Filter(genres=("Comedy",)), Filter(genres=("comedy", "Drama")), Filter(genres=("Drama",), genre_mode="all"),
    Filter(year_min=1990, year_max=1999), Filter(year_min=2000), Filter(min_ratings=250),
    Filter(exclude=tuple(range(2, 120, 3))),
    Filter(genres=("Comedy", "Horror", "Sci-Fi"), year_min=1960, year_max=2010, min_ratings=100, exclude=(18,)),
]
IDS = lambda f: f.describe()  # noqa: E731


@pytest.fixture
def eng(tmp_path):
    return Engine("synthetic", catalogue=synthetic_catalogue(300, D), index_dir=tmp_path,
                  encoder=fake_encoder, reranker=FakeSASRec())


def brute(eng: Engine, model: str, vector: np.ndarray, flt: Filter, k: int, drop=()) -> list[int]:
    """Exact top-k over the matching movies, computed here from the space's own rows."""
    sp = eng.space(model)
    keep = eng.select(flt).mask(sp.ids) & ~np.isin(sp.ids, list(drop))
    _, ids = exact_search(sp.unit[keep], sp.ids[keep], vector[None, :], k)
    return [int(i) for i in ids[0] if i >= 0]


@pytest.mark.parametrize("flt", FILTERS, ids=IDS)
def test_similar_is_brute_force_over_the_matching_movies(eng, flt):
    sel = eng.select(flt)
    for model in ("mf", "text"):
        hits = eng.similar(7, model, k=10, where=flt)
        assert hits.ids() == brute(eng, model, hits.vector, flt, 10, drop=[7])
        assert set(hits.ids()) <= set(sel.ids.tolist()) and len(hits.ids()) == min(10, sel.matching - (7 in sel.ids))
        assert hits.query.filter == sel.filter
        assert any(n.code in ("filter_subset", "filter_index") for n in hits.notes)
    both = eng.similar_all(7, k=10, where=flt)
    assert all(set(h.ids()) <= set(sel.ids.tolist()) for h in both.spaces.values())


@pytest.mark.parametrize("flt", FILTERS, ids=IDS)
@pytest.mark.parametrize("mode", ["semantic", "bm25", "keyword", "hybrid"])
def test_every_search_mode_keeps_only_matching_movies(eng, flt, mode):
    allowed = set(eng.select(flt).ids.tolist())
    unfiltered = eng.search("Midnight River comedy", mode=mode, k=300)
    hits = eng.search("Midnight River comedy", mode=mode, k=10, where=flt)
    assert set(hits.ids()) <= allowed
    # the filtered answer is the unfiltered ranking with the other movies taken out (same order)
    expected = [m for m in unfiltered.ids() if m in allowed][:10]
    if mode == "hybrid":  # fusion ranks within each filtered list: it fills k from the matching movies
        assert len(hits.ids()) == min(10, len(allowed))
    else:
        assert hits.ids() == expected


@pytest.mark.parametrize("flt", FILTERS, ids=IDS)
def test_recommend_and_two_stage_keep_only_matching_movies(eng, flt):
    sel = eng.select(flt)
    clicks = [1, 2, 3]
    rec = eng.recommend(clicks, model="mf", k=10, where=flt)
    assert rec.ids() == brute(eng, "mf", rec.vector, flt, 10, drop=clicks)
    two = eng.two_stage(clicks, model="mf", k=10, n_candidates=50, where=flt)
    assert set(two.ids()) <= set(sel.ids.tolist())
    # stage 1 is the filtered taste search: its candidates are the brute-force top 50 over the matching movies
    cands = brute(eng, "mf", two.vector, flt, 50, drop=clicks)
    assert set(two.ids()) <= set(cands) and len(two.ids()) == min(10, len(cands))
    assert two.query.filter == sel.filter and two.query.n_candidates == len(cands)


def test_a_filter_matching_nothing_answers_empty_and_says_zero(eng):
    nothing = Filter(min_ratings=10**6)
    for hits in (eng.similar(7, "mf", where=nothing), eng.recommend([1, 2], where=nothing),
                 eng.search("star", mode="semantic", where=nothing), eng.search("star", mode="bm25", where=nothing),
                 eng.search("star", mode="hybrid", where=nothing), eng.two_stage([1, 2], where=nothing)):
        assert hits.items == ()
        zero = [n for n in hits.notes if n.code == "filter_none"]
        assert zero and zero[0].params["total"] == 300 and "0 of 300" in zero[0].text()


def test_unknown_genre_is_one_sentence_with_close_matches(eng):
    with pytest.raises(UnknownGenreError, match="Comedy"):
        eng.similar(7, "mf", where=Filter(genres=("Comdey",)))


def test_no_filter_and_an_empty_filter_answer_alike(eng):
    a, b = eng.similar(7, "mf"), eng.similar(7, "mf", where=Filter())
    assert a.ids() == b.ids() and b.query.filter is None and not any(n.code.startswith("filter") for n in b.notes)


def test_ann_index_with_a_filter(eng):
    flt = Filter(genres=("Comedy",))
    sel = eng.select(flt)
    for index in ("hnsw", "ivf"):
        hits = eng.similar(7, "mf", k=10, index=index, where=flt)
        assert set(hits.ids()) <= set(sel.ids.tolist()) and len(hits.ids()) == 10
        assert len(set(hits.ids()) & set(brute(eng, "mf", hits.vector, flt, 10, drop=[7]))) >= 9


# ---------------------------------------------------------------- the same ids on every backend
@pytest.fixture
def backends_cache(monkeypatch):
    """The embedded PostgreSQL runs as an unprivileged user: keep its data out of pytest's 0700 tmp."""
    import shutil
    import tempfile

    d = tempfile.mkdtemp(prefix="moviedna-test-")
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", d)
    monkeypatch.setenv("MOVIEDNA_BACKENDS", "faiss,pgvector,milvus")
    yield d
    from engine.vectors.served import POOL

    POOL.close()
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.backend
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["pgvector", "milvus"])
def test_exact_filtered_search_gives_the_same_ids_on_every_backend(backends_cache, backend):
    cat = synthetic_catalogue(n=400, d=16)
    faiss_eng = Engine("synthetic", catalogue=cat, backend="faiss")
    other = Engine("synthetic", catalogue=cat, backend=backend)
    for flt in FILTERS + [Filter(min_ratings=10**6)]:
        for movie in (1, 57):
            want = faiss_eng.similar(movie, "mf", k=10, index="exact", where=flt)
            got = other.similar(movie, "mf", k=10, index="exact", where=flt)
            assert got.ids() == want.ids(), (backend, flt.describe())
        rec = other.recommend([1, 2, 3], model="sasrec", k=10, where=flt)
        assert rec.ids() == faiss_eng.recommend([1, 2, 3], model="sasrec", k=10, where=flt).ids()
        # the store's own index (pgvector HNSW with iterative scan, Milvus HNSW with its expression)
        ann = other.similar(57, "mf", k=10, where=flt)
        exact = faiss_eng.similar(57, "mf", k=10, where=flt)
        assert len(ann.ids()) == len(exact.ids())
        assert len(set(ann.ids()) & set(exact.ids())) >= 0.9 * len(exact.ids())
    hits = other.similar(1, "mf", k=10, where=Filter(genres=("Comedy",), year_min=1990, year_max=1999))
    if backend == "pgvector":
        sql = [n.params["sql"] for n in hits.notes if n.code == "filter_sql"]
        assert sql and "WHERE genres && %(genres)s::text[] AND year >= %(year_min)s" in sql[0]
        assert "ORDER BY embedding <#> %(q)s::vector LIMIT %(k)s" in sql[0]
    else:
        assert any("ARRAY_CONTAINS_ANY" in str(n.params.get("params", "")) for n in hits.notes)
