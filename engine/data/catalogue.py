"""The SQLite catalogue: movies, one vector table per embedding model, small JSON blobs.

Every model's vectors live in their own table ``"vec_<model>"`` (chunks of 4096 movie ids
as int64 and vectors as float32 BLOBs, so one model loads as one contiguous array fast),
registered in ``models`` with dimension, count, config (JSON) and a content hash over the
model's name, dimension, config, movie ids and vectors (so another model's vectors, or
vectors of another dimension, never pass as this model's).  A model's vectors are replaced
in one explicit ``BEGIN IMMEDIATE`` transaction (DROP, CREATE, INSERTs and the registry
row together), so a killed writer leaves the old set or the new one.  The movies table
carries its own content hash in ``meta`` (``movies_hash``), checked whenever movies are
read.  All SQL is parameterised; model names are validated, then quoted.

Edits (:meth:`Catalogue.edit`: a movie added or removed without a rebuild) change the movies
table, its FTS5 index, every ``vec_<model>`` table (only the chunks that hold the movie), the
content hashes in ``models``, the build records' ``vectors_hash``, the cold-start flags and the
edit log in one ``BEGIN IMMEDIATE`` transaction as well: a killed ``add`` leaves the old
catalogue or the new one.  The edit log (``edits``) is re-applied when the data import rewrites
the movies table, so an edited catalogue stays edited.
One connection is shared by threads behind a lock (``check_same_thread=False``).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
import sqlite3
import threading
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pandas as pd

from engine.core.artifacts import array_hash
from engine.core.config import catalogue_path
from engine.data import fts
from engine.data.titles import other_title
from engine.core.errors import (
    ArtifactError, CatalogueError, DimensionMismatchError,
    ModelNotBuiltError, UnknownMovieError,
)
from engine.core.inputs import check_k, clean_query, validate_name

CHUNK = 4096  # vectors per BLOB row: bulk reads stay fast, rows stay small
STOPWORDS = frozenset(
    "a an the of and or about for with to in on at by from into is are be that this it its my me i "
    "movie movies film films something some like feel feeling want "
    "영화 작품 때 것 수 등 중".split()   # Korean: generic words left by the morpheme analyser
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS movies (
    movie_id INTEGER PRIMARY KEY, title TEXT NOT NULL, original_title TEXT NOT NULL, year INTEGER,
    genres TEXT NOT NULL, tags TEXT NOT NULL, n_ratings INTEGER NOT NULL, mean_rating REAL,
    genres_text TEXT NOT NULL, tags_text TEXT NOT NULL, overview TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS models (
    name TEXT PRIMARY KEY, dim INTEGER NOT NULL, n INTEGER NOT NULL, config TEXT NOT NULL,
    content_hash TEXT NOT NULL, created REAL NOT NULL);
CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, value TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS edits (movie_id INTEGER PRIMARY KEY, kind TEXT NOT NULL, movie TEXT NOT NULL,
    at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS cold_start (model TEXT NOT NULL, movie_id INTEGER NOT NULL,
    PRIMARY KEY (model, movie_id));
"""


def vectors_digest(model: str, ids: np.ndarray, vecs: np.ndarray, config_json: str) -> str:
    """Content hash of a stored vector set: identity (model name, dimension, config) + ids + vectors.

    ids int64 (n,) sorted, vecs float32 (n, d).  Binding the name and dimension into the
    hash means a set copied from another model, or of another dimension, fails verification.
    """
    identity = json.dumps({"model": model, "dim": int(vecs.shape[1]), "config": config_json}, sort_keys=True)
    return array_hash(ids, vecs, extra=identity)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _table(model: str) -> str:
    return quote_ident(f"vec_{validate_name(model)}")


@dataclass(frozen=True)
class VectorSet:
    """One model's vectors: movie_ids int64 (n,), vectors float32 (n, d) C-contiguous."""

    model: str
    movie_ids: np.ndarray
    vectors: np.ndarray
    config: dict
    content_hash: str

    @property
    def dim(self) -> int:
        return int(self.vectors.shape[1])


@dataclass(frozen=True)
class NewMovie:
    """A movie added by hand (checked by :mod:`engine.service.edits` before it gets here)."""

    movie_id: int
    title: str
    year: int | None
    genres: tuple[str, ...]
    tags: tuple[str, ...] = ()
    overview: str | None = None

    def record(self) -> dict[str, Any]:
        """The JSON the edit log keeps (and :meth:`Catalogue.apply_edits` reads back)."""
        return {"title": self.title, "year": self.year, "genres": list(self.genres), "tags": list(self.tags),
                "overview": self.overview}

    def frame(self) -> pd.DataFrame:
        """A one-row movies frame (the columns of ``Dataset.movies`` plus ``overview``)."""
        return _added_frame({self.movie_id: self.record()})


