"""Scale lab: exact vs HNSW vs IVF (flat, SQ8, PQ fast-scan) on synthetic vectors of two distributions.

``hard`` (:func:`clustered_vectors`: isotropic blobs, intrinsic dimension near the full one) and
``real-like`` (:mod:`engine.lab.mixture`: fitted to a catalogue's own vectors); :func:`draw` names both.

Measures, per (n, d, index config): build seconds, memory of the index structure (MB,
from FAISS's own arrays), recall@10 against exact search, single-query latency p50/p99
(one thread, one query at a time) and batch QPS (all threads).  ``benchmarks/bench_scale.py``
runs the grid into ``engine/published/scale-<distribution>.json`` (read by the app's Scale page);
:func:`run_live` is a few-second version the page can start, with a progress callback.

A live run is started by an anonymous visitor, so it is bounded: at most
``MOVIEDNA_LIVE_MAX_N`` vectors (default 40,000), a wall-time guard
(``MOVIEDNA_LIVE_MAX_SECONDS``, default 20 s) that stops the run between steps and records
what was cut, and one run at a time per process (a second caller gets :class:`BusyError`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterator, Sequence

import faiss
import numpy as np

from engine.published import published_path
from engine.core import config
from engine.core.config import Progress, no_progress
from engine.core.errors import BadQueryError, BusyError
from engine.vectors.faiss_index import IndexConfig, build_faiss, faiss_threads, search_params, train_coarse

log = logging.getLogger(__name__)

RESULTS_PATH = published_path("scale")
LIVE_MAX_D = 1024
_LIVE_LOCK = threading.Lock()  # one live run per process: each takes all cores for seconds



def clustered_vectors(n: int, d: int, n_clusters: int | None = None, spread: float = 1.25,
                      seed: int = 0, centers_seed: int = 12345, chunk: int = 1_000_000) -> np.ndarray:
    """Unit-norm float32 (n, d): gaussian blobs around random centres, like real embeddings.

    The same ``centers_seed`` gives the same clusters, so queries (another ``seed``)
    come from the database's distribution without being database rows.
    """
    out = np.empty((n, d), dtype=np.float32)
    for start, block in clustered_chunks(n, d, n_clusters, spread, seed, centers_seed, chunk):
        out[start:start + len(block)] = block
    return out


def clustered_chunks(n: int, d: int, n_clusters: int | None = None, spread: float = 1.25,
                     seed: int = 0, centers_seed: int = 12345, chunk: int = 1_000_000) -> Iterator[tuple[int, np.ndarray]]:
    """The rows of :func:`clustered_vectors` as (first row, float32 (m, d) block) pairs, one
    ``chunk`` at a time, so 100M x 64 (25.6 GB) can be written to disk without holding it.

    Rows are identical for any ``chunk`` (the generator draws the same stream in order); the
    cluster labels are drawn up front (int64, 8 bytes a row: 800 MB at 100M).
    """
    n_clusters = n_clusters or max(16, int(np.sqrt(n)))
    centers = np.random.default_rng(centers_seed).standard_normal((n_clusters, d)).astype(np.float32)
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_clusters, n)
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        x = centers[labels[s:s + m]]
        x += spread * rng.standard_normal((m, d), dtype=np.float32)
        x /= np.linalg.norm(x, axis=1, keepdims=True)
        yield s, x


def index_memory_mb(index: faiss.Index, n: int, d: int) -> float:
    """Bytes held by the index's own arrays (vectors, graph links, list ids), in MB."""
    vec = n * d * 4
    if isinstance(index, faiss.IndexHNSW):
        extra = index.hnsw.neighbors.size() * 4 + index.hnsw.offsets.size() * 8 + n * 5
    elif isinstance(index, faiss.IndexRefine):  # codes (SQ8 or PQ) + ids + centroids beside the flat vectors
        ivf = faiss.extract_index_ivf(index.base_index)
        extra = n * (ivf.code_size + 8) + ivf.nlist * d * 4
    elif isinstance(index, faiss.IndexIVF):
        extra = n * 8 + index.nlist * d * 4
    else:
        extra = 0
    return (vec + extra) / 2**20


def family(cfg: IndexConfig) -> str:
    """The index family of a config: exact, hnsw, ivf-flat, ivf-sq8 or ivf-pqfs."""
    return f"ivf-{cfg.ivf_codec}" if cfg.kind == "ivf" else cfg.kind


