"""Running the offline evaluation: fit every model on the leave-one-out train split, score the test split.

Protocol (see :mod:`engine.recsys.splits` and :mod:`engine.models.metrics`):

- implicit interactions, stable time sort, iterated 5-core, leave-one-out
  (last = test, second-last = validation, rest = train);
- models are fitted on the **train** part only; the validation item drives early
  stopping / best-epoch selection; test histories are train + validation item;
- (a) *sampled*: target among ``negatives`` (100) seeded uniform negatives the user never touched;
  (b) *full*: target among all items, the user's history excluded.

The rows are :data:`engine.core.registry.EVAL_MODELS`: the popularity baseline and every registered model.
The final build (:mod:`engine.service.build`) instead trains on all interactions with the epoch counts
chosen here, so the vectors in the app use every click.  :func:`evaluate` stores its record in the
catalogue under ``"evaluation"`` for the pages (:mod:`engine.recsys.evaluation.stored`).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import time
from typing import Any, Sequence

from engine.core.config import Progress
from engine.models import model_class, parse_models
from engine.models.base import Holdout
from engine.models.popularity import PopularityModel
from engine.core.artifacts import canonical
from engine.recsys.evaluation.record import DEFAULT_PROTOCOL
from engine.recsys.evaluation.reference import REFERENCE_NOTES, REFERENCES
from engine.models.metrics import full_ranks, sampled_ranks, summarize
from engine.recsys.beyond import BeyondConfig, evaluate_beyond
from engine.recsys.splits import LeaveOneOut, leave_one_out
from engine.recsys.stages import StagesConfig, evaluate_stages
from engine.core.registry import BASELINES, EVAL_MODELS

log = logging.getLogger(__name__)

#: the baselines' classes (they are not registered models: only the evaluation fits them)
BASELINE_CLASSES = {"popularity": PopularityModel}
#: configs used for evaluation where they differ from a model's defaults; every model trains for
#: at most its default epochs with early stopping (best validation epoch)
EVAL_OVERRIDES: dict[str, dict[str, Any]] = {"mf": {"iterations": 10}}


def parse_eval_models(models: str | Sequence[str] | None) -> list[str]:
    """Models to evaluate: registered models plus the baselines (default: all of them)."""
    return parse_models(models, default=EVAL_MODELS, extra=BASELINES)


def eval_config(name: str, epochs: int | None = None, **overrides: Any) -> Any:
    """The config the evaluation fits ``name`` with; ``epochs``: the model's training length
    (epochs or iterations, whichever its config has; text encoders have neither and ignore it)."""
    if name in BASELINE_CLASSES:
        return BASELINE_CLASSES[name].Config()
    cls = model_class(name).Config
    over = dict(EVAL_OVERRIDES.get(name, {})) | overrides
    if epochs is not None:
        fields = {f.name for f in dataclasses.fields(cls)}
        length = next((f for f in ("epochs", "iterations") if f in fields), None)
        if length is not None:
            over[length] = int(epochs)
    return cls(**over)


def settings_identity(models: Sequence[str]) -> dict[str, Any]:
    """model -> the evaluation config (as JSON) the current code fits it with."""
    return {m: json.loads(canonical(dataclasses.asdict(eval_config(m)))) for m in models}


def evaluate_split(
    split: LeaveOneOut,
    movies: Any = None,
    models: str | Sequence[str] | None = None,
    *,
    epochs: int | None = None,
    seed: int = DEFAULT_PROTOCOL.seed,
    n_negatives: int = DEFAULT_PROTOCOL.negatives,
    k: int = DEFAULT_PROTOCOL.k,
    configs: dict[str, Any] | None = None,
    progress: Progress | None = None,
    users: Any = None,
    stages: bool | StagesConfig = False,
    keep: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Fit each model on ``split`` train, early-stop on validation, report test HR/NDCG@k both protocols.
    ``users``: the data set's users frame (demographics for Wide & Deep; other models ignore it).
    ``stages``: also measure what the pages do with the fitted models (:mod:`engine.recsys.stages`)
    under the result's ``"stages"`` key, and what their lists look like beyond accuracy
    (:mod:`engine.recsys.beyond`) under ``"beyond"``.  ``keep``: a dict that receives the fitted models (name -> model)."""
    names = parse_eval_models(models)
    progress = progress or (lambda f, m: None)
    negatives = split.sample_negatives(n_negatives, seed=seed)
    train, valid, test = split.train_data(movies, users), split.valid_holdout(), split.test_holdout()
    results: dict[str, Any] = {}
    fitted: dict[str, Any] = {}
    for i, name in enumerate(names):
        cfg = (configs or {}).get(name) or eval_config(name, epochs)
        cls = BASELINE_CLASSES.get(name) or model_class(name)
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
        cfg = stages if isinstance(stages, StagesConfig) else StagesConfig(k=k)
        out["stages"] = evaluate_stages(split, fitted, cfg, progress=progress)
        out["beyond"] = evaluate_beyond(split, fitted, movies, out["stages"], BeyondConfig(k=k), progress=progress)
    return out


def evaluate(
    dataset_name: str | None = None,
    models: str | Sequence[str] | None = None,
    *,
    data_dir: Any = None,
    epochs: int | None = None,
    seed: int = DEFAULT_PROTOCOL.seed,
    n_negatives: int = DEFAULT_PROTOCOL.negatives,
    k: int = DEFAULT_PROTOCOL.k,
    store: bool = True,
    progress: Progress | None = None,
    dataset: Any | None = None,
    stages: bool | StagesConfig = True,
    keep: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate on a data set; store the result in its catalogue under ``"evaluation"``.
    ``stages``: also measure taste-vector retrieval and two stages (``result["stages"]``);
    ``keep``: a dict that receives the models fitted on the train split.  The record is the JSON
    the pages read (:func:`engine.recsys.evaluation.record.parse_evaluation` gives its typed form)."""
    from engine.data.dataset import load_dataset
    from engine.core.machine import machine_facts

    parse_eval_models(models)                                   # fail fast on a bad name
    t0 = time.perf_counter()
    ds = dataset if dataset is not None else load_dataset(dataset_name, data_dir)
    split = leave_one_out(ds.ratings)
    out = evaluate_split(split, ds.movies, models, epochs=epochs, seed=seed, n_negatives=n_negatives, k=k,
                         progress=progress, users=getattr(ds, "users", None), stages=stages, keep=keep)
    out["dataset"] = ds.name
    out["data_hash"] = getattr(ds, "content_hash", None)
    out["references"] = REFERENCES.get(ds.name, {}) if k == 10 else {}     # the references are @10
    out["reference_notes"] = REFERENCE_NOTES if out["references"] else {}
    out["seconds"] = round(time.perf_counter() - t0, 2)
    out["created"] = time.time()
    out["machine"] = machine_facts() | {"load_average": [round(x, 2) for x in os.getloadavg()]}
    if store:
        from engine.data.catalogue import open_catalogue

        cat = open_catalogue(ds)
        try:
            cat.put_json("evaluation", out)
        finally:
            cat.close()
    return out
