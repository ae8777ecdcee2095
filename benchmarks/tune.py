"""Choose SASRec's and Wide & Deep's variants on validation, then report test once.

Usage (from the repo root)::

    python benchmarks/tune.py --model sasrec --out sasrec-grid [--shard 0/2] [--round 2]   # fit (resumable)
    python benchmarks/tune.py --model sasrec --out sasrec-grid --report           # choose, print, write JSON
    python benchmarks/tune.py --model widedeep --out widedeep-grid [--round 2]

Every grid and rule below was written down before any of its runs.  Runs use
:func:`engine.recsys.evaluation.evaluate_split` on the ml-100k leave-one-out split: fitted on train,
the best epoch kept on validation, as ``python -m engine evaluate`` does.  Each run is written to
``OUT/<variant>-seed<seed>.json`` when it ends (atomically), so shards (``--shard 0/2`` and
``--shard 1/2``, one torch thread each) fill a grid on two cores and an interrupted run resumes.

**SASRec** (two rounds): round 1 fits one net of each loss and every pair of nets (``members``),
each with genre/decade side information and the default schedule, with seeds 42 and 142 (a pair's
second net trains with seed + 1, so no two runs share a net's seed); round 2 (``--round 2``) adds
seed 242 for the default and for the best other variant on round-1 validation.

**Wide & Deep** (two rounds): round 1 fits each variant once (seed 42) — the default and one change
at a time: history 5 or 50 clicks, sampled-softmax loss, widths halved (dim 32, feature dim 8, MLP
64-32), lr 1e-3, 32 negatives, MLP dropout 0.3.  Round 2 (``--round 2``) adds seeds 142 and 242
for the default and the best other round-1 variant on validation.

(Both grids first planned every seed for every variant; on this 2-core machine that did not fit
the session, so after the first three runs of each grid the third seed
went to the two variants the rule compares.  The change is the same for every variant.)

**The rule** (both models): among variants with all three seeds, the highest **mean validation
NDCG@10 (full ranking, the metric of the pages)** wins; if the default is within one standard
deviation (of the winner's seeds) of it, the default stays (no change without evidence).
``--report`` prints every variant's validation figures and the test figures of the chosen variant
only; the other variants' test figures stay in their run files and are not printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

GRIDS: dict[str, dict[str, dict[str, Any]]] = {
    "sasrec": {"ce": {"members": ("ce",)}, "bce": {"members": ("bce",)}, "ce+ce": {"members": ("ce", "ce")},
               "bce+bce": {"members": ("bce", "bce")}, "ce+bce": {"members": ("ce", "bce")}},
    "widedeep": {"default": {}, "history5": {"history": 5}, "history50": {"history": 50},
                 "softmax": {"loss": "softmax"}, "narrow": {"dim": 32, "feat_dim": 8, "hidden": (64, 32)},
                 "lr1e-3": {"lr": 1e-3}, "neg32": {"negatives": 32}, "dropout0.3": {"dropout": 0.3}},
}
DEFAULTS = {"sasrec": "ce+bce", "widedeep": "default"}
SEEDS = (42, 142, 242)
TEST = (("sampled", "hr@10"), ("sampled", "ndcg@10"), ("full", "hr@10"), ("full", "ndcg@10"))


def load_runs(out: Path) -> dict[str, list[dict]]:
    """variant -> finished runs in ``out`` (files of older runs without "model" are SASRec's)."""
    done: dict[str, list[dict]] = {}
    for f in sorted(out.glob("*-seed*.json")):
        r = json.loads(f.read_text())
        done.setdefault(r["variant"], []).append(r)
    return done


def planned(model: str, out: Path, round_: int) -> list[tuple[str, int]]:
    """(variant, seed) runs of this round, seed-major (see the module docstring)."""
    grid = GRIDS[model]
    first_seeds = SEEDS[:2] if model == "sasrec" else SEEDS[:1]
    if round_ == 1:
        return [(v, s) for s in first_seeds for v in grid]
    done = load_runs(out)
    mean = {}
    for v in grid:
        vals = [r["valid_full"]["ndcg@10"] for r in done.get(v, []) if r["seed"] in first_seeds]
        if len(vals) < len(first_seeds):
            raise SystemExit(f"round 1 is not finished ({v} has {len(vals)} of {len(first_seeds)} seeds): run it first")
        mean[v] = float(np.mean(vals))
    default = DEFAULTS[model]
    best_other = max((v for v in grid if v != default), key=lambda v: mean[v])
    return [(v, s) for s in SEEDS[len(first_seeds):] for v in (default, best_other)]


def fit_one(ds, model: str, variant: str, seed: int, threads: int) -> dict:
    from engine.recsys.evaluation import eval_config, evaluate_split
    from engine.recsys.splits import leave_one_out

    cfg = dataclasses.replace(eval_config(model), **GRIDS[model][variant], seed=seed, threads=threads)
    t0 = time.perf_counter()
    res = evaluate_split(leave_one_out(ds.ratings), ds.movies, model, configs={model: cfg}, users=ds.users)
    r = res["models"][model]
    return {"model": model, "variant": variant, "seed": seed, "wall_seconds": round(time.perf_counter() - t0, 1),
            "valid_full": r["valid_full"], "sampled": r["sampled"], "full": r["full"],
            "fit_info": r["fit_info"], "train_seconds": r["train_seconds"], "config": r["config"]}


def report(model: str, out: Path) -> dict:
    done = load_runs(out)

    def stat(rs: list[dict], proto: str, metric: str) -> tuple[float, float]:
        v = np.array([r[proto][metric] for r in rs], dtype=float)
        return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else float("nan")

    print(f"{model} variants on ml-100k, validation (full ranking), mean ± std over the seeds run")
    print(f"{'variant':<11}{'seeds':>6}{'valid NDCG@10':>20}{'valid HR@10':>20}{'train s':>9}")
    summary = {}
    for v in GRIDS[model]:
        rs = done.get(v, [])
        if not rs:
            continue
        nd, hr = stat(rs, "valid_full", "ndcg@10"), stat(rs, "valid_full", "hr@10")
        summary[v] = {"seeds": [r["seed"] for r in rs], "valid_ndcg@10": nd, "valid_hr@10": hr,
                      "train_seconds": float(np.mean([r["train_seconds"] for r in rs]))}
        print(f"{v:<11}{len(rs):>6}{nd[0]:>12.4f} ± {nd[1]:.4f}{hr[0]:>12.4f} ± {hr[1]:.4f}"
              f"{summary[v]['train_seconds']:>9.0f}")
    complete = [v for v in summary if len(summary[v]["seeds"]) == len(SEEDS)]
    default = DEFAULTS[model]
    if default not in complete:
        print("the default does not have every seed yet: no choice made")
        return {"summary": summary, "chosen": None}
    best = max(complete, key=lambda v: summary[v]["valid_ndcg@10"][0])
    gap = summary[best]["valid_ndcg@10"][0] - summary[default]["valid_ndcg@10"][0]
    chosen = default if gap <= summary[best]["valid_ndcg@10"][1] else best
    why = (f"best on validation among {len(complete)} variants with {len(SEEDS)} seeds: {best} (+{gap:.4f} over "
           f"the default {default}; one std = {summary[best]['valid_ndcg@10'][1]:.4f}); chosen: {chosen}")
    print(why)
    test = {f"{p}/{m}": stat(done[chosen], p, m) for p, m in TEST}
    print(f"test, reported once for the chosen variant {chosen} (mean ± std over {len(SEEDS)} seeds): "
          + "  ".join(f"{k} {m:.4f} ± {s:.4f}" for k, (m, s) in test.items()))
    rep = {"model": model, "summary": summary, "best_on_validation": best, "chosen": chosen, "rule": why,
           "test_of_chosen": test}
    (out / "report.json").write_text(json.dumps(rep, indent=2))
    return rep


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", choices=sorted(GRIDS), required=True)
    ap.add_argument("--out", required=True, help="directory of per-run JSON files")
    ap.add_argument("--shard", default="0/1", help="i/n: run every n-th run starting at i")
    ap.add_argument("--round", type=int, default=1, choices=(1, 2), help="round 1 or 2 (see above)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per fit")
    ap.add_argument("--report", action="store_true", help="only aggregate the runs and choose")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.report:
        report(args.model, out)
        return 0
    from engine.data.dataset import load_dataset

    i, n = (int(x) for x in args.shard.split("/"))
    ds = load_dataset("ml-100k")
    print(f"load average {os.getloadavg()}; {args.model} round {args.round}, shard {i}/{n}", flush=True)
    for j, (v, s) in enumerate(planned(args.model, out, args.round)):
        f = out / f"{v}-seed{s}.json"
        if j % n != i or f.exists():
            continue
        r = fit_one(ds, args.model, v, s, args.threads)
        tmp = f.with_suffix(".tmp")
        tmp.write_text(json.dumps(r, indent=2, default=str))
        tmp.replace(f)
        print(f"{v:<11} seed {s}: valid NDCG@10 {r['valid_full']['ndcg@10']:.4f} ({r['wall_seconds']:.0f}s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
