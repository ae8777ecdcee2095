"""Serve the engine's searches from a VectorStore (pgvector, Milvus) instead of FAISS.

:class:`StoreIndex` has the search surface the engine uses on a FAISS index
(``search``, ``ntotal``, ``ids``, ``dim``, ``config.label()``), so similar movies, mood
search, personalisation and two-stage retrieval run unchanged on any backend.

Each (data set, model, vectors hash) gets its own collection, named
``<dataset>_<model>_<hash12>`` (a valid store name), loaded once: a collection whose
count matches the vectors is reused across restarts, so a server keeps serving the same
vectors without a reload.  SQLite stays the source of truth.

The engine's ``index=`` choice (exact / HNSW / IVF, an :class:`IndexConfig`) is honoured where
the backend can (:meth:`StoreIndex.configured`): pgvector runs *exact* as a sequential scan
(its HNSW index disabled for that transaction) and *HNSW* with the requested ``ef_search``;
Milvus runs *HNSW* with the requested ``ef`` (and *exact* when its collection is FLAT).  What a
backend cannot do (IVF on either, exact on an HNSW Milvus collection) is served with the
backend's own index and said in ``notes``, never silently ignored.
"""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.core.notes import Note, note
from engine.vectors.contract import FilterColumns, Plan, Selection, VectorStore, empty_results, plan_path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoreConfig:
    """How a backend serves a search: ``kind`` "hnsw" or "exact"; ``ef_search`` None = the store's default."""

    backend: str
    kind: str = "hnsw"
    ef_search: int | None = None

    def label(self) -> str:
        if self.backend == "faiss":
            return "faiss"
        if self.kind == "exact":
            return f"{self.backend} (exact scan, cosine)"
        ef = f" ef_search={self.ef_search}" if self.ef_search else ""
        return f"{self.backend} (HNSW{ef}, cosine)"


def _native_kind(store: VectorStore) -> str:
    """What a store serves by default: "exact" for a FLAT Milvus collection, else "hnsw"."""
    return "exact" if str(getattr(store, "index", "HNSW")).upper() == "FLAT" else "hnsw"


def store_collection(dataset: str, model: str, content_hash: str) -> str:
    """A store-safe collection name: letter first, [A-Za-z0-9_], at most 40 characters."""
    base = re.sub(r"[^A-Za-z0-9]+", "_", f"{dataset}_{model}").strip("_")[:26]
    if not base or not base[0].isalpha():
        base = "m_" + base
    return f"{base}_{content_hash[:12]}"


