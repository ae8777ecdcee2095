"""Bring your own catalogue: movies + interactions from CSV, Parquet or an SQLite database.

The simplest form needs no mapping: a directory with ``movies.csv`` and ``ratings.csv`` (and
optionally ``tags.csv``) in the MovieLens "latest" layout, where ``movies.csv`` may carry extra
``year`` and ``overview`` columns::

    python -m engine data --dataset my-films --data-dir DIR

Anything else is described by a :class:`CustomSpec`, usually from a small TOML or JSON file
(paths relative to the file)::

    sqlite = "db.sqlite3"                 # optional: tables are read from this database

    [movies]                              # table = ..., file = ... or query = "SELECT ..."
    table = "movies_movie"
    id = "id"
    title = "title"
    year = "release_year"                 # optional columns: year, genres, overview, tags
    genres = "genres"
    genre_sep = ","
    overview = "description"

    [interactions]
    table = "movies_rating"
    user = "user_id"
    movie = "movie_id"
    timestamp = "created_at"              # int seconds / milliseconds, or date-time text
    rating = "score"                      # optional

    [tags]                                # optional: one row per (movie, tag)
    table = "movies_tag"
    movie = "movie_id"
    tag = "name"

Parsing uses pyarrow (CSV reader, Parquet) or ``sqlite3`` (read-only).  The normalised frames
(the :class:`engine.data.dataset.Dataset` layout, plus ``overview``) are cached as Parquet under
``<cache>/<name>/custom/`` with a manifest of sha256 digests (checked on every load; writes are
atomic), so a load reads two Parquet files instead of re-parsing the sources.  The cached copy is
re-imported when a source file's size or modification time changes.

Every problem with the input is one :class:`~engine.errors.DataFormatError` sentence naming the
file, the row and the fix.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import sqlite3
import time
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from engine.artifacts import array_hash, atomic_path, atomic_write_json, sha256_file
from engine.config import Progress, validate_name
from engine.errors import DataFormatError, UnknownDatasetError
from engine.data.titles import parse_title

log = logging.getLogger(__name__)


CACHE_VERSION = 1
MAX_TAGS = 25
#: defaults = the MovieLens "latest" layout
MOVIE_COLUMNS = {"id": "movieId", "title": "title", "year": "year", "genres": "genres", "overview": "overview", "tags": None}
INTERACTION_COLUMNS = {"user": "userId", "movie": "movieId", "timestamp": "timestamp", "rating": "rating"}
TAG_COLUMNS = {"movie": "movieId", "tag": "tag"}
_OPTIONAL = {"movies": {"year", "genres", "overview", "tags"}, "interactions": {"rating"}, "tags": set()}
NO_GENRES = "(no genres listed)"


@dataclass(frozen=True)
class TableSpec:
    """Where one table comes from and which of its columns mean what.

    Exactly one of ``file`` (CSV or Parquet), ``table`` or ``query`` (SQLite) is set.
    ``columns`` maps our field names (e.g. ``id``, ``title``) to the source's column names;
    a field mapped to ``None`` or absent from the source is optional and skipped.
    """

    file: str | None = None
    table: str | None = None
    query: str | None = None
    columns: dict[str, str | None] = field(default_factory=dict)
    genre_sep: str = "|"
    tag_sep: str = "|"

    def label(self, sqlite: str | None) -> str:
        if self.file:
            return Path(self.file).name
        db = Path(sqlite).name if sqlite else "the database"
        return f"table {self.table} of {db}" if self.table else f"the movies query on {db}"


@dataclass(frozen=True)
class CustomSpec:
    """A user's catalogue: movies, interactions, optional tags (paths absolute after :meth:`resolve`)."""

    movies: TableSpec
    interactions: TableSpec
    tags: TableSpec | None = None
    sqlite: str | None = None

    @classmethod
    def movielens_dir(cls, root: str | Path) -> "CustomSpec":
        """``movies.csv`` + ``ratings.csv`` (+ ``tags.csv``) in the MovieLens latest layout."""
        root = Path(root).expanduser().resolve()
        if not root.is_dir():
            raise DataFormatError(f"{root} is not a directory; point --data-dir at the folder holding movies.csv and ratings.csv.")
        for needed in ("movies.csv", "ratings.csv"):
            if not (root / needed).is_file():
                raise DataFormatError(
                    f"{root} has no {needed}; a custom data set needs movies.csv (movieId,title[,genres,year,overview]) "
                    "and ratings.csv (userId,movieId,timestamp[,rating]), or a --config file that maps other files.")
        tags = root / "tags.csv"
        return cls(
            movies=TableSpec(file=str(root / "movies.csv"), columns=dict(MOVIE_COLUMNS)),
            interactions=TableSpec(file=str(root / "ratings.csv"), columns=dict(INTERACTION_COLUMNS)),
            tags=TableSpec(file=str(tags), columns=dict(TAG_COLUMNS)) if tags.is_file() else None,
        )

    @classmethod
    def from_mapping(cls, raw: dict[str, Any], base_dir: Path | None = None) -> "CustomSpec":
        """From a dict shaped like the TOML file in the module docstring."""
        base = Path(base_dir or ".").expanduser().resolve()
        unknown = set(raw) - {"sqlite", "movies", "interactions", "ratings", "tags"}
        if unknown:
            raise DataFormatError(f"The data set config has unknown section(s) {', '.join(sorted(unknown))}; "
                                  "use sqlite, [movies], [interactions] and [tags].")
        sqlite_path = raw.get("sqlite")
        if sqlite_path:
            sqlite_path = str((base / str(sqlite_path)).expanduser())

        def table(section: str, defaults: dict[str, str | None]) -> TableSpec | None:
            body = raw.get(section)
            if body is None and section == "interactions":
                body = raw.get("ratings")
            if body is None:
                return None
            if not isinstance(body, dict):
                raise DataFormatError(f"The [{section}] section of the data set config must be a table of settings.")
            body = dict(body)
            where = {k: body.pop(k) for k in ("file", "table", "query") if body.get(k)}
            if len(where) != 1:
                raise DataFormatError(f"The [{section}] section needs exactly one of file, table or query.")
            if ("table" in where or "query" in where) and not sqlite_path:
                raise DataFormatError(f"The [{section}] section names a table or query but the config has no sqlite = \"FILE\".")
            if "file" in where:
                where["file"] = str((base / str(where["file"])).expanduser())
            seps = {k: str(body.pop(k)) for k in ("genre_sep", "tag_sep") if k in body}
            cols = dict(defaults)
            for key, value in body.items():
                if key not in defaults:
                    raise DataFormatError(f"The [{section}] section has an unknown setting {key!r}; "
                                          f"use file/table/query and column names for {', '.join(defaults)}.")
                cols[key] = None if value in (None, "", False) else str(value)
            return TableSpec(**where, columns=cols, **seps)

        movies = table("movies", MOVIE_COLUMNS)
        inter = table("interactions", INTERACTION_COLUMNS)
        if movies is None or inter is None:
            raise DataFormatError("The data set config needs a [movies] and an [interactions] section.")
        return cls(movies=movies, interactions=inter, tags=table("tags", TAG_COLUMNS), sqlite=sqlite_path)

    @classmethod
    def from_file(cls, path: str | Path) -> "CustomSpec":
        """From a ``.toml`` or ``.json`` file; relative paths inside are relative to the file."""
        path = Path(path).expanduser().resolve()
        try:
            text = path.read_bytes()
        except OSError as exc:
            raise DataFormatError(f"Cannot read the data set config {path} ({exc.strerror}); check the path.") from None
        try:
            raw = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text.decode("utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            raise DataFormatError(f"{path.name} is not valid {'JSON' if path.suffix.lower() == '.json' else 'TOML'} "
                                  f"({str(exc).splitlines()[0]}); fix the syntax.") from None
        if not isinstance(raw, dict):
            raise DataFormatError(f"{path.name} must hold a table of settings at the top level.")
        return cls.from_mapping(raw, path.parent)

    def with_columns(self, mapping: dict[str, str]) -> "CustomSpec":
        """Override column names: ``{"movies.overview": "description", "interactions.user": "uid"}``."""
        out = self
        for key, col in mapping.items():
            section, _, fld = key.partition(".")
            section = "interactions" if section == "ratings" else section
            spec = getattr(out, section, None) if section in ("movies", "interactions", "tags") else None
            defaults = {"movies": MOVIE_COLUMNS, "interactions": INTERACTION_COLUMNS, "tags": TAG_COLUMNS}.get(section, {})
            if spec is None or fld not in defaults:
                raise DataFormatError(f"Column mapping {key}={col} is unknown; use movies.<{'|'.join(MOVIE_COLUMNS)}>, "
                                      f"interactions.<{'|'.join(INTERACTION_COLUMNS)}> or tags.<movie|tag>.")
            out = replace(out, **{section: replace(spec, columns={**spec.columns, fld: col or None})})
        return out

    def fingerprint(self) -> dict[str, Any]:
        """What identifies the sources: the spec plus size and mtime of every file it reads."""
        files = [t.file for t in (self.movies, self.interactions, self.tags) if t is not None and t.file]
        if self.sqlite:
            files.append(self.sqlite)
        stat = {}
        for f in files:
            try:
                s = Path(f).stat()
                stat[f] = [s.st_size, s.st_mtime_ns]
            except OSError:
                stat[f] = None
        return {"spec": asdict(self), "files": stat, "version": CACHE_VERSION}


