"""Query validation, title resolution, similar-movie search and space agreement."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.core.errors import BadQueryError, DimensionMismatchError, UnknownMovieError
from engine.vectors.faiss_index import FaissIndex
from engine.models.encoders import encode_query
from engine.recsys.query import MovieTable, clean_query, neighbours, overlap, query_notes


@pytest.fixture(scope="module")
def table() -> MovieTable:
    rows = [
        (50, "Star Wars", "Star Wars (1977)", 1977, ["Action", "Sci-Fi"], 583),
        (172, "The Empire Strikes Back", "Empire Strikes Back, The (1980)", 1980, ["Action", "Sci-Fi"], 367),
        (64, "The Shawshank Redemption", "Shawshank Redemption, The (1994)", 1994, ["Drama"], 283),
        (1, "Toy Story", "Toy Story (1995)", 1995, ["Animation"], 452),
        (7, "Psycho", "Psycho (1960)", 1960, ["Horror"], 239),
        (8, "Psycho", "Psycho (1998)", 1998, ["Horror"], 20),
        (9, "Amélie", "Amélie (2001)", None, ["Comedy"], 10),
    ]
    df = pd.DataFrame(rows, columns=["movie_id", "title", "original_title", "year", "genres", "n_ratings"])
    df["year"] = pd.array(df["year"], dtype="Int64")
    return MovieTable(df)


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "\x00\x01", "🎬🍿", "?!...", "x" * 10_000, None, 42])
def test_bad_queries(text):
    with pytest.raises(BadQueryError):
        clean_query(text)


def test_queries_are_cleaned():
    assert clean_query("  sad\x00 robots\n\nin space ") == "sad robots in space"
    assert clean_query("우정에 관한 따뜻한 이야기") == "우정에 관한 따뜻한 이야기"
    assert clean_query("space 🚀 adventure") == "space 🚀 adventure"
    assert query_notes("우정에 관한 이야기") and not query_notes("friendship story")


@pytest.mark.parametrize("query, mid, how", [
    ("Star Wars", 50, "exact"), ("star wars", 50, "case-insensitive"), ("  STAR   WARS ", 50, "case-insensitive"),
    ("Star Wars (1977)", 50, "exact"), ("Shawshank Redemption, The (1994)", 64, "exact"),
    ("the shawshank redemption", 64, "case-insensitive"), ("Shawshank Redemtion", 64, "fuzzy"),
    ("empire strikes back", 172, "case-insensitive"), ("Empire Strikes Back, The", 172, "case-insensitive"),
    ("stra wars", 50, "fuzzy"), ("star wars 1977", 50, "fuzzy"), (172, 172, "id"), (np.int64(1), 1, "id"), ("amélie", 9, "case-insensitive"),
])
def test_resolve(table, query, mid, how):
    r = table.resolve(query)
    assert (r.movie_id, r.how) == (mid, how)


def test_same_title_prefers_most_rated_and_lists_others(table):
    r = table.resolve("Psycho")
    assert r.movie_id == 7 and r.alternatives == ["Psycho (1998)"]
    assert table.resolve("Psycho (1998)").movie_id == 8


def test_unknown_title_gives_suggestions(table):
    with pytest.raises(UnknownMovieError) as e:
        table.resolve("Empire Wars")
    assert e.value.suggestions and "Did you mean" in str(e.value)
    with pytest.raises(UnknownMovieError) as e:
        table.resolve("zzzzqqqq")
    assert e.value.suggestions == [] and "spelling" in str(e.value)
    with pytest.raises(UnknownMovieError):
        table.resolve(123456)
    with pytest.raises(BadQueryError):
        table.resolve("   ")


def test_info(table):
    assert table.info(9) == {"movie_id": 9, "title": "Amélie", "year": None, "genres": ["Comedy"], "other_title": None}
    assert table.info(50)["year"] == 1977


def test_neighbours_excludes_the_movie():
    ids = np.array([10, 20, 30, 40])
    x = np.array([[1, 0], [0.9, 0.1], [0, 1], [-1, 0]], np.float32)
    idx = FaissIndex.build(ids, x)
    got, scores = neighbours(idx, x[0], 2, exclude=[10])
    assert got.tolist() == [20, 30] and scores[0] > scores[1]
    got, _ = neighbours(idx, x[0], 10, exclude=[10])
    assert got.tolist() == [20, 30, 40]


def test_overlap():
    o = overlap([1, 2, 3, 4], [3, 4, 5, 6], ("mf", "text"))
    assert (o.a, o.b, o.shared, o.count, o.overlap_at_k) == ("mf", "text", (3, 4), 2, 0.5)
    assert o.jaccard == pytest.approx(2 / 6)
    assert overlap([], []).count == 0


def test_encode_query_checks_dimension():
    enc = lambda texts: np.ones((len(texts), 8), np.float32)  # noqa: E731
    v = encode_query(enc, "hello", 8)
    assert v.shape == (8,) and abs(np.linalg.norm(v) - 1) < 1e-6
    with pytest.raises(DimensionMismatchError):
        encode_query(enc, "hello", 16)


def test_mood_queries_are_valid_and_do_not_leak_labels():
    import json
    from pathlib import Path

    from engine.data.catalogue import keyword_terms
    from tests.conftest import GENRES_100K

    spec = json.loads((Path(__file__).resolve().parents[2] / "benchmarks" / "mood_queries.json").read_text())
    queries = spec["queries"]
    assert len(queries) >= 40 and len({q["query"] for q in queries}) == len(queries)
    names = [g.lower() for g in GENRES_100K]
    for q in queries:
        assert q["labels"] and set(q["labels"]) <= set(GENRES_100K), q
        clean_query(q["query"])
        leaked = [t for t in keyword_terms(q["query"]) if any(t in g or g in t for g in names)]
        assert not leaked, (q["query"], leaked)


def test_a_title_in_two_languages_resolves_either_way():
    t = MovieTable(pd.DataFrame({"movie_id": [1, 2], "title": ["아이언맨", "The Matrix"],
                                 "original_title": ["Iron Man", "Matrix, The (1999)"], "year": [2008, 1999],
                                 "genres": [["Action"], ["Sci-Fi"]], "n_ratings": [5, 9]}))
    assert t.resolve("아이언맨").movie_id == 1 and t.resolve("Iron Man").movie_id == 1
    assert t.resolve("iron man").movie_id == 1
    assert t.info(1)["other_title"] == "Iron Man"
    assert t.info(2)["other_title"] is None               # MovieLens' raw title is the same name
