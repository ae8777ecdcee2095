"""Bring your own catalogue: movies + interactions from CSV, Parquet or an SQLite database.

The simplest form needs no mapping: a directory with ``movies.csv`` and ``ratings.csv`` (and
optionally ``tags.csv``) in the MovieLens "latest" layout, where ``movies.csv`` may carry extra
``year``, ``overview`` and ``original_title`` (the title in another language, e.g. English beside a
Korean ``title``) columns::

    python -m engine data --dataset my-films --data-dir DIR

Anything else is described by a :class:`CustomSpec`, usually from a small TOML or JSON file
(paths relative to the file)::

    sqlite = "db.sqlite3"                 # optional: tables are read from this database

    [movies]                              # table = ..., file = ... or query = "SELECT ..."
    table = "movies_movie"
    id = "id"
    title = "title"
    original_title = "title_en"           # optional columns: original_title, year, genres, overview, tags
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

Parsing uses pyarrow (CSV reader, Parquet) or ``sqlite3``.  A database is only ever read: it is
opened with ``mode=ro``, a ``query`` must be one SELECT (or WITH ... SELECT) statement, and every
statement runs under an authorizer that refuses anything but reading (ATTACH, VACUUM INTO, pragma
writes, DDL, DML).  Ids must fit int64 exactly, ratings must be finite and within
±1,000,000, and binary (BLOB) cells are refused.  The normalised frames
(the :class:`engine.data.dataset.Dataset` layout, plus ``overview``) are cached as Parquet under
``<cache>/<name>/custom/`` with a manifest of sha256 digests (checked on every load; writes are
atomic), so a load reads two Parquet files instead of re-parsing the sources.  The cached copy is
re-imported when a source file's size or modification time changes.

Every problem with the input is one :class:`~engine.core.errors.DataFormatError` sentence naming the
file, the row and the fix.


The package has one module per reason to change: :mod:`~engine.data.custom.schema` (the config),
:mod:`~engine.data.custom.readers` (CSV / Parquet / SQLite), :mod:`~engine.data.custom.normalise`
(checks and the Dataset layout) and :mod:`~engine.data.custom.cache` (the verified Parquet cache).
"""

from engine.data.custom.cache import (
    content_hash, custom_dir, import_or_load, is_registered, load_frames, load_spec, save_frames, save_spec,
    sources_changed,
)
from engine.data.custom.normalise import read_sources
from engine.data.custom.readers import read_table
from engine.data.custom.schema import (
    CACHE_VERSION, INTERACTION_COLUMNS, MAX_TAGS, MOVIE_COLUMNS, NO_GENRES, TAG_COLUMNS, CustomSpec, TableSpec,
)

__all__ = [
    "CACHE_VERSION", "INTERACTION_COLUMNS", "MAX_TAGS", "MOVIE_COLUMNS", "NO_GENRES", "TAG_COLUMNS",
    "CustomSpec", "TableSpec", "content_hash", "custom_dir", "import_or_load", "is_registered", "load_frames",
    "load_spec", "read_sources", "read_table", "save_frames", "save_spec", "sources_changed",
]
