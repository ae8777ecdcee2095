"""The Scale lab's second distribution: vectors shaped like a built catalogue's own embeddings.

The "hard" distribution (:func:`engine.lab.scale.clustered_chunks`) draws isotropic gaussian blobs
around random centres: every direction of the 64 carries the same noise, so its intrinsic dimension
is the full dimension and a query's neighbours spread over many clusters.  Real MF / SASRec / text
vectors are not like that: a few directions carry most of the variance and the density is skewed
(a few dense regions, long tails).  "real-like" is a mixture of probabilistic PCA models fitted to a
catalogue's own vectors (unit-normalised, as the pages search them by cosine):

- k-means (FAISS, seeded) splits the vectors into ``k`` clusters; the cluster shares are the weights;
- per cluster, the top ``rank`` principal directions keep their variances and the remaining
  variance is spread evenly over the other directions (the PPCA maximum-likelihood fit), so a
  cluster's shape is low-rank plus a little isotropic noise;
- a draw picks a cluster by weight, adds ``z @ basis`` (z standard normal, (rank,)) and the residual
  noise to its mean, and is normalised to unit length.

Generation is seeded and streamed like the hard one: cluster labels up front (int64, 8 bytes a row),
then one standard-normal block of (m, rank + d) per chunk, drawn in row order, so rows are identical
for any chunk size and 100M rows never sit in RAM together.

The fitted model is an artifact (:func:`engine.core.artifacts.save_arrays`): its content hash covers the
arrays and the metadata, which name the catalogue, the space and the sha256 of the vectors it was
fitted to; :func:`load_mixture` verifies both before a benchmark draws from it.

:func:`vector_stats` gives the figures to judge the match with: intrinsic dimension (TwoNN and the
number of principal components holding 90 % of the variance) and neighbour-distance statistics
(relative contrast, mean cosine to the 10 nearest neighbours).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import faiss
import numpy as np

from engine.core.artifacts import load_arrays, save_arrays
from engine.core.errors import ArtifactError, BadQueryError

log = logging.getLogger(__name__)

KIND = "scale-mixture"
FORMAT = 1


@dataclass(frozen=True)
class Mixture:
    """A fitted mixture of low-rank gaussians on the unit sphere.

    ``weights`` float64 (k,) summing to 1; ``means`` float32 (k, d); ``bases`` float32 (k, rank, d):
    each cluster's principal directions scaled by the square root of their variances (rows of a
    cluster with fewer members than ``rank`` + 1 are zero); ``noise`` float32 (k,): residual standard
    deviation per dimension.  ``source``: which catalogue and space it was fitted to
    (``dataset``, ``space``, ``vectors_sha256``, ``n``, ``d``); ``sha256``: the artifact's hash.
    """

    weights: np.ndarray
    means: np.ndarray
    bases: np.ndarray
    noise: np.ndarray
    source: dict[str, Any]
    seed: int
    sha256: str = ""

    @property
    def k(self) -> int:
        return int(len(self.weights))

    @property
    def d(self) -> int:
        return int(self.means.shape[1])

    @property
    def rank(self) -> int:
        return int(self.bases.shape[1])

    def meta(self) -> dict[str, Any]:
        return {"kind": KIND, "format": FORMAT, "source": dict(self.source), "seed": int(self.seed),
                "k": self.k, "rank": self.rank, "d": self.d}


def unit_rows(x: np.ndarray) -> np.ndarray:
    """float32 (n, d) rows scaled to unit length (zero rows stay zero)."""
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms > 0, norms, 1.0)


def fit_mixture(vectors: np.ndarray, source: dict[str, Any], k: int | None = None, rank: int = 16,
                seed: int = 0, niter: int = 25) -> Mixture:
    """Fit the mixture to float32 (n, d) ``vectors`` (normalised here).  ``k`` defaults to one
    cluster per 50 vectors, 4 to 64; ``rank`` directions per cluster (at most d - 1)."""
    x = unit_rows(vectors)
    n, d = x.shape
    if n < 20 or d < 2:
        raise BadQueryError(f"A mixture needs at least 20 vectors of dimension 2 or more; got {n} x {d}.")
    k = int(k or max(4, min(64, n // 50)))
    rank = int(min(rank, d - 1))
    km = faiss.Kmeans(d, k, niter=niter, seed=seed, verbose=False)
    km.train(x)
    _, lab = km.index.search(x, 1)
    lab = lab[:, 0]
    weights = np.bincount(lab, minlength=k).astype(np.float64)
    means = np.zeros((k, d), np.float32)
    bases = np.zeros((k, rank, d), np.float32)
    noise = np.zeros(k, np.float32)
    for c in range(k):
        xc = x[lab == c].astype(np.float64)
        if not len(xc):
            continue
        means[c] = xc.mean(0)
        if len(xc) < 2:
            continue
        _, s, vt = np.linalg.svd(xc - xc.mean(0), full_matrices=False)
        var = s ** 2 / (len(xc) - 1)                 # variances along the principal directions
        r = min(rank, len(var) - 1)
        bases[c, :r] = vt[:r] * np.sqrt(var[:r])[:, None]
        noise[c] = np.sqrt(max(var[r:].sum(), 0.0) / (d - r))  # PPCA: the rest spread over d - r directions
    weights /= weights.sum()
    return Mixture(weights, means, bases, noise, {**source, "n": int(n), "d": int(d)}, int(seed))


def save_mixture(path: Path | str, model: Mixture) -> Mixture:
    """Write the model atomically with its content hash; return it with ``sha256`` set."""
    digest = save_arrays(path, model.meta(), weights=model.weights, means=model.means, bases=model.bases,
                         noise=model.noise)
    return Mixture(model.weights, model.means, model.bases, model.noise, model.source, model.seed, digest)


def load_mixture(path: Path | str, expect_source: dict[str, Any] | None = None) -> Mixture:
    """A model written by :func:`save_mixture`, after checking its hash, its kind and (when given)
    that it was fitted to ``expect_source`` (every key given must match).  :class:`ArtifactError`
    otherwise; ``FileNotFoundError`` when absent."""
    meta, arrays, digest = load_arrays(path)
    name = Path(path).name
    if meta.get("kind") != KIND or meta.get("format") != FORMAT:
        raise ArtifactError(f"{name} is not a Scale lab mixture model; fit it again.")
    src = meta.get("source", {})
    for key, want in (expect_source or {}).items():
        if src.get(key) != want:
            raise ArtifactError(f"{name} was fitted to {key}={src.get(key)!r}, not {want!r}; fit it again.")
    try:
        return Mixture(arrays["weights"], arrays["means"], arrays["bases"], arrays["noise"], src,
                       int(meta["seed"]), digest)
    except KeyError as exc:
        raise ArtifactError(f"{name} lacks {exc}; fit it again.") from None


def mixture_chunks(model: Mixture, n: int, seed: int = 0, chunk: int = 1_000_000) -> Iterator[tuple[int, np.ndarray]]:
    """Unit-norm float32 rows drawn from ``model`` as (first row, (m, d) block) pairs, ``chunk`` rows
    at a time; identical rows for any ``chunk`` (one normal block of (m, rank + d) per chunk, in row
    order).  Another ``seed`` gives held-out queries from the same distribution."""
    rng = np.random.default_rng(seed)
    labels = rng.choice(model.k, size=n, p=model.weights)
    r, d = model.rank, model.d
    for s in range(0, n, chunk):
        m = min(chunk, n - s)
        z = rng.standard_normal((m, r + d), dtype=np.float32)
        lab = labels[s:s + m]
        x = model.means[lab] + model.noise[lab, None] * z[:, r:]
        for c in np.unique(lab):
            rows = np.flatnonzero(lab == c)
            part = x[rows]
            for j in range(r):  # elementwise, not BLAS: its blocking (and last bits) would depend on the chunk
                part += z[rows, j:j + 1] * model.bases[c, j]
            x[rows] = part
        yield s, unit_rows(x)


def mixture_vectors(model: Mixture, n: int, seed: int = 0, chunk: int = 1_000_000) -> np.ndarray:
    """All of :func:`mixture_chunks` in one float32 (n, d) array."""
    out = np.empty((n, model.d), dtype=np.float32)
    for s, block in mixture_chunks(model, n, seed, chunk):
        out[s:s + len(block)] = block
    return out


@dataclass(frozen=True)
class VectorStats:
    """Shape figures of a unit-vector set (n rows of dimension d).

    ``twonn_dim``: intrinsic dimension by TwoNN (Facco et al. 2017: ratio of the 2nd to the 1st
    neighbour distance); ``pca90_dims``: principal components holding 90 % of the variance;
    ``relative_contrast``: mean distance to the set / mean distance to the nearest neighbour (high = easy
    for ANN); ``mean_10nn_cos``: mean cosine to the 10 nearest neighbours; ``queries``: rows they
    were measured from (0: not recorded); ``what``: which set (a result file names it)."""

    n: int
    d: int
    twonn_dim: float
    pca90_dims: int
    relative_contrast: float
    mean_10nn_cos: float
    queries: int = 0
    what: str = ""


def vector_stats(x: np.ndarray, queries: int = 1000, seed: int = 0) -> VectorStats:
    """:class:`VectorStats` of float32 (n, d) (normalised here); neighbour figures over ``queries``
    rows of the set itself (each row's own match left out), exact search."""
    x = unit_rows(x)
    n, d = x.shape
    if n < 12:
        raise BadQueryError(f"Statistics need at least 12 vectors; got {n}.")
    rng = np.random.default_rng(seed)
    q_rows = np.sort(rng.choice(n, min(queries, n), replace=False))
    sims, ids = faiss.knn(x[q_rows], x, 11, metric=faiss.METRIC_INNER_PRODUCT)
    keep = ids != q_rows[:, None]                      # drop the row itself (wherever ties put it)
    sims = np.stack([s[m][:10] for s, m in zip(sims, keep)])
    nb = np.stack([i[m][:10] for i, m in zip(ids, keep)])
    # distances from the rows themselves in float64: 2 - 2 cos in float32 loses close neighbours
    dist = np.linalg.norm(x[nb].astype(np.float64) - x[q_rows, None, :].astype(np.float64), axis=2)
    dist = np.sort(dist, axis=1)
    r1, r2 = dist[:, 0], dist[:, 1]
    ok = r1 > 1e-9                                     # exact duplicates carry no scale
    mu = r2[ok] / r1[ok]
    twonn = float(ok.sum() / np.sum(np.log(mu))) if ok.any() and np.sum(np.log(mu)) > 0 else float("nan")
    others = x[rng.choice(n, min(2000, n), replace=False)]
    mean_dist = np.sqrt(np.maximum(2.0 - 2.0 * (x[q_rows] @ others.T).astype(np.float64), 0.0)).mean(1)
    # He et al. 2012: E[mean distance] / E[nearest distance]; a mean of per-query ratios would be
    # ruled by the few near-duplicate rows real spaces hold
    contrast = float(mean_dist.mean() / r1.mean()) if r1.mean() > 0 else float("inf")
    xc = x - x.mean(0)
    var = np.linalg.svd(xc[rng.choice(n, min(20_000, n), replace=False)].astype(np.float64), compute_uv=False) ** 2
    pca90 = int(np.searchsorted(np.cumsum(var) / var.sum(), 0.90) + 1)
    return VectorStats(int(n), int(d), round(twonn, 2), pca90, round(contrast, 3), round(float(sims.mean()), 4),
                       len(q_rows))


def catalogue_vectors(dataset: str, space: str) -> tuple[np.ndarray, dict[str, Any]]:
    """A built catalogue's vectors of one space, hash-verified by the catalogue: (float32 (n, d),
    the source record a mixture fitted to them carries)."""
    from engine.core.config import catalogue_path
    from engine.data.catalogue import Catalogue

    cat = Catalogue.open_existing(catalogue_path(dataset), dataset=dataset)
    vs = cat.get_vectors(space)
    return vs.vectors, {"dataset": dataset, "space": space, "vectors_sha256": vs.content_hash}


def mixture_path(dataset: str, space: str, k: int | None, rank: int, seed: int) -> Path:
    """Where the mixture fitted to one catalogue space lives: ``<cache>/<dataset>/scale/``."""
    from engine.core.config import dataset_cache_dir
    from engine.core.inputs import validate_name

    return (dataset_cache_dir(dataset) / "scale"
            / f"mixture-{validate_name(space, 'space')}-k{k or 'auto'}-r{int(rank)}-s{int(seed)}.npz")


def catalogue_mixture(dataset: str, space: str, k: int | None = None, rank: int = 16,
                      seed: int = 0) -> tuple[Mixture, np.ndarray]:
    """The mixture fitted to ``dataset``'s ``space`` vectors, loaded when the saved one verifies and
    was fitted to these very vectors, fitted and saved otherwise.  Returns (model, the real vectors)."""
    x, source = catalogue_vectors(dataset, space)
    path = mixture_path(dataset, space, k, rank, seed)
    try:
        model = load_mixture(path, expect_source=source)
        log.info("mixture %s verified (%s)", path.name, model.sha256[:12])
        return model, x
    except FileNotFoundError:
        pass
    except ArtifactError as exc:
        log.warning("refitting the mixture: %s", exc)
    model = save_mixture(path, fit_mixture(x, source, k, rank, seed))
    log.info("mixture fitted to %s/%s: k=%d rank=%d -> %s", dataset, space, model.k, model.rank, path)
    return model, x
