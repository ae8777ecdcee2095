"""Quality benchmark: offline HR@10 / NDCG@10 of every model the evaluation fits vs. the published references.

Usage (from the repo root)::

    python benchmarks/quality.py [--datasets ml-100k,ml-latest-small] [--models popularity,mf,...]
        [--seeds 3] [--data-dir ml-latest-small=DIR] [--build] [--json OUT]

Prints, per data set, the test figures under both protocols (sampled-100 and full ranking),
best epoch, training seconds (wall and CPU), and for ml-100k the ratio to the reference
figures (docs/MODELS.md).  ``--seeds N`` fits every model N times (seed i: each config's own
seed + i; the sampled negatives stay those of seed 0) and prints mean ± standard deviation
(sample, ddof 1) per figure, so a difference can be read against the noise of one seed.
``--build`` also times the full default build (:data:`engine.core.registry.DEFAULT_BUILD`, ``--force``)
of the first data set.  Not a unit test: it takes several minutes per seed (SASRec ~4 min on an idle machine).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.data.dataset import load_dataset  # noqa: E402
from engine.recsys.evaluation import REFERENCES, evaluate, format_table  # noqa: E402
from engine.core.registry import DEFAULT_BUILD  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "movielens"
REFERENCE_SASREC_SECONDS = 820          # the reference SASRec's CPU training time on ml-100k (docs/MODELS.md)


def _data_dirs(pairs: list[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        name, _, d = p.partition("=")
        out[name] = d
    if "ml-latest-small" not in out and (SHARED / "ml-latest-small").is_dir():
        out["ml-latest-small"] = str(SHARED / "ml-latest-small")
    return out


FIGURES = (("sampled", "hr@10"), ("sampled", "ndcg@10"), ("full", "hr@10"), ("full", "ndcg@10"),
           ("valid_full", "ndcg@10"))


def seed_run(ds, models: str, i: int) -> dict:
    """One more evaluation with every model's seed shifted by ``i`` (negatives unchanged)."""
    import dataclasses

    from engine.recsys.evaluation import eval_config, evaluate_split, parse_eval_models
    from engine.recsys.splits import leave_one_out

    configs = {}
    for m in parse_eval_models(models):
        cfg = eval_config(m)
        if any(f.name == "seed" for f in dataclasses.fields(cfg)):
            configs[m] = dataclasses.replace(cfg, seed=cfg.seed + i)
    t0 = time.perf_counter()
    out = evaluate_split(leave_one_out(ds.ratings), ds.movies, models, configs=configs, users=ds.users)
    print(f"(seed +{i}: {time.perf_counter() - t0:.0f}s wall)", flush=True)
    return out


def seed_summary(runs: list[dict]) -> dict:
    """model -> "protocol/metric" -> {"mean", "std", "values"} over the runs."""
    import numpy as np

    out: dict = {}
    for m in runs[0]["models"]:
        out[m] = {}
        for proto, metric in FIGURES:
            v = np.array([r["models"][m][proto][metric] for r in runs], dtype=float)
            out[m][f"{proto}/{metric}"] = {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
                                           "values": v.round(5).tolist()}
    return out


def format_seeds(summary: dict, n: int, dataset: str) -> str:
    heads = [f"{p} {m}" for p, m in FIGURES]
    lines = [f"\n{dataset}: mean ± std over {n} seeds (test; last column: validation)",
             f"{'model':<11}" + "".join(f"{h:>20}" for h in heads)]
    for m, figs in summary.items():
        lines.append(f"{m:<11}" + "".join(f"{figs[f'{p}/{k}']['mean']:>11.4f} ± {figs[f'{p}/{k}']['std']:.4f}"
                                          for p, k in FIGURES))
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="ml-100k,ml-latest-small")
    ap.add_argument("--models", default="popularity,mf,sasrec,text,widedeep")
    ap.add_argument("--seeds", type=int, default=1, help="fit every model with this many seeds; report mean ± std")
    ap.add_argument("--data-dir", action="append", default=[], help="NAME=DIR (repeatable)")
    ap.add_argument("--build", action="store_true", help="also time the full default build of the first data set")
    ap.add_argument("--json", default=None, help="write all results to this JSON file")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    dirs = _data_dirs(args.data_dir)
    print(f"CPU threads: torch default; os.cpu_count()={os.cpu_count()}; load average {os.getloadavg()}", flush=True)
    all_results = {}
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        ds = load_dataset(name, dirs.get(name))
        t0 = time.perf_counter()
        res = evaluate(dataset=ds, models=args.models, stages=False)
        all_results[name] = res
        print("\n" + format_table(res) + f"\n(evaluation of {name}: {time.perf_counter() - t0:.0f}s wall)", flush=True)
        for m, r in res["models"].items():
            fi = r.get("fit_info", {})
            print(f"  {m:<11} train {r['train_seconds']:.1f}s wall / {r['train_cpu_seconds']:.1f}s CPU; "
                  f"best epoch {fi.get('best_epoch', fi.get('best_iteration', '-'))} of "
                  f"{fi.get('epochs_run', fi.get('iterations_run', '-'))}", flush=True)
        refs = REFERENCES.get(name, {})
        if refs:
            print("  ratios to reference (measured / reference, >= 1.00 meets the bar):")
            for m, ref in refs.items():
                if m not in res["models"]:
                    continue
                r = res["models"][m]
                ratios = {
                    "sampled NDCG": r["sampled"]["ndcg@10"] / ref["sampled_ndcg@10"],
                    "sampled HR": r["sampled"]["hr@10"] / ref["sampled_hr@10"],
                    "full NDCG": r["full"]["ndcg@10"] / ref["full_ndcg@10"],
                    "full HR": r["full"]["hr@10"] / ref["full_hr@10"],
                }
                print(f"  {m:<11} " + "  ".join(f"{k} {v:.2f}" for k, v in ratios.items()), flush=True)
            if "sasrec" in res["models"]:
                sec = res["models"]["sasrec"]["train_seconds"]
                print(f"  sasrec training {sec:.0f}s wall vs budget {REFERENCE_SASREC_SECONDS / 3:.0f}s "
                      f"(a third of the reference's ~{REFERENCE_SASREC_SECONDS}s): "
                      f"{'within' if sec <= REFERENCE_SASREC_SECONDS / 3 else 'OVER'}", flush=True)
        if args.seeds > 1:
            runs = [res] + [seed_run(ds, args.models, i) for i in range(1, args.seeds)]
            res["seeds"] = {"n": args.seeds, "runs": [r["models"] for r in runs[1:]], "summary": seed_summary(runs)}
            print(format_seeds(res["seeds"]["summary"], args.seeds, name), flush=True)
    if args.build:
        from engine.service.build import build

        first = [d.strip() for d in args.datasets.split(",") if d.strip()][0]
        ds = load_dataset(first, dirs.get(first))
        t0, c0 = time.perf_counter(), time.process_time()
        rep = build(dataset=ds, models=DEFAULT_BUILD, force=True)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        all_results["build"] = rep | {"wall_seconds": wall, "cpu_seconds": cpu}
        print(f"\nfull default build of {first} ({', '.join(DEFAULT_BUILD)}; --force): {wall:.1f}s wall, {cpu:.1f}s CPU "
              f"(limit 300s)", flush=True)
        for m, r in rep["models"].items():
            ep = (r.get("fit_info") or {}).get("epochs_run")
            print(f"  {m:<7} {r['seconds']:.1f}s  {r['n']} x {r['dim']}" + (f"  ({ep} epochs)" if ep else ""), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(all_results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
