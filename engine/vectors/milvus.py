"""Milvus behind :class:`engine.vectors.contract.VectorStore` (pymilvus ``MilvusClient``).

Where the data lives, first match wins:

1. ``uri=`` or ``MOVIEDNA_MILVUS_URI``: a Milvus server/cluster (``http://host:19530``)
   for scale-out, or a local ``*.db`` path;
2. otherwise a Milvus Lite database at ``<cache_root>/milvus.db`` (a directory).

Milvus Lite runs in-process and holds an exclusive ``flock`` on its directory, so only
one process may open it, and inside that process every store must share one client:
clients live in a module-level registry guarded by a lock and are reference counted.
The lock dies with its process, so a SIGKILLed client leaves nothing to clean up;
Milvus Lite replays its write-ahead log on the next open.

Layout: one collection per model (``moviedna_<model>``, see :func:`milvus_identifier`)
with ``movie_id`` INT64 primary key and ``embedding`` FLOAT_VECTOR(d), an HNSW or
FLAT index with the IP metric (vectors are unit length, so IP is cosine), and the filter columns
as scalar fields: ``year`` and ``n_ratings`` INT64, ``genres`` ARRAY of VARCHAR.  A filtered search
passes a filter expression (:func:`filter_expression`); Milvus applies it during the search.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from engine.core.config import cache_root
from engine.core.errors import BackendError, DimensionMismatchError, MovieDNAError, ModelNotBuiltError
from engine.vectors.contract import (
    Filter, FilterColumns, Selection, pad_results, prepare_queries, prepare_vectors, validate_model_name, widen,
)

try:
    from pymilvus import DataType, MilvusClient
    from pymilvus.exceptions import MilvusException
except ImportError as exc:  # pragma: no cover - pymilvus is in requirements.txt
    raise ImportError("milvus backend needs pymilvus and milvus-lite; pip install -r requirements.txt") from exc

log = logging.getLogger(__name__)

INDEXES = ("HNSW", "FLAT")
INSERT_BATCH = 5_000  # rows per insert call; keeps gRPC messages well under their size limit
ID_FIELD, VEC_FIELD = "movie_id", "embedding"
SEARCH_ATTEMPTS = 4  # retries cover a concurrent upsert's collection swap
SWAP_WAIT_SECONDS = 60.0  # longest a failed search waits for a running swap to end


MAX_GENRES_PER_MOVIE, MAX_GENRE_CHARS = 64, 64
MAX_EF = 32_768  # Milvus's bound for HNSW ef


def filter_expression(flt: Filter | None) -> str:
    """A Milvus boolean expression with the conditions of :meth:`engine.data.filters.Facets.select`;
    "" for no filter.  Genre names are written as JSON strings (quotes escaped); numbers are ints."""
    if flt is None or not flt.active:
        return ""
    parts = []
    if flt.genres:
        fn = "ARRAY_CONTAINS_ANY" if flt.genre_mode == "any" else "ARRAY_CONTAINS_ALL"
        parts.append(f"{fn}(genres, {json.dumps(list(flt.genres))})")
    if flt.year_min is not None:
        parts.append(f"year >= {int(flt.year_min)}")
    if flt.year_max is not None:
        parts.append(f"year >= 1 and year <= {int(flt.year_max)}")
    if flt.min_ratings:
        parts.append(f"n_ratings >= {int(flt.min_ratings)}")
    if flt.exclude:
        parts.append(f"{ID_FIELD} not in {json.dumps([int(i) for i in flt.exclude])}")
    return " and ".join(parts)


def milvus_identifier(model: str) -> str:
    """Milvus names allow only ``[A-Za-z0-9_]``: escape ``_`` as ``_u`` and ``-`` as ``_h`` (injective)."""
    return "moviedna_" + validate_model_name(model).replace("_", "_u").replace("-", "_h")


def is_local(uri: str) -> bool:
    """True for a Milvus Lite path (``*.db``), False for a server URI."""
    return "://" not in uri and uri.endswith(".db")


class _LiteNoiseFilter(logging.Filter):
    """Drop the traceback Milvus Lite's in-process gRPC server logs for ``AllocTimestamp``.

    pymilvus calls that RPC while waiting for an index build; Lite does not implement it,
    pymilvus recovers, but gRPC logs a full traceback on every ``upsert``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and "Method not implemented" in str(record.exc_info[1]))


