"""Vector sets larger than RAM: a float32 file on disk, exact search streamed over it, and an
IVF index whose short list is re-ranked from that file.

``benchmarks/bench_100m.py`` uses this for 100,000,000 x 64 vectors (25.6 GB of float32: more
than this machine's RAM).  A vector file is raw little-endian float32, row-major, no header.
Its identity (generator parameters, n, d and the sha256 of its bytes) lives in a JSON sidecar
``<file>.json`` written after the data, so a half-written file is never taken for a finished
one; every full pass over the file (ground truth, index build, exact scans) re-hashes what it
reads and raises :class:`ArtifactError` when the bytes differ from the sidecar.

Speed notes (why it is built this way):
- Exact search over many queries at once is one BLAS product per block of rows
  (``faiss.knn``) merged into a running top-k (``faiss.ResultHeap``).
- An exact *single* query from disk is bound by the disk: :func:`exact_from_disk` first asks
  the kernel to drop the file's cached pages (``posix_fadvise(DONTNEED)``), because a 25.6 GB
  file cannot stay cached in 24 GB next to anything else, and a half-cached figure would
  describe neither case.
- IVF codes (SQ8 or PQ) are lossy; :func:`refine_search` re-scores ``k * k_factor`` candidates
  with the exact float32 rows read from the file (a few random reads per query).
"""

from __future__ import annotations

import hashlib
import json
import logging
import mmap
import os
import resource
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import faiss
import numpy as np

from engine.core.artifacts import atomic_path, atomic_write_json
from engine.core.config import Progress, no_progress
from engine.core.errors import ArtifactError, BadQueryError
from engine.core.machine import where_measured
from engine.lab.scale import clustered_chunks
from engine.vectors.faiss_index import faiss_threads

log = logging.getLogger(__name__)

ROW_BLOCK = 1 << 20  # rows per sequential read: 256 MB at d=64, large enough to keep the disk busy


def peak_rss_mb() -> float:
    """This process's peak resident set size so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


@dataclass(frozen=True)
class VectorFile:
    """A float32 (n, d) matrix stored raw at ``path``; ``meta`` is its sidecar (with ``sha256``)."""

    path: Path
    n: int
    d: int
    meta: dict[str, Any]

    @property
    def sha256(self) -> str:
        return str(self.meta["sha256"])

    @property
    def nbytes(self) -> int:
        return self.n * self.d * 4

    @classmethod
    def open(cls, path: Path | str) -> "VectorFile":
        """Open a finished file.  Raises :class:`ArtifactError` when the sidecar is missing or
        the file's size does not match it (an interrupted or foreign write)."""
        path = Path(path)
        side = sidecar(path)
        if not side.exists() or not path.exists():
            raise ArtifactError(f"{path.name} is missing or unfinished; generate it again "
                                "(python benchmarks/bench_100m.py --phase gen).")
        meta = json.loads(side.read_text())
        n, d = int(meta["n"]), int(meta["d"])
        if path.stat().st_size != n * d * 4:
            raise ArtifactError(f"{path.name} holds {path.stat().st_size:,} bytes but its sidecar says "
                                f"{n:,} x {d} float32; generate it again.")
        return cls(path, n, d, meta)

    def rows(self, start: int, stop: int) -> np.ndarray:
        """float32 (stop - start, d) read from disk into RAM."""
        if not 0 <= start <= stop <= self.n:
            raise BadQueryError(f"Rows {start:,}..{stop:,} are outside 0..{self.n:,}.")
        x = np.fromfile(self.path, dtype=np.float32, count=(stop - start) * self.d, offset=start * self.d * 4)
        return x.reshape(-1, self.d)

    def memmap(self) -> np.ndarray:
        """Read-only float32 (n, d) view whose pages are read on demand."""
        return np.memmap(self.path, dtype=np.float32, mode="r", shape=(self.n, self.d))

    def blocks(self, stop: int | None = None, rows_per_block: int = ROW_BLOCK,
               verify: bool = True) -> Iterator[tuple[int, np.ndarray]]:
        """(first row, float32 (m, d)) blocks of rows 0..stop read in order into one reused buffer
        (a block is only valid until the next one).  With ``verify`` and a full pass, the bytes
        are hashed on the way and :class:`ArtifactError` is raised at the end on a mismatch."""
        stop = self.n if stop is None else int(stop)
        full = verify and stop == self.n
        h = hashlib.sha256() if full else None
        buf = np.empty(min(rows_per_block, max(stop, 1)) * self.d, dtype=np.float32)
        with open(self.path, "rb", buffering=0) as fh:
            for s in range(0, stop, rows_per_block):
                m = min(rows_per_block, stop - s)
                view = memoryview(buf)[: m * self.d].cast("B")
                got = fh.readinto(view)
                if got != m * self.d * 4:
                    raise ArtifactError(f"{self.path.name} ended early at row {s:,}; generate it again.")
                if h is not None:
                    h.update(view)
                yield s, buf[: m * self.d].reshape(m, self.d)
        if h is not None and h.hexdigest() != self.sha256:
            raise ArtifactError(f"{self.path.name} does not match the sha256 in its sidecar (changed on disk); "
                                "generate it again (python benchmarks/bench_100m.py --phase gen).")


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def write_clustered(path: Path | str, n: int, d: int, seed: int = 0, chunk: int = 1_000_000,
                    progress: Progress = no_progress) -> VectorFile:
    """Write :func:`engine.lab.scale.clustered_vectors` (n, d, seed), the hard distribution, to
    ``path`` chunk by chunk (:func:`write_chunks`)."""
    params = {"generator": "engine.lab.scale.clustered_chunks", "n": int(n), "d": int(d), "seed": int(seed),
              "n_clusters": max(16, int(np.sqrt(n))), "spread": 1.25, "centers_seed": 12345}
    return write_chunks(path, params, clustered_chunks(n, d, seed=seed, chunk=chunk), progress)


