"""A live catalogue: add and remove a movie through the Engine, found at once in every space and index."""

from __future__ import annotations

import numpy as np
import pytest

from engine.core.errors import (
    BadMovieTextError, BadTitleError, BadYearError, UnknownGenreError, UnknownMovieError,
)
from engine.service import Engine
from engine.vectors.contract import exact_search
from tests.fixtures import synthetic_catalogue

SPACES = ("mf", "sasrec", "text", "use")
D = 16


def fake_encoder(texts):
    """Deterministic per document (a stand-in for MiniLM / USE): float32 (n, D)."""
    return np.stack([np.random.default_rng(sum(map(ord, t)) % 2**32).normal(size=D) for t in texts]).astype(np.float32)


@pytest.fixture
def eng(tmp_path):
    cat = synthetic_catalogue(400, D, models=SPACES)
    return Engine("synthetic", catalogue=cat, encoder=fake_encoder, index_dir=tmp_path / "indexes")


def state(eng):
    """Everything an edit may change: the movies hash, every space's hash and the edit log."""
    return (eng.catalogue.meta().get("movies_hash"), tuple((v["model"], v["content_hash"])
            for v in eng.catalogue.vector_info()), eng.catalogue.edit_log())


def brute_force(eng, model, movie_id, k):
    vs = eng.catalogue.get_vectors(model)
    row = int(np.searchsorted(vs.movie_ids, movie_id))
    _, ids = exact_search(vs.vectors, vs.movie_ids, vs.vectors[row][None], k + 1)
    return [int(i) for i in ids[0] if i != movie_id][:k]


def test_added_movie_is_found_at_once_in_every_space_and_index(eng):
    for m in SPACES:  # indexes are open before the edit: they are updated, not rebuilt
        for kind in ("exact", "hnsw", "ivf"):
            eng.similar(1, m, index=kind)
    done = eng.add_movie("Zanzibar Quokka", 2024, "Comedy|Sci-Fi", overview="A comet lands.", tags="space|funny")
    assert done.movie_id == 401 and set(done.spaces) == set(SPACES) and done.indexes_updated >= 12
    assert set(done.cold_start) == {"mf", "sasrec"} and set(done.cold_start.values()) <= {"text", "use"}
    for m in SPACES:
        assert eng.similar(done.movie_id, m, k=10).ids() == brute_force(eng, m, done.movie_id, 10)
        for kind in ("exact", "hnsw", "ivf"):
            sp = eng.space(m)
            _, ids = eng.search_index(sp, kind).search(sp.unit[sp.row[done.movie_id]], 1)
            assert ids[0, 0] == done.movie_id, (m, kind)
    hits = eng.similar(1, "mf", k=401).items
    new = [h for h in hits if h.movie_id == done.movie_id]
    assert new and new[0].cold_start == ("mf", "sasrec") and new[0].to_dict()["cold_start"] == ["mf", "sasrec"]
    assert all("cold_start" not in h.to_dict() for h in hits if h.movie_id != done.movie_id)
    assert eng.resolve("Zanzibar Quokka").movie_id == done.movie_id
    assert eng.catalogue.bm25_search("quokka", 3)["movie_id"].iloc[0] == done.movie_id


def test_removed_movie_is_gone_from_every_space_and_index(eng):
    for m in SPACES:
        for kind in ("exact", "hnsw", "ivf"):
            eng.similar(2, m, index=kind)
    neighbour = eng.similar(2, "text", k=1).ids()[0]
    done = eng.remove_movie(neighbour)
    assert done.kind == "remove" and set(done.spaces) == set(SPACES)
    for m in SPACES:
        for kind in ("exact", "hnsw", "ivf"):
            assert neighbour not in eng.similar(2, m, k=399, index=kind).ids()
    assert eng.similar(2, "text", k=1).ids() == brute_force(eng, "text", 2, 1)
    with pytest.raises(UnknownMovieError):
        eng.resolve(neighbour)
    assert eng.edit_log().removed == (neighbour,)


