"""From the raw source frames to the Dataset layout: ids, timestamps, ratings, titles, genres, tags.

Every value is checked here (missing or repeated ids, unknown movies, bad timestamps and ratings,
empty titles); a problem is one :class:`~engine.core.errors.DataFormatError` sentence naming the
table, the row and the fix.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engine.core.config import Progress
from engine.data.custom.readers import read_table
from engine.data.custom.schema import (_OPTIONAL, INTERACTION_COLUMNS, MAX_TAGS, MOVIE_COLUMNS, NO_GENRES,
                                       CustomSpec, TableSpec)
from engine.data.titles import parse_title
from engine.core.errors import DataFormatError

#: largest numeric id: int64 holds every whole number up to here
MAX_ID = np.iinfo(np.int64).max
#: largest whole number a float64 column holds exactly (above it, neighbouring ids collide)
MAX_EXACT_FLOAT_ID = 2**53
#: ratings are stored as float32; any scale people use (0.5-5, 1-10, 0-100, counts) fits well inside
MAX_ABS_RATING = 1_000_000

def _row(label: str, i: int, csv_like: bool) -> str:
    """Human row number: data row i (0-based) is line i + 2 of a CSV with a header."""
    return f"{label} row {i + 2}" if csv_like else f"{label} row {i + 1}"


def _require_columns(df: pd.DataFrame, t: TableSpec, section: str, label: str) -> None:
    missing = [f"{fld} ({col})" for fld, col in t.columns.items()
               if col and fld not in _OPTIONAL[section] and col not in df.columns]
    if missing:
        have = ", ".join(map(str, df.columns)) or "none"
        raise DataFormatError(f"{label} lacks the column(s) {', '.join(missing)} (it has {have}); "
                              f"rename the column or map it, e.g. --map {section}.{missing[0].split()[0]}=YOUR_COLUMN.")
    if len(df) == 0:
        raise DataFormatError(f"{label} has no data rows; it needs at least one.")


def _ids(values: pd.Series, label: str, what: str, csv_like: bool) -> tuple[np.ndarray, bool]:
    """int64 ids; (ids, False) if the column is whole numbers, else (codes, True) for text ids."""
    if values.isna().any():
        i = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise DataFormatError(f"{_row(label, i, csv_like)} has no {what}; fill it in or delete the row.")
    if pd.api.types.is_integer_dtype(values):
        _ids_fit(values, label, what, csv_like)
        return values.to_numpy(np.int64), False
    num = pd.to_numeric(values, errors="coerce")
    if num.notna().all() and (num == np.floor(num)).all():
        _ids_fit(num, label, what, csv_like)
        return num.to_numpy(np.int64), False
    return values.astype(str).str.strip().to_numpy(object), True


def _ids_fit(num: pd.Series, label: str, what: str, csv_like: bool) -> None:
    """Refuse numeric ids that int64 cannot hold exactly (they would wrap or round to another id).

    A float column holds whole numbers exactly only up to 2**53; an integer column (int64 or
    uint64, which pandas picks for 20-digit numbers) up to 2**63 - 1.
    """
    if pd.api.types.is_float_dtype(num):
        limit, big = MAX_EXACT_FLOAT_ID, np.abs(num.to_numpy(np.float64)) > MAX_EXACT_FLOAT_ID
    elif pd.api.types.is_unsigned_integer_dtype(num):
        limit, big = MAX_ID, num.to_numpy(np.uint64) > np.uint64(MAX_ID)
    else:   # a signed integer column already fits
        return
    if big.any():
        i = int(np.flatnonzero(big)[0])
        raise DataFormatError(f"{_row(label, i, csv_like)} has {what} {shown(num.iloc[i])}, which is too large "
                              f"(numeric ids must be at most {limit:,}); renumber the ids, e.g. 1, 2, 3 in the order of the file.")


def shown(v: object) -> str:
    """A cell value for a message: text quoted, numbers short (1e+308, inf, 1.23457e+19), never numpy's repr."""
    if isinstance(v, str):
        return repr(v)
    if isinstance(v, (float, np.floating)):
        return f"{float(v):g}"
    return str(v)