class StoreIndex:
    """A model's vectors held in a VectorStore; thread-safe if the store is."""

    def __init__(self, store: VectorStore, backend: str, collection: str, ids: np.ndarray, dim: int,
                 config: StoreConfig | None = None, options: dict[str, Any] | None = None,
                 notes: tuple[Note, ...] = ()) -> None:
        self.store = store
        self.backend = backend
        self.collection = collection
        self.ids = np.asarray(ids, dtype=np.int64)
        self.dim = int(dim)
        self.config = config or StoreConfig(backend, _native_kind(store))
        self.source = backend
        self._options = dict(options or {})
        #: what the answer should tell the user about how it was searched
        self.notes: tuple[Note, ...] = notes

    def configured(self, requested: Any | None) -> "StoreIndex":
        """A view of this index that searches as ``requested`` (an IndexConfig, or None for the
        store's default) where the backend can; otherwise the backend's own index, with a note."""
        if requested is None:
            return self
        native = _native_kind(self.store)
        modes = tuple(getattr(self.store, "search_modes", (native,)))
        kind = getattr(requested, "kind", None)
        options: dict[str, Any] = {}
        notes: list[Note] = []
        if kind in modes and kind == "exact":
            if native != "exact":
                options["exact"] = True
            cfg = StoreConfig(self.backend, "exact")
        elif kind in modes and kind == "hnsw":
            ef = int(requested.ef_search)
            cap = getattr(self.store, "max_ef_search", None)
            if cap is not None and ef > cap:
                notes.append(note("index_ef_capped", backend=self.backend, cap=cap, requested=ef))
                ef = cap
            options["ef_search"] = ef
            cfg = StoreConfig(self.backend, "hnsw", ef)
        else:
            cfg = StoreConfig(self.backend, native)
            served = "exact scan" if native == "exact" else "HNSW index"
            notes.append(note("index_kind_unavailable", backend=self.backend,
                              kind="exact" if kind == "exact" else str(kind).upper(), served=served))
        return StoreIndex(self.store, self.backend, self.collection, self.ids, self.dim, cfg, options, tuple(notes))

    @classmethod
    def open(cls, store: VectorStore, backend: str, dataset: str, model: str, ids: np.ndarray,
             unit: np.ndarray, content_hash: str, columns: FilterColumns | None = None) -> "StoreIndex":
        """Reuse the collection for these vectors if it is complete, else (re)load it.

        ids int64 (n,), unit float32 (n, d) L2-normalised rows; ``columns`` their filter columns
        (``content_hash`` must then cover them too, so changed columns load a new collection).
        """
        name = store_collection(dataset, model, content_hash)
        if store.count(name) != len(ids):
            log.info("loading %d %s vectors into %s collection %s", len(ids), model, backend, name)
            if columns is None:
                store.upsert(name, ids, unit)
            else:
                store.upsert(name, ids, unit, columns)  # type: ignore[call-arg]
        return cls(store, backend, name, ids, unit.shape[1])

    def updated(self, add_ids: np.ndarray, add_vectors: np.ndarray, remove_ids: np.ndarray,
                columns: FilterColumns | None = None) -> "StoreIndex":
        """Apply a catalogue edit to the collection in place (the store's ``delete`` and ``add``: no
        reload) and return an index over the new ids.  add_ids int64 (a,), add_vectors float32 (a, d)
        unit rows, remove_ids int64 (r,); ``columns`` the added movies' filter columns."""
        remove_ids = np.asarray(remove_ids, np.int64)
        add_ids = np.asarray(add_ids, np.int64)
        if len(remove_ids):
            self.store.delete(self.collection, remove_ids)
        if len(add_ids):
            self.store.add(self.collection, add_ids, add_vectors, columns)  # type: ignore[call-arg]
        ids = np.union1d(self.ids[~np.isin(self.ids, remove_ids)], add_ids)
        return StoreIndex(self.store, self.backend, self.collection, ids, self.dim, self.config,
                          self._options, self.notes)

    @property
    def ntotal(self) -> int:
        return int(len(self.ids))

    def _filtered_options(self, where: Selection | None) -> tuple[str, dict[str, Any]]:
        """(planner path, the store's search options) for a search with ``where``: the filter goes
        to the store (SQL WHERE, Milvus expression); few matching movies on a store that can scan
        exactly (pgvector) are searched exactly, the WHERE picking the rows."""
        path = plan_path(where)
        options = dict(self._options)
        if path in ("subset", "index"):
            options["where"] = where
            modes = tuple(getattr(self.store, "search_modes", ()))
            if path == "subset" and "exact" not in modes:
                path = "index"  # an HNSW Milvus collection applies its expression inside its own index search
            elif path == "subset" and _native_kind(self.store) != "exact":
                options.pop("ef_search", None)
                options["exact"] = True
        return path, options

    def plan(self, where: Selection | None) -> Plan:
        """How a search with ``where`` runs on this store; pgvector reports the SQL it runs."""
        path, options = self._filtered_options(where)
        total = where.total if where is not None else self.ntotal
        matching = where.matching if where is not None else self.ntotal
        statement = getattr(self.store, "statement", None)
        sql = (statement(self.collection, 1, **options) if statement is not None and path in ("subset", "index")
               else None)
        params = ""
        expression = getattr(self.store, "filter_expression", None)
        if path in ("subset", "index") and expression is not None and where is not None:
            params = f"expression: {expression(where.filter)}"
        elif path == "index":
            params = "hnsw.iterative_scan = relaxed_order"
        return Plan(path, matching, total, self.config.label(), params, sql)

    def search(self, queries: np.ndarray, k: int, where: Selection | None = None) -> tuple[np.ndarray, np.ndarray]:
        """queries float32 (q, d) or (d,) -> (scores float32 (q, k), ids int64 (q, k)); only movies of
        ``where`` when given (the store filters in the same query)."""
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        path, options = self._filtered_options(where)
        if path == "none":
            return empty_results(len(q), int(k))
        if options:
            return self.store.search(self.collection, q, int(k), **options)  # type: ignore[call-arg]
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