def write_mixture(path: Path | str, model: Any, n: int, seed: int = 0, chunk: int = 1_000_000,
                  progress: Progress = no_progress) -> VectorFile:
    """Write ``n`` rows of the real-like distribution (:func:`engine.lab.mixture.mixture_chunks` of
    ``model``, a verified :class:`~engine.lab.mixture.Mixture`) to ``path`` chunk by chunk; the sidecar
    names the mixture by its sha256 and the vectors it was fitted to."""
    from engine.lab.mixture import mixture_chunks

    params = {"generator": "engine.lab.mixture.mixture_chunks", "n": int(n), "d": int(model.d), "seed": int(seed),
              "mixture_sha256": model.sha256, "mixture_k": int(model.k), "mixture_rank": int(model.rank),
              "source": dict(model.source)}
    return write_chunks(path, params, mixture_chunks(model, n, seed=seed, chunk=chunk), progress)


def write_chunks(path: Path | str, params: dict[str, Any], chunks: Iterator[tuple[int, np.ndarray]],
                 progress: Progress = no_progress) -> VectorFile:
    """Write the (first row, float32 (m, d)) ``chunks`` of ``params["n"]`` rows to ``path`` (peak
    memory: one chunk plus what the generator holds), or reuse the file when its sidecar says it
    already holds exactly the rows ``params`` describe.  The data is renamed into place before the
    sidecar is written, both atomically."""
    path = Path(path)
    n = int(params["n"])
    try:
        old = VectorFile.open(path)
        if {k: old.meta.get(k) for k in params} == params:
            log.info("reusing %s (%s)", path, old.sha256[:12])
            return old
    except ArtifactError:
        pass
    sidecar(path).unlink(missing_ok=True)
    h = hashlib.sha256()
    t0 = time.perf_counter()
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        for s, block in chunks:
            data = np.ascontiguousarray(block, dtype="<f4").tobytes()
            h.update(data)
            fh.write(data)
            progress((s + len(block)) / n, f"generated {s + len(block):,} of {n:,} rows")
        fh.flush()
    meta = {**params, "sha256": h.hexdigest(), "seconds": round(time.perf_counter() - t0, 1)}
    atomic_write_json(sidecar(path), meta)
    return VectorFile(path, n, int(params["d"]), meta)


