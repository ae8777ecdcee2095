"""`recommend --rerank sasrec` in-process latency: 10 clicks, 100 MF candidates, SASRec re-rank.

    python benchmarks/bench_rerank.py [--dataset ml-100k]

Needs a built data set (`python -m engine build`).  Click histories are real users' last
10 movies (time order).  Times the whole ``Engine.two_stage`` call (taste vector, FAISS
stage 1, SASRec stage 2, titles) after one warm-up; bar: p50 < 30 ms.  Also reports how
much stage 2 reorders (mean |rank before - rank after| of the final top 10) and the
plain ``Engine.recommend`` latency for comparison.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def histories(dataset: str, n_users: int, length: int = 10, seed: int = 0) -> list[list[int]]:
    from engine.data.dataset import load_dataset

    r = load_dataset(dataset).ratings.sort_values(["user_id", "timestamp"], kind="stable")
    seqs = [g["movie_id"].astype(int).tolist()[-length:] for _, g in r.groupby("user_id")]
    seqs = [s for s in seqs if len(s) == length and len(set(s)) == length]
    rng = np.random.default_rng(seed)
    return [seqs[i] for i in rng.choice(len(seqs), size=min(n_users, len(seqs)), replace=False)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--model", default="mf")
    ap.add_argument("--users", type=int, default=200)
    ap.add_argument("--index", default="exact")
    args = ap.parse_args()
    from engine.service import Engine

    eng = Engine(args.dataset)
    hist = histories(args.dataset, args.users)
    t0 = time.perf_counter()
    eng.two_stage(hist[0], model=args.model, index=args.index)  # loads SASRec, builds/loads the index
    print(f"warm-up (load SASRec + index): {time.perf_counter() - t0:.2f} s")
    total, stages, moved, plain = [], {"taste": [], "retrieve": [], "rerank": []}, [], []
    for h in hist:
        t = time.perf_counter()
        res = eng.two_stage(h, model=args.model, k=10, n_candidates=100, index=args.index)
        total.append(1e3 * (time.perf_counter() - t))
        for key in stages:
            stages[key].append(res.timings_ms[key])
        moved.append(np.mean([abs(it["rank_before"] - it["rank_after"]) for it in res.items]))
        t = time.perf_counter()
        eng.recommend(h, model=args.model, k=10, index=args.index)
        plain.append(1e3 * (time.perf_counter() - t))
    p = lambda xs, q: float(np.percentile(xs, q))  # noqa: E731
    print(f"{len(hist)} users x 10 clicks, {args.model} stage 1 ({args.index}) -> SASRec stage 2")
    for key, xs in stages.items():
        print(f"  {key:<9} p50 {p(xs, 50):7.2f} ms  p99 {p(xs, 99):7.2f} ms")
    print(f"  recommend (no rerank) p50 {p(plain, 50):.2f} ms")
    print(f"two_stage end-to-end p50 {p(total, 50):.2f} ms  p99 {p(total, 99):.2f} ms  "
          f"(bar p50 < 30 ms: {'PASS' if p(total, 50) < 30 else 'FAIL'}); "
          f"mean |rank change| in final top 10: {np.mean(moved):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