# --- reading ---------------------------------------------------------------------------------

def _read_csv(path: Path, label: str, wanted: list[str], text_cols: set[str]) -> pd.DataFrame:
    """pyarrow CSV -> pandas with only ``wanted`` columns (those present); errors as sentences."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    if not path.is_file():
        raise DataFormatError(f"{path} does not exist; check the path of the {label} file.")
    if path.stat().st_size == 0:
        raise DataFormatError(f"{path.name} is empty; it needs a header row and at least one data row.")
    header = _csv_header(path)
    present = [c for c in dict.fromkeys(wanted) if c in header]
    types = {c: pa.string() for c in present if c in text_cols}
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=1 << 24),
            convert_options=pacsv.ConvertOptions(include_columns=present, column_types=types,
                                                 strings_can_be_null=False),
        )
    except pa.ArrowInvalid as exc:
        msg = str(exc)
        if "UTF8" in msg or "utf8" in msg.lower() or "utf-8" in msg.lower():
            row = _first_bad_utf8_line(path)
            raise DataFormatError(f"{path.name} row {row} is not valid UTF-8; save the file as UTF-8 "
                                  "(e.g. `iconv -f latin1 -t utf-8`).") from None
        m = re.search(r"[Rr]ow #(\d+)", msg)
        where = f" row {m.group(1)}" if m else ""
        raise DataFormatError(f"{path.name}{where} cannot be read as CSV ({msg.splitlines()[0][:160]}); "
                              "fix that line (quoting, column count).") from None
    return table.to_pandas()


def _csv_header(path: Path) -> list[str]:
    with open(path, "rb") as fh:
        first = fh.readline()
    try:
        line = first.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DataFormatError(f"{path.name} row 1 (the header) is not valid UTF-8; save the file as UTF-8.") from None
    import csv

    try:
        return [c.strip() for c in next(csv.reader([line]))]
    except StopIteration:
        raise DataFormatError(f"{path.name} has an empty header row; the first line must name the columns.") from None


def _first_bad_utf8_line(path: Path) -> int:
    """1-based line number of the first line that is not UTF-8 (only called on the error path)."""
    with open(path, "rb") as fh:
        for i, line in enumerate(fh, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return i
    return 0


def _read_parquet(path: Path, label: str, wanted: list[str]) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if not path.is_file():
        raise DataFormatError(f"{path} does not exist; check the path of the {label} file.")
    try:
        names = pq.read_schema(path).names
        return pq.read_table(path, columns=[c for c in dict.fromkeys(wanted) if c in names]).to_pandas()
    except Exception as exc:  # pyarrow raises several types for a corrupt file
        raise DataFormatError(f"{path.name} is not a readable Parquet file ({exc.__class__.__name__}); "
                              "export it again or use CSV.") from None


def _read_sqlite(db: Path, t: TableSpec, label: str, wanted: list[str]) -> pd.DataFrame:
    if not db.is_file():
        raise DataFormatError(f"{db} does not exist; check the sqlite path of the data set config.")
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)   # never writes the user's database
    except sqlite3.Error as exc:
        raise DataFormatError(f"{db.name} cannot be opened as SQLite ({exc}); check the file.") from None
    try:
        if t.table:
            tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            if t.table not in tables:
                raise DataFormatError(f"{db.name} has no table {t.table!r}; it has {', '.join(sorted(tables)) or 'no tables'}.")
            cols = [r[1] for r in conn.execute(f'PRAGMA table_info("{t.table}")')]
            present = [c for c in dict.fromkeys(wanted) if c in cols]
            if not present:   # nothing we want: report the missing columns, not an SQL error
                return pd.DataFrame({c: [] for c in cols}).iloc[:, :0]
            sql = "SELECT " + ", ".join(f'"{c}"' for c in present) + f' FROM "{t.table}"'
        else:
            sql = str(t.query)
        cur = conn.execute(sql)
        names = [d[0] for d in cur.description]
        rows = cur.fetchall()
    except sqlite3.Error as exc:
        raise DataFormatError(f"Reading {label} failed ({exc}); check the table, query and column names.") from None
    except UnicodeDecodeError:
        raise DataFormatError(f"{label} holds text that is not valid UTF-8; fix the offending rows.") from None
    finally:
        conn.close()
    df = pd.DataFrame.from_records(rows, columns=names)
    return df[[c for c in names if c in set(wanted)]]


def read_table(t: TableSpec, sqlite: str | None, wanted: Iterable[str], text_cols: Iterable[str] = ()) -> tuple[pd.DataFrame, str]:
    """(frame with the wanted columns that exist, label for messages)."""
    label = t.label(sqlite)
    wanted = [c for c in wanted if c]
    if t.file:
        path = Path(t.file)
        if path.suffix.lower() in (".parquet", ".pq") or path.name.endswith(".parquet.brotli"):
            return _read_parquet(path, label, wanted), label
        return _read_csv(path, label, wanted, set(text_cols)), label
    if not sqlite:
        raise DataFormatError(f"{label} needs an SQLite database; set sqlite = \"FILE\" in the data set config.")
    return _read_sqlite(Path(sqlite), t, label, wanted), label


# --- normalising -----------------------------------------------------------------------------

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
        return values.to_numpy(np.int64), False
    num = pd.to_numeric(values, errors="coerce")
    if num.notna().all() and (num == np.floor(num)).all():
        return num.to_numpy(np.int64), False
    return values.astype(str).str.strip().to_numpy(object), True


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
                           text_cols=[mc.get("title"), mc.get("genres"), mc.get("overview"), mc.get("tags")])
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
    r, rlabel = read_table(spec.interactions, spec.sqlite, [ic.get(k) for k in INTERACTION_COLUMNS])
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
        t, tlabel = read_table(spec.tags, spec.sqlite, [tc.get("movie"), tc.get("tag")], text_cols=[tc.get("tag")])
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
    movies = pd.DataFrame({
        "movie_id": movie_ids,
        "title": [t for t, _ in parsed],
        "original_title": [x.strip() for x in raw_titles],
        "year": years,
        "genres": _split_list(genres_col, len(m), spec.movies.genre_sep, {NO_GENRES}),
        "tags": tags_lists,
        "overview": overview,
    })
    if text_ids:
        movies["source_id"] = raw_ids.astype(str)
    movies = movies.sort_values("movie_id", kind="stable").reset_index(drop=True)
    return movies, ratings


# --- cache -----------------------------------------------------------------------------------

def custom_dir(cache_dir: Path) -> Path:
    """``<cache>/<name>/custom``: normalised frames + manifest of a registered custom data set."""
    return Path(cache_dir) / "custom"


def is_registered(cache_dir: Path) -> bool:
    return (custom_dir(cache_dir) / "manifest.json").is_file()


def content_hash(movies: pd.DataFrame, ratings: pd.DataFrame) -> str:
    """sha256 over the normalised ratings arrays and every movie field (the data set's identity)."""
    text = hashlib.sha256()
    for col in ("title", "original_title", "overview"):
        text.update("\x1f".join(movies[col].astype(str)).encode("utf-8"))
    for col in ("genres", "tags"):
        text.update("\x1e".join("\x1f".join(x) for x in movies[col]).encode("utf-8"))
    years = movies["year"].fillna(-1).to_numpy(np.int64)
    return array_hash(ratings["user_id"].to_numpy(np.int64), ratings["movie_id"].to_numpy(np.int64),
                      ratings["rating"].to_numpy(np.float32), ratings["timestamp"].to_numpy(np.int64),
                      movies["movie_id"].to_numpy(np.int64), years, extra=text.hexdigest())


def _write_parquet(df: pd.DataFrame, target: Path) -> str:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with atomic_path(target, suffix=".parquet") as tmp:
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp, compression="zstd")
    return sha256_file(target)