def streamed_exact(vf: VectorFile, queries: np.ndarray, k: int = 10, stop: int | None = None,
                   progress: Progress = no_progress, rows_per_block: int = ROW_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """Exact top-k by inner product over rows 0..stop of the file, one block at a time.

    queries float32 (q, d) -> (scores float32 (q, k), row ids int64 (q, k)), best first.
    Uses FAISS's threads (a batch job, not a request).
    """
    q = np.ascontiguousarray(queries, dtype=np.float32)
    if q.ndim != 2 or q.shape[1] != vf.d:
        raise BadQueryError(f"Queries must be (q, {vf.d}); got {q.shape}.")
    stop = vf.n if stop is None else int(stop)
    heap = faiss.ResultHeap(len(q), k, keep_max=True)
    for s, block in vf.blocks(stop, rows_per_block):
        _scan_block(heap, q, block, s, k)
        progress((s + len(block)) / stop, f"exact scan: {s + len(block):,} of {stop:,} rows")
    heap.finalize()
    return heap.D, heap.I


def _scan_block(heap: Any, q: np.ndarray, block: np.ndarray, first_row: int, k: int) -> None:
    """Merge the exact top-k of ``block`` (rows first_row..) into ``heap``; a block shorter than k
    contributes what it has (FAISS's -1 fillers must not become row ids)."""
    kk = min(k, len(block))
    scores, rows = faiss.knn(q, block, kk, metric=faiss.METRIC_INNER_PRODUCT)
    if kk < k:
        scores = np.pad(scores, ((0, 0), (0, k - kk)), constant_values=-np.inf)
        rows = np.pad(rows, ((0, 0), (0, k - kk)), constant_values=-1)
    heap.add_result(np.ascontiguousarray(scores, dtype=np.float32),
                    np.where(rows >= 0, rows + first_row, -1).astype(np.int64))


def drop_cached_pages(path: Path) -> None:
    """Ask the kernel to evict ``path``'s clean pages from the page cache (Linux; no-op elsewhere)."""
    if not hasattr(os, "posix_fadvise"):
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def exact_from_disk(vf: VectorFile, query: np.ndarray, k: int = 10, stop: int | None = None,
                    cold: bool = True, rows_per_block: int = ROW_BLOCK) -> tuple[float, np.ndarray]:
    """One query, exact, scanning rows 0..stop from the file on one thread.

    Returns (seconds, row ids int64 (k,)).  ``cold`` drops the file's cached pages first so
    the figure is the disk's, not whatever the page cache happened to hold.
    """
    q = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(1, vf.d))
    if cold:
        drop_cached_pages(vf.path)
    stop = vf.n if stop is None else int(stop)
    heap = faiss.ResultHeap(1, k, keep_max=True)
    t0 = time.perf_counter()
    with faiss_threads(1):
        for s, block in vf.blocks(stop, rows_per_block, verify=False):  # hashing would add CPU time to the figure
            _scan_block(heap, q, block, s, k)
    heap.finalize()
    return time.perf_counter() - t0, heap.I[0]


def exact_in_ram(xb: np.ndarray, query: np.ndarray, k: int = 10) -> tuple[float, np.ndarray]:
    """One query, exact, over float32 (n, d) rows already in RAM, on one thread: (seconds, ids (k,))."""
    q = np.ascontiguousarray(np.asarray(query, dtype=np.float32).reshape(1, xb.shape[1]))
    t0 = time.perf_counter()
    with faiss_threads(1):
        _, rows = faiss.knn(q, xb, k, metric=faiss.METRIC_INNER_PRODUCT)
    return time.perf_counter() - t0, rows[0]


@dataclass(frozen=True)
class IvfPlan:
    """How to build an IVF index over a vector file: a FAISS factory string (inner product),
    the number of rows its coarse k-means trains on, and k-means iterations."""

    factory: str = "IVF16384_HNSW32,SQ8"
    train_rows: int = 40 * 16384  # FAISS warns below 39 points per centroid
    niter: int = 10

    def nlist(self) -> int:
        head = self.factory.split(",")[0]
        return int(head[3:].split("_")[0]) if head.startswith("IVF") else 0


