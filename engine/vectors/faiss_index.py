"""FAISS indexes over one model's movie vectors: exact, HNSW and IVF.

Every index works on L2-normalised float32 vectors with inner product, so scores are
cosine similarities in ``[-1, 1]``.  FAISS stores row positions; :class:`FaissIndex`
maps them back to movie ids (int64).

Persistence: ``<dataset cache>/indexes/<model>-<kind>-<vectors hash[:16]>-<build key>.faiss``
plus a JSON sidecar holding the file's sha256, the vectors' content hash, the config
and build facts (seconds, recall@10 against exact for ANN kinds).  Files are written
atomically (:mod:`engine.core.artifacts`); a file whose sha256 or vectors hash does not
match is rebuilt.  Searching one index from many threads at once is safe: search-time
parameters (``efSearch``, ``nprobe``) travel with each call, the index is never mutated.

Edits of the catalogue (a movie added or removed) update an index instead of rebuilding it
(:meth:`FaissIndex.updated`, :meth:`IndexCache.update`): a copy of the structure gets the new
vector (``add`` / IVF ``add_with_ids``) and loses the removed one (``remove_ids``; HNSW cannot
remove, so its deleted rows are masked by an ``IDSelector`` in every search until the next
build), and is kept in memory under the new vectors' hash.  Files on disk are keyed by the
vectors' hash, so a file of the old vectors is never served for the new ones.
"""

from __future__ import annotations

import contextlib
import json
import logging
import shutil
import threading
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Iterator, Literal

import faiss
import numpy as np

from engine.core.artifacts import atomic_path, atomic_write_json, config_hash, sha256_bytes
from engine.core.errors import ArtifactError, BadQueryError, DimensionMismatchError, ModelNotBuiltError
from engine.vectors.contract import (
    SEARCH_MAX_K, FilterColumns, Plan, Selection, check_k, empty_results, exact_search, normalize, pad_results, plan_path,
    prepare_vectors, validate_model_name, widen,
)

log = logging.getLogger(__name__)

IndexKind = Literal["exact", "hnsw", "ivf"]
KINDS: tuple[str, ...] = ("exact", "hnsw", "ivf")
SINGLE_QUERY_MAX = 8  # batches up to this size run single-threaded (lower latency)
#: how IVF lists store vectors: exact float32, 8-bit scalar codes, 4-bit PQ fast-scan codes
IVF_CODECS: tuple[str, ...] = ("flat", "sq8", "pqfs")
#: accepted range of each integer parameter: FAISS stores them as C ints, and beyond these
#: values a build or search only burns CPU (HNSW M above 256, efConstruction above 4096)
PARAM_RANGES: dict[str, tuple[int, int]] = {
    "hnsw_m": (2, 256), "ef_construction": (1, 4096), "ef_search": (1, 100_000),
    "nlist": (0, 1_000_000), "nprobe": (1, 1_000_000), "refine_factor": (1, 1000),
}