def _timestamps(values: pd.Series, label: str, csv_like: bool) -> np.ndarray:
    """int64 seconds since 1970 from ints (seconds or milliseconds), datetimes or date-time text."""
    if pd.api.types.is_datetime64_any_dtype(values):
        ts = values
    else:
        num = pd.to_numeric(values, errors="coerce")
        if num.notna().sum() * 2 >= len(num):    # a column of numbers: a non-number is the error
            bad = num.isna().to_numpy()
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataFormatError(f"{_row(label, i, csv_like)} has timestamp {values.iloc[i]!r}, which is not a "
                                      "number of seconds like the other rows; fix or delete the row.")
            sec = num.to_numpy(np.float64)
            if np.nanmax(np.abs(sec)) > 1e11:      # milliseconds (years beyond 5000 in seconds)
                sec = sec / 1000.0
            return np.floor(sec).astype(np.int64)
        ts = pd.to_datetime(values, errors="coerce", utc=True, format="mixed")
    bad = ts.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise DataFormatError(f"{_row(label, i, csv_like)} has timestamp {values.iloc[i]!r}, which is neither a number "
                              "of seconds nor a date-time; use e.g. 1700000000 or 2023-11-14 22:13:20.")
    if getattr(ts.dt, "tz", None) is None:
        ts = ts.dt.tz_localize("UTC")
    # resolution-independent (pandas may store s, ms, us or ns)
    return ((ts - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(seconds=1)).to_numpy(np.int64)


def _split_list(values: pd.Series | None, n: int, sep: str, drop: set[str]) -> list[list[str]]:
    if values is None:
        return [[] for _ in range(n)]
    out = []
    for v in values.tolist():
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out.append([])
            continue
        items = list(v) if isinstance(v, (list, tuple, np.ndarray)) else str(v).split(sep)
        # dict.fromkeys: drop repeats ("Action|Action") but keep the order
        out.append(list(dict.fromkeys(s for s in (str(x).strip() for x in items) if s and s not in drop)))
    return out


def _tags_by_movie(tags: pd.DataFrame, movie_col: str, tag_col: str) -> dict[Any, list[str]]:
    """movie -> up to MAX_TAGS distinct tags, most applied first (case-insensitive)."""
    t = tags[[movie_col, tag_col]].dropna()
    t = t.assign(tag=t[tag_col].astype(str).str.strip(), key=t[tag_col].astype(str).str.strip().str.lower())
    t = t[t["key"] != ""]
    counts = t.groupby([movie_col, "key"]).agg(n=("tag", "size"), tag=("tag", "first")).reset_index()
    counts = counts.sort_values([movie_col, "n", "key"], ascending=[True, False, True])
    return {mid: g["tag"].head(MAX_TAGS).tolist() for mid, g in counts.groupby(movie_col)}


def read_sources(spec: CustomSpec, progress: Progress | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and check the sources; return (movies, ratings) frames in the Dataset layout.

    movies: movie_id int64, title, original_title, year Int64, genres list[str], tags list[str],
    overview str ("" when none); ratings: user_id int64, movie_id int64, rating float32 (NaN when
    the source has none), timestamp int64, sorted by (user_id, timestamp), stable.
    """
    say = progress or (lambda f, m: None)
    mc, ic = spec.movies.columns, spec.interactions.columns
    say(0.05, "reading movies")
    m, mlabel = read_table(spec.movies, spec.sqlite, [mc.get(k) for k in MOVIE_COLUMNS],
                           text_cols=[mc.get("title"), mc.get("original_title"), mc.get("genres"), mc.get("overview"),
                                      mc.get("tags")],
                           section="movies")
    m_csv = bool(spec.movies.file) and not spec.movies.file.endswith((".parquet", ".pq"))
    _require_columns(m, spec.movies, "movies", mlabel)
    raw_ids, text_ids = _ids(m[mc["id"]], mlabel, "movie id", m_csv)
    dup = pd.Series(raw_ids).duplicated(keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        first = int(np.flatnonzero(raw_ids == raw_ids[i])[0])
        raise DataFormatError(f"{_row(mlabel, i, m_csv)} repeats movie id {raw_ids[i]} (first at row "
                              f"{first + (2 if m_csv else 1)}); every movie needs its own id, delete or renumber one row.")
    # Text ids (e.g. "tt0111161") become 1..n in the order of the file; the originals stay in source_id.
    movie_ids = np.arange(1, len(raw_ids) + 1, dtype=np.int64) if text_ids else raw_ids
    id_of = pd.Index(raw_ids)

    say(0.15, "reading interactions")
    r, rlabel = read_table(spec.interactions, spec.sqlite, [ic.get(k) for k in INTERACTION_COLUMNS],
                           section="interactions")
    r_csv = bool(spec.interactions.file) and not spec.interactions.file.endswith((".parquet", ".pq"))
    _require_columns(r, spec.interactions, "interactions", rlabel)
    users, _ = _ids(r[ic["user"]], rlabel, "user id", r_csv)
    if users.dtype == object:
        users = pd.factorize(users, sort=True)[0].astype(np.int64) + 1
    r_movies, _ = _ids(r[ic["movie"]], rlabel, "movie id", r_csv)
    if text_ids:
        pos = id_of.get_indexer(r_movies.astype(str))
    elif r_movies.dtype == object:      # text where the movies have numbers: the non-numbers cannot match
        num = pd.to_numeric(pd.Series(r_movies), errors="coerce")
        pos = np.where(num.isna(), -1, id_of.get_indexer(num.fillna(-1).to_numpy(np.int64)))
    else:
        pos = id_of.get_indexer(r_movies)
    if (pos < 0).any():
        i = int(np.flatnonzero(pos < 0)[0])
        raise DataFormatError(f"{_row(rlabel, i, r_csv)} refers to movie id {r_movies[i]}, which is not in {mlabel}; "
                              f"add the movie or delete its {int((pos < 0).sum()):,} interaction(s).")
    ts = _timestamps(r[ic["timestamp"]], rlabel, r_csv)
    if ic.get("rating") and ic["rating"] in r.columns:
        rating = pd.to_numeric(r[ic["rating"]], errors="coerce")
        bad = rating.isna().to_numpy() & r[ic["rating"]].notna().to_numpy()
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise DataFormatError(f"{_row(rlabel, i, r_csv)} has rating {r[ic['rating']].iloc[i]!r}, which is not a "
                                  "number; fix it or leave the cell empty.")
        out_of_range = ~(rating.abs() <= MAX_ABS_RATING).to_numpy() & rating.notna().to_numpy()
        if out_of_range.any():   # inf, -inf, or a number float32 cannot hold (1e308 would become inf)
            i = int(np.flatnonzero(out_of_range)[0])
            raise DataFormatError(f"{_row(rlabel, i, r_csv)} has rating {shown(r[ic['rating']].iloc[i])}; ratings must be "
                                  f"finite numbers from {-MAX_ABS_RATING:,} to {MAX_ABS_RATING:,}, fix it or leave "
                                  "the cell empty.")
        rating = rating.to_numpy(np.float32)
    else:
        rating = np.full(len(r), np.nan, dtype=np.float32)
    ratings = pd.DataFrame({"user_id": users.astype(np.int64), "movie_id": movie_ids[pos], "rating": rating,
                            "timestamp": ts})
    ratings = ratings.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)
    del r

    say(0.6, "movies: titles, genres, tags")
    tags_lists = _split_list(m[mc["tags"]] if mc.get("tags") in m.columns else None, len(m), spec.movies.tag_sep, set())
    if spec.tags is not None:
        tc = spec.tags.columns
        t, tlabel = read_table(spec.tags, spec.sqlite, [tc.get("movie"), tc.get("tag")], text_cols=[tc.get("tag")],
                                 section="tags")
        _require_columns(t, spec.tags, "tags", tlabel)
        if text_ids:
            t = t.assign(**{tc["movie"]: t[tc["movie"]].astype(str).str.strip()})
        by_movie = _tags_by_movie(t, tc["movie"], tc["tag"])
        tags_lists = [list(dict.fromkeys(own + by_movie.get(k, [])))[:MAX_TAGS] for own, k in zip(tags_lists, raw_ids.tolist())]
    raw_titles = m[mc["title"]].fillna("").astype(str).tolist()
    parsed = [parse_title(x) for x in raw_titles]
    years = pd.array([y for _, y in parsed], dtype="Int64")
    if mc.get("year") and mc["year"] in m.columns:
        given = pd.to_numeric(m[mc["year"]], errors="coerce")
        if not pd.api.types.is_numeric_dtype(m[mc["year"]]):   # a date column: take its year
            dates = pd.to_datetime(m[mc["year"]], errors="coerce", format="mixed")
            given = given.fillna(dates.dt.year)
        given = given.where((given >= 1800) & (given <= 2200))
        years = pd.array(given, dtype="Float64").round().astype("Int64").fillna(years) if len(given) else years
    blank = [i for i, (t, _) in enumerate(parsed) if not raw_titles[i].strip()]
    if blank:
        raise DataFormatError(f"{_row(mlabel, blank[0], m_csv)} has an empty title; every movie needs a title.")
    overview = (m[mc["overview"]].fillna("").astype(str).str.strip().tolist()
                if mc.get("overview") and mc["overview"] in m.columns else [""] * len(m))
    genres_col = m[mc["genres"]] if mc.get("genres") and mc["genres"] in m.columns else None
    # the title in another language (a Korean catalogue's English title); the raw title where there is none
    originals = (m[mc["original_title"]].fillna("").astype(str).str.strip().tolist()
                 if mc.get("original_title") and mc["original_title"] in m.columns else [""] * len(m))
    movies = pd.DataFrame({
        "movie_id": movie_ids,
        "title": [t for t, _ in parsed],
        "original_title": [o or x.strip() for o, x in zip(originals, raw_titles)],
        "year": years,
        "genres": _split_list(genres_col, len(m), spec.movies.genre_sep, {NO_GENRES}),
        "tags": tags_lists,
        "overview": overview,
    })
    if text_ids:
        movies["source_id"] = raw_ids.astype(str)
    movies = movies.sort_values("movie_id", kind="stable").reset_index(drop=True)
    return movies, ratings
