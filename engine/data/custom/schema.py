"""The description of a user's catalogue: which files, tables or query, and which columns mean what.

:class:`CustomSpec` (with one :class:`TableSpec` per section) is parsed from a TOML / JSON file
(:meth:`CustomSpec.from_file`), a dict (:meth:`CustomSpec.from_mapping`), a MovieLens-layout
directory (:meth:`CustomSpec.movielens_dir`) or ``--map FIELD=COLUMN`` overrides
(:meth:`CustomSpec.with_columns`); each mistake is one :class:`~engine.core.errors.DataFormatError` sentence.
The layout of the config file is in :mod:`engine.data.custom`.
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from engine.core.errors import DataFormatError

#: version of the normalised cache; part of every fingerprint, so a new layout re-imports
CACHE_VERSION = 1
MAX_TAGS = 25
#: defaults = the MovieLens "latest" layout
MOVIE_COLUMNS = {"id": "movieId", "title": "title", "original_title": "original_title", "year": "year",
                 "genres": "genres", "overview": "overview", "tags": None}
INTERACTION_COLUMNS = {"user": "userId", "movie": "movieId", "timestamp": "timestamp", "rating": "rating"}
TAG_COLUMNS = {"movie": "movieId", "tag": "tag"}
_OPTIONAL = {"movies": {"original_title", "year", "genres", "overview", "tags"}, "interactions": {"rating"}, "tags": set()}
NO_GENRES = "(no genres listed)"


def _require_field(section: str, fld: str, given: str) -> None:
    """Refuse an empty column name for a field every row needs (an optional field may be left out)."""
    if fld in _OPTIONAL[section]:
        return
    default = {"movies": MOVIE_COLUMNS, "interactions": INTERACTION_COLUMNS, "tags": TAG_COLUMNS}[section][fld]
    raise DataFormatError(f"{given} leaves the required {section} field {fld!r} without a column; name the "
                          f"column that holds it, e.g. --map {section}.{fld}={default}.")


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

    def label(self, sqlite: str | None, section: str = "movies") -> str:
        """How messages name this source: the file name, the table, or the ``section``'s query."""
        if self.file:
            return Path(self.file).name
        db = Path(sqlite).name if sqlite else "the database"
        return f"table {self.table} of {db}" if self.table else f"the {section} query on {db}"


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
                if cols[key] is None:
                    _require_field(section, key, f"{key} = {value!r} in the [{section}] section")
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
            if not col:
                _require_field(section, fld, f"--map {key}=")
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
