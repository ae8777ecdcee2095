"""Collaborative expansion of a hybrid search: the best text hits pull in their neighbours in a
collaborative space (MF or SASRec item vectors).

On a catalogue without plots a text space sees titles, genres and a few tags, so a mood query's
top hits are the films whose words match it; films that users watch alongside those hits (the
famous ones whose titles say nothing) are invisible to it.  The expansion takes the top ``seeds``
movies of the fused list, the normalised mean of their collaborative vectors, and that centroid's
nearest movies in the collaborative space become one more RRF list with weight ``weight``.
``weight = 0`` turns it off.  The settings are chosen on the validation sets of
benchmarks/bench_mood.py by benchmarks/bench_noplot.py (docs/SEARCH.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Container, Sequence

import numpy as np

from engine.core.arrays import normalize
from engine.recsys import hybrid


@dataclass(frozen=True)
class ExpansionConfig:
    """``space``: the collaborative space; ``seeds``: how many of the fused list's best movies seed it;
    ``weight``: the RRF weight of the collaborative list (0 = off); ``depth``: that list's length;
    ``unsure_only``: expand only when BM25 abstains (a title or keyword query, where BM25 is confident,
    is answered by its words, and the title's collaborative neighbours are other films)."""

    space: str = "mf"
    seeds: int = 10
    weight: float = 0.0
    depth: int = 100
    unsure_only: bool = False

    def __post_init__(self) -> None:
        if self.seeds < 1 or self.depth < 1 or not self.weight >= 0:
            raise ValueError("expansion needs seeds >= 1, depth >= 1 and a weight >= 0")

    def applies(self, bm25_confident: bool) -> bool:
        """Whether a query whose BM25 list is (not) confident is expanded."""
        return self.weight > 0 and not (self.unsure_only and bm25_confident)


#: the expansion the hybrid mode applies: off.  The best setting on validation (mf, 20 seeds, weight 0.1,
#: only where BM25 abstains) gained 0.002-0.004 mean nDCG@10 but lowered ml-100k's mixed set by 0.011
#: (docs/SEARCH.md)
EXPANSION = ExpansionConfig()


def seed_ids(ranked: Sequence[Sequence[int]], weights: Sequence[float], known: Container[int],
             cfg: ExpansionConfig, rrf_k: float) -> list[int]:
    """The seeds: the movies of the fusion's first ``3 * cfg.seeds`` (``ranked``: the hybrid's lists, best
    first, with their RRF ``weights``) that the collaborative space holds (``known`` ids), at most
    ``cfg.seeds`` of them (fewer when the top hits have no collaborative vector)."""
    fused = hybrid.rrf(ranked, cfg.seeds * 3, c=rrf_k, weights=weights)
    return [m for m, _, _ in fused if m in known][:cfg.seeds]


def centroid(vectors: np.ndarray) -> np.ndarray:
    """The seeds' collaborative vectors (m, d) -> their normalised mean, float32 (d,); zeros (d,) for m = 0."""
    v = np.asarray(vectors, np.float32)
    if v.ndim != 2:
        raise ValueError("centroid needs a (m, d) matrix")
    if not len(v):
        return np.zeros(v.shape[1], np.float32)
    return normalize(normalize(v).mean(axis=0, keepdims=True))[0]
