"""Categorical features of Wide & Deep: users' demographics and movies' genres, decade, popularity.

Every feature is an int64 index with 0 = unknown, so a user without demographics (the app's
anonymous visitor, every ml-latest-small user) or a movie without a year still gets a row.

- age band: the MovieLens-1M bands <18, 18-24, 25-34, 35-44, 45-49, 50-55, 56+ (1..7);
- gender and occupation: their data set vocabularies (1..);
- genres: a multi-hot row over the data set's genre names (a movie has several);
- decade: release decade (1..); popularity: ``1 + floor(log2(1 + training interactions))``,
  capped, so the buckets mean the same on any data set size.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

#: lower bounds of the age bands after the first (<18)
AGE_BANDS: tuple[int, ...] = (18, 25, 35, 45, 50, 56)
N_POP = 14          # popularity buckets 1..13 (2^12 = 4096 interactions and more share the last)
USER_FEATURES = ("age", "gender", "occupation")


def _vocab(values: Sequence[Any]) -> np.ndarray:
    """Sorted unique non-empty strings as a unicode array (index i + 1 in features)."""
    out = sorted({str(v).strip() for v in values if v is not None and str(v).strip() and str(v) != "nan"})
    return np.array(out, dtype=np.str_) if out else np.zeros(0, dtype="<U1")


def _lookup(vocab: np.ndarray, values: Sequence[Any]) -> np.ndarray:
    """int64 (m,): 1 + position of each value in ``vocab``, 0 for unknown values."""
    pos = {str(v): i + 1 for i, v in enumerate(vocab.tolist())}
    return np.array([pos.get(str(v).strip(), 0) if v is not None else 0 for v in values], dtype=np.int64)


def age_band(age: Any) -> int:
    """1..7 for an age in years, 0 for unknown / not a positive number."""
    try:
        a = float(age)
    except (TypeError, ValueError):
        return 0
    if not np.isfinite(a) or a <= 0:
        return 0
    return 1 + int(np.searchsorted(np.asarray(AGE_BANDS), a, side="right"))


@dataclass(frozen=True)
class ItemFeatures:
    """Per item index: genres float32 (n, g) multi-hot, decade int64 (n,), pop int64 (n,).

    genre_names / decade_names: unicode (g,), (n_decades,) vocabularies (index 0 = unknown)."""

    genres: np.ndarray
    decade: np.ndarray
    pop: np.ndarray
    genre_names: np.ndarray
    decade_names: np.ndarray

    @classmethod
    def build(cls, movies: pd.DataFrame | None, item_ids: np.ndarray, counts: np.ndarray) -> "ItemFeatures":
        """``movies``: movie_id, genres (list), year (optional); ``counts`` int (n,) training interactions."""
        n = len(item_ids)
        pop = np.minimum(1 + np.floor(np.log2(1.0 + np.asarray(counts, dtype=np.float64))), N_POP - 1).astype(np.int64)
        if movies is None or "movie_id" not in movies:
            return cls(np.zeros((n, 0), np.float32), np.zeros(n, np.int64), pop,
                       np.zeros(0, dtype="<U1"), np.zeros(0, dtype="<U1"))
        m = movies.drop_duplicates("movie_id").set_index("movie_id").reindex(item_ids)
        raw = m["genres"] if "genres" in m else pd.Series([[]] * n)
        genres = [list(g) if isinstance(g, (list, tuple, np.ndarray)) else [] for g in raw]
        names = _vocab([g for gs in genres for g in gs])
        col = {g: i for i, g in enumerate(names.tolist())}
        multi = np.zeros((n, len(names)), dtype=np.float32)
        for i, gs in enumerate(genres):
            for g in gs:
                if str(g).strip() in col:
                    multi[i, col[str(g).strip()]] = 1.0
        years = (pd.to_numeric(m["year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
                 if "year" in m else np.full(n, np.nan))
        decades = [None if np.isnan(y) else f"{int(y) // 10 * 10}s" for y in years]
        dnames = _vocab(decades)
        return cls(multi, _lookup(dnames, decades), pop, names, dnames)


@dataclass(frozen=True)
class UserFeatures:
    """Demographics of the known users, as feature indices (0 = unknown).

    user_ids int64 (m,) sorted; age, gender, occupation int64 (m,);
    gender_names, occupation_names: unicode vocabularies; ``available``: features the data has."""

    user_ids: np.ndarray
    age: np.ndarray
    gender: np.ndarray
    occupation: np.ndarray
    gender_names: np.ndarray
    occupation_names: np.ndarray

    @property
    def available(self) -> list[str]:
        return [f for f, col in zip(USER_FEATURES, (self.age, self.gender, self.occupation)) if (col > 0).any()]

    @classmethod
    def empty(cls) -> "UserFeatures":
        z, s = np.zeros(0, np.int64), np.zeros(0, dtype="<U1")
        return cls(z, z, z, z, s, s)

    @classmethod
    def build(cls, users: pd.DataFrame | None) -> "UserFeatures":
        """``users``: user_id plus any of age (years), gender, occupation; missing columns -> unknown."""
        if users is None or "user_id" not in users or not len(users):
            return cls.empty()
        u = users.drop_duplicates("user_id").sort_values("user_id")
        m = len(u)
        age = (np.array([age_band(a) for a in u["age"]], dtype=np.int64) if "age" in u else np.zeros(m, np.int64))
        gn = _vocab(u["gender"]) if "gender" in u else np.zeros(0, dtype="<U1")
        on = _vocab(u["occupation"]) if "occupation" in u else np.zeros(0, dtype="<U1")
        gender = _lookup(gn, u["gender"]) if "gender" in u else np.zeros(m, np.int64)
        occ = _lookup(on, u["occupation"]) if "occupation" in u else np.zeros(m, np.int64)
        return cls(u["user_id"].to_numpy(np.int64), age, gender, occ, gn, on)

    def rows(self, user_ids: Sequence[int] | np.ndarray | None, n: int) -> np.ndarray:
        """int64 (n, 3) age, gender, occupation indices of ``user_ids`` (None or unknown ids -> 0)."""
        out = np.zeros((n, 3), dtype=np.int64)
        if user_ids is None or not len(self.user_ids):
            return out
        ids = np.asarray(user_ids, dtype=np.int64).reshape(-1)
        pos = np.searchsorted(self.user_ids, ids)
        pos = np.minimum(pos, len(self.user_ids) - 1)
        known = self.user_ids[pos] == ids
        out[known] = np.stack([self.age, self.gender, self.occupation], 1)[pos[known]]
        return out

    def encode(self, user: Mapping[str, Any]) -> np.ndarray:
        """int64 (3,) indices of one user described by a dict (age in years, gender, occupation)."""
        return np.array([age_band(user.get("age")),
                         _lookup(self.gender_names, [user.get("gender")])[0],
                         _lookup(self.occupation_names, [user.get("occupation")])[0]], dtype=np.int64)