@dataclass(frozen=True)
class VectorRows:
    """Rows one edit adds to a model's vectors: movie_ids int64 (k,), vectors float32 (k, d) as stored
    (not normalised).  ``cold_start``: predicted from text, not learned from ratings."""

    model: str
    movie_ids: np.ndarray
    vectors: np.ndarray
    cold_start: bool = False


@dataclass(frozen=True)
class EditLog:
    """What was edited since the data import: movies ``added`` (still there) and ``removed`` (of the
    imported ones), and when the last edit ran (unix seconds; None before any)."""

    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()
    last_at: float | None = None

    @property
    def edited(self) -> bool:
        return self.last_at is not None


@dataclass(frozen=True)
class Scripts:
    """The scripts a catalogue's text is written in, most used first ("Latin script", "Hangul script"):
    ``titles`` (titles and original titles), ``overviews`` (empty when the catalogue has none)."""

    titles: tuple[str, ...]
    overviews: tuple[str, ...]

    def holds(self, script: str) -> bool:
        return script in self.titles or script in self.overviews


def script_of(text: str) -> str | None:
    """The script most of a text's letters are written in ("Latin script", "Hangul script"); None without letters."""
    counts: dict[str, int] = {}
    for c in text:
        if c.isalpha():
            name = unicodedata.name(c, "UNKNOWN").split()[0].title()
            counts[name] = counts.get(name, 0) + 1
    return f"{max(counts, key=counts.get)} script" if counts else None


def scripts_of(texts: list[str], share: float = 0.02) -> tuple[str, ...]:
    """Scripts of at least ``share`` of the texts (by each text's main script), most used first."""
    counts: dict[str, int] = {}
    for text in texts:
        s = script_of(text)
        if s:
            counts[s] = counts.get(s, 0) + 1
    n = sum(counts.values())
    return tuple(s for s, c in sorted(counts.items(), key=lambda kv: -kv[1]) if c >= share * n)


