"""Where MovieDNA keeps things, and the settings a user can change.

Environment variables (all optional):

- ``MOVIEDNA_CACHE_DIR``: root of every cache (data sets, catalogues, indexes,
  projections, weights).  Default: ``$XDG_CACHE_HOME/moviedna`` or ``~/.cache/moviedna``.
- ``MOVIEDNA_DATA_DIR``: a local directory holding the MovieLens files; tried first.
- ``MOVIEDNA_DATASET``: the data set the app opens (default ``ml-100k``).
- ``MOVIEDNA_DATASETS``: comma-separated data sets a visitor of the app may choose even when
  they are not in the cache yet (choosing one downloads it).  Default: only ``MOVIEDNA_DATASET``;
  data sets already in the cache can always be chosen.
- ``MOVIEDNA_BACKENDS``: comma-separated vector backends the app and the engine may open
  (``faiss``, ``pgvector``, ``milvus``).  Default: ``faiss`` only.  ``pgvector`` and ``milvus``
  start embedded database servers (PostgreSQL, Milvus Lite) unless a server URL is set, so
  they run only where the operator enabled them here (or with the CLI's ``--backend``).
  The backend in ``MOVIEDNA_VECTOR_BACKEND`` is always enabled.
- ``MOVIEDNA_LIVE_MAX_N`` / ``MOVIEDNA_LIVE_MAX_SECONDS``: the largest live run a visitor
  may start in the Scale lab (default 40,000 vectors) and its wall-time guard (default 20 s).
- ``MOVIEDNA_EDITS``: set to ``1`` to show the app's "Add / remove a movie" form.  Default: off,
  so a visitor cannot write to the catalogue (the CLI's ``add`` / ``remove`` are the operator's own).
- ``MOVIEDNA_TEXT_MODEL``: a sentence-transformers model name or path for the Text space.
- ``MOVIEDNA_OFFLINE``: set to ``1`` to skip network sources (GroupLens, PyPI).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from engine.core.inputs import NAME_RE, validate_name  # noqa: F401  (the data set names of every path)

DEFAULT_DATASET = "ml-100k"
DEFAULT_BACKENDS = ("faiss",)
#: live Scale lab runs a visitor may start: default largest size and wall-time guard; the
#: operator may raise the size up to LIVE_HARD_MAX_N (memory of one run stays under ~1.6 GB)
DEFAULT_LIVE_MAX_N = 40_000
LIVE_HARD_MAX_N = 1_000_000
DEFAULT_LIVE_MAX_SECONDS = 20.0

#: progress callback of every long job: (fraction in [0, 1], message)
Progress = Callable[[float, str], None]



def no_progress(fraction: float, message: str) -> None:
    """The :data:`Progress` callback that reports nothing."""




def cache_root(create: bool = False) -> Path:
    """The root cache directory.

    Only a writer passes ``create=True``; reading (a lookup, a command on a data set that is not
    there) never leaves a directory behind.
    """
    env = os.environ.get("MOVIEDNA_CACHE_DIR")
    if env:
        root = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "moviedna"
    if create:
        root.mkdir(parents=True, exist_ok=True)
    return root


def dataset_cache_dir(dataset: str, create: bool = False) -> Path:
    """``<cache>/<dataset>/``: raw files, catalogue, indexes and projections of one data set.

    The name is checked first (InvalidNameError for anything but a plain data set name, never a
    path).  The directory is made only with ``create=True``, which only writers pass.
    """
    d = cache_root() / validate_name(dataset, "data set")
    if create:
        d.mkdir(parents=True, exist_ok=True)
    return d


def catalogue_path(dataset: str) -> Path:
    """Where the SQLite catalogue of one data set is (or would be); creates nothing.

    Open it with :meth:`engine.data.catalogue.Catalogue.open_existing` to read, or
    ``Catalogue(path)`` to create it (the data import does).
    """
    return dataset_cache_dir(dataset) / "catalogue.sqlite"


def env_data_dir() -> Path | None:
    env = os.environ.get("MOVIEDNA_DATA_DIR")
    return Path(env).expanduser() if env else None


def _env_flag(var: str) -> bool:
    """An on/off environment variable: ``1``, ``true`` or ``yes`` (any case) is on; anything else off."""
    return os.environ.get(var, "").strip().lower() in {"1", "true", "yes"}


def offline() -> bool:
    return _env_flag("MOVIEDNA_OFFLINE")


def _env_list(var: str) -> tuple[str, ...]:
    """A comma-separated environment variable as a tuple of stripped, non-empty, unique items."""
    items = (part.strip() for part in os.environ.get(var, "").split(","))
    return tuple(dict.fromkeys(p for p in items if p))


def _env_number(var: str, default: float, low: float, high: float) -> float:
    """A numeric environment variable clamped to [low, high]; unset or unreadable -> default."""
    raw = os.environ.get(var, "").strip().replace("_", "")
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return min(max(value, low), high) if value == value else default  # NaN -> default


@dataclass(frozen=True)
class Settings:
    """What the app and CLI run with; built from arguments and the environment."""

    dataset: str = DEFAULT_DATASET
    data_dir: Path | None = None
    #: data sets a visitor may choose even if not cached (loading one may download it)
    datasets: tuple[str, ...] = (DEFAULT_DATASET,)
    #: vector backends the operator enabled (names as given; checked by engine.vectors.contract)
    backends: tuple[str, ...] = DEFAULT_BACKENDS
    live_max_n: int = DEFAULT_LIVE_MAX_N
    live_max_seconds: float = DEFAULT_LIVE_MAX_SECONDS
    #: whether the app offers the form that adds and removes movies (MOVIEDNA_EDITS=1)
    edits: bool = False

    @classmethod
    def from_env(cls) -> "Settings":
        dataset = os.environ.get("MOVIEDNA_DATASET", DEFAULT_DATASET)
        return cls(
            dataset=dataset,
            data_dir=env_data_dir(),
            datasets=tuple(dict.fromkeys((dataset, *_env_list("MOVIEDNA_DATASETS")))),
            backends=tuple(b.lower() for b in _env_list("MOVIEDNA_BACKENDS")) or DEFAULT_BACKENDS,
            live_max_n=int(_env_number("MOVIEDNA_LIVE_MAX_N", DEFAULT_LIVE_MAX_N, 1_000, LIVE_HARD_MAX_N)),
            live_max_seconds=_env_number("MOVIEDNA_LIVE_MAX_SECONDS", DEFAULT_LIVE_MAX_SECONDS, 1.0, 3600.0),
            edits=_env_flag("MOVIEDNA_EDITS"),
        )
