"""Popularity: the baseline every recommender must beat (most-interacted movies first)."""

from __future__ import annotations

import dataclasses
from typing import Any, Sequence

import numpy as np

from engine.models.base import EmbeddingModel, Holdout, Interactions, Progress, check_interactions


@dataclasses.dataclass(frozen=True)
class PopularityConfig:
    pass


class PopularityModel(EmbeddingModel):
    """Baseline: every user gets the items with the most training interactions."""

    name = "popularity"
    Config = PopularityConfig

    def __init__(self, config: PopularityConfig | None = None) -> None:
        super().__init__(config)
        self.counts: np.ndarray | None = None

    def fit(self, data: Interactions, valid: Holdout | None = None, progress: Progress | None = None) -> "PopularityModel":
        check_interactions(data, self.name)
        self._set_items(data.item_ids)
        self.counts = np.bincount(np.concatenate(data.sequences), minlength=data.n_items).astype(np.float32)
        return self

    def item_embeddings(self) -> np.ndarray:
        return self.counts[:, None].copy()

    def score_indices(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        return np.broadcast_to(self.counts, (len(histories), len(self.counts))).copy()

    def state_arrays(self) -> dict[str, np.ndarray]:
        return {"counts": self.counts}

    def _restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        self.counts = arrays["counts"]
