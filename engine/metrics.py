"""Ranking metrics for leave-one-out evaluation: HR@k and NDCG@k.

With one relevant item per user, if ``rank`` is the 0-based position of the held-out
item in the ranked list:

- HR@k   = mean(rank < k)
- NDCG@k = mean(1 / log2(rank + 2) if rank < k else 0)   (the ideal DCG is 1)

Ties: an item scoring exactly like the target counts as ranked above it for half of
the ties (``rank = #greater + #ties // 2``), so a constant scorer is not rewarded.
Two protocols: *sampled* (target among 100 sampled negatives) and *full* (target among
all items, the user's known items excluded).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from .models.base import EmbeddingModel, Holdout


def target_ranks(scores: np.ndarray, target: np.ndarray) -> np.ndarray:
    """int64 (u,) 0-based rank of the target. scores float (u, c); target int64 (u,) column index.

    Non-finite scores (``-inf`` = excluded) are never above a finite target.
    """
    scores = np.asarray(scores, dtype=np.float64)
    t = scores[np.arange(len(scores)), target][:, None]            # (u, 1)
    if not np.isfinite(t).all():
        raise ValueError("the target item got a non-finite score (was it excluded?)")
    greater = (scores > t).sum(1)
    ties = (scores == t).sum(1) - 1                                   # the target itself is not a tie
    return (greater + ties // 2).astype(np.int64)


def hit_ratio(ranks: np.ndarray, k: int = 10) -> float:
    ranks = np.asarray(ranks)
    return float((ranks < k).mean()) if len(ranks) else float("nan")


def ndcg(ranks: np.ndarray, k: int = 10) -> float:
    ranks = np.asarray(ranks, dtype=np.float64)
    if not len(ranks):
        return float("nan")
    gains = np.where(ranks < k, 1.0 / np.log2(ranks + 2.0), 0.0)
    return float(gains.mean())


def summarize(ranks: np.ndarray, k: int = 10) -> dict[str, float]:
    return {f"hr@{k}": hit_ratio(ranks, k), f"ndcg@{k}": ndcg(ranks, k), "users": int(len(ranks))}


def full_ranks(model: "EmbeddingModel", holdout: "Holdout", batch: int = 512) -> np.ndarray:
    """Ranks of each target among all items, the user's known items excluded."""
    out = []
    for b in range(0, len(holdout), batch):
        hist = list(holdout.histories[b:b + batch])
        s = np.array(model.score_indices(hist), dtype=np.float32, copy=True)   # (B, n)
        for r, ex in enumerate(holdout.exclude[b:b + batch]):
            s[r, ex] = -np.inf
        out.append(target_ranks(s, holdout.targets[b:b + batch]))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def sampled_ranks(model: "EmbeddingModel", holdout: "Holdout", negatives: np.ndarray, batch: int = 512) -> np.ndarray:
    """Ranks of each target among itself + its sampled negatives int64 (u, m)."""
    cand = np.concatenate([holdout.targets[:, None], negatives], axis=1)   # (u, 1+m), target in column 0
    out = []
    for b in range(0, len(holdout), batch):
        s = model.score_candidates(list(holdout.histories[b:b + batch]), cand[b:b + batch])
        out.append(target_ranks(s, np.zeros(len(s), dtype=np.int64)))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def evaluate_full(model: "EmbeddingModel", holdout: "Holdout", k: int = 10) -> dict[str, float]:
    return summarize(full_ranks(model, holdout), k)


def evaluate_sampled(model: "EmbeddingModel", holdout: "Holdout", negatives: np.ndarray, k: int = 10) -> dict[str, float]:
    return summarize(sampled_ranks(model, holdout, negatives), k)
