"""Build pipeline: train / embed every space (and the rankers asked for) and store vectors and weights.

``build(dataset_name, models=DEFAULT_BUILD, progress=callback)`` (the names: :mod:`engine.core.registry`):

1. load the data set (:func:`engine.data.dataset.load_dataset`) and open its catalogue;
2. per model, a *build key* = hash(data content hash, model name, config, BUILD_VERSION);
3. if the catalogue already has that model's vectors under the same key and the weights
   file exists, skip it; if only the weights file exists (an interrupted run), restore
   vectors from it; otherwise fit on **all** interactions (the evaluation uses the
   leave-one-out train split instead, see :mod:`engine.recsys.evaluation`);
4. weights go to ``<cache>/<dataset>/models/<model>-<key>.npz`` (atomic write, content
   hash inside), vectors to ``Catalogue.put_vectors`` (one transaction), and a manifest
   to ``Catalogue.put_json("build:<model>")`` — in that order, so an interrupted build
   never leaves a manifest that points to missing or stale weights.  The manifest names
   the weights relative to the data set's cache dir (``models/<model>-<key>.npz``), so a
   moved or copied cache keeps working; old manifests with absolute paths are read by file
   name.  A skip is decided only after the weights pass their content hash.

:func:`load_model` returns a fitted model for a built data set (used by re-ranking and
mood search).  Both raise :class:`~engine.core.errors.MovieDNAError` subclasses with one-sentence messages.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from engine.core import config as cfgmod
from engine.core.artifacts import config_hash, load_arrays
from engine.core.config import Progress
from engine.core.errors import ArtifactError, ModelNotBuiltError, MovieDNAError
from engine.models import model_class, parse_models
from engine.models.base import EmbeddingModel, Interactions

log = logging.getLogger(__name__)

DEFAULT_MODELS: tuple[str, ...] = ("mf", "sasrec", "text", "use")
BUILD_VERSION = 1
#: share of the progress bar per model (SASRec dominates the build time)
_WEIGHT = {"mf": 0.1, "sasrec": 0.7, "text": 0.2, "use": 0.05}
#: configs the build trains with (all data, fixed epochs chosen on validation; docs/MODELS.md)
BUILD_OVERRIDES: dict[str, dict[str, Any]] = {
    "mf": {"iterations": 6},                       # best validation sweep was 4-5 of 8
    # SASRec: fixed epochs, never the clock, so the app's model does not depend on how busy the
    # machine is (2 x 100 cosine epochs, ~215 s on ml-100k here; fit_info records train_seconds).
    # Big catalogues are bounded by data size instead (SASRecConfig.max_positions /
    # full_softmax_items; fit_info["bounds"] says what was bounded).
    "sasrec": {},
    "text": {},
    "widedeep": {"epochs": 12},  # a stage-2 ranker, built on request (--models widedeep): the best
}                                # validation epoch of the ml-100k evaluation (history 5; docs/MODELS.md)


def build_config(name: str, epochs: int | None = None, device: str | None = None) -> Any:
    """The config a build trains ``name`` with; ``epochs`` overrides SASRec epochs / MF sweeps."""
    cls = model_class(name)
    over = dict(BUILD_OVERRIDES.get(name, {}))
    if epochs is not None:
        if name in ("sasrec", "widedeep"):
            over["epochs"] = int(epochs)
        elif name == "mf":
            over["iterations"] = int(epochs)
    if device is not None and name == "sasrec":
        over["device"] = device                  # only SASRec trains with torch on a device
    return cls.Config(**over)


def build_key(data_hash: str, name: str, config: Any) -> str:
    """Content key of a build: same data + model + config -> same key."""
    return config_hash({"data": data_hash, "model": name, "config": dataclasses.asdict(config), "version": BUILD_VERSION})


def models_dir(dataset_name: str) -> Path:
    d = cfgmod.dataset_cache_dir(dataset_name) / "models"
    d.mkdir(parents=True, exist_ok=True)
    return d


def model_path(dataset_name: str, name: str, key: str) -> Path:
    """``<cache>/<dataset>/models/<model>-<key>.npz``."""
    return models_dir(dataset_name) / f"{name}-{key}.npz"


def manifest_weights(dataset_name: str, name: str, manifest: Any) -> Path | None:
    """Where a build manifest's weights are: always inside ``<cache>/<dataset>/models``.

    The manifest's ``path`` is relative (``models/<file>``) or, in manifests written before
    paths were relative, absolute; either way only its file name is used, so a moved cache
    resolves to its new place and a manifest can never point outside the cache.  Without a
    usable ``path`` the name is derived from the build ``key``; None if neither is there.
    """
    if not isinstance(manifest, dict):
        return None
    raw = manifest.get("path")
    fname = Path(raw.replace("\\", "/")).name if isinstance(raw, str) and raw.strip() else ""
    key = manifest.get("key")
    if not fname and isinstance(key, str) and key.isalnum():
        fname = f"{name}-{key}.npz"
    if not (fname.startswith(f"{name}-") and fname.endswith(".npz")):
        return None
    return models_dir(dataset_name) / fname


def weights_verified(path: Path, model_hash: Any) -> bool:
    """True when ``path`` passes its content hash and holds the weights ``model_hash`` names."""
    try:
        meta, _, _ = load_arrays(path)
    except (OSError, MovieDNAError) as exc:
        log.warning("weights %s fail verification (%s)", path.name, exc)
        return False
    return isinstance(model_hash, str) and meta.get("content_hash") == model_hash


def training_data(dataset: Any, name: str) -> Interactions:
    """What a build fits ``name`` on: all ratings (mf, sasrec, widedeep; with the users' demographics
    where the data set has them) or every movie (text, use)."""
    if name in ("text", "use"):
        ids = np.unique(dataset.movies["movie_id"].to_numpy(np.int64))
        return Interactions(item_ids=ids, sequences=(), movies=dataset.movies)
    return Interactions.from_ratings(dataset.ratings, dataset.movies, getattr(dataset, "users", None))


def build(
    dataset_name: str | None = None,
    models: str | Sequence[str] | None = DEFAULT_MODELS,
    *,
    epochs: int | None = None,
    data_dir: str | Path | None = None,
    force: bool = False,
    progress: Progress | None = None,
    dataset: Any | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """Train / embed ``models`` on a data set; store vectors + weights. Returns a JSON-able report.

    ``device``: SASRec's training device ("cpu", "cuda", "auto"; default the config's "cpu").

    progress(fraction 0..1, message) is called throughout (the Streamlit app drives a bar with it).
    ``dataset`` (a loaded :class:`engine.data.dataset.Dataset`) skips loading.
    """
    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset

    names = parse_models(models, default=DEFAULT_MODELS)
    report_progress = progress or (lambda f, m: None)
    t_start = time.perf_counter()
    report_progress(0.0, "loading data set")
    ds = dataset if dataset is not None else load_dataset(dataset_name, data_dir)
    cat = open_catalogue(ds)
    edited = cat.edit_log().edited
    if edited:  # movies added or removed by hand stay so: the text spaces embed the edited catalogue
        ds = dataclasses.replace(ds, movies=cat.apply_edits(ds.movies))
    total_w = sum(_WEIGHT.get(n, 0.2) for n in names)
    done_w = 0.0
    out: dict[str, Any] = {"dataset": ds.name, "data_hash": ds.content_hash, "models": {}}
    try:
        for name in names:
            w = _WEIGHT.get(name, 0.2) / total_w
            base = done_w

            def sub(frac: float, msg: str, _base: float = base, _w: float = w) -> None:
                report_progress(min(1.0, _base + _w * max(0.0, min(1.0, frac))), msg)

            out["models"][name] = _build_one(ds, cat, name, epochs, force, sub, device)
            done_w += w
        _cold_start(ds, cat)
    finally:
        cat.close()
    out["seconds"] = round(time.perf_counter() - t_start, 2)
    report_progress(1.0, f"build done in {out['seconds']:.0f}s")
    return out


def _build_one(ds: Any, cat: Any, name: str, epochs: int | None, force: bool, progress: Progress,
               device: str | None = None) -> dict[str, Any]:
    t0 = time.perf_counter()
    cfg = build_config(name, epochs, device)
    key = build_key(ds.content_hash, name, cfg)
    path = model_path(ds.name, name, key)
    try:
        manifest = cat.get_json(f"build:{name}") or {}
    except MovieDNAError as exc:  # an unreadable manifest only means "build again"
        log.warning("%s build manifest unreadable (%s); rebuilding", name, exc)
        manifest = {}
    if not isinstance(manifest, dict):
        manifest = {}
    if (not force and manifest.get("key") == key and path.is_file()
            and weights_verified(path, manifest.get("model_hash"))):
        try:
            vs = cat.get_vectors(name)
            # text spaces built before encoder identities were recorded are re-stored from their weights
            if vs.content_hash == manifest.get("vectors_hash") and (
                    "encoder" in vs.config or not hasattr(model_class(name), "encoder_identity")):
                progress(1.0, f"{name}: up to date, skipped")
                return {"status": "skipped", "key": key, "path": str(path), "dim": int(vs.vectors.shape[1]),
                        "n": int(len(vs.movie_ids)), "seconds": round(time.perf_counter() - t0, 2),
                        "fit_info": manifest.get("fit_info", {})}
        except MovieDNAError as exc:
            log.warning("%s vectors need rebuilding: %s", name, exc)
    cls = model_class(name)
    model: EmbeddingModel | None = None
    status = "built"
    if not force and path.is_file():
        try:
            model = cls.load(path)
            status = "restored"
            progress(0.9, f"{name}: weights found, restoring vectors")
        except MovieDNAError as exc:
            log.warning("%s weights unusable (%s); retraining", name, exc)
            model = None
    if model is None:
        progress(0.0, f"{name}: training")
        model = cls(cfg).fit(training_data(ds, name), progress=lambda f, m: progress(0.95 * f, m))
        model.save(path)
    ids, vecs = model.item_ids(), model.item_embeddings()
    vec_config = {"model": name, "build_key": key, "model_hash": model.content_hash, "data_hash": ds.content_hash,
                  "config": dataclasses.asdict(cfg), "weights": path.name}
    if hasattr(model, "encoder_identity"):  # text spaces: the query must be embedded by the same encoder
        vec_config["encoder"] = model.encoder_identity()
    vhash = cat.put_vectors(name, ids, vecs, vec_config)
    fit_info = {k: v for k, v in model.fit_info.items() if k != "history"}
    rel = path.relative_to(cfgmod.dataset_cache_dir(ds.name)).as_posix()  # cache can move: store it relative
    cat.put_json(f"build:{name}", {"key": key, "path": rel, "model_hash": model.content_hash,
                                    "vectors_hash": vhash, "config": dataclasses.asdict(cfg), "fit_info": fit_info,
                                    "built_at": time.time()})
    for old in models_dir(ds.name).glob(f"{name}-*.npz"):      # keep only the current weights
        if old != path:
            old.unlink(missing_ok=True)
    progress(1.0, f"{name}: {status} ({len(ids)} movies x {vecs.shape[1]} dims)")
    return {"status": status, "key": key, "path": str(path), "dim": int(vecs.shape[1]), "n": int(len(ids)),
            "seconds": round(time.perf_counter() - t0, 2), "fit_info": fit_info}


def _cold_start(ds: Any, cat: Any) -> None:
    """Fit (or verify) each ratings space's cold-start map beside its weights, and give every movie added
    by hand that a ratings space lacks (nobody rated it) a cold-start vector, flagged as such; vectors of
    movies removed by hand are dropped.  See :mod:`engine.recsys.coldstart`."""
    from engine.recsys import coldstart
    from engine.core.registry import SPACES, TEXT_SPACES

    stored = [v["model"] for v in cat.vector_info()]
    text = tuple(m for m in stored if m in TEXT_SPACES)
    if not text:
        return
    movie_ids = ds.movies["movie_id"].to_numpy(np.int64)
    added = np.asarray(cat.edit_log().added, np.int64)  # a data set's own unrated movies stay without one
    for name in [m for m in stored if m in SPACES and m not in TEXT_SPACES]:
        vs = cat.get_vectors(name)
        keep = np.isin(vs.movie_ids, movie_ids)
        missing = np.setdiff1d(added, vs.movie_ids)
        cold = cat.cold_start(name)
        if keep.all() and not len(missing):
            coldstart.for_space(cat, name, text, models_dir(ds.name))
            continue
        cmap = coldstart.for_space(cat, name, text, models_dir(ds.name))
        src = cat.get_vectors(cmap.source)
        missing = missing[np.isin(missing, src.movie_ids)]
        pred = cmap.predict(src.vectors[np.searchsorted(src.movie_ids, missing)])
        ids = np.concatenate([vs.movie_ids[keep], missing])
        vecs = np.concatenate([vs.vectors[keep], pred])
        flags = np.union1d(cold[np.isin(cold, ids)], missing)
        vhash = cat.put_vectors(name, ids, vecs, vs.config, cold_start=flags)
        manifest = cat.get_json(f"build:{name}") or {}
        if isinstance(manifest, dict) and manifest:
            cat.put_json(f"build:{name}", {**manifest, "vectors_hash": vhash})
        log.info("%s: %d cold-start vectors for movies added by hand", name, len(missing))


_LOADED: dict[tuple[str, str, str], EmbeddingModel] = {}
_LOAD_LOCK = threading.Lock()


def load_model(dataset: str | Any | None = None, name: str = "sasrec") -> EmbeddingModel:
    """The fitted ``name`` model of a built data set (``dataset``: name or loaded Dataset).

    Verified against the build manifest; cached per process (models are read-only after
    loading, safe to share between threads).  Raises UnknownModelError, ModelNotBuiltError
    (run ``python -m engine build``) or ArtifactError (tampered weights: rebuild).
    """
    from engine.data.catalogue import Catalogue

    name = str(name).strip().lower()
    cls = model_class(name)
    ds_name = getattr(dataset, "name", None) or dataset or cfgmod.Settings.from_env().dataset
    cpath = cfgmod.catalogue_path(ds_name)
    hint = f"`python -m engine build --dataset {ds_name} --models {name}`"
    force = f"`python -m engine build --dataset {ds_name} --models {name} --force`"
    if not cpath.exists():
        raise ModelNotBuiltError(f"{ds_name} has no catalogue yet; run {hint}.")
    cat = Catalogue(cpath)
    try:
        manifest = cat.get_json(f"build:{name}")
    except MovieDNAError:
        manifest = "unreadable"
    finally:
        cat.close()
    if not manifest:
        raise ModelNotBuiltError(f"The {name} model of {ds_name} is not built yet; run {hint}.")
    path = manifest_weights(ds_name, name, manifest)
    model_hash = manifest.get("model_hash") if isinstance(manifest, dict) else None
    if path is None or not isinstance(model_hash, str):
        raise ArtifactError(f"The {name} build record of {ds_name} is incomplete or corrupt; rebuild with {force}.")
    key = (ds_name, name, model_hash)
    with _LOAD_LOCK:
        if key in _LOADED:
            return _LOADED[key]
        if not path.is_file():
            raise ModelNotBuiltError(f"The {name} weights of {ds_name} are missing ({path.name}); run {hint}.")
        try:
            model = cls.load(path)
        except ArtifactError as exc:
            raise ArtifactError(f"{exc} Rebuild with {force}.") from exc
        if model.content_hash != model_hash:
            raise ArtifactError(f"The {name} weights of {ds_name} do not match the build manifest; rebuild with {force}.")
        _LOADED[key] = model
        return model
