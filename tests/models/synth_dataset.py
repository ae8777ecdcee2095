"""A synthetic engine.data.dataset.Dataset for build / evaluate tests."""

from __future__ import annotations

import pandas as pd

from engine.data.dataset import Dataset
from engine.data.movielens import add_rating_stats

from .synth import cyclic_ratings, movies_frame


def synthetic_dataset(name: str = "ml-100k", n_users: int = 60, n_items: int = 60, seed: int = 0,
                      extra_movies: int = 2) -> Dataset:
    ratings = cyclic_ratings(n_users, n_items, seed, noise=0.2)
    movies = movies_frame(n_items + extra_movies)           # some movies nobody rated
    movies["original_title"] = movies["title"]
    movies = add_rating_stats(movies, ratings)
    users = pd.DataFrame({"user_id": sorted(ratings["user_id"].unique())})
    return Dataset(name=name, movies=movies, ratings=ratings, users=users, source="synthetic",
                   verified="synthetic", content_hash=f"synthetic-{n_users}-{n_items}-{seed}")
