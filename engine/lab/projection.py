"""2-D maps of embedding spaces: UMAP, computed once per vectors' hash and cached on disk.

UMAP's first call in a process compiles its numba kernels (12-38 s here), and a full
run over a few thousand movies takes seconds more, so coordinates are stored under
``<cache>/<dataset>/projections/<vectors hash>-<config hash>.npz`` (atomic, hash-verified)
and never recomputed for vectors that were seen before.

New points (a taste vector) are placed without refitting: the similarity-weighted mean
of the 2-D positions of their nearest movies, which is what UMAP's own ``transform``
approximates, at a fraction of a millisecond.
"""

from __future__ import annotations

import logging
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path


import numpy as np

from engine.core.artifacts import config_hash, load_arrays, save_arrays
from engine.core.config import Progress
from engine.core.errors import ArtifactError, DimensionMismatchError
from engine.core.arrays import normalize

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProjectionConfig:
    n_neighbors: int = 15
    min_dist: float = 0.1
    metric: str = "cosine"
    seed: int = 42


def cache_file(cache_dir: Path, content_hash: str, config: ProjectionConfig) -> Path:
    return Path(cache_dir) / f"{content_hash[:24]}-{config_hash(asdict(config))}.npz"


def project(
    vectors: np.ndarray,
    content_hash: str,
    cache_dir: Path | str,
    config: ProjectionConfig = ProjectionConfig(),
    progress: Progress | None = None,
) -> np.ndarray:
    """UMAP coordinates float32 (n, 2) for vectors float32 (n, d); cached per (hash, config).

    A corrupt or tampered cache file is discarded and recomputed.
    """
    vectors = np.asarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or len(vectors) < 4:
        raise DimensionMismatchError(f"UMAP needs a (n >= 4, d) matrix; got shape {vectors.shape}.")
    path = cache_file(Path(cache_dir), content_hash, config)
    cached = _load_cached(path, content_hash, config, len(vectors))
    if cached is not None:
        return cached
    if progress:
        progress(0.05, "compiling UMAP (first run in this process: up to ~40 s)")
    import umap  # imported late: it pulls in numba, which is slow to import

    reducer = umap.UMAP(n_neighbors=min(config.n_neighbors, len(vectors) - 1), min_dist=config.min_dist,
                        metric=config.metric, random_state=config.seed, n_components=2)
    if progress:
        progress(0.2, f"UMAP over {len(vectors):,} vectors")
    coords = reducer.fit_transform(vectors).astype(np.float32)
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)  # something else took the cache file's name; the name is ours
        save_arrays(path, {"content_hash": content_hash, "config": asdict(config)}, coords=coords)
    except OSError as exc:  # a read-only or odd cache must not cost the page its map
        log.warning("projection cache %s could not be written (%s); serving it uncached", path.name, exc)
    if progress:
        progress(1.0, "projection cached")
    return coords


def _load_cached(path: Path, content_hash: str, config: ProjectionConfig, n: int) -> np.ndarray | None:
    """The cached coordinates float32 (n, 2) if ``path`` holds exactly them, else None.

    Anything else at that name (another ``.npz``, a directory, other vectors' map, NaNs) is
    treated as a cache miss and recomputed, so a damaged cache heals on the next call.
    """
    if not path.exists():
        return None
    try:
        meta, arrays, _ = load_arrays(path)
    except (ArtifactError, OSError) as exc:
        log.warning("projection cache %s is damaged (%s); recomputing", path.name, exc)
        return None
    coords = arrays.get("coords")
    if (not isinstance(meta, dict) or meta.get("content_hash") != content_hash
            or meta.get("config") != asdict(config) or not isinstance(coords, np.ndarray)
            or coords.shape != (n, 2) or coords.dtype != np.float32 or not np.isfinite(coords).all()):
        log.warning("projection cache %s does not hold this map; recomputing", path.name)
        return None
    return coords


def place(query: np.ndarray, vectors: np.ndarray, coords: np.ndarray, k: int = 10, unit: bool = False) -> np.ndarray:
    """Position float32 (2,) of a new vector query (d,) on an existing map.

    Weighted mean of the 2-D coordinates of its k most similar movies (cosine), weights
    softmax(similarity / 0.05) so the closest movies dominate.  ``unit``: the rows of ``vectors``
    are L2-normalised already (a Space's), so they are not normalised again on every click.
    """
    q = normalize(np.asarray(query, dtype=np.float32).reshape(1, -1))[0]
    if q.shape[0] != vectors.shape[1]:
        raise DimensionMismatchError(f"Query has dimension {q.shape[0]}, the space has {vectors.shape[1]}.")
    sims = (vectors if unit else normalize(vectors)) @ q
    k = min(k, len(sims))
    top = np.argpartition(-sims, k - 1)[:k]
    w = np.exp((sims[top] - sims[top].max()) / 0.05)
    return (coords[top] * (w / w.sum())[:, None]).sum(axis=0).astype(np.float32)