def draw(distribution: str, n: int, d: int, seed: int = 0, mixture: Any = None,
         n_clusters: int | None = None) -> np.ndarray:
    """float32 (n, d) unit rows of one Scale lab distribution (``engine.core.registry.SCALE_DISTRIBUTIONS``):
    ``hard`` is :func:`clustered_vectors` (``n_clusters`` as there), ``real-like`` draws from a fitted
    :class:`engine.lab.mixture.Mixture` (``mixture``; its own d).  Queries: the same call, another seed."""
    from engine.lab.mixture import mixture_vectors
    from engine.core.registry import SCALE_DISTRIBUTIONS

    if distribution == "hard":
        return clustered_vectors(n, d, n_clusters=n_clusters, seed=seed)
    if distribution == "real-like":
        if mixture is None:
            raise BadQueryError("The real-like distribution needs a fitted mixture (engine.lab.mixture.catalogue_mixture).")
        return mixture_vectors(mixture, n, seed=seed)
    raise BadQueryError(f"Unknown distribution {distribution!r}; choose one of {', '.join(SCALE_DISTRIBUTIONS)}.")


def draw_queries(distribution: str, n_queries: int, n: int, d: int, seed: int = 1, mixture: Any = None) -> np.ndarray:
    """float32 (n_queries, d) held-out queries for a database of ``n`` rows drawn by :func:`draw` with
    seed 0: the same distribution, another seed, and (hard) the database's √n cluster centres."""
    return draw(distribution, n_queries, d, seed, mixture, n_clusters=max(16, int(np.sqrt(n))))


def latency_ms(index: faiss.Index, xq: np.ndarray, k: int = 10, params: Any = None,
               max_seconds: float = 5.0) -> tuple[float, float, int]:
    """Single-query p50, p99 (ms) and the number of queries timed (one thread)."""
    times: list[float] = []
    deadline = time.perf_counter() + max_seconds
    with faiss_threads(1):
        for i in range(len(xq)):
            t0 = time.perf_counter()
            index.search(xq[i:i + 1], k, params=params)
            times.append(time.perf_counter() - t0)
            if time.perf_counter() > deadline and len(times) >= 20:
                break
    t = np.array(times) * 1e3
    return float(np.percentile(t, 50)), float(np.percentile(t, 99)), len(times)


def batch_qps(index: faiss.Index, xq: np.ndarray, k: int = 10, params: Any = None) -> float:
    """Queries per second for one batch search over all of ``xq`` (all threads)."""
    t0 = time.perf_counter()
    index.search(xq, k, params=params)
    return float(len(xq) / (time.perf_counter() - t0))


def recall_at(found: np.ndarray, truth: np.ndarray) -> float:
    """Mean |found ∩ truth| / k over queries. int64 (q, k) each."""
    k = truth.shape[1]
    return float(np.mean([len(set(a) & set(b)) / k for a, b in zip(found, truth)]))




def measure(cfg: IndexConfig, xb: np.ndarray, xq: np.ndarray, truth: np.ndarray, k: int = 10,
            index: faiss.Index | None = None, latency_seconds: float = 5.0) -> dict[str, Any]:
    """Build (unless ``index`` is given) and measure one config. Returns one result row."""
    build_s = 0.0
    if index is None:
        t0 = time.perf_counter()
        index = build_faiss(xb, cfg)
        build_s = time.perf_counter() - t0
    params = search_params(cfg)
    _, found = index.search(xq, k, params=params)
    p50, p99, nq = latency_ms(index, xq, k, params, latency_seconds)
    ivf = faiss.try_extract_index_ivf(index) if cfg.kind == "ivf" else None
    return {
        "kind": cfg.kind, "family": family(cfg), "label": cfg.label(), "config": asdict(cfg), "n": len(xb),
        "d": xb.shape[1], "nlist": int(ivf.nlist) if ivf is not None else None,
        "build_s": round(build_s, 3), "memory_mb": round(index_memory_mb(index, len(xb), xb.shape[1]), 1),
        "recall_at_10": round(recall_at(found, truth), 4), "p50_ms": round(p50, 4), "p99_ms": round(p99, 4),
        "timed_queries": nq, "queries": len(xq), "batch_qps": round(batch_qps(index, xq, k, params), 1),
    }


def exact_truth(xb: np.ndarray, xq: np.ndarray, k: int = 10) -> tuple[faiss.Index, np.ndarray, float]:
    """(flat index, true top-k ids int64 (q, k), build seconds)."""
    t0 = time.perf_counter()
    flat = faiss.IndexFlatIP(xb.shape[1])
    flat.add(xb)
    build_s = time.perf_counter() - t0
    _, truth = flat.search(xq, k)
    return flat, truth, build_s


def run_grid(n: int, d: int, configs: Sequence[IndexConfig], n_queries: int = 1000, k: int = 10,
             progress: Progress = no_progress, latency_seconds: float = 5.0, seed: int = 0,
             distribution: str = "hard", mixture: Any = None) -> list[dict[str, Any]]:
    """Exact plus each config on one synthetic set of n x d drawn from ``distribution`` (see
    :func:`draw`). Rows as :func:`measure`, each naming its distribution.

    Configs that share a build key (e.g. several ``ef_search`` values) reuse one build.
    """
    return _grid(n, d, configs, n_queries, k, progress, latency_seconds, seed, None, distribution, mixture)[0]