def build_ivf(vf: VectorFile, plan: IvfPlan, stop: int | None = None, progress: Progress = no_progress,
              coarse: faiss.Index | None = None) -> tuple[faiss.Index, dict[str, Any]]:
    """Train ``plan.factory`` on the first ``plan.train_rows`` rows (they are i.i.d. draws) and add
    rows 0..stop block by block.  Returns (index, facts: train/add seconds, RAM bytes).

    ``coarse``: an already trained coarse quantizer with this plan's nlist (another index's),
    copied in so that its k-means is not repeated; only the codes (SQ/PQ) are trained then."""
    stop = vf.n if stop is None else int(stop)
    index = faiss.index_factory(vf.d, plan.factory, faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.extract_index_ivf(index)
    if coarse is not None:
        if coarse.ntotal != ivf.nlist or coarse.d != vf.d:
            raise BadQueryError(f"The shared quantizer has {coarse.ntotal} centroids; {plan.factory} needs {ivf.nlist}.")
        q = faiss.clone_index(coarse)
        q.this.disown()          # the IVF index owns it from here (own_fields)
        ivf.quantizer = q
        ivf.own_fields = True
    ivf.cp.niter = plan.niter
    ivf.cp.max_points_per_centroid = max(1, plan.train_rows // max(ivf.nlist, 1) + 1)
    t0 = time.perf_counter()
    progress(0.0, f"training {plan.factory} on {plan.train_rows:,} rows")
    index.train(vf.rows(0, min(plan.train_rows, stop)))
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    for s, block in vf.blocks(stop, verify=stop == vf.n):
        index.add(block)
        done = s + len(block)
        eta = (time.perf_counter() - t1) / done * (stop - done)
        progress(done / stop, f"added {done:,} of {stop:,} rows (ETA {eta:,.0f} s)")
    facts = {"factory": plan.factory, "train_rows": plan.train_rows, "niter": plan.niter, "n": int(index.ntotal),
             "kmeans": "shared" if coarse is not None else "trained",
             "train_s": round(train_s, 1), "add_s": round(time.perf_counter() - t1, 1),
             "ram_bytes": ivf_ram_bytes(index)}
    return index, facts


#: k-means iterations of the second level (faiss.contrib's two-level clustering keeps Kmeans' default there)
SECOND_LEVEL_NITER = 25


def two_level_quantizer(vf: VectorFile, factory: str, train_rows: int, niter: int = 10, seed: int = 1234,
                        progress: Progress = no_progress) -> tuple[faiss.Index, float]:
    """A coarse quantizer for ``factory`` (``IVF<nlist>_HNSW<M>,...``) whose centroids come from
    two-level k-means on the first ``train_rows`` rows: √nlist clusters first, then each split into
    sub-clusters in proportion to its rows.  One level over 65,536 centroids costs about nlist
    distance computations per row and iteration; two levels about √nlist per level (the first with
    ``niter`` iterations, the second with :data:`SECOND_LEVEL_NITER`), which is what fits two cores.

    Returns (an ``IndexHNSWFlat`` inner-product index holding the nlist spherical centroids, seconds);
    :func:`build_ivf` takes it as ``coarse`` and then trains only the codes."""
    from faiss.contrib.clustering import two_level_clustering

    nlist = IvfPlan(factory).nlist()
    head = factory.split(",")[0]
    if "_HNSW" not in head or nlist < 4:
        raise BadQueryError(f"Two-level k-means builds an HNSW coarse quantizer; {factory} has none.")
    m = int(head.split("_HNSW")[1] or 32)  # FAISS reads a bare _HNSW as M 32
    t0 = time.perf_counter()
    progress(0.0, f"two-level k-means: {nlist:,} centroids from {train_rows:,} rows")
    xt = vf.rows(0, min(train_rows, vf.n))
    cent, _ = two_level_clustering(xt, int(round(np.sqrt(nlist))), nlist, clustering_niter=niter, spherical=True,
                                seed=seed)
    quantizer = faiss.IndexHNSWFlat(vf.d, m, faiss.METRIC_INNER_PRODUCT)
    quantizer.add(np.ascontiguousarray(cent, dtype=np.float32))
    return quantizer, time.perf_counter() - t0


def ivf_ram_bytes(index: faiss.Index) -> int:
    """Bytes of the index's own arrays: list codes and ids, centroids, quantizer graph links."""
    ivf = faiss.extract_index_ivf(index)
    invlists = ivf.invlists
    total = 0
    for i in range(ivf.nlist):
        total += invlists.list_size(i) * (ivf.code_size + 8)
    q = ivf.quantizer
    total += ivf.nlist * ivf.d * 4
    hnsw = getattr(faiss.downcast_index(q), "hnsw", None)
    if hnsw is not None:
        total += hnsw.neighbors.size() * 4 + hnsw.offsets.size() * 8
    return int(total)


def ivf_params(nprobe: int, ef_search: int | None = None) -> faiss.SearchParametersIVF:
    """Search parameters for one call: ``nprobe`` lists; an HNSW coarse quantizer explores
    ``ef_search`` (default max(nprobe, 64): it must return nprobe centroids)."""
    return faiss.SearchParametersIVF(nprobe=int(nprobe), quantizer_params=faiss.SearchParametersHNSW(
        efSearch=int(ef_search or max(nprobe, 64))))


def refine_search(index: faiss.Index, base: np.ndarray, queries: np.ndarray, k: int, k_factor: int,
                  params: Any) -> tuple[np.ndarray, np.ndarray]:
    """IVF candidates re-scored exactly: the index returns ``k * k_factor`` rows per query, their
    float32 vectors are read from ``base`` (a memmap of the vector file: random reads), and the
    best k by exact inner product are kept.  ``k_factor`` 1 returns the index's own order.

    queries float32 (q, d) -> (scores float32 (q, k), row ids int64 (q, k)); -1 pads.
    """
    scores, cand = index.search(queries, k * k_factor, params=params)
    if k_factor == 1:
        return scores[:, :k], cand[:, :k]
    return rerank(cand, base, queries, k)


def prefetch_rows(base: np.ndarray, rows: np.ndarray) -> None:
    """Ask the kernel to start reading the pages of these rows of a memmap at once
    (``madvise(WILLNEED)``): the reads then overlap on the disk instead of waiting for each
    other (measured at 100M: ~1 ms per uncached row one after another).  No-op for arrays in RAM."""
    mm = getattr(base, "_mmap", None)
    if mm is None or not hasattr(mm, "madvise") or not hasattr(mmap, "MADV_WILLNEED"):
        return
    row_bytes = base.shape[1] * base.itemsize
    page = mmap.PAGESIZE
    # numpy maps from the allocation-granularity boundary below the array's file offset
    offset = int(getattr(base, "offset", 0)) % mmap.ALLOCATIONGRANULARITY
    for r in rows.tolist():
        start = offset + r * row_bytes
        first = start - start % page
        mm.madvise(mmap.MADV_WILLNEED, first, start + row_bytes - first)


def rerank(cand: np.ndarray, base: np.ndarray, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Best k of each query's candidate rows (int64 (q, m), -1 = none) by exact inner product with
    the float32 rows of ``base`` -> (scores float32 (q, k), row ids int64 (q, k)); -1 pads."""
    out_s = np.full((len(queries), k), -np.inf, dtype=np.float32)
    out_i = np.full((len(queries), k), -1, dtype=np.int64)
    for qi in range(len(queries)):
        c = cand[qi][cand[qi] >= 0]
        if not len(c):
            continue
        c = np.sort(c)  # ascending offsets: the reads walk the file forward
        prefetch_rows(base, c)
        exact = np.asarray(base[c]) @ queries[qi]
        top = np.argsort(-exact, kind="stable")[:k]
        out_s[qi, : len(top)] = exact[top]
        out_i[qi, : len(top)] = c[top]
    return out_s, out_i




def headline(doc: dict[str, Any]) -> dict[str, Any]:
    """The figures the Scale lab shows from a bench_100m result: exact from disk and in RAM, the
    chosen index's build facts and its fastest setting at recall@10 >= 0.99 (None if none).
    Raises :class:`ArtifactError` when the file lacks a figure (edited or from another version)."""
    try:
        return _headline(doc)
    except (KeyError, TypeError, ValueError, ZeroDivisionError) as exc:
        raise ArtifactError(f"The 100M result file lacks {exc}; run python benchmarks/bench_100m.py --phase report "
                            "to rewrite it.") from None


def _headline(doc: dict[str, Any]) -> dict[str, Any]:
    chosen = doc.get("chosen")
    best = doc.get("best", {}).get(chosen) if chosen else None
    exact = doc["exact"]
    disk_ms = exact["disk"]["p50_s"] * 1e3
    return {
        "n": doc["n"], "d": doc["d"], "where": where_measured(doc.get("measured_on", {}), doc.get("date")),
        "exact_disk_s": exact["disk"]["p50_s"], "exact_disk_gbps": exact["disk"].get("gb_per_s"),
        "exact_ram_s": exact["ram"]["p50_s"], "ram_n": exact["ram"]["n"],
        "disk_over_ram": exact["disk_same_n_as_ram"]["p50_s"] / exact["ram"]["p50_s"],
        "factory": chosen, "build": doc["build"].get(chosen) if chosen else None, "best": best,
        "speedup_vs_disk": disk_ms / best["p50_ms"] if best else None,
        "curve": doc["search"][chosen]["curve"] if chosen else [],
    }