_GRPC_SERVER_LOG = logging.getLogger("grpc._server")
_LITE_FILTER = _LiteNoiseFilter()


@dataclass
class _Shared:
    client: Any  # MilvusClient
    refs: int = 0
    # Serialises loads through this client: concurrent upserts share the staging name.
    load_lock: threading.Lock = field(default_factory=threading.Lock)


_CLIENTS: dict[str, _Shared] = {}
_CLIENTS_LOCK = threading.Lock()


def _acquire_client(uri: str, token: str) -> _Shared:
    with _CLIENTS_LOCK:
        shared = _CLIENTS.get(uri)
        if shared is None:
            if is_local(uri):
                Path(uri).parent.mkdir(parents=True, exist_ok=True)
                _GRPC_SERVER_LOG.addFilter(_LITE_FILTER)  # idempotent
            try:
                client = MilvusClient(uri=uri, token=token)
            except Exception as exc:  # pymilvus raises several types; all mean "unusable"
                hint = " (another process may hold this Milvus Lite file)" if is_local(uri) else ""
                raise BackendError(f"Cannot open Milvus at {uri}{hint}: {exc}") from exc
            shared = _CLIENTS[uri] = _Shared(client)
        shared.refs += 1
        return shared


def _release_client(uri: str) -> None:
    with _CLIENTS_LOCK:
        shared = _CLIENTS.get(uri)
        if shared is None:
            return
        shared.refs -= 1
        if shared.refs > 0:
            return
        del _CLIENTS[uri]
        with contextlib.suppress(Exception):
            shared.client.close()
        if is_local(uri):
            # Stop the in-process Lite server so its file lock is freed for other processes.
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(uri)


