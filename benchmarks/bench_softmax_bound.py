"""SASRec's full softmax against the sampled one: training time and validation quality, to choose the bound.

Above ``SASRecConfig.full_softmax_items`` movies the CE net trains a sampled softmax (``ce_negatives``
uniform negatives shared by the batch) instead of the softmax over every movie.  This fits the
evaluation's SASRec on a data set's leave-one-out split once per variant (same seed, one thread) and
prints CPU seconds of training and validation NDCG@10 / HR@10 (full ranking); the test figures are
kept in the run files and printed only for the variant the rule chooses (``--report``).

    python benchmarks/bench_softmax_bound.py --dataset ml-latest-small --out softmax-runs --variant full
    python benchmarks/bench_softmax_bound.py --dataset ml-latest-small --out softmax-runs --variant sampled
    python benchmarks/bench_softmax_bound.py --out softmax-runs --report

The two fits can run at once on two cores (one thread each); CPU seconds, not wall time, are compared,
so the figures do not depend on what else the machine runs.  Rule, written before the runs: sampled
wins if its validation NDCG@10 is at least 95 % of the full softmax's; the bound then goes below this
data set's number of movies.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

VARIANTS = {"full": {"full_softmax_items": 10_000_000}, "sampled": {"full_softmax_items": 1}}
KEEP = 0.95  # sampled must keep this share of the full softmax's validation NDCG@10


def fit(dataset: str, data_dir: str | None, variant: str, seed: int) -> dict:
    from engine.data.dataset import load_dataset
    from engine.recsys.evaluation import eval_config, evaluate_split
    from engine.recsys.splits import leave_one_out

    ds = load_dataset(dataset, data_dir=data_dir)
    cfg = dataclasses.replace(eval_config("sasrec"), **VARIANTS[variant], seed=seed, threads=1)
    t0 = time.perf_counter()
    res = evaluate_split(leave_one_out(ds.ratings), ds.movies, "sasrec", configs={"sasrec": cfg}, users=ds.users)
    r = res["models"]["sasrec"]
    return {"dataset": dataset, "n_movies": int(len(ds.movies)), "variant": variant, "seed": seed,
            "wall_seconds": round(time.perf_counter() - t0, 1), "train_seconds": r["train_seconds"],
            "train_cpu_seconds": r["train_cpu_seconds"], "valid_full": r["valid_full"], "full": r["full"],
            "fit_info": r["fit_info"]}


def report(out: Path) -> None:
    runs = {}
    for f in sorted(out.glob("*.json")):
        r = json.loads(f.read_text())
        runs[r["variant"]] = r
    if set(runs) != set(VARIANTS):
        raise SystemExit(f"need both variants in {out}; have {sorted(runs)}")
    full, sampled = runs["full"], runs["sampled"]
    print(f"SASRec on {full['dataset']} ({full['n_movies']:,} movies), seed {full['seed']}, one thread per fit")
    print(f"{'variant':<9}{'train CPU s':>12}{'epochs':>14}{'valid NDCG@10':>15}{'valid HR@10':>13}")
    for v in VARIANTS:
        r = runs[v]
        print(f"{v:<9}{r['train_cpu_seconds']:>12.0f}{str(r['fit_info'].get('epochs_run')):>14}"
              f"{r['valid_full']['ndcg@10']:>15.4f}{r['valid_full']['hr@10']:>13.4f}")
    kept = sampled["valid_full"]["ndcg@10"] / full["valid_full"]["ndcg@10"]
    saved = 1 - sampled["train_cpu_seconds"] / full["train_cpu_seconds"]
    chosen = "sampled" if kept >= KEEP else "full"
    print(f"sampled keeps {kept:.1%} of the full softmax's validation NDCG@10 and saves {saved:.0%} of its "
          f"training CPU time; rule (keep >= {KEEP:.0%}): {chosen}")
    t = runs[chosen]["full"]
    print(f"test, reported once for {chosen}: HR@10 {t['hr@10']:.4f}  NDCG@10 {t['ndcg@10']:.4f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ml-latest-small")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--out", required=True, help="directory of the run files")
    ap.add_argument("--variant", choices=sorted(VARIANTS))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args()
    out = Path(args.out)
    if args.report:
        report(out)
        return
    if not args.variant:
        raise SystemExit("--variant or --report")
    out.mkdir(parents=True, exist_ok=True)
    r = fit(args.dataset, args.data_dir, args.variant, args.seed)
    tmp = out / f"{args.variant}.json.tmp"
    tmp.write_text(json.dumps(r, indent=2))
    tmp.replace(out / f"{args.variant}.json")
    print(json.dumps({k: r[k] for k in ("variant", "train_cpu_seconds", "valid_full")}))


if __name__ == "__main__":
    main()
