"""Cold-start vectors: where a movie nobody rated lands in a ratings space (MF, SASRec).

A collaborative space learns a movie's vector from its ratings, so a movie added by hand has
none.  Its text vector exists at once (the text spaces embed its title, genres and overview), and
the movies that have both show how the two spaces relate.  :func:`fit` learns that mapping,
text vector float32 (d_s,) -> ratings-space vector float32 (d_t,), and chooses among

- ``ridge``: centred linear regression ``Y = (X - mx) W + my`` with an L2 penalty ``alpha``;
- ``knn``: the mean of the ``k`` text-nearest training movies' vectors, weighted by
  ``exp(cosine / 0.1)``;

and among the text spaces that are built, on a validation split (10 % of the movies that have
both, seed 0): the variant whose predicted vectors share most of their 10 nearest neighbours
with the true vectors' (:func:`overlap_at_k`) wins, and is refitted on every movie that has both.
The map is stored as a verified artifact (:func:`save` / :func:`load`,
``<cache>/<dataset>/models/coldstart-<model>.npz``) next to the model's weights, tied to the
weights' and the text vectors' hashes; a map that is missing (a build older than cold start) or
tied to other vectors is fitted again from the stored vectors (:func:`for_space`).
``benchmarks/bench_coldstart.py`` measures the maps on held-out movies against random and
popularity vectors.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from engine.core.arrays import normalize
from engine.core.artifacts import load_arrays, save_arrays
from engine.core.errors import ArtifactError, ModelNotBuiltError

log = logging.getLogger(__name__)

RIDGE_ALPHAS = (0.1, 1.0, 10.0, 100.0)
KNN_KS = (5, 10, 20, 50, 100)
KNN_TEMPERATURE = 0.1
VALIDATION_SHARE = 0.1
NEIGHBOURS = 10
FORMAT = 1


@dataclass(frozen=True)
class ColdStartMap:
    """A fitted text -> ratings-space map.

    ``target``: the ratings space; ``source``: the text space read; ``method`` "ridge" / "knn" with
    ``param`` (alpha / k); ``validation``: its mean overlap@10 on the validation split; ``arrays``:
    ridge ``W`` (d_s, d_t), ``mx`` (d_s,), ``my`` (d_t,); knn ``X`` (n, d_s) unit rows and ``Y``
    (n, d_t) unit rows; ``norm``: the median norm of the target's stored vectors (predictions get it);
    ``tied``: the hashes it was fitted from (target weights, source vectors' build).
    """

    target: str
    source: str
    method: str
    param: float
    validation: float
    norm: float
    arrays: Mapping[str, np.ndarray] = field(repr=False)
    tied: Mapping[str, str] = field(default_factory=dict)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Text vectors float32 (k, d_s) -> predicted ratings-space vectors float32 (k, d_t), each with
        the target's median norm (the spaces search by cosine; the norm keeps it like its neighbours)."""
        return _predict(self.method, self.param, self.arrays, normalize(np.asarray(x, np.float32))) * self.norm


def _fit_arrays(method: str, param: float, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """x float32 (n, d_s) unit rows, y float32 (n, d_t) unit rows -> the method's arrays."""
    if method == "ridge":
        mx, my = x.mean(0), y.mean(0)
        xc, yc = (x - mx).astype(np.float64), (y - my).astype(np.float64)
        w = np.linalg.solve(xc.T @ xc + param * np.eye(x.shape[1]), xc.T @ yc)
        return {"W": w.astype(np.float32), "mx": mx.astype(np.float32), "my": my.astype(np.float32)}
    return {"X": np.ascontiguousarray(x, np.float32), "Y": np.ascontiguousarray(y, np.float32)}


def _predict(method: str, param: float, arrays: Mapping[str, np.ndarray], xq: np.ndarray) -> np.ndarray:
    """Unit text vectors float32 (k, d_s) -> unit predictions float32 (k, d_t)."""
    if method == "ridge":
        return normalize((xq - arrays["mx"]) @ arrays["W"] + arrays["my"])
    sims = xq @ arrays["X"].T
    k = int(min(param, sims.shape[1]))
    top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    s = np.take_along_axis(sims, top, axis=1)
    w = np.exp((s - s.max(1, keepdims=True)) / KNN_TEMPERATURE)
    return normalize(np.einsum("qk,qkd->qd", w / w.sum(1, keepdims=True), arrays["Y"][top]).astype(np.float32))


def neighbours(queries: np.ndarray, base: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Row indices int64 (q, k) of each unit query's k nearest unit ``base`` rows (cosine)."""
    sims = queries @ base.T
    k = min(k, base.shape[0])
    return np.argpartition(-sims, k - 1, axis=1)[:, :k]


def overlap_at_k(pred: np.ndarray, true: np.ndarray, base: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """float64 (q,): share of the k nearest ``base`` rows that a predicted vector and the true vector
    have in common (all float32 unit rows; pred and true (q, d), base (n, d))."""
    a, b = neighbours(normalize(pred), base, k), neighbours(normalize(true), base, k)
    return np.array([len(set(x) & set(y)) / a.shape[1] for x, y in zip(a.tolist(), b.tolist())])


def split(n: int, share: float = VALIDATION_SHARE, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(train rows, held-out rows) int64 of n rows: a seeded random ``share`` held out (at least one)."""
    order = np.random.default_rng(seed).permutation(n)
    cut = max(1, int(round(n * share)))
    return np.sort(order[cut:]), np.sort(order[:cut])


def paired(source_ids: np.ndarray, source: np.ndarray, target_ids: np.ndarray, target: np.ndarray,
           exclude: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Movies that have both vectors: (ids int64 (n,), source unit float32 (n, d_s), target unit (n, d_t)).

    ``exclude``: ids left out (the target's own cold-start rows: predicted, not learned)."""
    common = np.intersect1d(source_ids, target_ids)
    if exclude is not None and len(exclude):
        common = np.setdiff1d(common, exclude)
    s = normalize(np.asarray(source, np.float32)[np.searchsorted(source_ids, common)])
    t = normalize(np.asarray(target, np.float32)[np.searchsorted(target_ids, common)])
    return common, s, t


METHODS = {"ridge": RIDGE_ALPHAS, "knn": KNN_KS}


def choose(sources: Mapping[str, tuple[np.ndarray, np.ndarray]], target: str, target_ids: np.ndarray,
           target_vectors: np.ndarray, exclude: np.ndarray | None = None, seed: int = 0,
           tied: Mapping[str, str] | None = None, methods: tuple[str, ...] = ("ridge", "knn")) -> ColdStartMap:
    """Choose source space, method and parameter on a validation split; refit the winner on every pair.

    ``sources``: text space -> (ids int64 (n,) sorted, vectors float32 (n, d)); ``target_ids`` sorted;
    ``methods``: the kinds of map to choose among (a benchmark asks for one at a time).
    """
    best: tuple[float, str, str, float] | None = None
    for name, (sids, svecs) in sorted(sources.items()):
        _, x, y = paired(sids, svecs, target_ids, target_vectors, exclude)
        if len(x) < 3:  # a validation split needs a held-out movie and two to learn from
            continue
        train, valid = split(len(x), seed=seed)
        for method, params in ((m, METHODS[m]) for m in methods):
            for p in params:
                arrays = _fit_arrays(method, float(p), x[train], y[train])
                score = float(overlap_at_k(_predict(method, float(p), arrays, x[valid]), y[valid], y[train]).mean())
                if best is None or score > best[0]:
                    best = (score, name, method, float(p))
    if best is None:
        raise ModelNotBuiltError(f"No text space shares enough movies with {target} to learn cold-start vectors; "
                                 "run `python -m engine build --models text`.")
    score, name, method, p = best
    sids, svecs = sources[name]
    _, x, y = paired(sids, svecs, target_ids, target_vectors, exclude)
    norm = float(np.median(np.linalg.norm(np.asarray(target_vectors, np.float32), axis=1)))
    log.info("cold start for %s: %s from %s (%s), validation overlap@10 %.3f", target, method, name, p, score)
    return ColdStartMap(target, name, method, p, score, norm, _fit_arrays(method, p, x, y), dict(tied or {}))


def save(path: Path | str, m: ColdStartMap) -> str:
    """Write the map atomically with its content hash (:func:`engine.core.artifacts.save_arrays`)."""
    meta = {"format": FORMAT, "target": m.target, "source": m.source, "method": m.method, "param": m.param,
            "validation": m.validation, "norm": m.norm, "tied": dict(m.tied)}
    return save_arrays(path, meta, **{k: np.asarray(v) for k, v in m.arrays.items()})


def load(path: Path | str, tied: Mapping[str, str] | None = None) -> ColdStartMap | None:
    """The map at ``path`` if it passes its content hash and was fitted from the vectors ``tied``
    names; None when it is missing or tied to other vectors; ArtifactError when it is corrupt."""
    path = Path(path)
    if not path.is_file():
        return None
    meta, arrays, _ = load_arrays(path)
    if meta.get("format") != FORMAT or meta.get("method") not in ("ridge", "knn"):
        raise ArtifactError(f"{path.name} is not a cold-start map of this version; it will be fitted again.")
    if tied is not None and dict(meta.get("tied") or {}) != dict(tied):
        return None
    return ColdStartMap(meta["target"], meta["source"], meta["method"], float(meta["param"]),
                        float(meta["validation"]), float(meta["norm"]), arrays, dict(meta.get("tied") or {}))


def map_path(models_dir: Path, target: str) -> Path:
    """``<models dir>/coldstart-<target>.npz``: beside the target's weights."""
    return Path(models_dir) / f"coldstart-{target}.npz"


def for_space(catalogue: Any, target: str, text_spaces: tuple[str, ...], models_dir: Path) -> ColdStartMap:
    """The stored map of ``target`` if it is verified and tied to the current build; otherwise fitted
    now from the catalogue's stored vectors (the target's cold-start rows left out) and saved.

    ``catalogue``: an :class:`engine.data.catalogue.Catalogue`; ``text_spaces``: the built text spaces.
    """
    tied = tie(catalogue, target, text_spaces)
    path = map_path(models_dir, target)
    try:
        found = load(path, tied)
    except ArtifactError as exc:
        log.warning("cold-start map %s unusable (%s); fitting it again", path.name, exc)
        found = None
    if found is not None:
        return found
    tv = catalogue.get_vectors(target)
    sources = {}
    for name in text_spaces:
        vs = catalogue.get_vectors(name)
        sources[name] = (vs.movie_ids, vs.vectors)
    m = choose(sources, target, tv.movie_ids, tv.vectors, exclude=catalogue.cold_start(target), tied=tied)
    try:
        save(path, m)
    except OSError as exc:  # a read-only cache: use the map from memory
        log.warning("cold-start map %s could not be saved (%s)", path.name, exc)
    return m


def tie(catalogue: Any, target: str, text_spaces: tuple[str, ...]) -> dict[str, str]:
    """What a map is fitted from: the target's build (its weights' hash) and each text space's build key.

    Edits change the vectors' hashes but not these, so one map serves every edit until a rebuild."""
    out = {}
    for name in (target, *text_spaces):
        cfg = next((v["config"] for v in catalogue.vector_info() if v["model"] == name), {}) or {}
        out[name] = str(cfg.get("model_hash") or cfg.get("build_key") or cfg.get("seed") or "")
    return out