def save_frames(cache_dir: Path, name: str, spec: CustomSpec, movies: pd.DataFrame, ratings: pd.DataFrame) -> dict[str, Any]:
    """Write the frames (atomic) and then the manifest that names their sha256 (so a torn write never verifies)."""
    d = custom_dir(cache_dir)
    d.mkdir(parents=True, exist_ok=True)
    manifest = {
        "name": name, "version": CACHE_VERSION, "fingerprint": spec.fingerprint(),
        "movies_sha256": _write_parquet(movies, d / "movies.parquet"),
        "ratings_sha256": _write_parquet(ratings, d / "ratings.parquet"),
        "content_hash": content_hash(movies, ratings),
        "counts": {"movies": int(len(movies)), "users": int(ratings["user_id"].nunique()), "ratings": int(len(ratings))},
        "imported_at": time.time(),
    }
    atomic_write_json(d / "manifest.json", manifest)
    return manifest


def load_frames(cache_dir: Path) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """The cached frames, each checked against the manifest's sha256; DataFormatError if damaged."""
    import pyarrow.parquet as pq

    d = custom_dir(cache_dir)
    try:
        manifest = json.loads((d / "manifest.json").read_text())
    except (OSError, ValueError):
        raise DataFormatError(f"The cached copy in {d} has no readable manifest; import the data set again with --data-dir or --config.") from None
    frames = []
    for what in ("movies", "ratings"):
        p = d / f"{what}.parquet"
        if not p.is_file() or sha256_file(p) != manifest.get(f"{what}_sha256"):
            raise DataFormatError(f"The cached {what} of {manifest.get('name')} fail their sha256 check (damaged or edited); "
                                  "import the data set again with --data-dir or --config.")
        frames.append(pq.read_table(p).to_pandas())
    movies, ratings = frames
    for col in ("genres", "tags"):   # parquet lists come back as numpy arrays
        movies[col] = [list(x) if x is not None else [] for x in movies[col]]
    movies["year"] = movies["year"].astype("Int64")
    return movies, ratings, manifest