@dataclass(frozen=True)
class IndexConfig:
    """How to build and search one index.

    Build parameters (``kind``, ``hnsw_m``, ``ef_construction``, ``nlist``) form the
    cache key; search parameters (``ef_search``, ``nprobe``, ``refine_factor``) do not.
    ``nlist=0`` picks ``4*sqrt(n)`` clipped to ``[1, n/39]``.  IVF-Flat keeps exact
    vectors in its lists, so its scores are exact; only the candidate set is approximate.
    ``ivf_codec="sq8"`` stores 8-bit codes in the lists (4x fewer bytes to scan) and
    re-scores the best ``refine_factor * k`` candidates with the exact vectors; ``"pqfs"`` stores
    4-bit product-quantizer codes (d/2 sub-quantizers, FAISS fast-scan: d/4 bytes a row, 16x fewer
    than float32, scanned with SIMD lookups) and re-scores the same way.
    """

    kind: IndexKind = "exact"
    hnsw_m: int = 32
    ef_construction: int = 200
    ef_search: int = 128
    nlist: int = 0
    nprobe: int = 16
    ivf_codec: str = "flat"
    refine_factor: int = 4

    def __post_init__(self) -> None:
        if not isinstance(self.kind, str) or self.kind not in KINDS:
            raise BadQueryError(f"Unknown index kind {self.kind!r}; choose one of {', '.join(KINDS)}.")
        if not isinstance(self.ivf_codec, str) or self.ivf_codec not in IVF_CODECS:
            raise BadQueryError(f"Unknown IVF codec {self.ivf_codec!r}; choose one of {', '.join(IVF_CODECS)}.")
        for name, (low, high) in PARAM_RANGES.items():
            value = getattr(self, name)
            # whole numbers only (FAISS takes C ints: a float or 10**12 would raise TypeError/OverflowError)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
                raise BadQueryError(f"Index parameter {name} must be a whole number from {low} to {high}; "
                                    f"got {value!r}.")
            object.__setattr__(self, name, int(value))

    def build_key(self) -> str:
        """Hash of the parameters that change the built structure."""
        b: dict[str, Any] = {"kind": self.kind}
        if self.kind == "hnsw":
            b.update(m=self.hnsw_m, efc=self.ef_construction)
        elif self.kind == "ivf":
            b.update(nlist=self.nlist)
            if self.ivf_codec != "flat":
                b.update(codec=self.ivf_codec)
        return config_hash(b)

    def label(self) -> str:
        if self.kind == "hnsw":
            return f"HNSW M={self.hnsw_m} efC={self.ef_construction} efS={self.ef_search}"
        if self.kind == "ivf":
            if self.ivf_codec == "pqfs":
                return f"IVF-PQfs+refine nlist={self.nlist or 'auto'} nprobe={self.nprobe} x{self.refine_factor}"
            if self.ivf_codec == "sq8":
                return f"IVF-SQ8+refine nlist={self.nlist or 'auto'} nprobe={self.nprobe} x{self.refine_factor}"
            return f"IVF nlist={self.nlist or 'auto'} nprobe={self.nprobe}"
        return "Exact (flat inner product)"


