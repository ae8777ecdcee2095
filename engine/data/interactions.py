"""What every model trains and is measured on: users' interaction sequences and held-out items.

These are data, not models: the splits build them and every model accepts them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engine.core.errors import BadQueryError


@dataclass(frozen=True)
class Interactions:
    """Training data in the shape every model accepts.

    item_ids:  int64 (n_items,) movie id of each item index (unique).
    sequences: tuple of int64 arrays, one per user, item indices in time order.
    movies:    optional movies frame (movie_id, title, year, genres, tags) for content models.
    users:     optional users frame (user_id, and where the data set has them age, gender,
               occupation) for models that use demographics (Wide & Deep); others ignore it.
    user_ids:  optional int64 (n_users,) data set user id of each sequence.
    """

    item_ids: np.ndarray
    sequences: tuple[np.ndarray, ...]
    movies: pd.DataFrame | None = None
    users: pd.DataFrame | None = None
    user_ids: np.ndarray | None = None

    @property
    def n_items(self) -> int:
        return int(len(self.item_ids))

    @property
    def n_interactions(self) -> int:
        return int(sum(len(s) for s in self.sequences))

    @classmethod
    def from_ratings(cls, ratings: pd.DataFrame, movies: pd.DataFrame | None = None,
                     users: pd.DataFrame | None = None) -> "Interactions":
        """Every rating is an implicit interaction; per user sorted by timestamp (stable).

        ratings: user_id int64, movie_id int64, timestamp int64 (rating ignored).
        The item universe is the rated movies (sorted by id); sequences follow sorted user ids.
        """
        if ratings is None or len(ratings) == 0:
            raise BadQueryError("The data set has no ratings, so there is nothing to train on.")
        r = ratings[["user_id", "movie_id", "timestamp"]]
        r = r.sort_values(["user_id", "timestamp"], kind="stable")
        item_ids = np.unique(r["movie_id"].to_numpy(np.int64))
        idx = np.searchsorted(item_ids, r["movie_id"].to_numpy(np.int64))
        users_frame, users = users, r["user_id"].to_numpy(np.int64)
        cuts = np.flatnonzero(np.diff(users)) + 1
        seqs = tuple(np.ascontiguousarray(s, dtype=np.int64) for s in np.split(idx, cuts))
        user_ids = users[np.concatenate([[0], cuts])].astype(np.int64)
        return cls(item_ids=item_ids, sequences=seqs, movies=movies, users=users_frame, user_ids=user_ids)


@dataclass(frozen=True)
class Holdout:
    """Users' histories and one held-out item each (validation or test).

    histories: tuple of int64 arrays of item indices (time order), one per user.
    targets:   int64 (u,) held-out item index per user.
    exclude:   tuple of int64 arrays: items not to rank (the user's known items).
    user_ids:  optional int64 (u,) data set user id per row (for models that use demographics).
    """

    histories: tuple[np.ndarray, ...]
    targets: np.ndarray
    exclude: tuple[np.ndarray, ...]
    user_ids: np.ndarray | None = None

    def __len__(self) -> int:
        return int(len(self.targets))
