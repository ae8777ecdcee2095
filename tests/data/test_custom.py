"""Bring-your-own catalogues: MovieLens-layout dirs, Parquet, a Django-shaped SQLite database, bad input."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engine.core.config import validate_name
from engine.data.custom import (CustomSpec, content_hash, import_or_load, load_frames, read_sources)
from engine.core.errors import DataFormatError, InvalidNameError, UnknownDatasetError

MOVIES_CSV = (
    "movieId,title,genres,year,overview\n"
    "1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy,1995,Toys come alive when nobody looks.\n"
    "2,\"Shawshank Redemption, The\",Drama|Drama,1994,A banker survives prison with hope.\n"
    "5,Heat (1995),(no genres listed),,\n"
    "7,Amélie (2001),Comedy|Romance,2001,\"A shy waitress, a photo booth album, and Paris.\"\n"
)
RATINGS_CSV = (
    "userId,movieId,rating,timestamp\n"
    "1,1,4.0,964982703\n1,2,4.5,964981247\n2,5,3.0,964982224\n2,7,5.0,964983815\n3,1,2.5,964982931\n"
)
TAGS_CSV = "userId,movieId,tag,timestamp\n1,1,pixar,1\n2,1,Pixar,2\n3,1,toys,3\n1,7,paris,4\n"


def write_dir(root: Path, movies: str = MOVIES_CSV, ratings: str = RATINGS_CSV, tags: str | None = TAGS_CSV) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "movies.csv").write_text(movies, encoding="utf-8")
    (root / "ratings.csv").write_text(ratings, encoding="utf-8")
    if tags is not None:
        (root / "tags.csv").write_text(tags, encoding="utf-8")
    return root


def test_movielens_layout_with_overview_year_and_tags(tmp_path):
    movies, ratings = read_sources(CustomSpec.movielens_dir(write_dir(tmp_path / "d")))
    m = movies.set_index("movie_id")
    assert list(m.index) == [1, 2, 5, 7]
    assert m.loc[2, "title"] == "The Shawshank Redemption" and m.loc[2, "year"] == 1994
    assert m.loc[1, "year"] == 1995 and m.loc[5, "year"] == 1995   # from the title when the column is empty
    assert m.loc[2, "genres"] == ["Drama"]                          # a repeated genre is kept once
    assert m.loc[5, "genres"] == [] and m.loc[5, "overview"] == ""
    assert m.loc[7, "overview"] == "A shy waitress, a photo booth album, and Paris."
    assert m.loc[1, "tags"] == ["pixar", "toys"]                   # case-insensitive, most applied first
    assert m.loc[7, "title"] == "Amélie"
    assert ratings.dtypes.astype(str).to_dict() == {"user_id": "int64", "movie_id": "int64", "rating": "float32",
                                                    "timestamp": "int64"}
    assert ratings["user_id"].tolist() == [1, 1, 2, 2, 3]
    assert ratings["movie_id"].tolist() == [2, 1, 5, 7, 1]          # time order within a user


def test_cache_roundtrip_verified_and_refreshed(tmp_path):
    src, cache = write_dir(tmp_path / "d"), tmp_path / "cache" / "mine"
    spec = CustomSpec.movielens_dir(src)
    movies, ratings, manifest, how = import_or_load("mine", cache, spec)
    assert how == "imported" and manifest["counts"] == {"movies": 4, "users": 3, "ratings": 5}
    movies2, ratings2, manifest2, how2 = import_or_load("mine", cache, None)   # registered: no spec needed
    assert how2 == "cache"
    pd.testing.assert_frame_equal(ratings, ratings2)
    assert movies2["genres"].tolist() == movies["genres"].tolist()
    assert content_hash(movies2, ratings2) == manifest["content_hash"]
    # a changed source file is imported again
    (src / "ratings.csv").write_text(RATINGS_CSV + "4,2,1.0,964990000\n")
    _, r3, m3, how3 = import_or_load("mine", cache, None)
    assert how3 == "imported" and len(r3) == 6 and m3["content_hash"] != manifest["content_hash"]


def test_damaged_cache_is_refused_when_sources_are_gone(tmp_path):
    src, cache = write_dir(tmp_path / "d"), tmp_path / "cache" / "mine"
    import_or_load("mine", cache, CustomSpec.movielens_dir(src))
    p = cache / "custom" / "ratings.parquet"
    p.write_bytes(p.read_bytes()[:-20] + b"\0" * 20)
    _, _, _, how = import_or_load("mine", cache, None)      # sources still there: re-imported
    assert how == "imported"
    p.write_bytes(p.read_bytes()[:-20] + b"\0" * 20)
    for f in src.iterdir():
        f.unlink()
    with pytest.raises(DataFormatError, match="sha256"):
        import_or_load("mine", cache, None)
    with pytest.raises(DataFormatError, match="sha256"):
        load_frames(cache)


def test_unregistered_name_without_sources(tmp_path):
    with pytest.raises(UnknownDatasetError, match="--data-dir"):
        import_or_load("nothing-here", tmp_path / "cache" / "nothing-here", None)


@pytest.mark.parametrize("name", ["my-films", "films_2024", "A", "9lives", "x" * 40])
def test_valid_names(name):
    assert validate_name(name, "data set") == name


@pytest.mark.parametrize("name", ["", "../etc", "a/b", ".hidden", "-x", "x" * 41, "my films", "naïve", None, "a\\b"])
def test_invalid_names(name):
    with pytest.raises(InvalidNameError, match="letters, digits"):
        validate_name(name, "data set")


BAD = {
    "missing column": (MOVIES_CSV.replace("title,", "name,", 1), RATINGS_CSV,
                       r"movies\.csv lacks the column\(s\) title \(title\).*--map movies\.title="),
    "duplicate id": (MOVIES_CSV + "2,Again (1999),Drama,,\n", RATINGS_CSV,
                     r"movies\.csv row 6 repeats movie id 2 \(first at row 3\).*delete or renumber"),
    "unknown movie": (MOVIES_CSV, RATINGS_CSV + "3,99,4.0,964982931\n",
                      r"ratings\.csv row 7 refers to movie id 99, which is not in movies\.csv; add the movie"),
    "empty movies": ("", RATINGS_CSV, r"movies\.csv is empty"),
    "header only": ("movieId,title,genres\n", RATINGS_CSV, r"movies\.csv has no data rows"),
    "bad timestamp": (MOVIES_CSV, RATINGS_CSV.replace("964981247", "yesterday"),
                      r"ratings\.csv row 3 has timestamp 'yesterday'"),
    "bad rating": (MOVIES_CSV, RATINGS_CSV.replace("4.5", "good"), r"ratings\.csv row 3 has rating 'good'"),
    "missing user": (MOVIES_CSV, RATINGS_CSV.replace("2,5,3.0", ",5,3.0"), r"ratings\.csv row 4 has no user id"),
    "empty title": (MOVIES_CSV.replace("Heat (1995)", ""), RATINGS_CSV, r"movies\.csv row 4 has an empty title"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_input_one_sentence(case, tmp_path):
    movies, ratings, pattern = BAD[case]
    root = write_dir(tmp_path / "d", movies, ratings, tags=None)
    with pytest.raises(DataFormatError, match=pattern) as err:
        read_sources(CustomSpec.movielens_dir(root))
    assert "\n" not in str(err.value) and "Traceback" not in str(err.value)


def test_non_utf8_names_the_row(tmp_path):
    root = write_dir(tmp_path / "d", tags=None)
    (root / "movies.csv").write_bytes(MOVIES_CSV.encode("utf-8").replace("Amélie".encode(), "Amélie".encode("latin-1")))
    with pytest.raises(DataFormatError, match=r"movies\.csv row 5 is not valid UTF-8; save the file as UTF-8"):
        read_sources(CustomSpec.movielens_dir(root))


def test_missing_files(tmp_path):
    with pytest.raises(DataFormatError, match="is not a directory"):
        CustomSpec.movielens_dir(tmp_path / "nope")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "movies.csv").write_text(MOVIES_CSV)
    with pytest.raises(DataFormatError, match="has no ratings.csv"):
        CustomSpec.movielens_dir(tmp_path / "d")


def test_parquet_with_mapped_columns_text_ids_and_ms_timestamps(tmp_path):
    pd.DataFrame({"imdb": ["tt0114709", "tt0111161", "tt0113277"], "name": ["Toy Story", "The Shawshank Redemption", "Heat"],
                  "released": [1995, 1994, 1995], "kinds": [["Animation", "Comedy"], ["Drama"], ["Crime", "Crime"]],
                  "plot": ["Toys.", "Hope.", None]}).to_parquet(tmp_path / "films.parquet")
    pd.DataFrame({"who": ["ann", "bob", "ann"], "film": ["tt0111161", "tt0114709", "tt0113277"],
                  "at": [964982703000, 964981247000, 964990000000]}).to_parquet(tmp_path / "views.parquet")
    spec = CustomSpec.from_mapping({
        "movies": {"file": "films.parquet", "id": "imdb", "title": "name", "year": "released", "genres": "kinds",
                   "overview": "plot"},
        "interactions": {"file": "views.parquet", "user": "who", "movie": "film", "timestamp": "at", "rating": ""},
    }, tmp_path)
    movies, ratings = read_sources(spec)
    assert movies["source_id"].tolist() == ["tt0114709", "tt0111161", "tt0113277"]
    assert movies["movie_id"].tolist() == [1, 2, 3]
    assert movies["genres"].tolist() == [["Animation", "Comedy"], ["Drama"], ["Crime"]]
    assert ratings["user_id"].tolist() == [1, 1, 2] and ratings["movie_id"].tolist() == [2, 3, 1]
    assert ratings["timestamp"].tolist() == [964982703, 964990000, 964981247]
    assert ratings["rating"].isna().all()


def make_django_db(path: Path) -> None:
    """A Django-shaped database: app ``movies`` with Movie, Genre (M2M) and Rating models."""
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT);
        CREATE TABLE movies_genre (id INTEGER PRIMARY KEY, name VARCHAR(40));
        CREATE TABLE movies_movie (id INTEGER PRIMARY KEY AUTOINCREMENT, title VARCHAR(200) NOT NULL,
                                   release_date DATE NULL, description TEXT NOT NULL, slug VARCHAR(50));
        CREATE TABLE movies_movie_genres (id INTEGER PRIMARY KEY, movie_id INTEGER REFERENCES movies_movie(id),
                                          genre_id INTEGER REFERENCES movies_genre(id));
        CREATE TABLE auth_user (id INTEGER PRIMARY KEY, username VARCHAR(150));
        CREATE TABLE movies_rating (id INTEGER PRIMARY KEY, user_id INTEGER REFERENCES auth_user(id),
                                    movie_id INTEGER REFERENCES movies_movie(id), score SMALLINT, created_at DATETIME);
    """)
    con.executemany("INSERT INTO movies_genre VALUES (?,?)", [(1, "Drama"), (2, "Comedy"), (3, "Sci-Fi")])
    con.executemany("INSERT INTO movies_movie VALUES (?,?,?,?,?)", [
        (10, "Arrival", "2016-11-11", "A linguist decodes an alien language.", "arrival"),
        (11, "Paddington 2", "2017-11-10", "A bear in marmalade-stained prison.", "paddington-2"),
        (12, "Moon", None, "", "moon"),
    ])
    con.executemany("INSERT INTO movies_movie_genres (movie_id, genre_id) VALUES (?,?)",
                    [(10, 3), (10, 1), (11, 2), (12, 3), (12, 1)])
    con.executemany("INSERT INTO auth_user VALUES (?,?)", [(1, "ann"), (2, "bob")])
    con.executemany("INSERT INTO movies_rating (user_id, movie_id, score, created_at) VALUES (?,?,?,?)", [
        (1, 10, 5, "2023-01-02 10:00:00"), (1, 11, 4, "2023-01-01 09:00:00.123456"), (2, 12, 3, "2023-02-01T12:00:00"),
        (2, 10, None, "2023-02-02 12:00:00"),
    ])
    con.commit()
    con.close()


