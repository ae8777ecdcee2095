"""One contract for every MovieDNA embedding model (MF, SASRec, Text).

Vocabulary
----------
- *movie id*: the data set's own id (int64), what the catalogue and the app use.
- *item index*: 0-based position of a movie in ``model.item_ids()``; models work on
  indices internally (SASRec shifts them by one so that 0 is padding).

Contract (see docs/MODELS.md):

- ``Model(config)``: ``config`` is a frozen dataclass; ``Model()`` uses defaults.
- ``fit(data, valid=None, progress=None) -> self``: ``data`` is :class:`Interactions`
  (chronological sequences of item indices per user + optional movies frame);
  ``valid`` an optional :class:`Holdout` used for early stopping / model selection.
- ``item_ids() -> int64 (n,)`` and ``item_embeddings() -> float32 (n, d)`` aligned.
- ``score(history movie ids, candidate movie ids int64 (c,)) -> float32 (c,)``:
  higher = better; candidates the model does not know get ``-inf``.
- ``recommend(history, k) -> (movie ids int64 (k,), scores float32 (k,))``, history excluded.
- ``save(path) -> content hash`` / ``Model.load(path)``: one ``.npz`` via
  :func:`engine.core.artifacts.save_arrays` (no pickle); torch state is stored as numpy
  arrays.  ``content_hash`` covers config + every weight, so it changes when a weight changes.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np

from engine.core.config import Progress
from engine.data.interactions import Holdout, Interactions  # noqa: F401  (the contract trains and scores on these)
from engine.core.artifacts import array_hash, load_arrays, save_arrays
from engine.core.errors import ArtifactError, BadQueryError, ModelNotBuiltError

log = logging.getLogger(__name__)




def config_dict(config: Any) -> dict[str, Any]:
    return dataclasses.asdict(config)


class EmbeddingModel(ABC):
    """Base class; subclasses set ``name``, ``Config`` and implement the abstract methods."""

    name: ClassVar[str] = "base"
    Config: ClassVar[type] = object

    def __init__(self, config: Any | None = None) -> None:
        self.config = config if config is not None else self.Config()
        if not isinstance(self.config, self.Config):
            raise TypeError(f"{type(self).__name__} needs a {self.Config.__name__}, got {type(self.config).__name__}")
        self._item_ids: np.ndarray | None = None
        self._index: dict[int, int] = {}
        self.fit_info: dict[str, Any] = {}

    # ------------------------------------------------------------------ training
    @abstractmethod
    def fit(self, data: Interactions, valid: Holdout | None = None, progress: Progress | None = None) -> "EmbeddingModel":
        """Train on ``data``; return self."""

    # ------------------------------------------------------------------ vectors
    def item_ids(self) -> np.ndarray:
        """int64 (n_items,) movie ids, aligned with :meth:`item_embeddings`."""
        self._require_fitted()
        return self._item_ids.copy()  # type: ignore[union-attr]

    @abstractmethod
    def item_embeddings(self) -> np.ndarray:
        """float32 (n_items, d) one vector per movie (not normalised)."""

    # ------------------------------------------------------------------ scoring
    @abstractmethod
    def score_indices(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """float32 (u, n_items): score of every item for each history (item indices)."""

    def score_candidates(self, histories: Sequence[np.ndarray], candidates: np.ndarray) -> np.ndarray:
        """float32 (u, c) scores of candidate item indices int64 (u, c). Default: gather from full scores."""
        full = self.score_indices(histories)
        return np.take_along_axis(full, candidates, axis=1)

    def score(self, history: Sequence[int], candidates: Sequence[int] | np.ndarray, user: Any = None) -> np.ndarray:
        """Scores float32 (c,) of candidate movie ids for a history of movie ids (oldest first).

        ``user``: who is asking (a user id of the data set or their features), for models that read
        user features (Wide & Deep); the others ignore it.  Unknown candidates get ``-inf``; history
        ids the model does not know are ignored; a history with no known movie raises :class:`BadQueryError`.
        """
        self._require_fitted()
        hist = self._to_indices(history)
        cand = np.asarray(candidates, dtype=np.int64).reshape(-1)
        cidx = np.array([self._index.get(int(m), -1) for m in cand], dtype=np.int64)
        out = np.full(len(cand), -np.inf, dtype=np.float32)
        known = cidx >= 0
        if known.any():
            out[known] = self._score_known(hist, cidx[known], user)
        return out

    def _score_known(self, hist: np.ndarray, cidx: np.ndarray, user: Any) -> np.ndarray:
        """float32 (c,) scores of known candidate indices ``cidx`` int64 (c,) after history ``hist``."""
        return self.score_candidates([hist], cidx[None, :])[0]

    def recommend(self, history: Sequence[int], k: int = 10) -> tuple[np.ndarray, np.ndarray]:
        """Top-k movie ids int64 (k,) and scores float32 (k,) for a history, history excluded."""
        self._require_fitted()
        hist = self._to_indices(history)
        s = self.score_indices([hist])[0].copy()
        s[hist] = -np.inf
        k = int(min(k, np.isfinite(s).sum()))
        top = np.argpartition(-s, k - 1)[:k] if k > 0 else np.zeros(0, np.int64)
        top = top[np.argsort(-s[top], kind="stable")]
        return self._item_ids[top].astype(np.int64), s[top].astype(np.float32)  # type: ignore[index]

    # ------------------------------------------------------------------ persistence
    @abstractmethod
    def state_arrays(self) -> dict[str, np.ndarray]:
        """Every array needed to restore the fitted model (weights as numpy)."""

    @abstractmethod
    def _restore(self, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
        """Inverse of :meth:`state_arrays` (item_ids are set by :meth:`load`)."""

    def meta(self) -> dict[str, Any]:
        return {"model": self.name, "config": config_dict(self.config), "fit_info": self.fit_info}

    @property
    def content_hash(self) -> str:
        """sha256 over config and all weights: changes whenever a weight changes."""
        self._require_fitted()
        arrays = self.state_arrays()
        names = sorted(arrays)
        extra = json.dumps({"model": self.name, "config": config_dict(self.config)}, sort_keys=True, default=str)
        return array_hash(self._item_ids, *(arrays[n] for n in names), extra=extra)  # type: ignore[arg-type]

    def save(self, path: Path | str) -> str:
        """Write config + weights to one ``.npz`` atomically; return the model's :attr:`content_hash`."""
        self._require_fitted()
        arrays = {f"w__{k}": np.ascontiguousarray(v) for k, v in self.state_arrays().items()}
        meta = self.meta() | {"content_hash": self.content_hash}
        save_arrays(path, meta, item_ids=self._item_ids, **arrays)  # type: ignore[arg-type]
        return meta["content_hash"]

    @classmethod
    def load(cls, path: Path | str) -> "EmbeddingModel":
        """Restore a model saved by :meth:`save`; raise :class:`ArtifactError` if it fails verification."""
        path = Path(path)
        if not path.exists():
            raise ModelNotBuiltError(f"Model file {path} does not exist; run `python -m engine build`.")
        meta, arrays, _ = load_arrays(path)
        if meta.get("model") != cls.name:
            raise ArtifactError(f"{path.name} holds model {meta.get('model')!r}, not {cls.name!r}; rebuild it.")
        fields = {f.name for f in dataclasses.fields(cls.Config)}
        if set(meta["config"]) != fields:
            # not tampering: the file was written by a version whose config had other fields
            raise ArtifactError(f"{path.name} was built by another version of MovieDNA (its {cls.name} config "
                                "differs).")
        cfg = cls.Config(**{k: v for k, v in meta["config"].items() if k in fields})
        model = cls(cfg)
        model._set_items(arrays.pop("item_ids"))
        model._restore({k[3:]: v for k, v in arrays.items() if k.startswith("w__")}, meta)
        model.fit_info = dict(meta.get("fit_info") or {})
        if model.content_hash != meta.get("content_hash"):
            raise ArtifactError(f"{path.name} fails its content hash; delete it and run `python -m engine build`.")
        return model

    # ------------------------------------------------------------------ helpers
    def _set_items(self, item_ids: np.ndarray) -> None:
        ids = np.asarray(item_ids, dtype=np.int64)
        if len(np.unique(ids)) != len(ids):
            raise ValueError("item_ids must be unique")
        self._item_ids = ids
        self._index = {int(m): i for i, m in enumerate(ids)}

    def _require_fitted(self) -> None:
        if self._item_ids is None:
            raise ModelNotBuiltError(f"The {self.name} model is not fitted yet; call fit() or load() first.")

    def _to_indices(self, history: Sequence[int]) -> np.ndarray:
        idx = [self._index[int(m)] for m in np.asarray(history, dtype=np.int64).reshape(-1) if int(m) in self._index]
        if not idx:
            raise BadQueryError(f"The history has no movie the {self.name} model knows; pick at least one rated movie.")
        return np.asarray(idx, dtype=np.int64)


def check_interactions(data: Interactions, model: str) -> None:
    """Raise a clear error for data a model cannot learn from."""
    if data.n_items == 0 or data.n_interactions == 0:
        raise BadQueryError(f"Cannot fit {model}: the data set has no interactions.")
