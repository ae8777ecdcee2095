"""Two-stage recommendation: vector retrieval (stage 1) then sequence re-ranking (stage 2).

Stage 1 takes the top ``n_candidates`` movies nearest to the taste vector from a FAISS
index (clicked/disliked excluded).  Stage 2 scores only those candidates with a
re-ranker (SASRec over the click sequence, oldest first) and sorts by that score.
The output holds each item's rank before and after and per-stage timings in ms.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol, Sequence

import numpy as np

from engine.core.errors import BadQueryError
from engine.vectors.contract import SearchIndex, Selection
from engine.recsys.taste import Space, Taste, TasteConfig, as_taste, explain, taste_vector

MAX_CANDIDATES = 1000


class Reranker(Protocol):
    """What stage 2 needs (the models' ``score`` contract)."""

    def score(self, history: Sequence[int], candidates: np.ndarray) -> np.ndarray:
        """float32 (c,) scores for candidate movie ids int64 (c,); unknown -> -inf."""


@dataclass(frozen=True)
class Reranked:
    """One movie of the final list: its place in each stage, both scores and the click that explains it."""

    movie_id: int
    rank_before: int
    rank_after: int
    retrieval_score: float
    rerank_score: float
    because_id: int | None = None
    because_score: float | None = None


@dataclass(frozen=True)
class TwoStageResult:
    """``items`` best first after re-ranking (length <= k); ``candidates`` int64 (c,) stage-1 ids in
    stage-1 order; ``timings_ms``: taste, retrieve, rerank, total; ``vector`` float32 (d,): the taste."""

    items: tuple[Reranked, ...]
    candidates: np.ndarray
    timings_ms: dict[str, float] = field(default_factory=dict)
    vector: np.ndarray | None = None


def retrieve(space: Space, index: SearchIndex, taste: "Taste | Sequence[int]", dislikes: Sequence[int] = (),
             n_candidates: int = 100, config: TasteConfig | None = None, where: Selection | None = None
             ) -> tuple[np.ndarray, np.ndarray, dict[str, float]]:
    """Stage 1: (ids int64 (c,), cosines float32 (c,), timings) for the taste vector, only movies
    of ``where`` (a filter's selection) when given."""
    ids, scores, timings, _ = _retrieve(space, index, as_taste(taste, dislikes, config), n_candidates, where)
    return ids, scores, timings


def _retrieve(space: Space, index: SearchIndex, taste: Taste, n_candidates: int, where: Selection | None = None
              ) -> tuple[np.ndarray, np.ndarray, dict[str, float], np.ndarray]:
    t0 = time.perf_counter()
    t = taste_vector(space, taste)
    t1 = time.perf_counter()
    seen = taste.seen
    scores, ids = index.search(t[None, :], min(n_candidates + len(seen), index.ntotal), where)
    keep = (ids[0] >= 0) & ~np.isin(ids[0], np.fromiter(seen, np.int64, len(seen)))
    cand, cs = ids[0][keep][:n_candidates], scores[0][keep][:n_candidates]
    t2 = time.perf_counter()
    return cand, cs, {"taste": 1e3 * (t1 - t0), "retrieve": 1e3 * (t2 - t1)}, t


def two_stage(space: Space, index: SearchIndex, reranker: Reranker | None, taste: "Taste | Sequence[int]",
              dislikes: Sequence[int] = (), k: int = 10, n_candidates: int = 100,
              config: TasteConfig | None = None, where: Selection | None = None) -> TwoStageResult:
    """Retrieve ``n_candidates`` (only movies of ``where`` when given, so the final list is filtered
    too) then re-rank them with ``reranker`` (None = keep stage-1 order)."""
    if (isinstance(n_candidates, (bool, np.bool_)) or not isinstance(n_candidates, (int, np.integer))
            or not 1 <= n_candidates <= MAX_CANDIDATES):
        raise BadQueryError(f"n_candidates must be a whole number from 1 to {MAX_CANDIDATES}; got {n_candidates!r}.")
    if isinstance(k, (bool, np.bool_)) or not isinstance(k, (int, np.integer)) or k < 1:
        raise BadQueryError(f"k must be a whole number of at least 1; got {k!r}.")
    n_candidates, k = int(n_candidates), int(k)
    if k > n_candidates:
        raise BadQueryError(f"k={k} is larger than the {n_candidates} stage-1 candidates.")
    taste = as_taste(taste, dislikes, config)
    start = time.perf_counter()
    cand, cs, timings, vector = _retrieve(space, index, taste, n_candidates, where)
    t0 = time.perf_counter()
    if reranker is None or len(cand) == 0:
        rs = cs.astype(np.float32)
    else:
        rs = np.asarray(reranker.score(list(taste.clicks), cand), dtype=np.float32).reshape(-1)
        if rs.shape != cand.shape:
            raise BadQueryError(f"The re-ranker returned {rs.shape[0]} scores for {len(cand)} candidates.")
    # stable sort: ties (and unknown -inf) keep stage-1 order
    order = np.argsort(-np.nan_to_num(rs, nan=-np.inf, neginf=-np.inf), kind="stable")[:k]
    timings["rerank"] = 1e3 * (time.perf_counter() - t0)
    why = explain(space, cand[order], list(taste.clicks))
    items = tuple(
        Reranked(int(cand[j]), int(j) + 1, pos + 1, float(cs[j]), float(rs[j]), b, bs)
        for pos, (j, (b, bs)) in enumerate(zip(order, why))
    )
    timings["total"] = 1e3 * (time.perf_counter() - start)
    return TwoStageResult(items, cand, timings, vector)
