"""Serve the engine's searches from a VectorStore (pgvector, Milvus) instead of FAISS.

:class:`StoreIndex` has the search surface the engine uses on a FAISS index
(``search``, ``ntotal``, ``ids``, ``dim``, ``config.label()``), so similar movies, mood
search, personalisation and two-stage retrieval run unchanged on any backend.

Each (data set, model, vectors hash) gets its own collection, named
``<dataset>_<model>_<hash12>`` (a valid store name), loaded once: a collection whose
count matches the vectors is reused across restarts, so a server keeps serving the same
vectors without a reload.  SQLite stays the source of truth.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass

import numpy as np

from engine.vectors.contract import VectorStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreConfig:
    backend: str
    kind: str = "store"

    def label(self) -> str:
        return f"{self.backend} (HNSW, cosine)" if self.backend != "faiss" else "faiss"


def store_collection(dataset: str, model: str, content_hash: str) -> str:
    """A store-safe collection name: letter first, [A-Za-z0-9_], at most 40 characters."""
    base = re.sub(r"[^A-Za-z0-9]+", "_", f"{dataset}_{model}").strip("_")[:26]
    if not base or not base[0].isalpha():
        base = "m_" + base
    return f"{base}_{content_hash[:12]}"


class StoreIndex:
    """A model's vectors held in a VectorStore; thread-safe if the store is."""

    def __init__(self, store: VectorStore, backend: str, collection: str, ids: np.ndarray, dim: int) -> None:
        self.store = store
        self.collection = collection
        self.ids = np.asarray(ids, dtype=np.int64)
        self.dim = int(dim)
        self.config = StoreConfig(backend)
        self.source = backend

    @classmethod
    def open(cls, store: VectorStore, backend: str, dataset: str, model: str, ids: np.ndarray,
             unit: np.ndarray, content_hash: str) -> "StoreIndex":
        """Reuse the collection for these vectors if it is complete, else (re)load it.

        ids int64 (n,), unit float32 (n, d) L2-normalised rows.
        """
        name = store_collection(dataset, model, content_hash)
        if store.count(name) != len(ids):
            log.info("loading %d %s vectors into %s collection %s", len(ids), model, backend, name)
            store.upsert(name, ids, unit)
        return cls(store, backend, name, ids, unit.shape[1])

    @property
    def ntotal(self) -> int:
        return int(len(self.ids))

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """queries float32 (q, d) or (d,) -> (scores float32 (q, k), ids int64 (q, k))."""
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        return self.store.search(self.collection, q, int(k))


class StorePool:
    """One open store per backend per process (embedded servers are expensive to start)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._stores: dict[str, VectorStore] = {}

    def get(self, backend: str) -> VectorStore:
        from engine.vectors.contract import open_store

        with self._lock:
            if backend not in self._stores:
                self._stores[backend] = open_store(backend)
            return self._stores[backend]

    def close(self) -> None:
        with self._lock:
            for s in self._stores.values():
                s.close()
            self._stores.clear()


POOL = StorePool()
