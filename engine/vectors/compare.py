"""Scale lab: the same vectors and queries through every backend, side by side.

For each backend: load time (``upsert`` incl. index build), single-query latency
p50/p99 in milliseconds (one query per call, as the app issues them, after a short
warm-up), and recall@k against exact numpy search (normalised inner product).
A backend that cannot be imported or started is reported as skipped with the reason,
so the comparison still runs where, say, FAISS or a server is unavailable.  Only backends
the operator enabled are opened (:func:`engine.vectors.contract.enabled_backends`); one
that is named but not enabled is reported as skipped and never started.

:func:`compare_space` is the Scale lab's "your vectors in every database": taste-like
queries over one model's vectors, one run at a time per process (:class:`BusyError`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from typing import Any, Iterable

import numpy as np

from engine.core.errors import BadQueryError, BusyError
from engine.vectors.contract import enabled_backends, exact_search, normalize, open_store, validate_model_name

log = logging.getLogger(__name__)

WARMUP_QUERIES = 5


def recall_at_k(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean |found ∩ truth| / |truth| over queries; ids int64 (q, k), -1 = padding."""
    hits = [len(set(f[f >= 0].tolist()) & set(t[t >= 0].tolist())) / max(1, int((t >= 0).sum()))
            for f, t in zip(found, truth)]
    return float(np.mean(hits)) if hits else float("nan")


TIE_EPS = 1e-4  # cosine: results this close to the k-th best count as equally good


def tie_aware_recall(found: np.ndarray, movie_ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray,
                     k: int) -> float:
    """Mean share of returned ids whose exact cosine is >= the exact k-th best cosine - TIE_EPS.

    Plain id overlap undercounts when several movies tie (near-identical vectors of rarely
    rated movies): any of the tied ones is a correct answer.  found int64 (q, k).
    """
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    qn = queries / np.maximum(np.linalg.norm(queries, axis=1, keepdims=True), 1e-12)
    sims = qn @ unit.T  # (q, n)
    kk = min(k, sims.shape[1])  # fewer vectors than k: every one of them is a right answer
    kth = -np.partition(-sims, kk - 1, axis=1)[:, kk - 1]
    row = {int(m): i for i, m in enumerate(movie_ids)}
    hits = []
    for qi, ids in enumerate(found):
        good = sum(1 for m in ids if m >= 0 and sims[qi, row[int(m)]] >= kth[qi] - TIE_EPS)
        hits.append(min(good, kk) / kk)
    return float(np.mean(hits)) if hits else float("nan")


def _measure(store: Any, model: str, movie_ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray,
             k: int, truth: np.ndarray) -> dict[str, Any]:
    t0 = time.perf_counter()
    store.upsert(model, movie_ids, vectors)
    load_s = time.perf_counter() - t0
    for q in queries[:WARMUP_QUERIES]:
        store.search(model, q[None, :], k)
    latencies, found = [], []
    for q in queries:
        t0 = time.perf_counter()
        _, ids = store.search(model, q[None, :], k)
        latencies.append((time.perf_counter() - t0) * 1000.0)
        found.append(ids[0])
    lat = np.asarray(latencies)
    return {
        "status": "ok", "n": int(store.count(model)), "load_s": round(load_s, 4),
        "p50_ms": round(float(np.percentile(lat, 50)), 3), "p99_ms": round(float(np.percentile(lat, 99)), 3),
        "qps_serial": round(1000.0 / float(lat.mean()), 1),
        f"recall@{k}": round(tie_aware_recall(np.stack(found), movie_ids, vectors, queries, k), 4),
        f"id_overlap@{k}": round(recall_at_k(np.stack(found), truth), 4),
    }


