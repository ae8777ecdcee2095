"""Parsers of every published format, over files the fixtures write."""

import pandas as pd
import pytest

from engine.core.errors import DataFormatError
from engine.data.movielens import parse_100k, parse_1m, parse_csv
from tests.conftest import MOVIES, RATINGS

MOVIE_COLS = ["movie_id", "title", "original_title", "year", "genres", "tags"]


def _check(movies: pd.DataFrame, ratings: pd.DataFrame) -> None:
    assert list(movies.columns)[:6] == MOVIE_COLS
    assert len(movies) == len(MOVIES) and len(ratings) == len(RATINGS)
    assert ratings.dtypes.to_dict() == {"user_id": "int64", "movie_id": "int64", "rating": "float32",
                                        "timestamp": "int64"}
    shawshank = movies.set_index("movie_id").loc[2]
    assert shawshank["title"] == "The Shawshank Redemption" and shawshank["year"] == 1994
    assert shawshank["original_title"] == "Shawshank Redemption, The (1994)"
    assert movies.set_index("movie_id").loc[4, "genres"] == ["Action", "Adventure", "Sci-Fi"]
    assert movies.set_index("movie_id").loc[5, "title"] == "Les Misérables"


def test_parse_100k(dir_100k):
    movies, ratings, users = parse_100k(dir_100k)
    _check(movies, ratings)
    assert list(users.columns) == ["user_id", "age", "gender", "occupation", "zip_code"]
    assert ratings["rating"].tolist()[:3] == [5.0, 4.0, 5.0]


def test_parse_1m(dir_1m):
    movies, ratings, users = parse_1m(dir_1m)
    _check(movies, ratings)
    assert users["gender"].tolist() == ["M", "F", "M"]


def test_parse_csv_with_tags(dir_csv):
    movies, ratings, _ = parse_csv(dir_csv)
    _check(movies, ratings)
    tags = movies.set_index("movie_id")["tags"]
    assert tags.loc[4] == ["space opera", "classic"]  # case-insensitive dedupe, most applied first
    assert tags.loc[1] == []
    assert ratings["rating"].tolist()[0] == 4.5


def test_csv_without_tags(tmp_path):
    from tests.conftest import write_csv

    movies, _, _ = parse_csv(write_csv(tmp_path / "x", with_tags=False))
    assert all(t == [] for t in movies["tags"])


def test_missing_file_is_named(dir_100k):
    (dir_100k / "u.item").unlink()
    with pytest.raises(DataFormatError, match="u.item"):
        parse_100k(dir_100k)


def test_wrong_columns(dir_csv):
    (dir_csv / "ratings.csv").write_text("user,item,score\n1,2,3\n")
    with pytest.raises(DataFormatError, match="lacks column"):
        parse_csv(dir_csv)


def test_wrong_encoding(dir_csv):
    (dir_csv / "movies.csv").write_bytes("movieId,title,genres\n1,Am\xe9lie (2001),Comedy\n".encode("latin-1"))
    with pytest.raises(DataFormatError, match="encoding"):
        parse_csv(dir_csv)


def test_non_numeric_ratings(dir_100k):
    (dir_100k / "u.data").write_text("1\t2\tfive\t881250949\n")
    with pytest.raises(DataFormatError):
        parse_100k(dir_100k)