def test_django_sqlite_import_from_toml(tmp_path):
    db = tmp_path / "db.sqlite3"
    make_django_db(db)
    before = db.read_bytes()
    (tmp_path / "moviedna.toml").write_text('''
sqlite = "db.sqlite3"

[movies]
query = """SELECT m.id, m.title, m.release_date, m.description, group_concat(g.name, '|') AS genres
           FROM movies_movie m LEFT JOIN movies_movie_genres mg ON mg.movie_id = m.id
           LEFT JOIN movies_genre g ON g.id = mg.genre_id GROUP BY m.id"""
id = "id"
title = "title"
year = "release_date"
overview = "description"

[interactions]
table = "movies_rating"
user = "user_id"
movie = "movie_id"
timestamp = "created_at"
rating = "score"
''')
    spec = CustomSpec.from_file(tmp_path / "moviedna.toml")
    movies, ratings, manifest, how = import_or_load("django-films", tmp_path / "cache" / "django-films", spec)
    m = movies.set_index("movie_id")
    assert m.loc[10, "title"] == "Arrival" and m.loc[10, "year"] == 2016 and pd.isna(m.loc[12, "year"])
    assert sorted(m.loc[10, "genres"]) == ["Drama", "Sci-Fi"] and m.loc[11, "genres"] == ["Comedy"]
    assert m.loc[11, "overview"] == "A bear in marmalade-stained prison."
    assert ratings["movie_id"].tolist() == [11, 10, 12, 10]         # per user, in time order
    assert ratings["timestamp"].iloc[0] == 1672563600               # 2023-01-01 09:00:00 UTC
    assert np.isnan(ratings["rating"].iloc[3]) and ratings["rating"].iloc[0] == 4.0
    assert manifest["counts"] == {"movies": 3, "users": 2, "ratings": 4}
    assert db.read_bytes() == before                                # opened read-only
    # the same import from a table with a JSON config and a mapped genre column
    (tmp_path / "cfg.json").write_text(json.dumps({
        "sqlite": "db.sqlite3",
        "movies": {"table": "movies_movie", "id": "id", "title": "title", "year": "release_date", "genres": "",
                   "overview": "description"},
        "interactions": {"table": "movies_rating", "user": "user_id", "movie": "movie_id", "timestamp": "created_at",
                         "rating": "score"},
    }))
    movies2, _ = read_sources(CustomSpec.from_file(tmp_path / "cfg.json"))
    assert movies2["genres"].tolist() == [[], [], []] and movies2["overview"].iloc[0].startswith("A linguist")


