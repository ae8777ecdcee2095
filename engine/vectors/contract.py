"""One interface for every vector database MovieDNA can search.

Backends: ``faiss`` (in-process, default; :mod:`engine.vectors.faiss_index`), ``pgvector``
(PostgreSQL + pgvector; :mod:`engine.vectors.pgvector`) and ``milvus``
(Milvus Lite file or server; :mod:`engine.vectors.milvus`).

Contract (all backends):

- Vectors handed to ``upsert`` are float32 ``(n, d)`` and are L2-normalised by the
  store, so inner product equals cosine similarity.
- ``add`` / ``delete`` change single rows of an existing collection (a movie added to or removed
  from the catalogue); ``upsert`` replaces the whole collection.
- ``search`` takes float32 queries ``(q, d)`` (normalised by the store) and returns
  ``(scores float32 (q, k), movie_ids int64 (q, k))`` best first; when fewer than k
  vectors exist the tail is padded with score ``-inf`` and id ``-1``.
- ``model`` names a collection/table; it must match ``[A-Za-z][A-Za-z0-9_-]{0,39}``.
- Implementations are safe to call from several threads at once.

Errors: a bad model name raises :class:`InvalidNameError`; vectors or queries of the
wrong shape or dimension raise :class:`DimensionMismatchError`; a database that cannot
be reached or used raises :class:`BackendError`.

The backend is chosen by ``open_store(name)``; ``open_store()`` without a name reads
``MOVIEDNA_VECTOR_BACKEND`` (default ``faiss``).

Which backends may be opened is the operator's choice, not a visitor's: ``pgvector`` and
``milvus`` start embedded database servers (PostgreSQL via initdb, as root with an OS user
and chmod of parent folders; a Milvus Lite file) unless a server URL is configured.
:func:`open_store` therefore opens only :func:`enabled_backends` (``MOVIEDNA_BACKENDS``,
default ``faiss``, plus ``MOVIEDNA_VECTOR_BACKEND`` and what :func:`enable_backends` added
for this process, e.g. the CLI's ``--backend``) and raises :class:`BackendNotEnabledError`
for any other before anything is started.  The helpers below
(:func:`validate_model_name`, :func:`prepare_vectors`, :func:`prepare_queries`,
:func:`pad_results`) are shared by all backends so they reject the same inputs.
"""

from __future__ import annotations

import importlib
import math
import os
import threading
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import numpy as np

from engine.core.arrays import normalize  # noqa: F401  (every store normalises the same way)
from engine.data.filters import Filter, FilterColumns, Selection  # noqa: F401  (what a filtered search takes)
from engine.core.notes import Note, note
from engine.core.inputs import MAX_K, check_k, validate_name  # noqa: F401  (searches share one k limit)
from engine.core.errors import BackendNotEnabledError, BadQueryError, DimensionMismatchError, UnknownBackendError

BACKENDS: dict[str, str] = {
    "faiss": "engine.vectors.faiss_index:FaissStore",
    "pgvector": "engine.vectors.pgvector:PgVectorStore",
    "milvus": "engine.vectors.milvus:MilvusStore",
}

DEFAULT_BACKEND = "faiss"
SEARCH_MAX_K = 16_384  # most neighbours one store search returns (Milvus's top-k ceiling; FAISS allows its size)
#: the planner's threshold: a filter matching at most this many movies is searched exactly over just
#: those rows (no index); above it the index searches with the filter.  Measured at 1M x 64
#: (benchmarks/bench_filters.py, docs/FILTERS.md): exact over the 10,000 rows of a 1 % filter takes
#: about what unfiltered HNSW takes with full recall, while HNSW with a selector at 10 % needs ~10x
#: its efSearch and still loses recall, and exact over 100,000 rows stays a few ms.
SUBSET_MAX = 100_000
#: how far a filtered ANN search widens (efSearch, nprobe: x 1/selectivity, at most this factor)
WIDEN_MAX = 64


