"""BM25 keyword search in the catalogue (SQLite FTS5): ranking, tokenizer, safety, atomic writes."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from engine.data import fts
from engine.data.catalogue import Catalogue
from engine.errors import BadQueryError


def movies(rows) -> pd.DataFrame:
    return pd.DataFrame([{"movie_id": m, "title": t, "original_title": t, "year": 1990 + m, "genres": g,
                          "tags": tags, "n_ratings": n, "mean_rating": 3.5} for m, t, g, tags, n in rows])


MOVIES = movies([
    (1, "Star Trek: First Contact", ["Action", "Sci-Fi"], [], 10),
    (2, "Star Trek: Generations", ["Action", "Sci-Fi"], [], 30),
    (3, "Ghost", ["Romance", "Thriller"], [], 50),
    (4, "Casper", ["Children's", "Comedy"], ["ghosts", "friendly"], 20),
    (5, "Toy Story", ["Animation", "Comedy"], ["pixar"], 40),
    (6, "Toy Story 2", ["Animation", "Comedy"], ["pixar", "sequel"], 5),
    (7, "Amélie", ["Comedy", "Romance"], [], 8),
])


@pytest.fixture
def cat() -> Catalogue:
    c = Catalogue(":memory:")
    c.write_movies(MOVIES)
    return c


def test_title_words_rank_and_ties_go_to_the_more_rated(cat):
    df = cat.bm25_search("star trek", k=5)
    assert df["movie_id"].tolist() == [2, 1]                       # equal BM25: more ratings first
    assert list(df.columns) == ["movie_id", "title", "year", "genres", "score"]
    assert df["genres"][0] == ["Action", "Sci-Fi"]
    assert cat.bm25_search("toy story 2", k=5)["movie_id"].tolist()[0] == 6


def test_stemming_accents_and_genre_words(cat):
    assert cat.bm25_search("ghosts", k=5)["movie_id"].tolist() == [3, 4]   # "Ghost" title (x2) beats the tag
    assert cat.bm25_search("amelie", k=5)["movie_id"].tolist() == [7]      # diacritics folded
    assert set(cat.bm25_search("sci-fi", k=5)["movie_id"]) == {1, 2}
    assert cat.bm25_search("pixar sequel", k=5)["movie_id"].tolist()[0] == 6


def test_no_match_and_korean_are_empty_not_errors(cat):
    assert cat.bm25_search("qqqzz", k=5).empty
    assert cat.bm25_search("가슴이 웅장해지는 우주 영화", k=5).empty
    assert cat.bm25_search("the a of", k=5).empty                  # only stop words


@pytest.mark.parametrize("query, plain, expected", [
    ('star" OR "ghost', "star ghost", {1, 2, 3, 4}),   # not a phrase trick: the two words
    ("NEAR(star trek)", "near star trek", {1, 2}),     # NEAR is a word here (it matches nothing)
    ("title:ghost", "title ghost", {3, 4}),            # a column filter would keep only 3
    ("star*", "star", {1, 2}),                         # no prefix search
    ("-ghost", "ghost", {3, 4}),                       # no NOT
    ("((ghost", "ghost", {3, 4}),                      # unbalanced brackets are no syntax error
])
def test_fts_syntax_in_user_text_is_never_interpreted(cat, query, plain, expected):
    # FTS5 operators in user text are read as the words they contain: same hits, same order
    got = cat.bm25_search(query, k=5)["movie_id"].tolist()
    assert set(got) == expected
    assert got == cat.bm25_search(plain, k=5)["movie_id"].tolist()


def test_bad_query_is_named(cat):
    with pytest.raises(BadQueryError):
        cat.bm25_search("   ", k=5)
    with pytest.raises(BadQueryError):
        cat.bm25_search("ghost", k=0)


def test_rewrite_replaces_index_and_a_failed_write_keeps_the_old_one(cat):
    cat.write_movies(movies([(9, "Alien", ["Horror", "Sci-Fi"], [], 1)]))
    assert cat.bm25_search("ghost", k=5).empty
    assert cat.bm25_search("alien", k=5)["movie_id"].tolist() == [9]
    bad = movies([(10, "Aliens", ["Horror"], [], 1)])
    bad["n_ratings"] = [None]                                       # int(None) fails mid-write
    with pytest.raises(TypeError):
        cat.write_movies(bad)
    assert cat.bm25_search("alien", k=5)["movie_id"].tolist() == [9]
    assert cat.n_movies() == 1


def test_catalogue_written_before_fts_gets_its_index_on_open(tmp_path):
    path = tmp_path / "c.sqlite"
    Catalogue(path).write_movies(MOVIES)
    with sqlite3.connect(path) as conn:                             # as an older version left it
        conn.execute(f"DROP TABLE {fts.TABLE}")
    assert Catalogue(path).bm25_search("ghost", k=5)["movie_id"].tolist() == [3, 4]


def test_match_expression_quotes_every_term():
    assert fts.match_expression(["star", 'a"b']) == '"star" OR "a""b"'
    assert fts.match_expression([]) == ""


def test_covers_means_title_and_genres_hold_every_query_word(cat):
    assert cat.bm25_covers("star trek", 2) and cat.bm25_covers("Star Treks", 1)       # stemmed, case-folded
    assert cat.bm25_covers("sci-fi star trek", 1)                                   # genres count
    assert not cat.bm25_covers("star trek sequel", 1)                               # one word missing
    assert not cat.bm25_covers("friendly ghosts", 4)                                # tags do not count
    assert cat.bm25_covers("toy story 2", 6) and not cat.bm25_covers("toy story 2", 5)
    assert not cat.bm25_covers("the a of", 5)                                       # no keyword at all
    assert not cat.bm25_covers('"star" OR sequel', 1)                              # no FTS5 syntax is read (OR = a stop word)