def compare_backends(movie_ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int = 10,
                     backends: Iterable[str] | None = None,
                     options: dict[str, dict[str, Any]] | None = None,
                     model: str = "scale_lab", keep: bool = False) -> list[dict[str, Any]]:
    """Load ids int64 (n,) + vectors float32 (n, d) into each backend and time queries float32 (q, d).

    A backend entry may carry a label after a colon (``"faiss:hnsw"``, ``"milvus:flat"``) to
    run one backend with several configurations; ``options[entry]`` goes to
    :func:`open_store` of the part before the colon.  The ``model`` collection is dropped
    afterwards unless ``keep``.  Returns one dict per backend: ``backend``, ``status``
    (``ok``/``skipped``/``failed``), ``reason`` when not ok, else ``n``, ``load_s``,
    ``p50_ms``, ``p99_ms``, ``qps_serial`` and ``recall@k``.  ``backends=None`` means every
    enabled backend; a named backend that is not enabled is skipped (never started).
    """
    validate_model_name(model)
    backends = enabled_backends() if backends is None else tuple(backends)
    options = options or {}
    queries = np.asarray(queries, dtype=np.float32)
    _, truth = exact_search(vectors, movie_ids, queries, k)
    results = []
    for name in backends:
        # JSON-safe copy of the options (paths -> str) so results can be written as JSON.
        row: dict[str, Any] = {"backend": name, "options": json.loads(json.dumps(options.get(name, {}), default=str))}
        try:
            store = open_store(name.split(":", 1)[0], **options.get(name, {}))
        except Exception as exc:  # ImportError, BackendError, missing module...: skip, record why
            log.warning("compare: skipping %s: %s", name, exc)
            results.append({**row, "status": "skipped", "reason": f"{exc.__class__.__name__}: {exc}"})
            continue
        try:
            row.update(_measure(store, model, movie_ids, vectors, queries, k, truth))
            if not keep:
                store.drop(model)
        except Exception as exc:  # one broken backend must not hide the others' numbers
            log.exception("compare: %s failed", name)
            row.update(status="failed", reason=f"{exc.__class__.__name__}: {exc}")
        finally:
            store.close()
        log.info("compare: %s", row)
        results.append(row)
    return results


def taste_like_queries(vectors: np.ndarray, n: int = 200, clicks: int = 3, seed: int = 0) -> np.ndarray:
    """Queries shaped like the app's taste vectors: the mean of ``clicks`` random movies' unit
    vectors.  vectors float32 (m, d) -> float32 (n, d) (not normalised; the stores do that)."""
    unit = normalize(vectors)
    rng = np.random.default_rng(seed)
    return unit[rng.integers(0, len(unit), size=(n, clicks))].mean(axis=1).astype(np.float32)


COMPARE_MAX_QUERIES = 1_000
_SPACE_LOCK = threading.Lock()  # one comparison at a time per process (they load whole databases)


def compare_space(movie_ids: np.ndarray, vectors: np.ndarray, model: str, n_queries: int = 200, k: int = 10,
                  backends: Iterable[str] | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """One model's vectors (ids int64 (n,), vectors float32 (n, d)) in every enabled backend,
    timed with ``n_queries`` taste-like queries; rows as :func:`compare_backends`.

    Runs one at a time per process: a second caller gets :class:`BusyError` at once
    instead of queueing server CPU behind the first."""
    if isinstance(n_queries, bool) or not isinstance(n_queries, (int, np.integer)) \
            or not 1 <= n_queries <= COMPARE_MAX_QUERIES:
        raise BadQueryError(f"A comparison takes 1 to {COMPARE_MAX_QUERIES:,} queries; got {n_queries!r}.")
    if not _SPACE_LOCK.acquire(blocking=False):
        raise BusyError("Another backend comparison is running on this server; try again when it has finished.")
    try:
        queries = taste_like_queries(vectors, int(n_queries), seed=seed)
        return compare_backends(movie_ids, vectors, queries, k=k, backends=backends, model=f"scale_lab_{model}")
    finally:
        _SPACE_LOCK.release()


def format_table(rows: list[dict[str, Any]], k: int = 10) -> str:
    """A fixed-width text table of :func:`compare_backends` rows."""
    head = f"{'backend':<12} {'status':<8} {'n':>8} {'load_s':>8} {'p50_ms':>8} {'p99_ms':>8} {'qps':>8} {'recall@' + str(k):>10}"
    lines = [head, "-" * len(head)]
    for r in rows:
        if r["status"] != "ok":
            lines.append(f"{r['backend']:<12} {r['status']:<8} {r.get('reason', '')}")
            continue
        lines.append(f"{r['backend']:<12} {r['status']:<8} {r['n']:>8} {r['load_s']:>8.3f} {r['p50_ms']:>8.3f} "
                     f"{r['p99_ms']:>8.3f} {r['qps_serial']:>8.1f} {r[f'recall@{k}']:>10.4f}")
    return "\n".join(lines)