@dataclass(frozen=True)
class Plan:
    """How one filtered search runs: ``path`` "all" (no filter), "none" (no movie matches), "subset"
    (exact search over the ``matching`` rows only), "index" (the index searched with the filter) or
    "catalogue" (no vector index: the catalogue's rows or a model's scores, filtered);
    ``params`` what it widened (e.g. "efSearch=512"); ``sql`` the parameterised statement a SQL
    store ran, with its WHERE (None elsewhere)."""

    path: str
    matching: int
    total: int
    index: str
    params: str = ""
    sql: str | None = None

    def notes(self) -> tuple[Note, ...]:
        """What the answer says about its filter (nothing without one)."""
        if self.path == "all":
            return ()
        if self.path == "none":
            out: tuple[Note, ...] = (note("filter_none", total=self.total),)
        elif self.path == "catalogue":
            out = (note("filter_matched", matching=self.matching, total=self.total),)
        elif self.path == "subset":
            out = (note("filter_subset", matching=self.matching, total=self.total),)
        else:
            out = (note("filter_index", matching=self.matching, total=self.total, index=self.index,
                        params=self.params or "-"),)
        return out + ((note("filter_sql", sql=self.sql),) if self.sql else ())


def plan_path(where: Selection | None) -> str:
    """"all", "none", "subset" or "index" for a selection: the cost
    of exact search over the matching rows grows with their number alone, so one absolute
    threshold decides (:data:`SUBSET_MAX`)."""
    if where is None or not where.filter.active:
        return "all"
    if where.matching == 0:
        return "none"
    return "subset" if where.matching <= SUBSET_MAX else "index"


def widen(value: int, where: Selection, ntotal: int, cap: int) -> int:
    """A search breadth (efSearch, nprobe) widened for a filter keeping ``where.matching`` of
    ``ntotal`` rows: ``value / selectivity``, at most ``WIDEN_MAX`` times and ``cap``."""
    sel = max(where.matching, 1) / max(ntotal, 1)
    return int(max(value, min(cap, value * WIDEN_MAX, math.ceil(value / sel))))


