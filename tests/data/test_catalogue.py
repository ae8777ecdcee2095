import sqlite3

import numpy as np
import pytest

from engine.data.catalogue import Catalogue, open_catalogue
from engine.data.dataset import load_dataset
from engine.core.errors import (
    ArtifactError, BadQueryError, CatalogueError, DimensionMismatchError, InvalidNameError,
    ModelNotBuiltError, UnknownMovieError,
)


@pytest.fixture
def cat(dir_csv):
    ds = load_dataset("ml-25m", dir_csv)
    c = Catalogue(":memory:")
    c.write_movies(ds.movies)
    return c


def test_movies_round_trip(cat):
    movies = cat.movies()
    assert len(movies) == 5
    row = movies.set_index("movie_id").loc[4]
    assert row["genres"] == ["Action", "Adventure", "Sci-Fi"] and row["tags"] == ["space opera", "classic"]
    assert cat.movie(2)["title"] == "The Shawshank Redemption"
    with pytest.raises(UnknownMovieError):
        cat.movie(999)


def test_vectors_round_trip_contiguous_float32(cat):
    rng = np.random.default_rng(0)
    ids = np.array([5, 3, 1, 4, 2])
    vecs = rng.normal(size=(5, 8)).astype(np.float32)
    digest = cat.put_vectors("mf", ids, vecs, {"dim": 8})
    vs = cat.get_vectors("mf")
    assert vs.content_hash == digest and vs.config == {"dim": 8}
    assert vs.vectors.dtype == np.float32 and vs.vectors.flags.c_contiguous
    assert vs.movie_ids.tolist() == [1, 2, 3, 4, 5]  # sorted by id
    np.testing.assert_array_equal(vs.vectors[0], vecs[2])
    assert cat.has_vectors("mf", {"dim": 8}) and not cat.has_vectors("mf", {"dim": 9})


def test_many_vectors_span_chunks():
    c = Catalogue(":memory:")
    vecs = np.arange(10_000 * 4, dtype=np.float32).reshape(10_000, 4)
    c.put_vectors("big", np.arange(10_000), vecs, {})
    np.testing.assert_array_equal(c.get_vectors("big").vectors, vecs)


def test_models_are_stored_separately(cat):
    cat.put_vectors("mf", np.arange(1, 6), np.ones((5, 4), np.float32), {})
    cat.put_vectors("text", np.arange(1, 6), np.zeros((5, 3), np.float32), {})
    assert cat.get_vectors("mf").dim == 4 and cat.get_vectors("text").dim == 3
    assert [i["model"] for i in cat.vector_info()] == ["mf", "text"]
    cat.delete_vectors("mf")
    with pytest.raises(ModelNotBuiltError, match="engine build"):
        cat.get_vectors("mf")


def test_tampered_vectors_fail_hash(tmp_path):
    path = tmp_path / "c.sqlite"
    c = Catalogue(path)
    c.put_vectors("mf", np.arange(3), np.ones((3, 2), np.float32), {})
    c.close()
    con = sqlite3.connect(path)
    con.execute('UPDATE "vec_mf" SET vectors = ?', (np.zeros((3, 2), np.float32).tobytes(),))
    con.commit()
    con.close()
    with pytest.raises(ArtifactError, match="rebuild"):
        Catalogue(path).get_vectors("mf")


@pytest.mark.parametrize("name", ["", "-mf", 'mf"; DROP TABLE movies; --', "a" * 41, "mf x", None])
def test_bad_model_names(cat, name):
    with pytest.raises(InvalidNameError):
        cat.put_vectors(name, np.arange(2), np.ones((2, 2), np.float32), {})


def test_bad_vectors(cat):
    with pytest.raises(DimensionMismatchError):
        cat.put_vectors("mf", np.arange(3), np.ones((2, 2), np.float32), {})
    with pytest.raises(DimensionMismatchError, match="NaN"):
        cat.put_vectors("mf", np.arange(2), np.full((2, 2), np.nan, np.float32), {})
    with pytest.raises(DimensionMismatchError, match="repeat"):
        cat.put_vectors("mf", np.array([1, 1]), np.ones((2, 2), np.float32), {})