def _grid(n: int, d: int, configs: Sequence[IndexConfig], n_queries: int, k: int, progress: Progress,
          latency_seconds: float, seed: int, max_seconds: float | None, distribution: str = "hard",
          mixture: Any = None) -> tuple[list[dict[str, Any]], str | None]:
    """:func:`run_grid` with an optional wall-time guard, checked between steps (a step that
    started always finishes).  Returns (rows, cut): ``cut`` says what was not measured, or None."""
    t0 = time.perf_counter()
    rows: list[dict[str, Any]] = []

    def over(todo: str) -> str | None:
        elapsed = time.perf_counter() - t0
        if max_seconds is None or elapsed <= max_seconds:
            return None
        cut = (f"stopped after {elapsed:.1f} s (time limit {max_seconds:.0f} s); not measured: {todo}")
        log.warning("live run n=%d d=%d %s", n, d, cut)
        progress(1.0, cut)
        return cut

    labels = ["exact", *(c.label() for c in configs)]
    progress(0.0, f"generating {n:,} x {d} vectors ({distribution})")
    xb = draw(distribution, n, d, seed, mixture)
    xq = draw_queries(distribution, n_queries, n, d, seed + 1, mixture)
    if cut := over(", ".join(labels)):
        return rows, cut
    progress(0.1, "exact ground truth")
    flat, truth, flat_build = exact_truth(xb, xq, k)
    rows.append(measure(IndexConfig("exact"), xb, xq, truth, k, index=flat, latency_seconds=latency_seconds))
    rows[0]["build_s"] = round(flat_build, 3)
    rows[0]["distribution"] = distribution
    del flat
    built: dict[str, tuple[faiss.Index, float]] = {}
    # one k-means per nlist, shared by every IVF codec (as an engineer building several would); each
    # row's build_s still counts it, so a row says what building that index alone costs
    coarse: dict[int, tuple[faiss.Index, float]] = {}
    for i, cfg in enumerate(configs):
        if cut := over(", ".join(labels[i + 1:])):
            return rows, cut
        progress(0.2 + 0.8 * i / max(len(configs), 1), f"{cfg.label()}")
        key = cfg.build_key()
        if key not in built:
            built.clear()  # keep one big structure in memory at a time
            shared, kmeans_s = None, 0.0
            if cfg.kind == "ivf":
                if cfg.nlist not in coarse:
                    t1 = time.perf_counter()
                    coarse[cfg.nlist] = (train_coarse(xb, cfg), time.perf_counter() - t1)
                shared, kmeans_s = coarse[cfg.nlist]
            t1 = time.perf_counter()
            built[key] = (build_faiss(xb, cfg, shared), kmeans_s + time.perf_counter() - t1)
        index, build_s = built[key]
        row = measure(cfg, xb, xq, truth, k, index=index, latency_seconds=latency_seconds)
        row["build_s"] = round(build_s, 3)
        row["distribution"] = distribution
        rows.append(row)
        log.info("%s n=%d: recall %.4f p50 %.3f ms", cfg.label(), n, row["recall_at_10"], row["p50_ms"])
    progress(1.0, "done")
    return rows, None


