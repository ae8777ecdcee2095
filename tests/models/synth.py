"""Tiny synthetic data for model tests (no MovieLens needed)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engine.models.base import Interactions

GENRES = ["Action", "Comedy", "Drama", "Horror", "Romance", "Sci-Fi"]


def movies_frame(n_items: int = 40, first_id: int = 101) -> pd.DataFrame:
    ids = np.arange(first_id, first_id + n_items, dtype=np.int64)
    return pd.DataFrame({
        "movie_id": ids,
        "title": [f"Film number {i}" for i in range(n_items)],
        "year": pd.array([1980 + i % 30 for i in range(n_items)], dtype="Int64"),
        "genres": [[GENRES[i % len(GENRES)], GENRES[(i * 7) % len(GENRES)]] for i in range(n_items)],
        "tags": [["space", "robots"] if i % 5 == 0 else [] for i in range(n_items)],
    })


def cyclic_ratings(n_users: int = 120, n_items: int = 40, seed: int = 0, noise: float = 0.0,
                   first_id: int = 101) -> pd.DataFrame:
    """Each user walks i -> i+1 (mod n_items) from a random start: a planted sequential pattern.

    Popularity is near-uniform, so only an order-aware model can predict the next item.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        length = int(rng.integers(12, 20))
        start = int(rng.integers(n_items))
        items = [(start + t) % n_items for t in range(length)]
        if noise:
            items = [int(rng.integers(n_items)) if rng.random() < noise else i for i in items]
            items = list(dict.fromkeys(items))
        for t, i in enumerate(items):
            rows.append((u + 1, first_id + i, 4.0, 1_000_000 + 100 * u + t))
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"]).astype(
        {"user_id": "int64", "movie_id": "int64", "rating": "float32", "timestamp": "int64"})


def interactions(n_users: int = 60, n_items: int = 40, seed: int = 0) -> Interactions:
    return Interactions.from_ratings(cyclic_ratings(n_users, n_items, seed, noise=0.3), movies_frame(n_items))


def users_frame(user_ids) -> pd.DataFrame:
    """Demographics like ml-100k's u.user: odd ids are women in their 20s, even ids men over 50."""
    ids = np.asarray(sorted(set(int(u) for u in user_ids)), dtype=np.int64)
    odd = ids % 2 == 1
    return pd.DataFrame({"user_id": ids, "age": np.where(odd, 24, 55), "gender": np.where(odd, "F", "M"),
                         "occupation": np.where(odd, "student", "retired"), "zip_code": "00000"})


def genre_by_gender_ratings(n_users: int = 80, n_items: int = 40, seed: int = 0, first_id: int = 101) -> pd.DataFrame:
    """Women (odd user ids) click only movies whose first genre is Comedy or Romance, men only
    Action or Horror (genres of :func:`movies_frame`), in random order: demographics predict taste."""
    rng = np.random.default_rng(seed)
    first = [GENRES[i % len(GENRES)] for i in range(n_items)]
    pools = {1: [i for i, g in enumerate(first) if g in ("Comedy", "Romance")],
             0: [i for i, g in enumerate(first) if g in ("Action", "Horror")]}
    rows = []
    for u in range(1, n_users + 1):
        pool = pools[u % 2]
        items = rng.choice(pool, size=min(len(pool), int(rng.integers(6, 10))), replace=False)
        rows += [(u, first_id + int(i), 4.0, 1_000_000 + 100 * u + t) for t, i in enumerate(items)]
    return pd.DataFrame(rows, columns=["user_id", "movie_id", "rating", "timestamp"]).astype(
        {"user_id": "int64", "movie_id": "int64", "rating": "float32", "timestamp": "int64"})