class Catalogue:
    """SQLite catalogue of one data set. ``Catalogue(":memory:")`` for tests.

    ``Catalogue(path)`` creates the file (and its folder) when missing: only writers do that
    (the data import, a build).  Readers use :meth:`open_existing`, which never creates anything.
    """

    def __init__(self, path: str | Path = ":memory:", *, create: bool = True, dataset: str | None = None) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._movies_checked: int | None = None  # PRAGMA data_version at the last good movies check
        self._scripts: tuple[str, Scripts] | None = None  # (movies hash, its scripts)
        memory = self.path == ":memory:"
        if not create and not memory and not Path(self.path).is_file():
            raise CatalogueError(_no_catalogue(self.path, dataset))
        try:
            if memory:
                self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            elif create:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._conn = sqlite3.connect(self.path, check_same_thread=False, timeout=30)
            else:   # mode=rw: SQLite itself refuses to create the file, even if it vanished just now
                uri = f"{Path(self.path).resolve().as_uri()}?mode=rw"
                self._conn = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=30)
            if not create and not memory and not self._is_catalogue():
                self._conn.close()
                raise CatalogueError(_no_catalogue(self.path, dataset))
            if not memory:
                self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.executescript(SCHEMA)
            self._add_overview_column()
            with self._conn:  # BM25 index of a catalogue written before it existed (no-op when current)
                fts.ensure(self._conn)
        except sqlite3.DatabaseError as exc:
            raise CatalogueError(
                f"The catalogue {self.path} is not a usable SQLite file ({exc}); delete it and run "
                "`python -m engine data` again."
            ) from None

    def _add_overview_column(self) -> None:
        """A catalogue written before movies kept their overview gets the column (empty, as the data had
        none in the table); its content hash is re-stamped only if it held under the old layout."""
        cols = [r[1] for r in self._conn.execute("PRAGMA table_info(movies)").fetchall()]
        if "overview" in cols:
            return
        with self._conn:
            stored = self._conn.execute("SELECT value FROM meta WHERE key = 'movies_hash'").fetchone()
            held = bool(stored) and _movies_digest(self._conn.execute(_MOVIES_ALL).fetchall()) == stored[0]
            self._conn.execute("ALTER TABLE movies ADD COLUMN overview TEXT NOT NULL DEFAULT ''")
            if held:
                self._conn.execute("UPDATE meta SET value = ? WHERE key = 'movies_hash'",
                                   (_movies_digest(self._conn.execute(_MOVIES_ALL).fetchall()),))

    @classmethod
    def open_existing(cls, path: str | Path, dataset: str | None = None) -> "Catalogue":
        """The catalogue at ``path``, which must already exist; creates no file and no folder.

        Raises :class:`CatalogueError` ("run `python -m engine data --dataset NAME` first") when
        there is none, or the file there holds no catalogue.  ``dataset`` names the data set in
        that sentence (default: the name of the folder holding the file).
        """
        return cls(path, create=False, dataset=dataset)

    def _is_catalogue(self) -> bool:
        """Whether the open file already holds the catalogue's tables (an empty file does not)."""
        rows = self._conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('meta', 'movies')")
        return len(rows.fetchall()) == 2

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One explicit write transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``).

        Python's sqlite3 (isolation_level="") opens a transaction only before DML, so DDL such
        as DROP/CREATE TABLE would autocommit on its own; the explicit BEGIN makes DDL and DML
        one atomic unit.  Rolls back on any exception.
        """
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.DatabaseError as exc:
                raise CatalogueError(f"Cannot write to the catalogue {self.path} ({exc}).") from None
            try:
                yield self._conn
            except BaseException:
                self._conn.rollback()
                raise
            try:
                self._conn.commit()
            except sqlite3.DatabaseError as exc:
                self._conn.rollback()
                raise CatalogueError(f"Cannot write to the catalogue {self.path} ({exc}).") from None

    def _q(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        with self._lock:
            try:
                return self._conn.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                raise CatalogueError(f"Catalogue query failed ({exc}).") from None

    # --- meta and JSON blobs ----------------------------------------------------------
    def set_meta(self, **values: str) -> None:
        with self._transaction():
            self._conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(k, str(v)) for k, v in values.items()])

    def meta(self) -> dict[str, str]:
        return dict(self._q("SELECT key, value FROM meta"))

    def put_json(self, key: str, obj: Any) -> None:
        with self._transaction():
            self._conn.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?, ?)", (key, json.dumps(obj), time.time()))

    def get_json(self, key: str, default: Any = None) -> Any:
        """The stored JSON under ``key``; ``default`` if absent.  A blob that is not valid JSON
        raises :class:`CatalogueError` (callers validate the structure they expect)."""
        rows = self._q("SELECT value FROM blobs WHERE key = ?", (key,))
        if not rows:
            return default
        try:
            return json.loads(rows[0][0])
        except (TypeError, ValueError):
            raise CatalogueError(f"The stored {key!r} record is not valid JSON; rerun the command that "
                                 "writes it (`python -m engine build` or `python -m engine evaluate`).") from None

    # --- movies ------------------------------------------------------------------------
    def write_movies(self, movies: pd.DataFrame) -> None:
        """Replace the movies table and its BM25 index in one transaction (columns as ``Dataset.movies``;
        ``overview`` optional: custom catalogues have one, MovieLens has none)."""
        rows = [
            (int(r.movie_id), r.title, r.original_title, None if pd.isna(r.year) else int(r.year),
             json.dumps(list(r.genres)), json.dumps(list(r.tags)), int(r.n_ratings),
             None if pd.isna(r.mean_rating) else float(r.mean_rating),
             "|".join(r.genres), "|".join(r.tags), _text(getattr(r, "overview", "")))
            for r in movies.itertuples(index=False)
        ]
        with self._transaction():
            self._conn.execute("DELETE FROM movies")
            self._conn.executemany("INSERT INTO movies VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows)
            fts.fill(self._conn, [(r[0], r[1], r[2], r[8], r[9], r[10]) for r in rows])
            # hash what a reader will see (read back inside the transaction: same types, same floats)
            digest = _movies_digest(self._conn.execute(_MOVIES_ALL).fetchall())
            self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('movies_hash', ?)", (digest,))
        self._movies_checked = None

    def movies_hash_ok(self) -> bool:
        """True when the movies table matches its stored content hash (False if no hash is stored)."""
        with self._lock:
            version = self._q("PRAGMA data_version")[0][0]
            stored = self._q("SELECT value FROM meta WHERE key = 'movies_hash'")
            ok = bool(stored) and _movies_digest(self._q(_MOVIES_ALL)) == stored[0][0]
            if ok:
                self._movies_checked = version  # the next read need not hash the table again
            return ok

    def _verify_movies(self) -> None:
        """Raise CatalogueError if the movies table fails its hash.  Checked once per database
        version (``PRAGMA data_version`` changes when another connection commits)."""
        with self._lock:
            version = self._q("PRAGMA data_version")[0][0]
            if self._movies_checked == version:
                return
            stored = self._q("SELECT value FROM meta WHERE key = 'movies_hash'")
            if stored and _movies_digest(self._q(_MOVIES_ALL)) != stored[0][0]:
                name = self.meta().get("dataset", "<dataset>")
                raise CatalogueError(f"The movies table of {self.path} fails its content hash (edited or corrupt); "
                                     f"run `python -m engine data --dataset {name}` to rewrite it.")
            self._movies_checked = version

    def movies(self) -> pd.DataFrame:
        self._verify_movies()
        rows = self._q(
            "SELECT movie_id, title, original_title, year, genres, tags, n_ratings, mean_rating "
            "FROM movies ORDER BY movie_id")
        df = pd.DataFrame(rows, columns=["movie_id", "title", "original_title", "year", "genres", "tags",
                                         "n_ratings", "mean_rating"])
        df["movie_id"] = df["movie_id"].astype("int64")
        df["year"] = pd.array(df["year"], dtype="Int64")
        df["genres"] = [json.loads(g) for g in df["genres"]]
        df["tags"] = [json.loads(t) for t in df["tags"]]
        df["n_ratings"] = df["n_ratings"].astype("int64")
        df["mean_rating"] = df["mean_rating"].astype("float64")
        return df

    def n_movies(self) -> int:
        return int(self._q("SELECT COUNT(*) FROM movies")[0][0])

    def movie(self, movie_id: int) -> dict[str, Any]:
        self._verify_movies()
        rows = self._q("SELECT movie_id, title, year, genres, tags, n_ratings, mean_rating FROM movies "
                       "WHERE movie_id = ?", (int(movie_id),))
        if not rows:
            raise UnknownMovieError(f"No movie with id {movie_id} in this catalogue.")
        mid, title, year, genres, tags, n, mean = rows[0]
        return {"movie_id": mid, "title": title, "year": year, "genres": json.loads(genres),
                "tags": json.loads(tags), "n_ratings": n, "mean_rating": mean}

    # --- vectors -----------------------------------------------------------------------
    def put_vectors(self, model: str, movie_ids: np.ndarray, vectors: np.ndarray, config: dict,
                    cold_start: np.ndarray | None = None) -> str:
        """Store a model's vectors (replacing any previous set) in one transaction; return the hash.

        movie_ids int64 (n,), vectors float32 (n, d), finite.  ``cold_start``: ids int64 (c,) among
        them whose vectors were predicted from text (flagged until a build learns them).
        """
        table = _table(model)
        ids = np.ascontiguousarray(movie_ids, dtype=np.int64)
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        if vecs.ndim != 2 or ids.ndim != 1 or len(ids) != len(vecs) or vecs.shape[1] == 0:
            raise DimensionMismatchError(f"Expected ids (n,) and vectors (n, d); got {ids.shape} and {vecs.shape}.")
        if not np.isfinite(vecs).all():
            raise DimensionMismatchError(f"Vectors for {model} contain NaN or infinity.")
        if len(np.unique(ids)) != len(ids):
            raise DimensionMismatchError(f"Vectors for {model} repeat a movie id.")
        order = np.argsort(ids, kind="stable")
        ids, vecs = ids[order], vecs[order]
        config_json = json.dumps(config, sort_keys=True, default=str)
        digest = vectors_digest(model, ids, vecs, config_json)
        with self._transaction() as conn:  # one transaction: readers and a killed writer see old or new
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"CREATE TABLE {table} (chunk INTEGER PRIMARY KEY, movie_ids BLOB NOT NULL, "
                         "vectors BLOB NOT NULL)")
            conn.executemany(f"INSERT INTO {table} VALUES (?, ?, ?)", (
                (i // CHUNK, ids[i:i + CHUNK].tobytes(), vecs[i:i + CHUNK].tobytes())
                for i in range(0, len(ids), CHUNK)))
            conn.execute("INSERT OR REPLACE INTO models VALUES (?, ?, ?, ?, ?, ?)",
                         (model, vecs.shape[1], len(ids), config_json, digest, time.time()))
            conn.execute("DELETE FROM cold_start WHERE model = ?", (model,))
            if cold_start is not None:
                conn.executemany("INSERT INTO cold_start VALUES (?, ?)", ((model, int(m)) for m in cold_start))
        return digest

    def vector_info(self) -> list[dict[str, Any]]:
        rows = self._q("SELECT name, dim, n, config, content_hash, created FROM models ORDER BY name")
        return [{"model": m, "dim": d, "n": n, "config": json.loads(c), "content_hash": h, "created": t}
                for m, d, n, c, h, t in rows]

    def has_vectors(self, model: str, config: dict | None = None) -> bool:
        rows = self._q("SELECT config FROM models WHERE name = ?", (validate_name(model),))
        if not rows:
            return False
        return config is None or json.loads(rows[0][0]) == json.loads(json.dumps(config, sort_keys=True, default=str))

    def get_vectors(self, model: str) -> VectorSet:
        """All of a model's vectors as one contiguous float32 array, hash-verified."""
        table = _table(model)
        info = self._q("SELECT dim, n, config, content_hash FROM models WHERE name = ?", (model,))
        if not info:
            raise ModelNotBuiltError(f"No {model} vectors in the catalogue yet; run `python -m engine build --models {model}`.")
        dim, n, cfg, digest = info[0]
        hint = f"rebuild with `python -m engine build --models {model}`"
        try:
            rows = self._q(f"SELECT movie_ids, vectors FROM {table} ORDER BY chunk")
        except CatalogueError:
            raise ArtifactError(f"The {model} vectors are registered but their table is missing; {hint}.") from None
        id_blob, blob = b"".join(r[0] for r in rows), b"".join(r[1] for r in rows)
        if len(id_blob) != n * 8 or len(blob) != n * dim * 4:
            raise ArtifactError(f"Stored {model} vectors are incomplete or have the wrong dimension; "
                                f"rebuild with `python -m engine build --models {model}`.")
        ids = np.frombuffer(id_blob, dtype=np.int64)
        vecs = np.frombuffer(blob, dtype=np.float32).reshape(n, dim)
        if vectors_digest(model, ids, vecs, cfg) != digest:
            raise ArtifactError(f"Stored {model} vectors fail their content hash (tampered or corrupt); "
                                f"rebuild with `python -m engine build --models {model}`.")
        return VectorSet(model, ids, vecs, json.loads(cfg), digest)

    def delete_vectors(self, model: str) -> None:
        table = _table(model)
        with self._transaction() as conn:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute("DELETE FROM models WHERE name = ?", (model,))
            conn.execute("DELETE FROM cold_start WHERE model = ?", (model,))

    # --- edits: a movie added or removed without a rebuild ---------------------------------
    def cold_start(self, model: str) -> np.ndarray:
        """Movie ids int64 (c,) sorted whose ``model`` vectors were predicted from text (cold start)."""
        rows = self._q("SELECT movie_id FROM cold_start WHERE model = ? ORDER BY movie_id", (validate_name(model),))
        return np.array([r[0] for r in rows], dtype=np.int64)

    def edit_log(self) -> EditLog:
        """What was added and removed since the data import (:class:`EditLog`)."""
        rows = self._q("SELECT movie_id, kind FROM edits ORDER BY movie_id")
        at = self._q("SELECT value FROM meta WHERE key = 'edited_at'")
        return EditLog(tuple(m for m, k in rows if k == "add"), tuple(m for m, k in rows if k == "remove"),
                       float(at[0][0]) if at else None)

    def next_movie_id(self) -> int:
        """An id no movie of this catalogue has ever had (removed ones included): ids are never reused,
        so a link or a stored list never points at another film."""
        top = self._q("SELECT MAX(movie_id) FROM movies")[0][0] or 0
        last = self._q("SELECT value FROM meta WHERE key = 'last_movie_id'")
        logged = self._q("SELECT MAX(movie_id) FROM edits")[0][0] or 0
        return int(max(top, int(last[0][0]) if last else 0, logged)) + 1

    def apply_edits(self, movies: pd.DataFrame) -> pd.DataFrame:
        """``movies`` (a data set's movies frame) with this catalogue's edit log applied: removed movies
        dropped, added ones appended (an added id the data already has is left out)."""
        rows = self._q("SELECT movie_id, kind, movie FROM edits ORDER BY movie_id")
        if not rows:
            return movies
        removed = {m for m, k, _ in rows if k == "remove"}
        have = set(movies["movie_id"].astype("int64").tolist())
        added = {m: json.loads(rec) for m, k, rec in rows if k == "add" and m not in have}
        out = movies[~movies["movie_id"].isin(removed)]
        if added:
            extra = _added_frame(added)
            if "overview" not in out.columns and extra["overview"].isna().all():
                extra = extra.drop(columns="overview")
            out = pd.concat([out, extra[[c for c in extra.columns if c in out.columns or c == "overview"]]],
                            ignore_index=True)
            out["year"] = pd.array(out["year"], dtype="Int64")
        return out.reset_index(drop=True)

    def edit(self, add: NewMovie | None = None, remove: int | None = None,
             rows: tuple[VectorRows, ...] | list[VectorRows] = ()) -> dict[str, str]:
        """Add one movie (with ``rows``: its vector in every stored model) or remove one, in ONE transaction.

        Changes the movies table and its FTS5 index, every ``vec_<model>`` table (only the chunks
        that hold the movie; the content hash over the whole set is recomputed and the old one
        verified first), the ``models`` hashes, the build records' ``vectors_hash``, the cold-start
        flags, the edit log and the movies hash.  Returns model -> new content hash.  Raises
        :class:`UnknownMovieError` (remove: no such movie), :class:`CatalogueError` (add: an id
        taken, a stored model without a row) and changes nothing then.
        """
        if (add is None) == (remove is None):
            raise ValueError("edit() adds one movie or removes one")
        by_model = {r.model: r for r in rows}
        now = time.time()
        with self._transaction() as conn:
            models = conn.execute("SELECT name, dim, n, config, content_hash FROM models ORDER BY name").fetchall()
            if add is not None:
                mid = int(add.movie_id)
                if conn.execute("SELECT 1 FROM movies WHERE movie_id = ?", (mid,)).fetchone():
                    raise CatalogueError(f"A movie with id {mid} is already in the catalogue.")
                missing = [m[0] for m in models if m[0] not in by_model]
                if missing:
                    raise CatalogueError(f"The new movie has no vector for {', '.join(missing)}; every stored "
                                         "space needs one.")
                genres_text, tags_text = "|".join(add.genres), "|".join(add.tags)
                overview = add.overview or ""
                conn.execute("INSERT INTO movies VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                             (mid, add.title, add.title, add.year, json.dumps(list(add.genres)),
                              json.dumps(list(add.tags)), 0, None, genres_text, tags_text, overview))
                fts.add(conn, [(mid, add.title, add.title, genres_text, tags_text, overview)])
                conn.execute("INSERT OR REPLACE INTO edits VALUES (?, 'add', ?, ?)",
                             (mid, json.dumps(add.record(), ensure_ascii=False), now))
                last = max(mid, int((conn.execute("SELECT value FROM meta WHERE key = 'last_movie_id'").fetchone()
                                     or (0,))[0]))
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('last_movie_id', ?)", (str(last),))
            else:
                mid = int(remove)  # type: ignore[arg-type]
                if not conn.execute("SELECT 1 FROM movies WHERE movie_id = ?", (mid,)).fetchone():
                    raise UnknownMovieError(f"No movie with id {mid} in this catalogue; nothing was removed.")
                conn.execute("DELETE FROM movies WHERE movie_id = ?", (mid,))
                fts.remove(conn, [mid])
                prior = conn.execute("SELECT kind FROM edits WHERE movie_id = ?", (mid,)).fetchone()
                if prior and prior[0] == "add":  # added, then removed: the data set's own movies are untouched
                    conn.execute("DELETE FROM edits WHERE movie_id = ?", (mid,))
                else:
                    conn.execute("INSERT OR REPLACE INTO edits VALUES (?, 'remove', '{}', ?)", (mid, now))
                conn.execute("DELETE FROM cold_start WHERE movie_id = ?", (mid,))
            hashes = {}
            for name, dim, n, cfg, digest in models:
                new = by_model.get(name)
                hashes[name] = _edit_vectors(conn, name, int(dim), int(n), cfg, digest, new,
                                             None if add is not None else mid)
                if new is not None and new.cold_start:
                    conn.executemany("INSERT OR REPLACE INTO cold_start VALUES (?, ?)",
                                     ((name, int(m)) for m in new.movie_ids))
                _rekey_manifest(conn, name, digest, hashes[name], now)
            movies_digest = _movies_digest(conn.execute(_MOVIES_ALL).fetchall())
            conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)",
                             [("movies_hash", movies_digest), ("edited_at", repr(now))])
        self._movies_checked = None
        return hashes

    # --- keyword baseline ---------------------------------------------------------------
    def keyword_search(self, query: str, k: int = 10, allowed: np.ndarray | None = None) -> pd.DataFrame:
        """SQL LIKE baseline: each query word matched in title (weight 2), genres, tags and overview (1 each).

        Returns movie_id, title, year, genres, score, best first (ties: more ratings first);
        ``allowed`` int64 ids: only these movies (a filter's selection).
        """
        terms = keyword_terms(query)
        k = check_k(k)
        self._verify_movies()
        if not terms:
            return pd.DataFrame(columns=["movie_id", "title", "year", "genres", "score"])
        parts, params = [], []
        for t in terms:
            like = "%" + t.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            parts.append("(2 * (title LIKE ? ESCAPE '\\') + (genres_text LIKE ? ESCAPE '\\')"
                         " + (tags_text LIKE ? ESCAPE '\\') + (overview LIKE ? ESCAPE '\\'))")
            params += [like, like, like, like]
        score = " + ".join(parts)
        only, only_params = fts.allowed_clause("movie_id", allowed)
        sql = (f"SELECT movie_id, title, year, genres, score FROM (SELECT *, {score} AS score FROM movies) "
               f"WHERE score > 0{only} ORDER BY score DESC, n_ratings DESC, movie_id LIMIT ?")
        rows = self._q(sql, [*params, *only_params, k])
        df = pd.DataFrame(rows, columns=["movie_id", "title", "year", "genres", "score"])
        df["genres"] = [json.loads(g) for g in df["genres"]]
        return df

    def bm25_search(self, query: str, k: int = 10, allowed: np.ndarray | None = None) -> pd.DataFrame:
        """FTS5 BM25 over title, genres, tags and overview (:mod:`engine.data.fts`): movie_id, title, year,
        genres, score (-bm25, higher = better), best first; empty when no word matches.  ``allowed`` int64
        ids: only these movies (a filter's selection)."""
        terms = bm25_terms(query)
        k = check_k(k)
        with self._lock:
            try:
                hits = fts.search(self._conn, terms, k, allowed=allowed)
            except sqlite3.DatabaseError as exc:
                raise CatalogueError(f"Catalogue query failed ({exc}).") from None
        df = pd.DataFrame(hits, columns=["movie_id", "score"])
        info = {r[0]: r[1:] for r in self._q(
            f"SELECT movie_id, title, year, genres FROM movies WHERE movie_id IN ({','.join('?' * len(hits))})",
            [m for m, _ in hits])} if hits else {}
        df["title"] = [info[m][0] for m in df["movie_id"]]
        df["year"] = [info[m][1] for m in df["movie_id"]]
        df["genres"] = [json.loads(info[m][2]) for m in df["movie_id"]]
        return df[["movie_id", "title", "year", "genres", "score"]]


    def scripts(self) -> "Scripts":
        """Which scripts the titles (original titles included) and overviews are written in; computed
        once per movies table (it changes only when the movies are rewritten)."""
        digest = self.meta().get("movies_hash", "")
        if self._scripts is None or self._scripts[0] != digest:
            rows = self._q("SELECT title, original_title, overview FROM movies")
            titles = [t for title, orig, _ in rows for t in (title, other_title(title, orig)) if t]
            self._scripts = (digest, Scripts(scripts_of(titles), scripts_of([ov for _, _, ov in rows if ov])))
        return self._scripts[1]

    def bm25_covers(self, query: str, movie_id: int) -> bool:
        """Whether ``movie_id``'s title, genres and overview contain every keyword of ``query``, Hangul
        analysed as for search (:func:`engine.data.fts.covers`)."""
        terms = bm25_terms(query)
        with self._lock:
            try:
                return fts.covers(self._conn, movie_id, terms)
            except sqlite3.DatabaseError as exc:
                raise CatalogueError(f"Catalogue query failed ({exc}).") from None