def test_sqlite_errors_name_the_table(tmp_path):
    db = tmp_path / "db.sqlite3"
    make_django_db(db)
    spec = CustomSpec.from_mapping({"sqlite": str(db), "movies": {"table": "movies_film"},
                                    "interactions": {"table": "movies_rating"}})
    with pytest.raises(DataFormatError, match="db.sqlite3 has no table 'movies_film'; it has .*movies_movie"):
        read_sources(spec)
    spec = CustomSpec.from_mapping({"sqlite": str(db), "movies": {"table": "movies_movie", "id": "id"},
                                    "interactions": {"table": "movies_rating"}})
    with pytest.raises(DataFormatError, match=r"table movies_rating of db.sqlite3 lacks the column\(s\) user \(userId\)"):
        read_sources(spec)


@pytest.mark.parametrize("raw, match", [
    ({"movies": {"file": "m.csv"}}, r"needs a \[movies\] and an \[interactions\]"),
    ({"movies": {"file": "m.csv", "table": "t"}, "interactions": {"file": "r.csv"}}, "exactly one of file, table or query"),
    ({"movies": {"table": "t"}, "interactions": {"file": "r.csv"}}, "no sqlite"),
    ({"movies": {"file": "m.csv", "colour": "x"}, "interactions": {"file": "r.csv"}}, "unknown setting 'colour'"),
    ({"films": {}}, "unknown section"),
])
def test_bad_config(raw, match, tmp_path):
    with pytest.raises(DataFormatError, match=match):
        CustomSpec.from_mapping(raw, tmp_path)


