"""A live catalogue under a filter: a movie added this morning is found by a filter on its genre and
decade, and a removed one is gone, with the same ids as brute force over the matching rows, on FAISS
(exact, HNSW, IVF) and on pgvector and Milvus."""

from __future__ import annotations

import numpy as np
import pytest

from engine.data.filters import Filter
from engine.service import Engine
from engine.vectors.contract import exact_search
from tests.fixtures import synthetic_catalogue
from tests.service.test_service_backends import cache_outside_pytest_tmp  # noqa: F401  (fixture)
from tests.service.test_service_edits import D, SPACES, fake_encoder

WHERE = Filter(genres=("Horror",), year_min=2010, year_max=2019)


def filtered_brute_force(eng: Engine, model: str, movie_id: int, where: Filter, k: int) -> list[int]:
    """Top-k neighbours of ``movie_id`` among the movies ``where`` keeps, by numpy over the stored rows."""
    keep = set(eng.select(where).ids.tolist()) - {movie_id}
    vs = eng.catalogue.get_vectors(model)
    rows = np.array([i for i, m in enumerate(vs.movie_ids) if int(m) in keep], dtype=np.int64)
    q = vs.vectors[int(np.flatnonzero(vs.movie_ids == movie_id)[0])][None]
    _, ids = exact_search(vs.vectors[rows], vs.movie_ids[rows], q, min(k, len(rows)))
    return [int(i) for i in ids[0]]


def check(eng: Engine, kinds: tuple[str, ...]) -> None:
    anchor = 1
    for m in SPACES:
        for kind in kinds:
            eng.similar(anchor, m, index=kind, where=WHERE)  # indexes open before the edit
    before = eng.select(WHERE).matching
    done = eng.add_movie("Quokka Ridge", 2015, "Horror|Comedy", overview="A quokka sheriff rides out.")
    assert eng.select(WHERE).matching == before + 1
    for m in SPACES:
        want = filtered_brute_force(eng, m, anchor, WHERE, 10)
        assert done.movie_id in filtered_brute_force(eng, m, anchor, WHERE, 10_000)
        for kind in kinds:
            got = eng.similar(anchor, m, k=10, index=kind, where=WHERE).ids()
            assert got == want, (m, kind)
    eng.remove_movie(done.movie_id)
    assert eng.select(WHERE).matching == before
    for m in SPACES:
        for kind in kinds:
            got = eng.similar(anchor, m, k=1000, index=kind, where=WHERE).ids()
            assert done.movie_id not in got and len(got) == before - (anchor in eng.select(WHERE).ids), (m, kind)


def test_edits_under_a_filter_on_faiss(tmp_path):
    cat = synthetic_catalogue(400, D, models=SPACES)
    eng = Engine("synthetic", catalogue=cat, encoder=fake_encoder, index_dir=tmp_path / "indexes")
    check(eng, ("exact", "hnsw", "ivf"))


@pytest.mark.backend
@pytest.mark.slow
@pytest.mark.parametrize("backend", ["pgvector", "milvus"])
def test_edits_under_a_filter_on_a_backend(cache_outside_pytest_tmp, backend):  # noqa: F811
    cat = synthetic_catalogue(300, D, models=SPACES)
    eng = Engine("synthetic", catalogue=cat, backend=backend, encoder=fake_encoder)
    check(eng, ("exact",))


def test_a_removed_movie_never_comes_back_through_a_wide_filter_on_an_ann_index(tmp_path, monkeypatch):
    """A filter that keeps many movies runs through the index with a selector (not the exact subset);
    HNSW only masks a removed row, and the selector must keep it out as well."""
    import engine.vectors.contract

    monkeypatch.setattr(engine.vectors.contract, "SUBSET_MAX", 50)  # 400 movies stand in for a big catalogue
    cat = synthetic_catalogue(400, D, models=SPACES)
    eng = Engine("synthetic", catalogue=cat, encoder=fake_encoder, index_dir=tmp_path / "indexes")
    wide = Filter(genres=("Horror", "Comedy", "Drama", "Action"))
    for kind in ("hnsw", "ivf"):
        eng.similar(1, "mf", index=kind, where=wide)
    sp = eng.space("mf")
    assert eng.search_index(sp, "hnsw").plan(eng.select(wide)).path == "index"    # the selector path
    victim = next(int(m) for m in eng.select(wide).ids if m != 1)
    query = sp.unit[sp.row[victim]]
    eng.remove_movie(victim)
    for kind in ("hnsw", "ivf"):
        sp = eng.space("mf")
        _, ids = eng.search_index(sp, kind).search(query, 50, eng.select(wide))
        assert victim not in ids[0].tolist(), kind
        assert (ids[0] >= 0).all(), kind                                         # still k rows


def test_an_added_movie_with_a_korean_plot_is_found_by_bm25_like_an_imported_one(tmp_path):
    """The edit indexes the new movie the way the import indexes the rest: overview included, Hangul
    analysed into morphemes, so a plot word with its particle finds it at once."""
    cat = synthetic_catalogue(200, D, models=SPACES)
    eng = Engine("synthetic", catalogue=cat, encoder=fake_encoder, index_dir=tmp_path / "indexes")
    done = eng.add_movie("별빛 항구", 2015, "Drama", overview="우주를 떠도는 화물선의 선장이 집으로 돌아간다.")
    assert eng.bm25_search("우주", k=5).ids()[:1] == [done.movie_id]
    assert eng.keyword_search("우주", k=5).ids()[:1] == [done.movie_id]
    assert eng.bm25_search("우주", k=5, where=Filter(genres=("Comedy",))).ids() == []   # the filter still applies
    eng.remove_movie(done.movie_id)
    assert eng.bm25_search("우주", k=5).ids() == []