AGREEMENT_QUERIES = 5000   # movies whose neighbour lists are compared; all of them up to this size


def knn_sets(vectors: np.ndarray, k: int = 10, queries: np.ndarray | None = None) -> np.ndarray:
    """Indices int64 (q, k) of the k nearest *other* rows of each query row (cosine, exact).

    ``queries``: row positions (default: every row).  An exact FAISS flat inner-product search
    over normalised rows; FAISS works through blocks of queries and rows, so memory stays
    O((q + n) * d), never the n x n similarity matrix (87,585 movies: 30 GB as float32).
    """
    import faiss

    x = np.ascontiguousarray(normalize(vectors))
    n = len(x)
    q = np.arange(n) if queries is None else np.asarray(queries, dtype=np.int64)
    k = min(k, n - 1)
    if k < 1:
        return np.zeros((len(q), 0), dtype=np.int64)
    index = faiss.IndexFlatIP(x.shape[1])
    index.add(x)
    _, idx = index.search(x[q], k + 1)                                  # (q, k + 1), usually self first
    is_self = idx == q[:, None]
    # drop the query itself; where it was not returned (ties with duplicates), drop the last hit
    drop = np.where(is_self.any(axis=1), is_self.argmax(axis=1), k)
    keep = np.ones_like(idx, dtype=bool)
    keep[np.arange(len(q)), drop] = False
    return idx[keep].reshape(len(q), k).astype(np.int64)


def neighbour_agreement(a: np.ndarray, b: np.ndarray, k: int = 10, max_queries: int | None = AGREEMENT_QUERIES,
                        seed: int = 0) -> np.ndarray:
    """Per-movie overlap float32 (m,) in [0, 1] of the k-NN lists in two aligned spaces.

    ``a`` and ``b`` are (n, d_a) and (n, d_b) with row i the same movie in both.  Above
    ``max_queries`` movies the overlap is measured for a seeded random sample of ``max_queries``
    of them (each against all n), so its mean and shares are unbiased estimates at a bounded cost;
    m = min(n, max_queries).
    """
    if len(a) != len(b):
        raise DimensionMismatchError(f"Spaces are not aligned: {len(a)} vs {len(b)} movies.")
    n = len(a)
    queries = None
    if max_queries is not None and n > max_queries:
        queries = np.sort(np.random.default_rng(seed).choice(n, size=max_queries, replace=False))
    na, nb = knn_sets(a, k, queries), knn_sets(b, k, queries)
    k = na.shape[1]
    if k == 0:
        return np.zeros(len(na), dtype=np.float32)
    # overlap per row without Python sets: sort both lists, count common entries
    both = np.sort(np.concatenate([na, nb], axis=1), axis=1)
    common = (both[:, 1:] == both[:, :-1]).sum(axis=1)
    return (common / k).astype(np.float32)


def align(ids_a: np.ndarray, ids_b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Common movie ids (sorted) and the row positions of each in a and b."""
    common, ia, ib = np.intersect1d(ids_a, ids_b, assume_unique=True, return_indices=True)
    return common, ia, ib


def agreement_rows(spaces: dict[str, tuple[np.ndarray, np.ndarray]], k: int = 10) -> list[dict[str, object]]:
    """Per pair of spaces: how many of a movie's k nearest neighbours the two spaces share.

    ``spaces``: model -> (movie ids int64 (n,), vectors float32 (n, d)).  One dict per pair:
    a, b, movies (in both), mean overlap@k, share of movies with at least one common neighbour.
    """
    names = list(spaces)
    rows: list[dict[str, object]] = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            common, ia, ib = align(spaces[a][0], spaces[b][0])
            agree = neighbour_agreement(spaces[a][1][ia], spaces[b][1][ib], k)
            rows.append({"a": a.upper(), "b": b.upper(), "movies": len(common),
                         f"mean overlap@{k}": round(float(agree.mean()), 3),
                         "share with ≥1 common neighbour": round(float((agree > 0).mean()), 3)})
    return rows