@dataclass(frozen=True)
class LiveRun:
    """What a live run measured: ``rows`` as :func:`measure`; ``cut`` says what the wall-time
    guard stopped (None when everything ran); ``seconds`` of wall time; the limits it ran under."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    cut: str | None = None
    seconds: float = 0.0
    max_n: int = config.DEFAULT_LIVE_MAX_N
    max_seconds: float = config.DEFAULT_LIVE_MAX_SECONDS


def live_limits() -> tuple[int, float]:
    """(largest n, wall-time guard in seconds) for live runs, as the operator configured them."""
    s = config.Settings.from_env()
    return s.live_max_n, s.live_max_seconds


def run_live(n: int = 20_000, d: int = 64, configs: Sequence[IndexConfig] | None = None,
             progress: Progress = no_progress, n_queries: int = 200, max_seconds: float | None = None) -> LiveRun:
    """A small live run (a few seconds at the defaults) for the Scale page.

    Bounded (see the module docstring): n from 1,000 to ``MOVIEDNA_LIVE_MAX_N``, d from 2 to
    1,024, at most ``MOVIEDNA_LIVE_MAX_SECONDS`` (``max_seconds`` may only lower it), one run at
    a time per process.  Raises :class:`BadQueryError` or :class:`BusyError`."""
    max_n, limit = live_limits()
    for value, what in ((n, "n"), (d, "d"), (n_queries, "n_queries")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise BadQueryError(f"{what} must be a whole number; got {value!r}.")
    if not 1_000 <= n <= max_n:
        raise BadQueryError(f"A live run takes 1,000 to {max_n:,} vectors on this server; got {n:,} "
                            "(the operator can raise the limit with MOVIEDNA_LIVE_MAX_N).")
    if not 2 <= d <= LIVE_MAX_D:
        raise BadQueryError(f"Dimension must be from 2 to {LIVE_MAX_D:,}; got {d:,}.")
    if not 10 <= n_queries <= 1_000:
        raise BadQueryError(f"A live run takes 10 to 1,000 queries; got {n_queries:,}.")
    if max_seconds is not None:
        limit = min(limit, max(float(max_seconds), 0.0))
    configs = configs or [IndexConfig("hnsw", hnsw_m=16, ef_construction=40, ef_search=64),
                          IndexConfig("ivf", nprobe=8)]
    if not _LIVE_LOCK.acquire(blocking=False):
        raise BusyError("Another live run is using this server right now; try again when it has finished.")
    try:
        t0 = time.perf_counter()
        rows, cut = _grid(int(n), int(d), configs, int(n_queries), 10, progress, 0.3, 0, limit)
        return LiveRun(rows, cut, round(time.perf_counter() - t0, 2), max_n, limit)
    finally:
        _LIVE_LOCK.release()


def estimate_exact(rows: Sequence[dict[str, Any]], target_n: int = 100_000_000, d: int = 64) -> dict[str, Any]:
    """Extrapolate exact single-query p50 linearly in n from measured exact rows at dimension d."""
    pts = sorted((r["n"], r["p50_ms"]) for r in rows if r["kind"] == "exact" and r["d"] == d)
    if len(pts) < 2:
        raise BadQueryError("Need exact measurements at two or more sizes to extrapolate.")
    n_arr, t_arr = np.array(pts, dtype=np.float64).T
    big = n_arr >= n_arr.max() / 10  # fit on the large sizes (memory-bound regime)
    slope = float(np.sum(n_arr[big] * t_arr[big]) / np.sum(n_arr[big] ** 2))
    return {"kind": "exact", "n": target_n, "d": d, "estimated": True, "p50_ms": round(slope * target_n, 1),
            "memory_mb": round(target_n * d * 4 / 2**20, 1), "basis": f"linear fit through origin of {len(pts)} "
            f"measured exact p50 values, n={int(n_arr.min()):,}..{int(n_arr.max()):,}"}




def load_results(path: Path | str = RESULTS_PATH) -> dict[str, Any]:
    """The committed scale results (``{"machine": ..., "rows": [...], "estimates": [...]}``), seal checked
    (typed: :func:`engine.lab.results.scale_results`)."""
    from engine.core.artifacts import read_sealed_json

    return read_sealed_json(path)


def _row_order(r: dict[str, Any]) -> tuple:
    c = r.get("config", {})
    knob = c.get("ef_search", 0) if r["kind"] == "hnsw" else c.get("nprobe", 0) if r["kind"] == "ivf" else 0
    return (r["d"], r["n"], KINDS_ORDER.get(r["kind"], 9), c.get("ivf_codec", ""), c.get("nlist", 0), knob)


KINDS_ORDER = {"exact": 0, "hnsw": 1, "ivf": 2}


def merge_rows(rows: Sequence[dict[str, Any]], path: Path | str = RESULTS_PATH, **header: Any) -> dict[str, Any]:
    """Add measured rows to the results file, replacing rows with the same (n, d, label);
    recompute the 100M exact estimate; write atomically.  Returns the new document.

    Every row carries ``run`` (when it was measured): rows of one run share timing
    conditions, so speed-up ratios should only be read within one run.
    """
    from engine.core.artifacts import write_sealed_json

    path = Path(path)
    doc: dict[str, Any] = load_results(path) if path.exists() else {"rows": []}
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    old_run = doc.get("generated", now)
    for r in doc.get("rows", []):
        r.setdefault("run", old_run)
    rows = [{**r, "run": r.get("run", now)} for r in rows]
    key = lambda r: (r["n"], r["d"], r["label"])  # noqa: E731
    new = {key(r) for r in rows}
    doc["rows"] = sorted([r for r in doc.get("rows", []) if key(r) not in new] + rows, key=_row_order)
    d = rows[0]["d"] if rows else 64
    try:
        doc["estimates"] = [estimate_exact(doc["rows"], 100_000_000, d)]
    except BadQueryError:
        doc.setdefault("estimates", [])
    doc.update(header)
    doc["updated"] = now
    return write_sealed_json(path, doc)