def auto_nlist(n: int) -> int:
    return int(max(1, min(int(4 * np.sqrt(n)), n // 39)))


def search_params(cfg: IndexConfig, sel: Any = None) -> Any:
    """FAISS search parameters of ``cfg``; ``sel`` (an IDSelector) leaves rows out (HNSW deletions)."""
    if cfg.kind == "hnsw":
        if sel is not None:
            return faiss.SearchParametersHNSW(efSearch=max(cfg.ef_search, 1), sel=sel)
        return faiss.SearchParametersHNSW(efSearch=max(cfg.ef_search, 1))
    if cfg.kind == "ivf" and cfg.ivf_codec != "flat":
        return faiss.IndexRefineSearchParameters(k_factor=float(cfg.refine_factor),
                                                 base_index_params=faiss.SearchParametersIVF(nprobe=cfg.nprobe))
    if cfg.kind == "ivf":
        return faiss.SearchParametersIVF(nprobe=cfg.nprobe)
    return None


def filtered_params(cfg: IndexConfig, sel: Any, where: Selection, ntotal: int, nlist: int) -> tuple[Any, str]:
    """Search parameters carrying the selector ``sel`` (FAISS row positions), with efSearch / nprobe
    widened for the filter's selectivity so a selective filter keeps its recall -> (params, what
    was widened)."""
    if cfg.kind == "hnsw":
        ef = widen(cfg.ef_search, where, ntotal, PARAM_RANGES["ef_search"][1])
        return faiss.SearchParametersHNSW(efSearch=ef, sel=sel), f"efSearch={ef}"
    if cfg.kind == "ivf":
        nprobe = widen(cfg.nprobe, where, ntotal, max(nlist, 1))
        base = faiss.SearchParametersIVF(nprobe=nprobe, sel=sel)
        if cfg.ivf_codec != "flat":
            return (faiss.IndexRefineSearchParameters(k_factor=float(cfg.refine_factor), base_index_params=base),
                    f"nprobe={nprobe}")
        return base, f"nprobe={nprobe}"
    return faiss.SearchParameters(sel=sel), ""


def _ivf_nlist(n: int, cfg: IndexConfig) -> int:
    return min(cfg.nlist or auto_nlist(n), max(n, 1))


def _training_sample(xn: np.ndarray, nlist: int) -> np.ndarray:
    n = len(xn)
    return xn if n <= 64 * nlist else xn[np.sort(np.random.default_rng(0).choice(n, 64 * nlist, replace=False))]


def train_coarse(xn: np.ndarray, cfg: IndexConfig) -> faiss.Index:
    """The trained coarse quantizer (k-means centroids, ``IndexFlatIP`` with nlist rows) that
    :func:`build_faiss` would train for IVF config ``cfg`` over ``xn``: the same sample, the same
    k-means, so an index built on it equals one that trained its own.  Every IVF codec with this
    nlist can share it (the k-means is most of an IVF build)."""
    d, nlist = xn.shape[1], _ivf_nlist(len(xn), cfg)
    quantizer = faiss.IndexFlatIP(d)
    faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT).train(_training_sample(xn, nlist))
    return quantizer


def build_faiss(xn: np.ndarray, cfg: IndexConfig, coarse: faiss.Index | None = None) -> faiss.Index:
    """Build the raw FAISS index over normalised vectors ``xn`` float32 (n, d).  ``coarse``: an IVF
    config's trained quantizer (:func:`train_coarse`), copied, so its k-means is not run again."""
    n, d = xn.shape
    if cfg.kind == "exact":
        index: faiss.Index = faiss.IndexFlatIP(d)
    elif cfg.kind == "hnsw":
        index = faiss.IndexHNSWFlat(d, cfg.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = cfg.ef_construction
    else:
        nlist = _ivf_nlist(n, cfg)
        if coarse is not None and coarse.ntotal != nlist:
            raise ValueError(f"the shared quantizer has {coarse.ntotal} centroids, the config asks for {nlist}")
        quantizer = faiss.clone_index(coarse) if coarse is not None else faiss.IndexFlatIP(d)
        if cfg.ivf_codec == "sq8":
            base = faiss.IndexIVFScalarQuantizer(quantizer, d, nlist, faiss.ScalarQuantizer.QT_8bit,
                                                 faiss.METRIC_INNER_PRODUCT)
            index = faiss.IndexRefineFlat(base)
        elif cfg.ivf_codec == "pqfs":
            if d % 2:
                raise BadQueryError(f"IVF-PQ fast-scan needs an even dimension; got {d}.")
            base = faiss.IndexIVFPQFastScan(quantizer, d, nlist, d // 2, 4, faiss.METRIC_INNER_PRODUCT)
            index = faiss.IndexRefineFlat(base)
        else:
            index = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_INNER_PRODUCT)
        # a trained quantizer with nlist rows makes FAISS skip the k-means and train only the codec
        index.train(_training_sample(xn, nlist))
    index.add(xn)
    return index


class FaissIndex:
    """A built FAISS index plus the movie ids of its rows. Thread-safe for searching.

    Attributes: ``ids`` int64 (n,), ``config``, ``dim``, ``build_seconds``, ``recall_at_10``
    (ANN only, against exact on a sample; ``None`` for exact), ``source`` ("built"/"cache").
    """

    #: FAISS searches exactly the index asked for, so it has nothing to say (see SearchIndex)
    notes: tuple = ()

    def __init__(self, index: faiss.Index, ids: np.ndarray, config: IndexConfig,
                 build_seconds: float = 0.0, recall_at_10: float | None = None, source: str = "built",
                 vectors: np.ndarray | None = None, filtered: "_Filtered | None" = None,
                 masked: np.ndarray | None = None, gaps: int = 0) -> None:
        # ids: label -> movie id (-1 for a removed movie); ``masked`` labels stay in the structure
        # but are never served (HNSW deletions); ``gaps`` labels were removed from it (IVF remove_ids)
        if index.ntotal != len(ids) - gaps:
            raise ArtifactError(f"Index has {index.ntotal} rows but {len(ids)} ids were given; it will be rebuilt.")
        if vectors is not None and len(vectors) != len(ids):
            raise ArtifactError(f"{len(vectors)} vectors for an index of {len(ids)} rows; it will be rebuilt.")
        self.index = index
        self.ids = np.ascontiguousarray(ids, dtype=np.int64)
        self.config = config
        self.dim = int(index.d)
        self.build_seconds = build_seconds
        self.recall_at_10 = recall_at_10
        self.source = source
        #: the rows as given, one per label (float32 (n, d)): filtered searches over few movies read them
        self.vectors = vectors
        # what filtered searches reuse (row masks, selectors, subsets), shared by every view of this index;
        # a filter's selection never keeps a removed movie (its label's id is -1), so it needs no mask
        self._filtered = filtered if filtered is not None else _Filtered()
        self.masked = np.unique(np.asarray(masked if masked is not None else [], dtype=np.int64))
        self.gaps = int(gaps)
        # the selector must live as long as the parameters that point at it
        self._sel = (faiss.IDSelectorNot(faiss.IDSelectorBatch(self.masked)) if len(self.masked) else None)
        self._params = search_params(config, self._sel)

    @classmethod
    def build(cls, movie_ids: np.ndarray, vectors: np.ndarray, config: IndexConfig = IndexConfig(),
              check_recall: bool = True) -> "FaissIndex":
        """Normalise ``vectors`` float32 (n, d) and build; ANN kinds get a recall check vs exact."""
        ids = np.asarray(movie_ids, dtype=np.int64)
        if ids.ndim != 1 or len(ids) != len(vectors):
            raise DimensionMismatchError(f"{len(ids)} movie ids for {len(vectors)} vectors.")
        if len(ids) == 0:
            raise DimensionMismatchError("Cannot build an index over zero vectors.")
        xn = normalize(vectors)
        t0 = time.perf_counter()
        index = build_faiss(xn, config)
        secs = time.perf_counter() - t0
        out = cls(index, ids, config, build_seconds=secs, vectors=xn)
        if check_recall and config.kind != "exact":
            out.recall_at_10 = out.recall_vs_exact(xn)
            if out.recall_at_10 < 0.9:
                log.warning("%s recall@10 vs exact is %.3f; raise ef_search/nprobe.", config.label(), out.recall_at_10)
        return out

    @property
    def ntotal(self) -> int:
        """Movies served (rows masked after a deletion are not counted)."""
        return int(self.index.ntotal) - len(self.masked)

    def updated(self, add_ids: np.ndarray, add_vectors: np.ndarray, remove_ids: np.ndarray) -> "FaissIndex | None":
        """A copy of this index with movies added and removed, without a rebuild; None when this
        kind cannot be updated in place (IVF-SQ8 with refinement: rebuilt when next asked for).

        add_ids int64 (a,) with add_vectors float32 (a, d) (normalised here); remove_ids int64 (r,).
        Exact: ``remove_ids`` compacts the rows; IVF: ``remove_ids`` + ``add_with_ids`` (labels stay);
        HNSW: added to the graph, removed rows masked by an IDSelector until the next build.
        The original is left as it was, so searches running on it are safe.
        """
        kind = self.config.kind
        if kind == "ivf" and self.config.ivf_codec != "flat":
            return None
        index = faiss.clone_index(self.index)
        ids, masked, gaps = self.ids.copy(), set(self.masked.tolist()), self.gaps
        vectors = self.vectors                    # one row per label, kept in step for filtered searches
        rows = np.flatnonzero(np.isin(ids, np.asarray(remove_ids, np.int64)) & (ids >= 0)).astype(np.int64)
        if len(rows):
            if kind == "exact":
                index.remove_ids(faiss.IDSelectorBatch(rows))
                ids = np.delete(ids, rows)
                vectors = None if vectors is None else np.delete(vectors, rows, axis=0)
            elif kind == "ivf":
                index.remove_ids(faiss.IDSelectorBatch(rows))
                ids[rows] = -1
                gaps += len(rows)
            else:
                masked |= set(rows.tolist())
                ids[rows] = -1
        add_ids = np.asarray(add_ids, np.int64)
        if len(add_ids):
            x = normalize(np.asarray(add_vectors, np.float32).reshape(len(add_ids), -1))
            if x.shape[1] != self.dim:
                raise DimensionMismatchError(f"New vectors have dimension {x.shape[1]} but this index has {self.dim}.")
            if kind == "ivf":
                index.add_with_ids(x, np.arange(len(ids), len(ids) + len(x), dtype=np.int64))
            else:
                index.add(x)
            ids = np.concatenate([ids, add_ids])
            vectors = None if vectors is None else np.concatenate([vectors, x])
        # a new _Filtered: the old one's selections were computed over the old labels
        return FaissIndex(index, ids, self.config, self.build_seconds, self.recall_at_10, "updated",
                          vectors, None, np.array(sorted(masked), np.int64), gaps)

    def with_search_params(self, **changes: Any) -> "FaissIndex":
        """A view sharing the same FAISS structure with other search-time parameters."""
        cfg = replace(self.config, **changes)
        if cfg.build_key() != self.config.build_key():
            raise BadQueryError("Only ef_search, nprobe and refine_factor can change without a rebuild.")
        return FaissIndex(self.index, self.ids, cfg, self.build_seconds, self.recall_at_10, self.source,
                          self.vectors, self._filtered, self.masked, self.gaps)

    def plan(self, where: Selection | None) -> Plan:
        """How a search with ``where`` runs here (see :func:`engine.vectors.contract.plan_path`)."""
        path = plan_path(where)
        if path == "subset" and self.vectors is None:  # no rows at hand (never from IndexCache or build)
            path = "index"
        params = ""
        if path == "index":
            assert where is not None
            params = filtered_params(self.config, None, where, self.ntotal, self._nlist())[1]
        return Plan(path, where.matching if where is not None else self.ntotal,
                    where.total if where is not None else self.ntotal, self.config.label(), params)

    def _nlist(self) -> int:
        ivf = faiss.try_extract_index_ivf(self.index) if self.config.kind == "ivf" else None
        return int(ivf.nlist) if ivf is not None else 0

    def search(self, queries: np.ndarray, k: int, where: Selection | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k by cosine. queries float (q, d) or (d,) -> (scores float32 (q, k), ids int64 (q, k)).

        Queries are normalised here.  When fewer than k rows exist (or match ``where``) the tail
        is padded with score ``-inf`` and id ``-1``.  With ``where``, the planner
        (:meth:`plan`) searches exactly over the matching rows, or the index with a FAISS
        ``IDSelectorBitmap`` and a wider efSearch / nprobe.
        """
        q = np.asarray(queries, dtype=np.float32)
        if q.ndim == 1:
            q = q[None, :]
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise DimensionMismatchError(f"Query has dimension {q.shape[-1]} but this index has {self.dim}.")
        k = check_k(k, limit=max(SEARCH_MAX_K, self.ntotal))
        qn = normalize(q)
        path = self.plan(where).path
        if path == "none":
            return empty_results(len(qn), k)
        if path == "subset":
            assert where is not None
            sub, sub_ids = self._filtered.subset(self, where)
            return exact_search(sub, sub_ids, qn, k, unit=True)
        params = self._params
        if path == "index":
            assert where is not None
            params = filtered_params(self.config, self._filtered.selector(self, where), where, self.ntotal,
                                     self._nlist())[0]
        kk = min(k, self.ntotal)
        # FAISS's OpenMP thread count is per calling thread (its own libgomp, not torch's; see
        # tests/vectors/test_faiss_threads.py): small batches run on one thread for latency, and
        # the caller's setting is restored so a later build on this thread keeps all cores.
        with faiss_threads(1 if len(qn) <= SINGLE_QUERY_MAX else _DEFAULT_THREADS):
            scores, rows = self.index.search(qn, kk, params=params)
        if path == "index" and self.vectors is not None:
            assert where is not None
            short = (rows >= 0).sum(axis=1) < min(k, self._filtered.count(self, where))
            if short.any():
                # a graph walk can miss matching rows a very selective filter leaves (islands in the
                # graph): those queries get the exact answer over the matching rows instead
                sub, sub_ids = self._filtered.subset(self, where)
                fix_s, fix_i = exact_search(sub, sub_ids, qn[short], kk, unit=True)
                scores, rows = scores.copy(), rows.copy()
                scores[short], rows[short] = fix_s, self._row_of(fix_i)
        if kk == k and rows.size and rows.min() >= 0:
            return scores, self.ids[rows]
        hits = [[(int(self.ids[r]), float(sc)) for r, sc in zip(rr, ss) if r >= 0] for rr, ss in zip(rows, scores)]
        return pad_results(hits, k)

    def _row_of(self, movie_ids: np.ndarray) -> np.ndarray:
        """Row positions of movie ids of this index (-1 stays -1)."""
        order = np.argsort(self.ids)
        pos = order[np.minimum(np.searchsorted(self.ids[order], movie_ids), len(order) - 1)]
        return np.where(movie_ids >= 0, pos, -1)

    def recall_vs_exact(self, xn: np.ndarray, n_queries: int = 200, k: int = 10, seed: int = 0) -> float:
        """Mean recall@k of this index against exact search for "movies like this one": sampled rows are
        the queries and each query's own row is left out of both lists (it is every list's sure first
        hit, and Similar movies never shows it), so only the neighbours are scored."""
        rng = np.random.default_rng(seed)
        sel = rng.choice(len(xn), size=min(n_queries, len(xn)), replace=False)
        kk = min(k, len(xn) - 1)
        if kk < 1:
            return 1.0
        exact = faiss.IndexFlatIP(xn.shape[1])
        exact.add(xn)
        _, truth = exact.search(xn[sel], kk + 1)
        _, got = self.search(xn[sel], kk + 1)
        recalls = []
        for own, t_rows, g_ids in zip(self.ids[sel], self.ids[truth], got):
            want = [m for m in t_rows if m != own][:kk]
            have = [m for m in g_ids if m != own and m >= 0][:kk]
            recalls.append(len(set(want) & set(have)) / kk)
        return float(np.mean(recalls))


_DEFAULT_THREADS = faiss.omp_get_max_threads() or 1


class _Filtered:
    """Per-selection state of one index, computed once and shared by its views: the rows a
    selection keeps as a FAISS bitmap selector (row positions), and for the few-rows path the
    matching unit rows themselves.  A few selections are kept (a page's filters), oldest dropped."""

    KEEP = 8
    SUBSET_BYTES = 512 << 20  # the matching rows kept for the few-rows path, all selections together

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._selectors: dict[str, tuple[Any, np.ndarray, int]] = {}
        self._subsets: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    @staticmethod
    def _put(cache: dict, key: str, value: Any) -> None:
        if len(cache) >= _Filtered.KEEP:
            cache.pop(next(iter(cache)))
        cache[key] = value

    def selector(self, idx: "FaissIndex", where: Selection) -> Any:
        """An ``IDSelectorBitmap`` over ``idx``'s rows that match ``where`` (the bitmap kept alive beside it)."""
        with self._lock:
            hit = self._selectors.get(where.key)
        if hit is None:
            mask = where.mask(idx.ids)
            bitmap = np.packbits(mask, bitorder="little")
            hit = (faiss.IDSelectorBitmap(len(bitmap), faiss.swig_ptr(bitmap)), bitmap, int(mask.sum()))
            with self._lock:
                self._put(self._selectors, where.key, hit)
        return hit[0]

    def count(self, idx: "FaissIndex", where: Selection) -> int:
        """How many of ``idx``'s rows match ``where``."""
        self.selector(idx, where)
        with self._lock:
            return int(self._selectors[where.key][2]) if where.key in self._selectors else int(
                where.mask(idx.ids).sum())

    def subset(self, idx: "FaissIndex", where: Selection) -> tuple[np.ndarray, np.ndarray]:
        """(unit rows float32 (m, d), their ids int64 (m,)) of ``idx`` that match ``where``."""
        with self._lock:
            hit = self._subsets.get(where.key)
        if hit is None:
            assert idx.vectors is not None
            rows = np.flatnonzero(where.mask(idx.ids))
            hit = (normalize(idx.vectors[rows]), idx.ids[rows])
            with self._lock:
                while self._subsets and sum(v[0].nbytes for v in self._subsets.values()) + hit[0].nbytes > self.SUBSET_BYTES:
                    self._subsets.pop(next(iter(self._subsets)))
                self._put(self._subsets, where.key, hit)
        return hit


@contextlib.contextmanager
def faiss_threads(n: int) -> Iterator[None]:
    """Run FAISS calls of this block on ``n`` OpenMP threads, then restore this thread's own
    setting (the count is per calling thread, so other threads never see the change)."""
    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(max(1, int(n)))
    try:
        yield
    finally:
        faiss.omp_set_num_threads(before)


def _index_bytes(index: faiss.Index) -> bytes:
    return faiss.serialize_index(index).tobytes()


class IndexCache:
    """Builds, persists and reuses indexes for a data set's models; one per Engine.

    ``get`` returns an in-memory index when one matches (model, vectors hash, build key),
    else loads the verified file, else builds and writes it.  Builds of the same key are
    serialised by a per-key lock; different keys build concurrently.
    """

    def __init__(self, directory: Path | str) -> None:
        self.directory = Path(directory)
        self._mem: dict[tuple[str, str, str], FaissIndex] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}
        self._guard = threading.Lock()

    def paths(self, model: str, content_hash: str, config: IndexConfig) -> tuple[Path, Path]:
        stem = f"{model}-{config.kind}-{content_hash[:16]}-{config.build_key()}"
        return self.directory / f"{stem}.faiss", self.directory / f"{stem}.json"

    def get(self, model: str, movie_ids: np.ndarray, vectors: np.ndarray, content_hash: str,
            config: IndexConfig = IndexConfig()) -> FaissIndex:
        """Index for these vectors (ids int64 (n,), vectors float32 (n, d)) with ``config``'s search params."""
        validate_model_name(model)
        key = (model, content_hash, config.build_key())
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            idx = self._mem.get(key)
            if idx is None:
                idx = self._load(model, movie_ids, content_hash, config)
                if idx is None:
                    idx = self._build_and_save(model, movie_ids, vectors, content_hash, config)
                with self._guard:  # drop in-memory indexes of this model's older vectors
                    for stale in [k for k in self._mem if k[0] == model and k[2] == key[2] and k[1] != content_hash]:
                        del self._mem[stale]
                    self._mem[key] = idx
        if idx.vectors is None and np.array_equal(idx.ids, movie_ids):
            # a loaded index searches few-movie filters over the rows themselves (only when they are its
            # rows in its label order: an index updated in memory carries its own)
            idx.vectors = np.asarray(vectors, dtype=np.float32)
        return idx.with_search_params(ef_search=config.ef_search, nprobe=config.nprobe,
                                      refine_factor=config.refine_factor)

    def _load(self, model: str, ids: np.ndarray, content_hash: str, cfg: IndexConfig) -> FaissIndex | None:
        path, side = self.paths(model, content_hash, cfg)
        if not path.exists() or not side.exists():
            return None
        t0 = time.perf_counter()
        try:
            meta = json.loads(side.read_text())
            if not isinstance(meta, dict):
                raise ArtifactError("index sidecar is not a JSON object")
            data = path.read_bytes()
            if meta.get("vectors_hash") != content_hash or meta.get("n") != len(ids):
                raise ArtifactError("index sidecar describes other vectors")
            if sha256_bytes(data) != meta.get("file_sha256"):
                raise ArtifactError("index file fails its sha256")
            index = faiss.deserialize_index(np.frombuffer(data, dtype=np.uint8))
            out = FaissIndex(index, ids, cfg, meta.get("build_seconds", 0.0), meta.get("recall_at_10"), "cache")
        except (ArtifactError, ValueError, KeyError, RuntimeError, OSError) as exc:
            # OSError: e.g. a directory took the file's name (IsADirectoryError); rebuilt below
            log.warning("Index %s is stale or corrupt (%s); rebuilding.", path.name, exc)
            return None
        log.info("Loaded %s in %.1f ms", path.name, 1e3 * (time.perf_counter() - t0))
        return out

    def _build_and_save(self, model: str, ids: np.ndarray, vectors: np.ndarray, content_hash: str,
                        cfg: IndexConfig) -> FaissIndex:
        idx = FaissIndex.build(ids, vectors, cfg)
        path, side = self.paths(model, content_hash, cfg)
        data = _index_bytes(idx.index)
        meta = {
            "model": model, "vectors_hash": content_hash, "config": asdict(cfg), "n": len(ids),
            "dim": idx.dim, "build_seconds": idx.build_seconds, "recall_at_10": idx.recall_at_10,
            "file_sha256": sha256_bytes(data), "faiss_version": faiss.__version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        try:
            for p in (path, side):  # the names are this cache's own: clear what took them
                if p.is_dir() and not p.is_symlink():
                    shutil.rmtree(p)
            with atomic_path(path) as tmp:
                tmp.write_bytes(data)
            atomic_write_json(side, meta)
        except OSError as exc:  # read-only or damaged cache: serve from memory, say how to fix it
            log.warning("Index %s could not be saved (%s); serving it from memory. Check that %s is a "
                        "writable directory.", path.name, exc, self.directory)
            return idx
        self._remove_stale(model, content_hash, cfg)
        log.info("Built %s for %s in %.2f s", cfg.label(), model, idx.build_seconds)
        return idx

    def _remove_stale(self, model: str, content_hash: str, cfg: IndexConfig) -> None:
        """Delete files of the same model+kind+build key built from other vectors."""
        for old in self.directory.glob(f"{model}-{cfg.kind}-*-{cfg.build_key()}.*"):
            if f"-{content_hash[:16]}-" not in old.name:
                old.unlink(missing_ok=True)

    def update(self, model: str, old_hash: str, new_hash: str, add_ids: np.ndarray, add_vectors: np.ndarray,
               remove_ids: np.ndarray) -> int:
        """Move every in-memory index of ``model``'s old vectors to the edited ones without a rebuild
        (:meth:`FaissIndex.updated`); return how many were updated.  Kinds that cannot be updated are
        dropped and built again when next asked for; files stay keyed by the old hash (never served
        for the new vectors)."""
        validate_model_name(model)
        done = 0
        with self._guard:
            for key in [k for k in self._mem if k[0] == model and k[1] == old_hash]:
                new = self._mem.pop(key).updated(add_ids, add_vectors, remove_ids)
                if new is not None:
                    self._mem[(model, new_hash, key[2])] = new
                    done += 1
        return done

    def clear_memory(self) -> None:
        with self._guard:
            self._mem.clear()


class FaissStore:
    """In-process :class:`~engine.vectors.contract.VectorStore` backed by FAISS (``open_store("faiss")``).

    Options: ``config`` (an :class:`IndexConfig` or its fields as a dict; exact by default).
    """

    name = "faiss"

    def __init__(self, config: IndexConfig | dict[str, Any] | None = None, **_: Any) -> None:
        self.config = config if isinstance(config, IndexConfig) else IndexConfig(**(config or {}))
        self._indexes: dict[str, FaissIndex] = {}
        self._lock = threading.Lock()

    def upsert(self, model: str, movie_ids: np.ndarray, vectors: np.ndarray,
               columns: FilterColumns | None = None) -> None:
        """Replace the collection. ids int64 (n,), vectors float32 (n, d); ``columns`` are not kept
        (FAISS filters by the selection's ids)."""
        validate_model_name(model)
        ids = np.asarray(movie_ids, dtype=np.int64)
        if len(np.unique(ids)) != len(ids):
            raise DimensionMismatchError("movie_ids contain duplicates.")
        idx = FaissIndex.build(ids, np.asarray(vectors, dtype=np.float32), self.config, check_recall=False)
        with self._lock:
            self._indexes[model] = idx

    def add(self, model: str, movie_ids: np.ndarray, vectors: np.ndarray,
            columns: FilterColumns | None = None) -> None:
        """Insert rows (replacing rows with the same ids). ids int64 (a,), vectors float32 (a, d);
        ``columns`` are not kept (FAISS filters by the selection's ids)."""
        ids, vecs = prepare_vectors(movie_ids, vectors)
        self._update(model, ids, vecs, ids)

    def delete(self, model: str, movie_ids: np.ndarray) -> None:
        """Remove these movies' rows (ids not present are ignored). ids int64 (r,)."""
        self._update(model, np.zeros(0, np.int64), None, np.asarray(movie_ids, np.int64).reshape(-1))

    def _update(self, model: str, add_ids: np.ndarray, add_vecs: np.ndarray | None, remove: np.ndarray) -> None:
        validate_model_name(model)
        with self._lock:
            idx = self._indexes.get(model)
            if idx is None:
                raise ModelNotBuiltError(f"The faiss store has no collection {model!r}; upsert vectors first.")
            vecs = add_vecs if add_vecs is not None else np.zeros((0, idx.dim), np.float32)
            new = idx.updated(add_ids, vecs, remove)
            if new is None:  # a kind FAISS cannot update: rebuild from the rows it serves
                raise BadQueryError(f"A {idx.config.label()} index cannot be updated in place; upsert the collection.")
            self._indexes[model] = new

    def search(self, model: str, queries: np.ndarray, k: int, where: Selection | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
        """queries float32 (q, d) -> (scores float32 (q, k), ids int64 (q, k)), padded with -inf / -1;
        only movies of ``where`` when given."""
        validate_model_name(model)
        with self._lock:
            idx = self._indexes.get(model)
        if idx is None:
            raise ModelNotBuiltError(f"The faiss store has no collection {model!r}; upsert vectors first.")
        return idx.search(queries, k, where)

    def count(self, model: str) -> int:
        validate_model_name(model)
        with self._lock:
            idx = self._indexes.get(model)
        return 0 if idx is None else idx.ntotal

    def drop(self, model: str) -> None:
        validate_model_name(model)
        with self._lock:
            self._indexes.pop(model, None)

    def close(self) -> None:
        with self._lock:
            self._indexes.clear()
