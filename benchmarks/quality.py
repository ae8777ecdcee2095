"""Quality benchmark: offline HR@10 / NDCG@10 of popularity, MF, SASRec and Text vs. references.

Usage (from the repo root)::

    python benchmarks/quality.py \
        [--datasets ml-100k,ml-latest-small] [--data-dir ml-latest-small=DIR] [--build] [--json OUT]

Prints, per data set, the test figures under both protocols (sampled-100 and full ranking),
best epoch, training seconds (wall and CPU), and for ml-100k the ratio to the reference
figures (docs/MODELS.md).  ``--build`` also times the full default build (all three models,
``--force``) of the first data set.  Not a unit test: it takes several minutes.
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
from engine.recsys.evaluate import REFERENCES, evaluate, format_table  # noqa: E402

SHARED = REPO.parent / "shared" / "data" / "movielens"
REFERENCE_SASREC_SECONDS = 820          # the reference SASRec's CPU training time on ml-100k (issue text)


def _data_dirs(pairs: list[str]) -> dict[str, str]:
    out = {}
    for p in pairs:
        name, _, d = p.partition("=")
        out[name] = d
    if "ml-latest-small" not in out and (SHARED / "ml-latest-small").is_dir():
        out["ml-latest-small"] = str(SHARED / "ml-latest-small")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="ml-100k,ml-latest-small")
    ap.add_argument("--models", default="popularity,mf,sasrec,text")
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
        res = evaluate(dataset=ds, models=args.models)
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
    if args.build:
        from engine.build import build

        first = [d.strip() for d in args.datasets.split(",") if d.strip()][0]
        ds = load_dataset(first, dirs.get(first))
        t0, c0 = time.perf_counter(), time.process_time()
        rep = build(dataset=ds, models=("mf", "sasrec", "text"), force=True)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        all_results["build"] = rep | {"wall_seconds": wall, "cpu_seconds": cpu}
        print(f"\nfull default build of {first} (mf, sasrec, text; --force): {wall:.1f}s wall, {cpu:.1f}s CPU "
              f"(limit 300s)", flush=True)
        for m, r in rep["models"].items():
            ep = (r.get("fit_info") or {}).get("epochs_run")
            print(f"  {m:<7} {r['seconds']:.1f}s  {r['n']} x {r['dim']}" + (f"  ({ep} epochs)" if ep else ""), flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(all_results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