def sources_changed(manifest: dict[str, Any], spec: CustomSpec) -> bool:
    """True when the spec or any source file's size / mtime differs from the import (missing files don't count)."""
    old = manifest.get("fingerprint", {})
    new = spec.fingerprint()
    if old.get("spec") != new["spec"] or old.get("version") != new["version"]:
        return True
    return any(stat is not None and old.get("files", {}).get(f) != stat for f, stat in new["files"].items())


def save_spec(cache_dir: Path, spec: CustomSpec) -> None:
    atomic_write_json(custom_dir(cache_dir) / "source.json", asdict(spec))


def load_spec(cache_dir: Path) -> CustomSpec | None:
    p = custom_dir(cache_dir) / "source.json"
    if not p.is_file():
        return None
    raw = json.loads(p.read_text())
    tables = {k: TableSpec(**v) if v else None for k, v in raw.items() if k in ("movies", "interactions", "tags")}
    return CustomSpec(**tables, sqlite=raw.get("sqlite"))


def import_or_load(name: str, cache_dir: Path, spec: CustomSpec | None, progress: Progress | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any], str]:
    """(movies, ratings, manifest, how) for a custom data set: the verified cache when it is current,
    else a fresh import of ``spec`` (or of the spec it was registered with). ``how``: "cache" or "imported"."""
    validate_name(name, "data set")
    registered = is_registered(cache_dir)
    spec = spec or load_spec(cache_dir)
    if spec is None:
        raise UnknownDatasetError(f"{name!r} is not a known data set; import it first with "
                                  f"`python -m engine data --dataset {name} --data-dir DIR` (movies.csv + ratings.csv).")
    if registered:
        try:
            movies, ratings, manifest = load_frames(cache_dir)
            if not sources_changed(manifest, spec):
                return movies, ratings, manifest, "cache"
            log.info("sources of %s changed; importing again", name)
        except DataFormatError as exc:
            if not any(Path(f).exists() for f in spec.fingerprint()["files"]):
                raise
            log.warning("%s; importing again from the sources", exc)
    t0 = time.perf_counter()
    movies, ratings = read_sources(spec, progress)
    if progress:
        progress(0.85, "caching the normalised frames")
    manifest = save_frames(cache_dir, name, spec, movies, ratings)
    save_spec(cache_dir, spec)
    log.info("imported %s in %.1fs: %s", name, time.perf_counter() - t0, manifest["counts"])
    return movies, ratings, manifest, "imported"