_MOVIES_ALL = "SELECT * FROM movies ORDER BY movie_id"


def _added_frame(records: dict[int, dict[str, Any]]) -> pd.DataFrame:
    """Movies frame rows (``Dataset.movies`` columns plus ``overview``) of added movies, by id."""
    df = pd.DataFrame([{"movie_id": int(m), "title": r["title"], "original_title": r["title"], "year": r.get("year"),
                        "genres": list(r.get("genres") or []), "tags": list(r.get("tags") or []), "n_ratings": 0,
                        "mean_rating": float("nan"), "overview": r.get("overview")} for m, r in records.items()])
    df["movie_id"] = df["movie_id"].astype("int64")
    df["year"] = pd.array(df["year"], dtype="Int64")
    df["n_ratings"] = df["n_ratings"].astype("int64")
    return df


def _edit_vectors(conn: sqlite3.Connection, model: str, dim: int, n: int, config_json: str, digest: str,
                  add: VectorRows | None, remove: int | None) -> str:
    """Apply one edit to ``vec_<model>`` inside the caller's transaction; return the new content hash.

    The stored set is verified against ``digest`` first (an edit never blesses tampered vectors).
    Only the chunks holding the removed movie, or receiving the added one, are rewritten: ids stay
    sorted across chunks, and chunks may hold more or fewer than :data:`CHUNK` rows.
    """
    table = _table(model)
    hint = f"rebuild with `python -m engine build --models {model}`"
    chunks = [(int(c), np.frombuffer(i, dtype=np.int64), np.frombuffer(v, dtype=np.float32).reshape(-1, dim))
              for c, i, v in conn.execute(f"SELECT chunk, movie_ids, vectors FROM {table} ORDER BY chunk")]
    ids = np.concatenate([c[1] for c in chunks]) if chunks else np.zeros(0, np.int64)
    vecs = np.concatenate([c[2] for c in chunks]) if chunks else np.zeros((0, dim), np.float32)
    if len(ids) != n or vectors_digest(model, ids, vecs, config_json) != digest:
        raise ArtifactError(f"Stored {model} vectors fail their content hash (tampered or corrupt); {hint}; "
                            "nothing was changed.")
    dirty: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    parts = {c: (i, v) for c, i, v in chunks}
    if remove is not None:
        for c, i, v in chunks:
            keep = i != remove
            if not keep.all():
                dirty[c] = parts[c] = (i[keep], v[keep])
    if add is not None:
        new_ids = np.asarray(add.movie_ids, dtype=np.int64)
        new_vecs = np.ascontiguousarray(add.vectors, dtype=np.float32)
        if new_vecs.shape != (len(new_ids), dim) or not np.isfinite(new_vecs).all():
            raise DimensionMismatchError(f"The new {model} vector must be {dim}-d and finite; got {new_vecs.shape}.")
        if np.isin(new_ids, ids).any():
            raise CatalogueError(f"The {model} vectors already hold movie {int(new_ids[0])}.")
        for mid, vec in zip(new_ids.tolist(), new_vecs):
            keys = sorted(parts)
            firsts = [parts[c][0][0] if len(parts[c][0]) else None for c in keys]
            target = next((c for c, f in zip(reversed(keys), reversed(firsts)) if f is not None and f <= mid),
                          keys[0] if keys else 0)
            if target == (keys[-1] if keys else 0) and target in parts and len(parts[target][0]) >= CHUNK \
                    and mid > parts[target][0][-1]:
                target += 1  # the last chunk is full and the id goes after it: a new chunk
            ci, cv = parts.get(target, (np.zeros(0, np.int64), np.zeros((0, dim), np.float32)))
            at = int(np.searchsorted(ci, mid))
            dirty[target] = parts[target] = (np.insert(ci, at, mid), np.insert(cv, at, vec, axis=0))
    if not dirty:
        return digest
    for c, (i, v) in dirty.items():
        if len(i):
            conn.execute(f"INSERT OR REPLACE INTO {table} VALUES (?, ?, ?)",
                         (c, np.ascontiguousarray(i).tobytes(), np.ascontiguousarray(v, np.float32).tobytes()))
        else:
            conn.execute(f"DELETE FROM {table} WHERE chunk = ?", (c,))
    ids = np.concatenate([parts[c][0] for c in sorted(parts)])
    vecs = np.concatenate([parts[c][1] for c in sorted(parts)])
    new_digest = vectors_digest(model, ids, vecs, config_json)
    conn.execute("UPDATE models SET n = ?, content_hash = ? WHERE name = ?", (len(ids), new_digest, model))
    return new_digest