@runtime_checkable
class SearchIndex(Protocol):
    """One space's vectors, ready to search: the one surface the engine searches on every backend.

    FAISS (:class:`engine.vectors.faiss_index.FaissIndex`) and the served stores
    (:class:`engine.vectors.served.StoreIndex` over pgvector or Milvus) implement it; recsys and
    the service know nothing else.  ``ids`` int64 (n,): the movies it holds; ``notes``: what it says
    about how it searched (a backend that could not honour the index asked for); ``config`` has
    ``label()``.
    """

    ids: np.ndarray
    notes: tuple[Any, ...]

    @property
    def ntotal(self) -> int:
        """Number of vectors searched."""

    @property
    def config(self) -> Any:
        """What kind of index answers (``label()`` names it)."""

    def search(self, queries: np.ndarray, k: int, where: Selection | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k by cosine. queries float32 (q, d) or (d,) -> (scores float32 (q, k), ids int64 (q, k)),
        padded with -inf / -1 when fewer than k vectors exist (or match ``where``: only movies of the
        selection are returned)."""

    def plan(self, where: Selection | None) -> Plan:
        """How ``search(..., where)`` runs (the path the planner takes, what it widened, the SQL)."""


@runtime_checkable
class VectorStore(Protocol):
    name: str

    def upsert(self, model: str, movie_ids: np.ndarray, vectors: np.ndarray,
               columns: "FilterColumns | None" = None) -> None:
        """Replace the model's collection with these vectors. ids int64 (n,), vectors float32 (n, d);
        ``columns`` the movies' filter columns in the same order."""

    def search(self, model: str, queries: np.ndarray, k: int, where: "Selection | None" = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k by cosine, only movies of ``where`` when given. queries float32 (q, d) ->
        (scores float32 (q, k), ids int64 (q, k))."""

    def add(self, model: str, movie_ids: np.ndarray, vectors: np.ndarray,
            columns: "FilterColumns | None" = None) -> None:
        """Insert rows into the model's existing collection, replacing rows with the same ids (an edit
        of the catalogue, not a reload): FAISS ``add`` / ``add_with_ids``, pgvector ``INSERT … ON
        CONFLICT``, Milvus ``upsert``.  ids int64 (a,), vectors float32 (a, d) of the stored dimension;
        ``columns`` their filter columns (stores that filter on their own columns keep them)."""

    def delete(self, model: str, movie_ids: np.ndarray) -> None:
        """Remove these movies' rows from the model's collection (ids not there are ignored):
        FAISS ``remove_ids`` (HNSW: masked), pgvector ``DELETE``, Milvus ``delete``.  ids int64 (r,)."""

    def count(self, model: str) -> int:
        """Number of vectors stored for the model (0 if absent)."""

    def drop(self, model: str) -> None:
        """Remove the model's collection if present."""

    def close(self) -> None:
        """Release connections / stop embedded servers this store started."""


def default_backend() -> str:
    """The backend named by ``MOVIEDNA_VECTOR_BACKEND`` (default ``faiss``)."""
    return os.environ.get("MOVIEDNA_VECTOR_BACKEND", "").strip().lower() or DEFAULT_BACKEND


# --- which backends may be opened (operator policy) ------------------------------------
_OPERATOR_ENABLED: set[str] = set()
_POLICY_LOCK = threading.Lock()


def _configured(name: str, var: str) -> str:
    """A backend name the operator wrote in ``var``; a typo is loud (:class:`UnknownBackendError`),
    never a silently disabled backend."""
    try:
        return check_backend(name)
    except UnknownBackendError:
        raise UnknownBackendError(
            f"{var} names an unknown vector backend {name!r}; choose from {', '.join(sorted(BACKENDS))}."
        ) from None


def enable_backends(*names: str) -> None:
    """Enable backends for the rest of this process: the operator's own choice (the CLI's
    ``--backend``, a benchmark script), like setting ``MOVIEDNA_BACKENDS``.  Never call this
    with a name that came from a URL, a click or any other request."""
    known = [check_backend(n) for n in names]
    with _POLICY_LOCK:
        _OPERATOR_ENABLED.update(known)


def enabled_backends() -> tuple[str, ...]:
    """Backends this process may open, in :data:`BACKENDS` order: ``MOVIEDNA_BACKENDS``
    (default ``faiss``), the default backend and those added by :func:`enable_backends`.
    An unknown name in the environment raises :class:`UnknownBackendError`."""
    from engine.core.config import Settings

    names = {_configured(b, "MOVIEDNA_BACKENDS") for b in Settings.from_env().backends}
    names.add(_configured(default_backend(), "MOVIEDNA_VECTOR_BACKEND"))
    with _POLICY_LOCK:
        names |= _OPERATOR_ENABLED
    return tuple(b for b in BACKENDS if b in names)


def require_enabled(backend: object) -> str:
    """The backend's lower-case name if it is known and enabled; else :class:`UnknownBackendError`
    (unknown name) or :class:`BackendNotEnabledError` (known, but the operator did not enable it)."""
    name = check_backend(backend)
    enabled = enabled_backends()
    if name not in enabled:
        raise BackendNotEnabledError(
            f"The {name} backend is not enabled on this server (enabled: {', '.join(enabled)}); "
            f"the operator can enable it with MOVIEDNA_BACKENDS={','.join((*enabled, name))}."
        )
    return name


def open_store(backend: str | None = None, **options: Any) -> VectorStore:
    """Instantiate a backend by name (``None`` -> :func:`default_backend`); options go to its constructor.

    Only an enabled backend is opened (:func:`require_enabled`), so a disabled one never starts a server."""
    target = BACKENDS[require_enabled(default_backend() if backend is None else backend)]
    module_name, cls_name = target.split(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    return cls(**options)


# --- shared input checks -------------------------------------------------------------
def check_backend(backend: object) -> str:
    """A known backend name (case and spaces forgiven), else :class:`UnknownBackendError`."""
    name = backend.strip().lower() if isinstance(backend, str) else None
    if name not in BACKENDS:
        raise UnknownBackendError(f"Unknown vector backend {backend!r}; choose one of {', '.join(sorted(BACKENDS))}.")
    return name


def validate_model_name(model: object) -> str:
    """Return ``model`` if it is a safe collection name, else raise :class:`InvalidNameError`."""
    return validate_name(model, "model")






def _as_matrix(x: Any, what: str) -> np.ndarray:
    arr = np.asarray(x, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise DimensionMismatchError(f"{what} must be a 2-D array (n, d); got shape {arr.shape}.")
    if not np.isfinite(arr).all():
        raise DimensionMismatchError(f"{what} contain NaN or infinite values; rebuild them.")
    return arr


def prepare_vectors(movie_ids: Any, vectors: Any) -> tuple[np.ndarray, np.ndarray]:
    """Check and normalise an upsert: -> (ids int64 (n,), vectors float32 (n, d) unit rows)."""
    vecs = _as_matrix(vectors, "Vectors")
    ids = np.asarray(movie_ids)
    if ids.ndim != 1 or ids.shape[0] != vecs.shape[0]:
        raise DimensionMismatchError(
            f"movie_ids must be 1-D with one id per vector; got {ids.shape} ids for {vecs.shape[0]} vectors."
        )
    ids = ids.astype(np.int64, copy=False)
    if np.unique(ids).size != ids.size:
        raise DimensionMismatchError("movie_ids contain duplicates; each movie may have one vector.")
    return np.ascontiguousarray(ids), normalize(vecs)


def prepare_queries(queries: Any, dim: int | None, k: Any) -> tuple[np.ndarray, int]:
    """Check queries against the stored dimension: -> (float32 (q, d) unit rows, k)."""
    q = np.asarray(queries, dtype=np.float32)
    if q.ndim == 1:
        q = q[None, :]
    q = _as_matrix(q, "Queries")
    if dim is not None and q.shape[1] != dim:
        raise DimensionMismatchError(f"Queries have dimension {q.shape[1]} but the collection stores {dim}-d vectors.")
    return normalize(q), check_k(k, limit=SEARCH_MAX_K)


def empty_results(n_queries: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """All-padding result: scores float32 (q, k) of -inf, ids int64 (q, k) of -1."""
    return np.full((n_queries, k), -np.inf, dtype=np.float32), np.full((n_queries, k), -1, dtype=np.int64)


def pad_results(rows: list[list[tuple[int, float]]], k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-query lists of (movie_id, score), best first -> padded (scores (q, k), ids (q, k))."""
    scores, ids = empty_results(len(rows), k)
    for i, hits in enumerate(rows):
        for j, (mid, score) in enumerate(hits[:k]):
            ids[i, j] = mid
            scores[i, j] = score
    return scores, ids


def exact_search(vectors: np.ndarray, movie_ids: np.ndarray, queries: np.ndarray, k: int,
                 unit: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Brute-force ground truth with numpy: cosine top-k -> (scores float32 (q, k), ids int64 (q, k)).
    ``unit``: the rows and queries are L2-normalised already (skips normalising them again)."""
    if len(movie_ids) == 0:
        return empty_results(len(np.atleast_2d(queries)), k)
    base, q = (vectors, np.atleast_2d(queries)) if unit else (normalize(vectors), normalize(queries))
    sims = q @ base.T
    kk = min(k, base.shape[0])
    top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    order = np.take_along_axis(sims, top, axis=1).argsort(axis=1)[:, ::-1]
    top = np.take_along_axis(top, order, axis=1)
    scores, ids = empty_results(q.shape[0], k)
    scores[:, :kk] = np.take_along_axis(sims, top, axis=1)
    ids[:, :kk] = np.asarray(movie_ids, np.int64)[top]
    return scores, ids
