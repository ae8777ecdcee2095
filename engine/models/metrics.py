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

from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from engine.models.base import EmbeddingModel, Holdout


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


def masked_ranks(scores: np.ndarray, exclude: Sequence[np.ndarray], targets: np.ndarray) -> np.ndarray:
    """int64 (B,) rank of each target among all items, each row's ``exclude`` items removed.
    scores float (B, n) (not modified); exclude: B int64 arrays; targets int64 (B,)."""
    s = np.array(scores, dtype=np.float32, copy=True)
    for r, ex in enumerate(exclude):
        s[r, ex] = -np.inf
    return target_ranks(s, targets)


def user_kwargs(model: "EmbeddingModel", holdout: "Holdout", lo: int, hi: int) -> dict:
    """``{"users": user ids of rows lo:hi}`` for a model that reads demographics (Wide & Deep) when
    the holdout knows its users; ``{}`` otherwise (every other model scores histories only)."""
    if getattr(model, "uses_user_features", False) and getattr(holdout, "user_ids", None) is not None:
        return {"users": holdout.user_ids[lo:hi]}
    return {}


def full_ranks(model: "EmbeddingModel", holdout: "Holdout", batch: int = 512) -> np.ndarray:
    """Ranks of each target among all items, the user's known items excluded."""
    out = []
    for b in range(0, len(holdout), batch):
        hist = list(holdout.histories[b:b + batch])
        s = model.score_indices(hist, **user_kwargs(model, holdout, b, b + batch))   # (B, n)
        out.append(masked_ranks(s, holdout.exclude[b:b + batch], holdout.targets[b:b + batch]))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def sampled_ranks(model: "EmbeddingModel", holdout: "Holdout", negatives: np.ndarray, batch: int = 512) -> np.ndarray:
    """Ranks of each target among itself + its sampled negatives int64 (u, m)."""
    cand = np.concatenate([holdout.targets[:, None], negatives], axis=1)   # (u, 1+m), target in column 0
    out = []
    for b in range(0, len(holdout), batch):
        s = model.score_candidates(list(holdout.histories[b:b + batch]), cand[b:b + batch],
                                   **user_kwargs(model, holdout, b, b + batch))
        out.append(target_ranks(s, np.zeros(len(s), dtype=np.int64)))
    return np.concatenate(out) if out else np.zeros(0, np.int64)


def evaluate_full(model: "EmbeddingModel", holdout: "Holdout", k: int = 10) -> dict[str, float]:
    return summarize(full_ranks(model, holdout), k)


def evaluate_sampled(model: "EmbeddingModel", holdout: "Holdout", negatives: np.ndarray, k: int = 10) -> dict[str, float]:
    return summarize(sampled_ranks(model, holdout, negatives), k)


def holdout_negatives(holdout: "Holdout", n_items: int, n: int = 100, seed: int = 0) -> np.ndarray:
    """int64 (u, n): per user, ``n`` items sampled uniformly without replacement from those
    neither in the user's excluded (known) items nor the target. Users with too few such
    items get fewer distinct ones (sampled with replacement) rather than an error."""
    rng = np.random.default_rng(seed)
    out = np.empty((len(holdout), n), dtype=np.int64)
    for u, (ex, t) in enumerate(zip(holdout.exclude, holdout.targets)):
        seen = np.zeros(n_items, dtype=bool)
        seen[np.asarray(ex, dtype=np.int64)] = True
        seen[t] = True
        pool = np.flatnonzero(~seen)
        if not len(pool):
            pool = np.flatnonzero(np.arange(n_items) != t) if n_items > 1 else np.array([t])
        out[u] = rng.choice(pool, size=n, replace=len(pool) < n)
    return out


def holdout_metrics(model: "EmbeddingModel", holdout: "Holdout", negatives: np.ndarray, k: int = 10,
                    batch: int = 512) -> dict[str, float]:
    """NDCG@k under both protocols from one scoring pass: ``{"full": .., "sampled": ..}``."""
    full, sampled = [], []
    for b in range(0, len(holdout), batch):
        s = np.array(model.score_indices(list(holdout.histories[b:b + batch]), **user_kwargs(model, holdout, b, b + batch)),
                     dtype=np.float32, copy=True)                                                          # (B, n)
        tg = holdout.targets[b:b + batch]
        cand = np.concatenate([tg[:, None], negatives[b:b + batch]], axis=1)                             # (B, 1+m)
        sampled.append(target_ranks(np.take_along_axis(s, cand, 1), np.zeros(len(s), dtype=np.int64)))
        for r, ex in enumerate(holdout.exclude[b:b + batch]):
            s[r, ex] = -np.inf
        full.append(target_ranks(s, tg))
    return {"full": ndcg(np.concatenate(full), k), "sampled": ndcg(np.concatenate(sampled), k)}


