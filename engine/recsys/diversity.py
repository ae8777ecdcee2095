"""Diversity control: maximal marginal relevance (MMR, Carbonell & Goldstein 1998) re-ranking.

From ``c`` candidates (best first, with relevance ``r``), pick ``k`` one at a time, each the
candidate maximising ``lam * r_j - (1 - lam) * max_{s picked} sim(j, s)`` (no penalty for the
first pick).  ``lam = 1`` keeps the relevance order (ties: the earlier candidate); lower ``lam``
trades relevance for lists whose items are less alike.  ``sim`` is the cosine in the space the
candidates were found in, so relevance and similarity share one scale.

The pages offer :data:`LAMBDAS`; ``python -m engine evaluate`` measures NDCG@10 and intra-list
diversity at each (:mod:`engine.recsys.beyond`).
"""

from __future__ import annotations

import numpy as np

from engine.core.errors import BadQueryError

#: the lambdas the pages offer and the evaluation measures (1 = no re-ranking)
LAMBDAS: tuple[float, ...] = (1.0, 0.9, 0.7, 0.5)
#: how many nearest candidates MMR picks its ten from (the pages and the evaluation alike)
MMR_CANDIDATES = 50


def check_lambda(lam: object) -> float:
    """``lam`` as a float in [0, 1]; :class:`BadQueryError` otherwise."""
    try:
        v = float(lam)                                                         # type: ignore[arg-type]
    except (TypeError, ValueError):
        v = float("nan")
    if isinstance(lam, bool) or not 0.0 <= v <= 1.0:
        raise BadQueryError(f"The diversity weight lambda must be a number from 0 to 1; got {lam!r}.")
    return v


def mmr_order(relevance: np.ndarray, sims: np.ndarray, k: int, lam: float) -> np.ndarray:
    """int64 (u, k') MMR picks (candidate positions), k' = min(k, c).

    relevance float (u, c) (``-inf``: not a candidate, picked only when nothing else is left);
    sims float (u, c, c) pairwise similarity of each row's candidates; ``lam`` in [0, 1]."""
    lam = check_lambda(lam)
    rel = np.asarray(relevance, dtype=np.float64)
    sims = np.asarray(sims, dtype=np.float64)
    u, c = rel.shape
    k = min(int(k), c)
    rows = np.arange(u)
    penalty = np.zeros((u, c))
    taken = np.zeros((u, c), dtype=bool)
    out = np.empty((u, k), dtype=np.int64)
    finite = np.isfinite(rel)
    base = np.where(finite, rel, 0.0)
    for step in range(k):
        score = lam * base - (1.0 - lam) * penalty
        score = np.where(finite, score, -1e300)                      # a non-candidate only when nothing is left
        score[taken] = -np.inf
        pick = score.argmax(1)                                       # ties: the earlier candidate
        out[:, step] = pick
        taken[rows, pick] = True
        penalty = np.maximum(penalty, sims[rows, pick, :]) if step else sims[rows, pick, :].copy()
    return out


def mmr(ids: np.ndarray, relevance: np.ndarray, unit: np.ndarray, k: int, lam: float) -> np.ndarray:
    """One list: the ``k`` of ``ids`` int64 (c,) MMR picks, in pick order. relevance float (c,),
    unit float (c, d) the candidates' L2-normalised vectors."""
    ids = np.asarray(ids, dtype=np.int64)
    if not len(ids):
        return ids
    u = np.asarray(unit, dtype=np.float64)
    order = mmr_order(np.asarray(relevance, dtype=np.float64)[None, :], (u @ u.T)[None], k, lam)[0]
    return ids[order]
