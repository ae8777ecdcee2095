"""SASRec item tokens and training samples: item index i is token i + 1, token 0 pads.

Left padding, training windows over each user's history, the items each user has seen (to sample
negatives and mask them), and side features (genres, decade) per token.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import pandas as pd

def pad_left(seqs: Sequence[np.ndarray], length: int) -> np.ndarray:
    """int64 (B, length) of token ids (index + 1), last ``length`` items of each, left-padded with 0."""
    out = np.zeros((len(seqs), length), dtype=np.int64)
    for i, s in enumerate(seqs):
        s = np.asarray(s[-length:], dtype=np.int64) + 1
        if len(s):
            out[i, length - len(s):] = s
    return out


def windows(lengths: Sequence[int], maxlen: int, mode: str) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Training samples as (user, (a, e)): targets s[a:e], inputs s[a-1:e-1], at most ``maxlen`` long.

    ``"last"``: one window per user, the latest ``maxlen`` targets (the paper, pmixer).
    ``"all"``: also tile the older part of histories longer than ``maxlen`` + 1 with further
    windows, so every interaction is a target once per epoch."""
    users, spans = [], []
    for u, n in enumerate(lengths):
        e = n
        while e > 1:
            users.append(u)
            spans.append((max(1, e - maxlen), e))
            if mode == "last":
                break
            e -= maxlen
    return np.asarray(users, dtype=np.int64), spans


def training_samples(train: Sequence[np.ndarray], maxlen: int, mode: str
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """-> users int64 (S,), inputs int64 (S, maxlen), targets int64 (S, maxlen), lengths int64 (S,).

    One sample per window of :func:`windows`: inputs s[a-1:e-1], targets s[a:e], left-padded."""
    users, spans = windows([len(s) for s in train], maxlen, mode)
    seq = pad_left([train[u][a - 1:e - 1] for u, (a, e) in zip(users, spans)], maxlen)   # (S, maxlen)
    pos = pad_left([train[u][a:e] for u, (a, e) in zip(users, spans)], maxlen)           # (S, maxlen)
    return users, seq, pos, np.array([e - a for a, e in spans], dtype=np.int64)


class SeenItems:
    """Which items each training user interacted with, for sampling negatives they never saw."""

    DENSE_LIMIT = 64_000_000  # users x items cells; beyond this, a sorted key array (ml-25m scale)

    def __init__(self, sequences: Sequence[np.ndarray], n_items: int) -> None:
        self.n = n_items
        users = np.repeat(np.arange(len(sequences)), [len(s) for s in sequences])
        items = np.concatenate(sequences).astype(np.int64)
        if len(sequences) * (n_items + 1) <= self.DENSE_LIMIT:
            self.dense = np.zeros((len(sequences), n_items + 1), dtype=bool)   # (U, n+1) by token
            self.dense[users, items + 1] = True
            self.keys = None
        else:
            self.dense = None
            self.keys = np.unique(users * (n_items + 1) + items + 1)
        # a user who has seen every item cannot get a true negative: take any item for them
        self.saturated = np.array([len(np.unique(q)) >= n_items for q in sequences], dtype=bool)

    def _hits(self, rows: np.ndarray, tokens: np.ndarray) -> np.ndarray:
        if self.dense is not None:
            return self.dense[rows, tokens]
        q = rows * (self.n + 1) + tokens                     # keys are sorted and unique: binary search
        at = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)   # (np.isin sorts q every call)
        return self.keys[at] == q

    def sample(self, rows: np.ndarray, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """int64 ``shape`` (B, ...) of tokens 1..n that user ``rows[b]`` never interacted with."""
        out = rng.integers(1, self.n + 1, size=shape)
        users = np.broadcast_to(rows.reshape((-1,) + (1,) * (len(shape) - 1)), shape)
        bad = np.nonzero(self._hits(users, out) & ~self.saturated[users])
        while len(bad[0]):                      # resample only the collisions until none is left
            out[bad] = rng.integers(1, self.n + 1, size=len(bad[0]))
            still = self._hits(users[bad], out[bad])
            bad = tuple(b[still] for b in bad)
        return out


def side_features(movies: Any, item_ids: np.ndarray) -> np.ndarray:
    """float32 (n+1, f): per item token, its genres and release decade as a row-normalised
    multi-hot vector (row 0 = padding = 0). ``movies`` has movie_id, genres (list), year."""
    m = movies.set_index("movie_id").reindex(item_ids)
    genres = [g if isinstance(g, (list, tuple, np.ndarray)) else [] for g in m["genres"]]
    years = (pd.to_numeric(m["year"], errors="coerce").to_numpy(dtype=float, na_value=np.nan)
             if "year" in m else np.full(len(m), np.nan))
    decades = [None if np.isnan(y) else f"{int(y) // 10 * 10}s" for y in years]
    names = sorted({g for gs in genres for g in gs} | {d for d in decades if d})
    col = {name: i for i, name in enumerate(names)}
    out = np.zeros((len(item_ids) + 1, len(names)), dtype=np.float32)
    for i, (gs, d) in enumerate(zip(genres, decades), start=1):
        for f in list(gs) + ([d] if d else []):
            out[i, col[f]] = 1.0
    out[1:] /= np.maximum(out[1:].sum(1, keepdims=True), 1.0)
    return out
