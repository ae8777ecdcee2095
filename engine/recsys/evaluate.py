"""Offline evaluation: leave-one-out HR@10 / NDCG@10 for popularity, MF, SASRec and Text.

Protocol (see :mod:`engine.recsys.splits` and :mod:`engine.models.metrics`):

- implicit interactions, stable time sort, iterated 5-core, leave-one-out
  (last = test, second-last = validation, rest = train);
- models are fitted on the **train** part only; the validation item drives early
  stopping / best-epoch selection; test histories are train + validation item;
- (a) *sampled*: target among 100 seeded uniform negatives the user never touched;
  (b) *full*: target among all items, the user's history excluded.

The final build (:mod:`engine.build`) instead trains on all interactions with the
epoch counts chosen here, so the vectors in the app use every click.
Results go to ``Catalogue.put_json("evaluation", ...)`` for the Home page.
"""

from __future__ import annotations

import dataclasses
import logging
import json
import math
import os
import time
from pathlib import Path
from typing import Any, Sequence


from engine.published import published_dir
from engine.config import Progress
from engine.errors import MovieDNAError

from engine.models.metrics import full_ranks, sampled_ranks, summarize
from engine.models import model_class, parse_models

from engine.models.base import Holdout
from engine.models.popularity import PopularityModel
from engine.recsys.splits import LeaveOneOut, leave_one_out
from engine.recsys.stages import StagesConfig, evaluate_stages, format_stages

log = logging.getLogger(__name__)

EVAL_MODELS: tuple[str, ...] = ("popularity", "mf", "sasrec", "text", "use", "widedeep")
#: configs used for evaluation: maximum epochs with early stopping on validation
EVAL_OVERRIDES: dict[str, dict[str, Any]] = {
    "mf": {"iterations": 10},
    "sasrec": {},                     # the defaults: 100 epochs, cosine, best of every 5th epoch
    "text": {},
    "use": {},
    "widedeep": {},                   # the defaults: at most 30 epochs, best validation epoch, patience 4
}

#: published reference figures on ml-100k (test set); see docs/MODELS.md
REFERENCES: dict[str, dict[str, dict[str, float]]] = {
    "ml-100k": {
        "sasrec": {"sampled_ndcg@10": 0.44, "sampled_hr@10": 0.71, "full_ndcg@10": 0.104, "full_hr@10": 0.206},
        "mf": {"sampled_ndcg@10": 0.318, "sampled_hr@10": 0.539, "full_ndcg@10": 0.071, "full_hr@10": 0.139},
        "popularity": {"sampled_ndcg@10": 0.199, "sampled_hr@10": 0.356, "full_ndcg@10": 0.044, "full_hr@10": 0.085},
    }
}
REFERENCE_NOTES = {
    "sasrec": "reference PyTorch SASRec: a single BCE net, no side information (maxlen 200, hidden 50, 2 blocks), "
              "240 epochs, ~820 s CPU",
    "mf": "implicit ALS, 64 factors",
    "popularity": "most-popular",
}


def parse_eval_models(models: str | Sequence[str] | None) -> list[str]:
    """Models to evaluate: registered models plus the popularity baseline (default: all of them)."""
    return parse_models(models, default=EVAL_MODELS, extra=("popularity",))


def eval_config(name: str, epochs: int | None = None, **overrides: Any) -> Any:
    if name == "popularity":
        return PopularityModel.Config()
    over = dict(EVAL_OVERRIDES.get(name, {})) | overrides
    if epochs is not None:
        over["epochs" if name in ("sasrec", "widedeep") else "iterations"] = int(epochs)
        if name in ("text", "use"):
            over.pop("iterations")
    return model_class(name).Config(**over)