def test_column_overrides(tmp_path):
    root = write_dir(tmp_path / "d", MOVIES_CSV.replace("overview", "plot", 1), tags=None)
    spec = CustomSpec.movielens_dir(root).with_columns({"movies.overview": "plot"})
    movies, _ = read_sources(spec)
    assert movies.set_index("movie_id").loc[1, "overview"] == "Toys come alive when nobody looks."
    with pytest.raises(DataFormatError, match="Column mapping movies.colour=x is unknown"):
        spec.with_columns({"movies.colour": "x"})


def test_text_movie_id_in_ratings_of_numbered_movies(tmp_path):
    root = write_dir(tmp_path / "d", ratings=RATINGS_CSV + "3,abc,4.0,964982931\n", tags=None)
    with pytest.raises(DataFormatError, match=r"ratings\.csv row 7 refers to movie id abc"):
        read_sources(CustomSpec.movielens_dir(root))


def test_original_title_column_holds_the_title_in_another_language(tmp_path):
    movies_csv = ("movieId,title,original_title,genres\n"
                  "1,아이언맨,Iron Man,Action\n"
                  "2,기생충,,Drama\n")                                # no original title: the title itself
    movies, _ = read_sources(CustomSpec.movielens_dir(write_dir(tmp_path / "d", movies=movies_csv,
                                                                ratings="userId,movieId,timestamp\n1,1,1\n1,2,2\n",
                                                                tags=None)))
    m = movies.set_index("movie_id")
    assert m.loc[1, "title"] == "아이언맨" and m.loc[1, "original_title"] == "Iron Man"
    assert m.loc[2, "original_title"] == "기생충"
    spec = CustomSpec.movielens_dir(tmp_path / "d").with_columns({"movies.original_title": "title"})
    assert read_sources(spec)[0].set_index("movie_id").loc[1, "original_title"] == "아이언맨"