@pytest.mark.parametrize("args, error", [
    (("", 2000, "Comedy"), BadTitleError),
    (("   \n ", 2000, "Comedy"), BadTitleError),
    (("x" * 10_000, 2000, "Comedy"), BadTitleError),
    (("A film", 99999, "Comedy"), BadYearError),
    (("A film", 1500, "Comedy"), BadYearError),
    (("A film", "soon", "Comedy"), BadYearError),
    (("A film", 2000, "Comdy"), UnknownGenreError),
    (("A film", 2000, ""), UnknownGenreError),
    (("A film", 2000, "Comedy", "o" * 5000), BadMovieTextError),
])
def test_bad_input_is_one_sentence_and_changes_nothing(eng, args, error):
    before = state(eng)
    with pytest.raises(error) as exc:
        eng.add_movie(*args)
    assert str(exc.value).count(". ") == 0 and len(str(exc.value)) < 300
    assert state(eng) == before


def test_unknown_genre_names_close_matches(eng):
    with pytest.raises(UnknownGenreError) as exc:
        eng.add_movie("A film", 2000, "Comdy")
    assert exc.value.suggestions == ["Comedy"] and "Comedy" in str(exc.value)


def test_removing_an_unknown_id_changes_nothing(eng):
    before = state(eng)
    for bad in (99_999, -1, "3", True):
        with pytest.raises(UnknownMovieError):
            eng.remove_movie(bad)
    assert state(eng) == before


def test_markup_in_a_title_is_stored_as_text_and_ids_are_never_reused(eng):
    title = "**Bold** <script>alert(1)</script> [link](http://x)"
    done = eng.add_movie(title, 1999, "drama")
    assert eng.movies.info(done.movie_id)["title"] == title and done.genres == ("Drama",)
    eng.remove_movie(done.movie_id)
    again = eng.add_movie("Another", 1999, "Drama")
    assert again.movie_id == done.movie_id + 1
    assert eng.edit_log().added == (again.movie_id,)


def test_a_second_engine_on_the_same_file_sees_the_edit_and_no_stale_index(tmp_path):
    from engine.data.catalogue import Catalogue

    path = tmp_path / "catalogue.sqlite"
    src = synthetic_catalogue(300, D, models=SPACES)
    file_cat = Catalogue(path)
    file_cat.write_movies(src.movies())
    for m in SPACES:
        vs = src.get_vectors(m)
        file_cat.put_vectors(m, vs.movie_ids, vs.vectors, vs.config)
    reader = Engine("synthetic", catalogue=Catalogue.open_existing(path), encoder=fake_encoder,
                    index_dir=tmp_path / "idx")
    for kind in ("exact", "hnsw"):
        reader.similar(1, "text", index=kind)  # index files of the old vectors on disk and in memory
    writer = Engine("synthetic", catalogue=file_cat, encoder=fake_encoder, index_dir=tmp_path / "idx")
    done = writer.add_movie("Echo Harbor", 2010, "Drama")
    for kind in ("exact", "hnsw"):  # the reader reloads the vectors and never serves the old index
        assert reader.similar(done.movie_id, "text", k=5, index=kind).ids() == brute_force(reader, "text",
                                                                                              done.movie_id, 5)
    assert done.movie_id in reader.movies


def test_an_edit_keeps_the_build_record_check(eng):
    """The engine checks that stored vectors are the ones the build wrote; an edit re-keys that record."""
    vs = eng.catalogue.get_vectors("mf")
    eng.catalogue.put_json("build:mf", {"vectors_hash": vs.content_hash})
    done = eng.add_movie("Ember Atlas", 2003, "Action")
    assert eng.catalogue.get_json("build:mf")["vectors_hash"] == eng.catalogue.get_vectors("mf").content_hash
    assert eng.similar(done.movie_id, "mf", k=3).ids()