# ---------------------------------------------------------------------- beyond accuracy
# Each takes the recommended lists as int64 (u, k) item indices (``-1`` pads a short list and is
# ignored) and returns one float; every user's list counts once.
def top_k(scores: np.ndarray, exclude: Sequence[np.ndarray], k: int = 10) -> np.ndarray:
    """int64 (u, k) item indices of each row's ``k`` best scores, best first, the row's ``exclude``
    items removed (ties: lower index first). scores float (u, n) (not modified); exclude: u int64 arrays.
    Non-finite scores never enter a list: a row with fewer than ``k`` finite scores is padded with -1."""
    s = np.array(scores, dtype=np.float32, copy=True)
    for r, ex in enumerate(exclude):
        s[r, np.asarray(ex, dtype=np.int64)] = -np.inf
    k = min(int(k), s.shape[1])
    order = np.argsort(-s, axis=1, kind="stable")[:, :k]
    ok = np.isfinite(np.take_along_axis(s, order, 1))
    return np.where(ok, order, -1).astype(np.int64)


def _valid(lists: np.ndarray) -> np.ndarray:
    lists = np.asarray(lists, dtype=np.int64)
    return lists[lists >= 0]


def catalogue_coverage(lists: np.ndarray, n_items: int) -> float:
    """Share of the ``n_items`` catalogue that appears in at least one list (coverage@k)."""
    return float(len(np.unique(_valid(lists))) / n_items) if n_items else float("nan")


def self_information(counts: np.ndarray) -> np.ndarray:
    """float64 (n,) ``-log2(count_i / sum(counts))`` per item; an item never seen counts as seen once
    (so a cold item is the most novel, not infinitely so)."""
    c = np.maximum(np.asarray(counts, dtype=np.float64), 1.0)
    return -np.log2(c / np.asarray(counts, dtype=np.float64).sum())


def novelty(lists: np.ndarray, counts: np.ndarray) -> float:
    """Mean self-information (bits, :func:`self_information`) of the recommended items.
    counts: int (n,) interactions per item in the data the recommender learnt from."""
    v = _valid(lists)
    return float(self_information(counts)[v].mean()) if len(v) else float("nan")


def head_items(counts: np.ndarray, share: float = 0.1) -> np.ndarray:
    """bool (n,): the ``ceil(share * n)`` most-interacted items (ties: lower index first)."""
    counts = np.asarray(counts)
    head = np.zeros(len(counts), dtype=bool)
    head[np.argsort(-counts, kind="stable")[:int(np.ceil(share * len(counts)))]] = True
    return head


def popularity_share(lists: np.ndarray, counts: np.ndarray, share: float = 0.1) -> float:
    """Share of the recommended items that are among the ``share`` most-interacted items (:func:`head_items`)."""
    v = _valid(lists)
    return float(head_items(counts, share)[v].mean()) if len(v) else float("nan")


def _mean_pairwise(lists: np.ndarray, sim_of: Any) -> float:
    """Mean over lists of the mean pairwise similarity ``sim_of(rows) -> (m, m)`` of each list's items
    (lists with fewer than two items are skipped)."""
    out = []
    for row in np.asarray(lists, dtype=np.int64):
        v = row[row >= 0]
        m = len(v)
        if m < 2:
            continue
        s = sim_of(v)
        out.append((s.sum() - np.trace(s)) / (m * (m - 1)))
    return float(np.mean(out)) if out else float("nan")


def intra_list_diversity(lists: np.ndarray, unit: np.ndarray) -> float:
    """Mean over lists of ``1 - mean pairwise cosine`` of the listed items. unit float (n, d): L2-normalised
    rows of the space diversity is measured in (a content space, so "diverse" means "about other things")."""
    unit = np.asarray(unit, dtype=np.float64)
    return 1.0 - _mean_pairwise(lists, lambda v: unit[v] @ unit[v].T)


def jaccard_matrix(tags: np.ndarray) -> np.ndarray:
    """float64 (m, m) Jaccard similarity of bool (m, g) rows (two empty rows: 0)."""
    t = np.asarray(tags, dtype=np.float64)
    inter = t @ t.T
    union = t.sum(1)[:, None] + t.sum(1)[None, :] - inter
    return np.divide(inter, union, out=np.zeros_like(inter), where=union > 0)


def genre_diversity(lists: np.ndarray, genres: np.ndarray) -> float:
    """Mean over lists of ``1 - mean pairwise Jaccard`` of the listed items' genre sets. genres bool (n, g)."""
    genres = np.asarray(genres, dtype=bool)
    return 1.0 - _mean_pairwise(lists, lambda v: jaccard_matrix(genres[v]))


def list_ranks(lists: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """int64 (u,) 0-based position of each target in its list; ``lists.shape[1]`` where absent (a miss
    for HR@k / NDCG@k with k = the list length)."""
    lists = np.asarray(lists, dtype=np.int64)
    hit = lists == np.asarray(targets, dtype=np.int64)[:, None]
    return np.where(hit.any(1), hit.argmax(1), lists.shape[1]).astype(np.int64)
