"""Where MovieDNA keeps things, and the settings a user can change.

Environment variables (all optional):

- ``MOVIEDNA_CACHE_DIR``: root of every cache (data sets, catalogues, indexes,
  projections, weights).  Default: ``$XDG_CACHE_HOME/moviedna`` or ``~/.cache/moviedna``.
- ``MOVIEDNA_DATA_DIR``: a local directory holding the MovieLens files; tried first.
- ``MOVIEDNA_DATASET``: the data set the app opens (default ``ml-100k``).
- ``MOVIEDNA_TEXT_MODEL``: a sentence-transformers model name or path for the Text space.
- ``MOVIEDNA_OFFLINE``: set to ``1`` to skip network sources (GroupLens, PyPI).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATASET = "ml-100k"


def cache_root() -> Path:
    """The root cache directory (created on demand)."""
    env = os.environ.get("MOVIEDNA_CACHE_DIR")
    if env:
        root = Path(env).expanduser()
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = (Path(xdg) if xdg else Path.home() / ".cache") / "moviedna"
    root.mkdir(parents=True, exist_ok=True)
    return root


def dataset_cache_dir(dataset: str) -> Path:
    """``<cache>/<dataset>/``: raw files, catalogue, indexes and projections of one data set.

    Raises InvalidNameError for a name that is not a plain data set name (never a path).
    """
    from engine.data.custom import validate_dataset_name

    d = cache_root() / validate_dataset_name(dataset)
    d.mkdir(parents=True, exist_ok=True)
    return d


def catalogue_path(dataset: str) -> Path:
    """The SQLite catalogue of one data set."""
    return dataset_cache_dir(dataset) / "catalogue.sqlite"


def env_data_dir() -> Path | None:
    env = os.environ.get("MOVIEDNA_DATA_DIR")
    return Path(env).expanduser() if env else None


def offline() -> bool:
    return os.environ.get("MOVIEDNA_OFFLINE", "").strip().lower() in {"1", "true", "yes"}


@dataclass(frozen=True)
class Settings:
    """What the app and CLI run with; built from arguments and the environment."""

    dataset: str = DEFAULT_DATASET
    data_dir: Path | None = None

    @classmethod
    def from_env(cls) -> "Settings":
        return cls(
            dataset=os.environ.get("MOVIEDNA_DATASET", DEFAULT_DATASET),
            data_dir=env_data_dir(),
        )