def test_keyword_search_ranks_title_over_tags(cat):
    hits = cat.keyword_search("space", 5)
    assert hits["movie_id"].tolist() == [4]  # only Star Wars carries "space" (in its tags)
    hits = cat.keyword_search("the story of a toy", 5)
    assert hits["movie_id"].tolist()[0] == 1


def test_keyword_search_never_treats_wildcards_as_patterns(cat):
    """LIKE wildcards in a query match nothing by themselves: a wildcard-only query is refused, and
    '%' / '_' next to a word neither widen nor break the match."""
    with pytest.raises(BadQueryError):
        cat.keyword_search("%_%", 5)
    assert cat.keyword_search("qq%_%", 5).empty
    assert cat.keyword_search("%space_%", 5)["title"].tolist() == cat.keyword_search("space", 5)["title"].tolist()


@pytest.mark.parametrize("query", ["", "   ", "x" * 501, "%_%", None])
def test_keyword_bad_query(cat, query):
    with pytest.raises(BadQueryError):
        cat.keyword_search(query)


@pytest.mark.parametrize("k", [0, -1, 10_001, True])
def test_keyword_bad_k(cat, k):
    with pytest.raises(BadQueryError):
        cat.keyword_search("space", k)


def test_json_blobs(cat):
    cat.put_json("evaluation", {"mf": {"hr@10": 0.5}})
    assert cat.get_json("evaluation") == {"mf": {"hr@10": 0.5}}
    assert cat.get_json("missing", 1) == 1


def test_not_a_database(tmp_path):
    bad = tmp_path / "c.sqlite"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CatalogueError, match="delete it"):
        Catalogue(bad)


def test_open_catalogue_syncs_movies(dir_csv, isolated_cache):
    ds = load_dataset("ml-25m", dir_csv)
    c = open_catalogue(ds)
    assert c.n_movies() == 5 and c.meta()["data_hash"] == ds.content_hash
    assert str(isolated_cache) in c.path


def test_open_existing_creates_nothing(tmp_path):
    from engine.core.config import catalogue_path

    path = catalogue_path("nope")
    with pytest.raises(CatalogueError, match=r"no catalogue for nope yet; run `python -m engine data --dataset nope` "
                                             "first") as err:
        Catalogue.open_existing(path)
    assert "\n" not in str(err.value)
    assert not path.exists() and not path.parent.exists()
    elsewhere = tmp_path / "a" / "b" / "c.sqlite"
    with pytest.raises(CatalogueError, match="mine"):
        Catalogue.open_existing(elsewhere, dataset="mine")
    assert not (tmp_path / "a").exists()


def test_open_existing_refuses_a_file_that_holds_no_catalogue(tmp_path):
    empty = tmp_path / "films" / "catalogue.sqlite"
    empty.parent.mkdir()
    empty.write_bytes(b"")                       # left behind by an old reader: not a catalogue
    with pytest.raises(CatalogueError, match="no catalogue for films yet"):
        Catalogue.open_existing(empty)
    assert empty.read_bytes() == b""             # and it stays as it was
    with pytest.raises(CatalogueError, match="delete it"):
        (tmp_path / "junk.sqlite").write_bytes(b"this is not sqlite" * 100)
        Catalogue.open_existing(tmp_path / "junk.sqlite")


def test_open_existing_reads_and_writes_a_real_catalogue(dir_csv, isolated_cache):
    ds = load_dataset("ml-25m", dir_csv)
    path = open_catalogue(ds).path              # the import creates it
    c = Catalogue.open_existing(path)
    assert c.n_movies() == 5 and c.movies()["movie_id"].tolist() == [1, 2, 3, 4, 5]
    c.put_json("evaluation", {"ok": 1})          # an existing catalogue stays writable (the Engine stores results)
    assert Catalogue.open_existing(path).get_json("evaluation") == {"ok": 1}