def evaluate_split(
    split: LeaveOneOut,
    movies: Any = None,
    models: str | Sequence[str] | None = None,
    *,
    epochs: int | None = None,
    seed: int = 0,
    n_negatives: int = 100,
    k: int = 10,
    configs: dict[str, Any] | None = None,
    progress: Progress | None = None,
    users: Any = None,
    stages: bool | StagesConfig = False,
    keep: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fit each model on ``split`` train, early-stop on validation, report test HR/NDCG@k both protocols.
    ``users``: the data set's users frame (demographics for Wide & Deep; other models ignore it).
    ``stages``: also measure what the pages do with the fitted models (:mod:`engine.recsys.stages`)
    under the result's ``"stages"`` key.  ``keep``: a dict that receives the fitted models (name -> model)."""
    names = parse_eval_models(models)
    progress = progress or (lambda f, m: None)
    negatives = split.sample_negatives(n_negatives, seed=seed)
    train, valid, test = split.train_data(movies, users), split.valid_holdout(), split.test_holdout()
    results: dict[str, Any] = {}
    fitted: dict[str, Any] = {}
    for i, name in enumerate(names):
        cfg = (configs or {}).get(name) or eval_config(name, epochs)
        cls = PopularityModel if name == "popularity" else model_class(name)
        progress(i / len(names), f"evaluate: fitting {name}")
        t0, c0 = time.perf_counter(), time.process_time()
        model = cls(cfg).fit(train, valid=valid,
                             progress=lambda f, m, _i=i: progress((_i + f) / len(names), m))
        train_s, train_cpu = time.perf_counter() - t0, time.process_time() - c0
        t1 = time.perf_counter()
        res = {
            "sampled": summarize(sampled_ranks(model, test, negatives), k),
            "full": summarize(full_ranks(model, test), k),
            "valid_full": summarize(full_ranks(model, valid), k),
            "train_seconds": round(train_s, 2),
            "train_cpu_seconds": round(train_cpu, 2),
            "eval_seconds": round(time.perf_counter() - t1, 2),
            "config": dataclasses.asdict(cfg),
            "fit_info": {k2: v for k2, v in model.fit_info.items() if k2 != "history"},
            "fit_history": model.fit_info.get("history", []),
        }
        if getattr(model, "uses_user_features", False):      # what the demographics add
            blind = Holdout(test.histories, test.targets, test.exclude)
            res["full_without_user_features"] = summarize(full_ranks(model, blind), k)
        results[name] = res
        fitted[name] = model
        if keep is not None:
            keep[name] = model
        log.info("%s: sampled %s full %s (%.1fs)", name, res["sampled"], res["full"], train_s)
    out = {
        "protocol": {"k": k, "negatives": n_negatives, "seed": seed, "core": 5,
                     "split": "leave-one-out (last=test, second-last=validation)", "trained_on": "train split"},
        "split": {"users": split.n_users, "items": split.n_items, "interactions": split.n_interactions},
        "models": results,
    }
    if stages:
        cfg = stages if isinstance(stages, StagesConfig) else StagesConfig()
        out["stages"] = evaluate_stages(split, fitted, cfg, progress=progress)
    return out


def evaluate(
    dataset_name: str | None = None,
    models: str | Sequence[str] | None = None,
    *,
    data_dir: Any = None,
    epochs: int | None = None,
    seed: int = 0,
    n_negatives: int = 100,
    store: bool = True,
    progress: Progress | None = None,
    dataset: Any | None = None,
    stages: bool | StagesConfig = True,
    keep: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate on a data set; store the result in its catalogue under ``"evaluation"``.
    ``stages``: also measure taste-vector retrieval and two stages (``result["stages"]``);
    ``keep``: a dict that receives the models fitted on the train split."""
    from engine.data.dataset import load_dataset

    parse_eval_models(models)                                   # fail fast on a bad name
    t0 = time.perf_counter()
    ds = dataset if dataset is not None else load_dataset(dataset_name, data_dir)
    split = leave_one_out(ds.ratings)
    out = evaluate_split(split, ds.movies, models, epochs=epochs, seed=seed, n_negatives=n_negatives, progress=progress,
                         users=getattr(ds, "users", None), stages=stages, keep=keep)
    out["dataset"] = ds.name
    out["data_hash"] = getattr(ds, "content_hash", None)
    out["references"] = REFERENCES.get(ds.name, {})
    out["reference_notes"] = REFERENCE_NOTES if ds.name in REFERENCES else {}
    out["seconds"] = round(time.perf_counter() - t0, 2)
    out["created"] = time.time()
    from engine.machine import machine_facts

    out["machine"] = machine_facts() | {"load_average": [round(x, 2) for x in os.getloadavg()]}
    if store:
        from engine.data.catalogue import open_catalogue

        cat = open_catalogue(ds)
        try:
            cat.put_json("evaluation", out)
        finally:
            cat.close()
    return out


#: what each published reference row is, in a few words (the Home table's model column)
REFERENCE_SHORT = {"sasrec": "one BCE net, no side info", "mf": "implicit ALS", "popularity": "most popular"}


def short_label(name: str, config: Any = None) -> str:
    """A model's name in a comparison table, with what it really is where that matters: the default
    SASRec is ``"sasrec (CE + BCE nets, side info)"``; its reference is a single BCE net."""
    if name != "sasrec":
        return name
    config = config if isinstance(config, dict) else {}
    members = config.get("members") or ("ce", "bce")
    members = [str(m).upper() for m in (members if isinstance(members, (list, tuple)) else [members])]
    side = ", side info" if config.get("side_info", True) else ""
    return f"sasrec ({' + '.join(members)} net{'s' if len(members) > 1 else ''}{side})"


def model_label(name: str, config: dict[str, Any] | None = None) -> str:
    """What a result row really is, in words (e.g. the default SASRec is two nets with side information)."""
    config = config or {}
    if name == "sasrec":
        members = config.get("members") or ("ce", "bce")
        nets = " + ".join(f"{m.upper()} net" for m in members)
        side = ", genre/decade side information" if config.get("side_info", True) else ""
        return f"SASRec: {nets}{side}" + (" (scores summed)" if len(members) > 1 else "")
    if name == "widedeep":
        return "Wide & Deep: genre x demographics/decade crosses + MLP + history dot product"
    return {"popularity": "most clicked in training", "mf": "iALS matrix factorisation",
            "text": "MiniLM text embedding of title, genres, tags",
            "use": "USE multilingual text embedding of title, genres, tags"}.get(name, name)


def format_table(result: dict[str, Any]) -> str:
    """Human-readable table of an evaluation result."""
    lines = [f"{result.get('dataset', '')}: {result['split']['users']} users, {result['split']['items']} items, "
             f"{result['split']['interactions']} interactions (5-core, leave-one-out)",
             f"{'model':<11}{'HR@10 s100':>11}{'NDCG@10 s100':>13}{'HR@10 full':>11}{'NDCG@10 full':>13}"
             f"{'train s':>9}{'epochs':>9}"]
    refs = result.get("references", {})
    for name, r in result["models"].items():
        fi = r.get("fit_info", {})
        ep = fi.get("best_epoch", fi.get("best_iteration", ""))
        ep = "+".join(map(str, ep)) if isinstance(ep, list) else ep        # one per ensemble member
        lines.append(f"{name:<11}{r['sampled']['hr@10']:>11.4f}{r['sampled']['ndcg@10']:>13.4f}"
                     f"{r['full']['hr@10']:>11.4f}{r['full']['ndcg@10']:>13.4f}{r['train_seconds']:>9.1f}{str(ep):>9}")
        if name in refs:
            ref = refs[name]
            lines.append(f"{'  ref':<11}{ref['sampled_hr@10']:>11.3f}{ref['sampled_ndcg@10']:>13.3f}"
                         f"{ref['full_hr@10']:>11.3f}{ref['full_ndcg@10']:>13.3f}")
        if "full_without_user_features" in r:
            nu = r["full_without_user_features"]
            lines.append(f"{'  no demo.':<11}{'':>11}{'':>13}{nu['hr@10']:>11.4f}{nu['ndcg@10']:>13.4f}"
                         "   (same model, demographics hidden)")
    lines += [f"  {name}: {model_label(name, r.get('config'))}" for name, r in result["models"].items()]
    notes = result.get("reference_notes") or {}
    lines += [f"  ref {name}: {note}" for name, note in notes.items() if name in result["models"] and name in refs]
    if result.get("stages"):
        lines += ["", format_stages(result["stages"])]
    return "\n".join(lines)


#: columns of :func:`evaluation_rows`, in display order
EVALUATION_COLUMNS = ("model", "HR@10 sampled-100", "NDCG@10 sampled-100", "HR@10 full", "NDCG@10 full", "train s")


def _metric(x: Any) -> float | None:
    """A stored metric as a float rounded to 4 places; None if absent or not a finite number."""
    if isinstance(x, bool) or not isinstance(x, (int, float)) or not math.isfinite(x):
        return None
    return round(float(x), 4)


def evaluation_rows(blob: Any) -> list[dict[str, Any]] | None:
    """The stored evaluation (``Catalogue.get_json("evaluation")``) as display rows, or None.

    One dict per model with :data:`EVALUATION_COLUMNS` (metrics rounded to 4 places), each
    followed by an ``"  reference <model>"`` row when the data set has published figures.
    Returns None when the blob is missing or not an evaluation (wrong types, no models); a
    model entry whose metrics are missing or not numbers shows None in those cells instead of
    failing the page.  Never raises on malformed input.
    """
    if not isinstance(blob, dict) or not isinstance(blob.get("models"), dict) or not blob["models"]:
        return None
    refs = blob.get("references")
    refs = refs if isinstance(refs, dict) else {}
    rows: list[dict[str, Any]] = []
    for name, m in blob["models"].items():
        if not isinstance(m, dict):
            return None
        sampled = m.get("sampled") if isinstance(m.get("sampled"), dict) else {}
        full = m.get("full") if isinstance(m.get("full"), dict) else {}
        rows.append({"model": short_label(str(name), m.get("config")), "HR@10 sampled-100": _metric(sampled.get("hr@10")),
                     "NDCG@10 sampled-100": _metric(sampled.get("ndcg@10")), "HR@10 full": _metric(full.get("hr@10")),
                     "NDCG@10 full": _metric(full.get("ndcg@10")), "train s": _metric(m.get("train_seconds"))})
        ref = refs.get(name)
        if isinstance(ref, dict):
            short = REFERENCE_SHORT.get(str(name))
            rows.append({"model": f"  reference {name}" + (f" ({short})" if short else ""),
                         "HR@10 sampled-100": _metric(ref.get("sampled_hr@10")),
                         "NDCG@10 sampled-100": _metric(ref.get("sampled_ndcg@10")),
                         "HR@10 full": _metric(ref.get("full_hr@10")), "NDCG@10 full": _metric(ref.get("full_ndcg@10")),
                         "train s": None})
    return rows


def evaluation_caption(blob: Any) -> str:
    """One line describing the evaluation's split ("? " where the blob lacks a figure)."""
    split = blob.get("split") if isinstance(blob, dict) else None
    split = split if isinstance(split, dict) else {}

    def fig(key: str) -> str:
        v = split.get(key)
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else "?"

    return f"{fig('users')} users, {fig('items')} items, {fig('interactions')} interactions after the 5-core filter"


def stored_evaluation(catalogue: Any) -> dict[str, Any] | None:
    """The evaluation stored in a catalogue if it is a usable one (see :func:`evaluation_rows`),
    else None; an unreadable record is logged with the command that rewrites it."""
    try:
        blob = catalogue.get_json("evaluation")
    except MovieDNAError as exc:
        log.warning("stored evaluation unreadable (%s); run `python -m engine evaluate` to rewrite it", exc)
        return None
    if blob is not None and evaluation_rows(blob) is None:
        log.warning("stored evaluation is malformed; run `python -m engine evaluate` to rewrite it")
        return None
    return blob


# ---------------------------------------------------------------------- the evaluation published with the code
#: where ``benchmarks/bench_stages.py --publish`` writes an evaluation for the pages of a fresh install
PUBLISHED_DIR = published_dir()


def published_path(dataset_name: str, folder: Path | str | None = None) -> Path:
    """``engine/published/evaluation-<data set>.json`` (the name is validated before any path)."""
    from engine.config import validate_name

    return Path(folder or PUBLISHED_DIR) / f"evaluation-{validate_name(dataset_name, 'data set')}.json"


def _canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str).encode()


def settings_identity(models: Sequence[str]) -> dict[str, Any]:
    """model -> the evaluation config (as JSON) the current code fits it with."""
    return {m: json.loads(_canonical(dataclasses.asdict(eval_config(m)))) for m in models}


def publish_evaluation(result: dict[str, Any], folder: Path | str | None = None) -> Path:
    """Write ``result`` (an :func:`evaluate` output with stages) as the published evaluation of its
    data set, with a sha256 over its content, atomically."""
    from engine.artifacts import atomic_write_json, sha256_bytes

    body = {k: v for k, v in result.items() if k != "sha256"}
    body = json.loads(_canonical(body))
    path = published_path(result["dataset"], folder)
    atomic_write_json(path, body | {"sha256": sha256_bytes(_canonical(body))})
    return path


def published_evaluation(dataset_name: str, data_hash: str | None, folder: Path | str | None = None
                         ) -> dict[str, Any] | None:
    """The evaluation published with the code for this data set, verified, or None.

    Verified on load: the file's own sha256 (content), the data set's content hash (the same
    ratings and movies) and every model's evaluation settings (the same models as the current
    code would fit).  Anything else — missing, edited, other data, other settings — gives None and a
    log line with the command that measures it here (``python -m engine evaluate``)."""
    from engine.artifacts import sha256_bytes

    try:
        path = published_path(dataset_name, folder)
        blob = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError, MovieDNAError) as exc:
        log.warning("published evaluation unreadable (%s); run `python -m engine evaluate`", exc)
        return None
    if not isinstance(blob, dict) or not isinstance(blob.get("sha256"), str):
        log.warning("published evaluation %s has no sha256; run `python -m engine evaluate`", path.name)
        return None
    body = {k: v for k, v in blob.items() if k != "sha256"}
    if sha256_bytes(_canonical(body)) != blob["sha256"]:
        log.warning("published evaluation %s does not match its sha256 (edited or damaged); "
                    "run `python -m engine evaluate`", path.name)
        return None
    if not data_hash or body.get("data_hash") != data_hash:
        log.info("published evaluation %s was measured on other data; run `python -m engine evaluate`", path.name)
        return None
    models = body.get("models") if isinstance(body.get("models"), dict) else {}
    try:
        want = settings_identity(list(models))
    except MovieDNAError:                                           # a model this code does not know
        want = None
    same = bool(want) and all(isinstance(models[m], dict) and models[m].get("config") == w for m, w in want.items())
    if not same:
        log.info("published evaluation %s used other model settings than this code; run `python -m engine evaluate`",
                 path.name)
        return None
    return body if evaluation_rows(body) is not None else None


def current_evaluation(catalogue: Any, dataset_name: str, data_hash: str | None) -> tuple[dict[str, Any], str] | None:
    """(evaluation, source) for the pages: the one stored in this cache by ``python -m engine
    evaluate`` (source ``"local"``), else the verified published one (``"published"``), else None."""
    ev = stored_evaluation(catalogue)
    if ev is not None:
        return ev, "local"
    ev = published_evaluation(dataset_name, data_hash)
    return (ev, "published") if ev is not None else None
