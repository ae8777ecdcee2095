"""Synthetic movies and an in-memory catalogue with clustered vectors per model, for tests."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any, Sequence

import numpy as np

from engine.lab.scale import clustered_vectors

GENRES = ("Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi", "Thriller", "Animation")
_WORDS = ("Midnight", "River", "Star", "Shadow", "Garden", "Empire", "Winter", "Echo", "Harbor", "Comet",
          "Lantern", "Orchid", "Summit", "Velvet", "Atlas", "Ember")


REPO = Path(__file__).resolve().parents[1]


def load_script(path: Path | str, name: str | None = None) -> ModuleType:
    """A script that is not a package module (``benchmarks/*.py``, data generators), imported from its
    file (a path relative to the repository root, or absolute) without running its ``main``."""
    path = REPO / path
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def synthetic_movies(n: int, seed: int = 0) -> "Any":
    """A movies frame (Dataset.movies columns) of n made-up films; id i+1, unique titles."""
    import pandas as pd

    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        title = f"{_WORDS[i % len(_WORDS)]} {_WORDS[(i // len(_WORDS)) % len(_WORDS)]} {i // 256 + 1}"
        rows.append({"movie_id": i + 1, "title": title, "original_title": title, "year": 1950 + i % 70,
                     "genres": [GENRES[i % len(GENRES)]], "tags": [], "n_ratings": int(rng.integers(1, 500)),
                     "mean_rating": float(rng.uniform(1, 5))})
    df = pd.DataFrame(rows)
    df["year"] = pd.array(df["year"], dtype="Int64")
    return df


def synthetic_catalogue(n: int = 500, d: int = 16, models: Sequence[str] = ("mf", "sasrec", "text"),
                        seed: int = 0) -> "Any":
    """An in-memory :class:`~engine.data.catalogue.Catalogue` with synthetic movies and clustered
    vectors per model (for tests and demos; every model gets its own random space)."""
    from engine.data.catalogue import Catalogue

    cat = Catalogue(":memory:")
    cat.write_movies(synthetic_movies(n, seed))
    ids = np.arange(1, n + 1, dtype=np.int64)
    for j, m in enumerate(models):
        cat.put_vectors(m, ids, clustered_vectors(n, d, n_clusters=8, seed=seed + j, centers_seed=seed + 100 + j),
                        {"synthetic": True, "seed": seed + j})
    return cat
