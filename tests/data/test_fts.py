"""BM25 keyword search in the catalogue (SQLite FTS5): ranking, tokenizer, safety, atomic writes."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from engine.data import fts
from engine.data.catalogue import Catalogue
from engine.core.errors import BadQueryError


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


def written(movies_frame: pd.DataFrame) -> Catalogue:
    c = Catalogue(":memory:")
    c.write_movies(movies_frame)
    return c


@pytest.fixture
def cat() -> Catalogue:
    return written(MOVIES)


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


# --- overviews, Korean morphemes, column weights, scripts -------------------------------------------

def with_overviews(rows) -> pd.DataFrame:
    """(movie_id, title, original_title, genres, overview, n_ratings) -> a movies frame with overviews."""
    return pd.DataFrame([{"movie_id": m, "title": t, "original_title": o, "year": 2000 + m, "genres": g, "tags": [],
                          "n_ratings": n, "mean_rating": 3.5, "overview": ov} for m, t, o, g, ov, n in rows])


KO = with_overviews([
    (1, "인터스텔라", "Interstellar", ["Sci-Fi"], "새 행성을 찾아 웜홀 너머 우주로 향한다.", 10),
    (2, "그래비티", "Gravity", ["Sci-Fi"], "우주 정거장이 부서지고 홀로 남은 엔지니어가 지구로 돌아가려 한다.", 20),
    (3, "올드보이", "Oldboy", ["Drama"], "15년 동안 갇혔던 남자가 풀려나 복수를 꿈꾼다.", 30),
    (4, "우주전쟁", "War of the Worlds", ["Sci-Fi"], "외계인이 지구를 침공한다.", 5),
    (5, "아이언맨", "Iron Man", ["Action"], "납치된 무기 개발자가 강철 슈트를 만든다.", 40),
])


@pytest.fixture
def ko() -> Catalogue:
    return written(KO)


def test_korean_particles_and_endings_match_the_word(ko):
    assert ko.bm25_search("인터스텔라를", k=5)["movie_id"].tolist() == [1]
    assert ko.bm25_search("인터스텔라를 보고 싶어", k=5)["movie_id"].tolist() == [1]
    assert set(ko.bm25_search("우주", k=5)["movie_id"]) == {1, 2, 4}          # overviews say 우주로, 우주 정거장이
    assert ko.bm25_search("복수하는 남자", k=5)["movie_id"].tolist() == [3]   # 복수를 / 복수하는: the noun 복수
    assert ko.bm25_search("Iron Man", k=5)["movie_id"].tolist() == [5]        # the original title is a title


def test_a_title_hit_outranks_a_plot_hit(ko):
    # 우주전쟁 has 우주 in its title (weight 2), the others only in the overview (weight 1)
    assert fts.WEIGHTS[0] > fts.WEIGHTS[3]
    assert ko.bm25_search("우주", k=5)["movie_id"].tolist()[0] == 4


def test_without_the_analyser_korean_words_keep_their_particles():
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    conn.execute("CREATE TABLE movies (movie_id INTEGER, title TEXT, original_title TEXT, genres_text TEXT, "
                 "tags_text TEXT, overview TEXT, n_ratings INTEGER)")
    conn.executemany("INSERT INTO movies VALUES (?, ?, ?, ?, ?, ?, ?)",
                     [(int(r.movie_id), r.title, r.original_title, "|".join(r.genres), "", r.overview, r.n_ratings)
                      for r in KO.itertuples()])
    tables = {v: fts.build_variant(conn, v) for v in fts.VARIANTS}

    def found(variant: str, word: str) -> set[int]:
        return {m for m, _ in fts.search(conn, [word], 10, tables[variant])}

    assert found("kiwi", "우주") == {1, 2, 4}
    assert found("unicode61", "우주") == {2}            # only where 우주 stands alone ("우주 정거장이")
    assert found("trigram", "우주") == set()            # two syllables: shorter than a trigram
    assert found("trigram", "인터스텔라") == {1}


def test_overview_is_searched_by_bm25_and_like_and_read_by_the_gate():
    c = written(with_overviews([(1, "Moon", "Moon", ["Drama"], "An astronaut alone on a lunar base.", 3),
                                (2, "Astronaut Farmer", "Astronaut Farmer", ["Drama"], "", 1)]))
    assert c.bm25_search("astronaut", k=5)["movie_id"].tolist() == [2, 1]   # title first, then the plot
    assert set(c.keyword_search("lunar", k=5)["movie_id"]) == {1}
    assert c.keyword_search("astronaut", k=5)["movie_id"].tolist() == [2, 1]
    assert c.bm25_covers("lunar astronaut", 1) and not c.bm25_covers("lunar astronaut", 2)


def test_the_analyser_keeps_nouns_and_longer_stems_and_english_text_untouched():
    assert fts.analyse("Star Trek: First Contact") == "Star Trek: First Contact"   # no Hangul: Kiwi not asked
    words = fts.analyse("우주를 떠도는 비행사들이 시간 여행을 한다").split()
    assert {"우주", "떠돌", "비행사", "시간", "여행"} <= set(words)
    assert not {"를", "이", "을", "하", "한다"} & set(words)


def test_scripts_say_what_the_titles_and_overviews_are_written_in(ko, cat):
    assert ko.scripts().titles == ("Hangul script", "Latin script")              # Korean titles, English originals
    assert ko.scripts().overviews == ("Hangul script",)
    assert cat.scripts().titles == ("Latin script",) and cat.scripts().overviews == ()


def test_a_catalogue_written_before_overviews_is_migrated_and_still_verified(tmp_path):
    path = tmp_path / "c.sqlite"
    Catalogue(path).write_movies(MOVIES)
    with sqlite3.connect(path) as conn:            # as the previous layout left it: no overview, 3-column index
        conn.execute(f"DROP TABLE {fts.TABLE}")
        conn.execute(f"CREATE VIRTUAL TABLE {fts.TABLE} USING fts5(title, genres, tags)")
        conn.execute(f"INSERT INTO {fts.TABLE} (rowid, title, genres, tags) SELECT movie_id, title, genres_text, "
                     "tags_text FROM movies")
        conn.execute("ALTER TABLE movies DROP COLUMN overview")
        conn.execute("DELETE FROM meta WHERE key = 'fts_layout'")
        from engine.data.catalogue import _MOVIES_ALL, _movies_digest
        conn.execute("UPDATE meta SET value = ? WHERE key = 'movies_hash'",
                     (_movies_digest(conn.execute(_MOVIES_ALL).fetchall()),))
    c = Catalogue(path)
    assert c.movies_hash_ok()
    assert c.bm25_search("ghosts", k=5)["movie_id"].tolist() == [3, 4]
    assert len(c.movies()) == len(MOVIES)