class MilvusStore:
    """Vector store on Milvus (Lite file or server), one collection per model.

    Args:
        uri: Milvus server URI or Lite ``*.db`` path; default ``MOVIEDNA_MILVUS_URI``,
            else ``<cache_root>/milvus.db``.
        index: ``"HNSW"`` (approximate) or ``"FLAT"`` (exact).
        m, ef_construction: HNSW build parameters.
        ef: HNSW search breadth (raised to k when k is larger).
        token: server credentials (``user:password`` or an API key); unused by Lite.
    """

    name = "milvus"
    #: the expression a filtered search passes (reported in the answer's notes)
    filter_expression = staticmethod(filter_expression)

    @property
    def search_modes(self) -> tuple[str, ...]:
        """Index kinds search() can run: the collection's own (HNSW, or FLAT = exact)."""
        return ("exact",) if self.index == "FLAT" else ("hnsw",)

    def __init__(self, uri: str | None = None, index: str = "HNSW", m: int = 16, ef_construction: int = 64,
                 ef: int = 100, token: str | None = None) -> None:
        index = index.upper()
        if index not in INDEXES:
            raise BackendError(f"Unknown Milvus index {index!r}; use one of {', '.join(INDEXES)}.")
        self.index, self.m, self.ef_construction, self.ef = index, int(m), int(ef_construction), int(ef)
        uri = uri or os.environ.get("MOVIEDNA_MILVUS_URI") or str(cache_root() / "milvus.db")
        # One registry key per database: absolute paths so "./x.db" and "/abs/x.db" share a client.
        self.uri = str(Path(uri).expanduser().resolve()) if is_local(uri) else uri
        shared = _acquire_client(self.uri, token or os.environ.get("MOVIEDNA_MILVUS_TOKEN", ""))
        self._client, self._load_lock = shared.client, shared.load_lock
        self._dims: dict[str, int] = {}
        self._known: set[str] = set()   # collections this store has loaded or found (kept across swaps)
        self._lock = threading.Lock()
        self._closed = False

    # --- writes -------------------------------------------------------------------
    def upsert(self, model: str, movie_ids: np.ndarray, vectors: np.ndarray,
               columns: FilterColumns | None = None) -> None:
        """Replace the model's collection: ids int64 (n,), vectors float32 (n, d); ``columns`` the
        movies' filter columns in the same order (None: empty, so any filter matches nothing)."""
        name = milvus_identifier(model)
        ids, vecs = prepare_vectors(movie_ids, vectors)
        staging = name + "__new"  # escaped names never contain "__", so this cannot collide
        c = self._client
        with self._errors(model), self._load_lock:  # readers are not blocked: they use the old collection
            if c.has_collection(staging):
                c.drop_collection(staging)
            c.create_collection(staging, schema=self._schema(vecs.shape[1]), index_params=self._index_params())
            n = len(ids)
            years = columns.years.tolist() if columns is not None else [0] * n
            counts = columns.n_ratings.tolist() if columns is not None else [0] * n
            genres = ([[str(g)[:MAX_GENRE_CHARS] for g in gs[:MAX_GENRES_PER_MOVIE]] for gs in columns.genres]
                      if columns is not None else [[]] * n)
            for start in range(0, n, INSERT_BATCH):
                stop = start + INSERT_BATCH
                rows = [{ID_FIELD: int(i), VEC_FIELD: v, "year": y, "n_ratings": c_, "genres": g}
                        for i, v, y, c_, g in zip(ids[start:stop], vecs[start:stop], years[start:stop],
                                                  counts[start:stop], genres[start:stop])]
                c.insert(staging, rows)
            c.flush(staging)  # seal segments so the index covers them (server); cheap on Lite
            # Swap: readers keep the old collection until the rename.
            if c.has_collection(name):
                c.drop_collection(name)
            c.rename_collection(staging, name)
            c.load_collection(name)  # a rename leaves the collection released
        with self._lock:
            self._dims[name] = int(vecs.shape[1])
            self._known.add(name)
        log.info("milvus: loaded %d x %d vectors into %s (%s)", *vecs.shape, name, self.index)

    def _schema(self, dim: int) -> Any:
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field(ID_FIELD, DataType.INT64, is_primary=True)
        schema.add_field(VEC_FIELD, DataType.FLOAT_VECTOR, dim=dim)
        schema.add_field("year", DataType.INT64)
        schema.add_field("n_ratings", DataType.INT64)
        schema.add_field("genres", DataType.ARRAY, element_type=DataType.VARCHAR,
                         max_capacity=MAX_GENRES_PER_MOVIE, max_length=MAX_GENRE_CHARS)
        return schema

    def _index_params(self) -> Any:
        params = self._client.prepare_index_params()
        extra = {"M": self.m, "efConstruction": self.ef_construction} if self.index == "HNSW" else {}
        params.add_index(field_name=VEC_FIELD, index_type=self.index, metric_type="IP", params=extra)
        return params

    def add(self, model: str, movie_ids: np.ndarray, vectors: np.ndarray,
            columns: FilterColumns | None = None) -> None:
        """Milvus ``upsert`` of ids int64 (a,), vectors float32 (a, d) into the existing collection, with
        their filter ``columns`` when given (None: unknown year, no ratings, no genres)."""
        name = milvus_identifier(model)
        ids, vecs = prepare_vectors(movie_ids, vectors)
        n = len(ids)
        years = columns.years.tolist() if columns is not None else [0] * n
        counts = columns.n_ratings.tolist() if columns is not None else [0] * n
        genres = ([[str(g)[:MAX_GENRE_CHARS] for g in gs[:MAX_GENRES_PER_MOVIE]] for gs in columns.genres]
                  if columns is not None else [[]] * n)
        with self._errors(model):
            dim = self._dim(model, name)
            if vecs.shape[1] != dim:
                raise DimensionMismatchError(f"New vectors have dimension {vecs.shape[1]} but {model!r} stores {dim}.")
            self._client.upsert(name, [{ID_FIELD: int(i), VEC_FIELD: v, "year": int(y), "n_ratings": int(c), "genres": g}
                                       for i, v, y, c, g in zip(ids, vecs, years, counts, genres)])
            self._client.flush(name)

    def delete(self, model: str, movie_ids: np.ndarray) -> None:
        """Milvus ``delete`` by primary key: ids int64 (r,); absent ids are ignored."""
        name = milvus_identifier(model)
        ids = [int(i) for i in np.asarray(movie_ids, np.int64).reshape(-1)]
        with self._errors(model):
            self._dim(model, name)
            if ids:
                self._client.delete(name, ids=ids)
                self._client.flush(name)

    def drop(self, model: str) -> None:
        """Drop the model's collection if present."""
        name = milvus_identifier(model)
        with self._errors(model):
            if self._client.has_collection(name):
                self._client.drop_collection(name)
        with self._lock:
            self._dims.pop(name, None)
            self._known.discard(name)

    # --- reads --------------------------------------------------------------------
    def count(self, model: str) -> int:
        """Entities in the model's collection (0 if absent)."""
        name = milvus_identifier(model)
        with self._errors(model):
            if not self._client.has_collection(name):
                return 0
            res = self._client.query(name, filter="", output_fields=["count(*)"], consistency_level="Strong")
        return int(res[0]["count(*)"])

    def search(self, model: str, queries: np.ndarray, k: int, *, ef_search: int | None = None,
               where: Selection | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k by IP: queries float32 (q, d) -> (cosine scores float32 (q, k), movie ids int64 (q, k)).

        ``ef_search`` overrides the store's HNSW ``ef`` for this call (ignored by FLAT); ``where``:
        only movies its filter keeps (:func:`filter_expression`, applied by Milvus during the search).
        """
        name = milvus_identifier(model)
        expr = filter_expression(where.filter if where is not None else None)
        if expr and self.index == "HNSW" and where is not None:
            # measured (benchmarks/bench_filters.py): Milvus Lite keeps only the matching movies among
            # the ef it visits, so a selective expression returned too few rows; widen ef by
            # 1/selectivity like FAISS's efSearch
            ef_search = widen(self.ef if ef_search is None else int(ef_search), where, where.total, MAX_EF)
        for attempt in range(SEARCH_ATTEMPTS):
            try:
                return self._search_once(model, name, queries, k, ef_search, expr)
            except (BackendError, ModelNotBuiltError) as exc:
                with self._lock:
                    # a model we have seen before, or any model while an upsert runs, may be mid-swap
                    maybe_swapping = name in self._known or self._load_lock.locked()
                if attempt == SEARCH_ATTEMPTS - 1 or (isinstance(exc, ModelNotBuiltError) and not maybe_swapping):
                    raise
                # A concurrent upsert swaps collections (drop, rename, load): the name can be
                # briefly missing or released.  Forget what we knew and retry once it settles.
                with self._lock:
                    self._dims.pop(name, None)
                # wait for an upsert in this process to finish its swap (it holds the load lock),
                # rather than guessing how long a rename + load takes on a busy machine
                if self._load_lock.acquire(timeout=SWAP_WAIT_SECONDS):
                    self._load_lock.release()
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def _search_once(self, model: str, name: str, queries: np.ndarray, k: int,
                     ef_search: int | None = None, expr: str = "") -> tuple[np.ndarray, np.ndarray]:
        with self._errors(model):
            q, k = prepare_queries(queries, self._dim(model, name), k)
            params: dict[str, Any] = {"metric_type": "IP", "params": {}}
            if self.index == "HNSW":
                ef = self.ef if ef_search is None else int(ef_search)
                params["params"]["ef"] = max(ef, k)  # HNSW returns at most ef hits
            res = self._client.search(name, data=list(q), limit=k, search_params=params, filter=expr,
                                      output_fields=[ID_FIELD], anns_field=VEC_FIELD)
        return pad_results([[(int(h[ID_FIELD]), float(h["distance"])) for h in hits] for hits in res], k)

    def _dim(self, model: str, name: str) -> int:
        with self._lock:
            if name in self._dims:
                return self._dims[name]
        if not self._client.has_collection(name):
            raise ModelNotBuiltError(f"Milvus has no vectors for model {model!r}; build or upsert them first.")
        fields = self._client.describe_collection(name)["fields"]
        dim = int(next(f for f in fields if f["name"] == VEC_FIELD)["params"]["dim"])
        # Load state is not persisted: after a restart the collection starts released.
        self._client.load_collection(name)
        with self._lock:
            self._dims[name] = dim
            self._known.add(name)
        return dim

    # --- lifecycle ----------------------------------------------------------------
    @contextlib.contextmanager
    def _errors(self, model: str) -> Iterator[None]:
        """Turn pymilvus errors into MovieDNA's named exceptions."""
        if self._closed:
            raise BackendError("This Milvus store is closed; open a new one.")
        try:
            yield
        except MovieDNAError:
            raise
        except MilvusException as exc:
            if "dim" in str(exc).lower():  # the collection was replaced with another dimension
                with self._lock:
                    self._dims.pop(milvus_identifier(model), None)
                raise DimensionMismatchError(f"Queries do not match the dimension of model {model!r} ({exc}).") from exc
            raise BackendError(f"Milvus failed for model {model!r}: {exc}") from exc

    def close(self) -> None:
        """Release this store's share of the client; the last one stops Milvus Lite and frees its lock."""
        if not self._closed:
            self._closed = True
            _release_client(self.uri)

    def __enter__(self) -> "MilvusStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"MilvusStore({self.uri}, index={self.index}, ef={self.ef})"