def _rekey_manifest(conn: sqlite3.Connection, model: str, old: str, new: str, now: float) -> None:
    """Point ``build:<model>``'s ``vectors_hash`` at the edited vectors (when it named the old ones),
    so the engine's check that the vectors are the ones the build wrote still holds after an edit."""
    row = conn.execute("SELECT value FROM blobs WHERE key = ?", (f"build:{model}",)).fetchone()
    if not row or old == new:
        return
    try:
        manifest = json.loads(row[0])
    except ValueError:
        return
    if isinstance(manifest, dict) and manifest.get("vectors_hash") == old:
        manifest["vectors_hash"] = new
        conn.execute("UPDATE blobs SET value = ?, updated = ? WHERE key = ?", (json.dumps(manifest), now, f"build:{model}"))


def _no_catalogue(path: str, dataset: str | None) -> str:
    name = dataset or Path(path).parent.name or "NAME"
    return (f"There is no catalogue for {name} yet; run `python -m engine data --dataset {name}` first "
            "(with --data-dir DIR for your own files).")


def _movies_digest(rows: list[tuple]) -> str:
    """sha256 over every movies row (all columns, by movie id) as read from SQLite."""
    h = hashlib.sha256()
    for row in rows:
        h.update(json.dumps(row, ensure_ascii=False, default=str).encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def keyword_terms(query: str, digits: bool = False) -> list[str]:
    """Words of a query for keyword search (lower-case, stop words and one-letter words dropped); validates it.

    ``digits`` keeps one-digit words ("toy story 2"): BM25 matches whole tokens, LIKE would match any digit.
    A one-syllable Hangul word is a word (꿈, 돈, 왕).
    """
    words = re.findall(r"[^\W_]+(?:['-][^\W_]+)*", clean_query(query).lower())
    return [w for w in dict.fromkeys(words) if w not in STOPWORDS
            and (len(w) > 1 or (digits and w.isdigit()) or fts.has_hangul(w))][:20]


def bm25_terms(query: str, variant: str = fts.DEFAULT, stems: bool = True) -> list[str]:
    """The words a query searches ``variant``'s BM25 index with: Hangul analysed as the index was
    (``stems`` False: nouns only, the words the hybrid gate asks a title to hold)."""
    text = fts.query_text(clean_query(query), variant, stems)   # a bad query is named before any analysis
    return keyword_terms(text, digits=True) if text.strip() else []


def _text(value: Any) -> str:
    """A free-text cell as text: '' for None / NaN."""
    return value if isinstance(value, str) else ""


def open_catalogue(dataset) -> Catalogue:
    """The catalogue file of a loaded Dataset (created when missing: loading is a write), with its
    movies table in sync with the data."""
    cat = Catalogue(catalogue_path(dataset.name))
    meta = cat.meta()
    movies = cat.apply_edits(dataset.movies)  # movies added or removed by hand stay so
    if (meta.get("data_hash") != dataset.content_hash or cat.n_movies() != len(movies)
            or not cat.movies_hash_ok()):  # changed, corrupt, or written before movies were hashed: rewrite
        cat.write_movies(movies)
        cat.set_meta(dataset=dataset.name, data_hash=dataset.content_hash, source=dataset.source,
                     verified=dataset.verified, **{f"n_{k}": v for k, v in dataset.counts.items()})
    return cat
