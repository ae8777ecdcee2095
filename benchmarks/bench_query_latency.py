"""Single-query latency of mood search (encode + search) and the torch thread count around it.

    MOVIEDNA_CACHE_DIR=~/.cache/moviedna python benchmarks/bench_query_latency.py [--dataset ml-100k] [--rounds 3]

Needs the data set's text vectors (`python -m engine build --models text`).  Runs every query of
benchmarks/mood_queries.json ``--rounds`` times, one at a time, after one warm-up query, and
prints p50 / p95 / mean of the encode and search times (ms) the engine reports, plus
``torch.get_num_threads()`` before and after the queries: a query must not change it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    import torch

    from engine.service import Engine

    queries = [q["query"] for q in json.loads((ROOT / "benchmarks" / "mood_queries.json").read_text())["queries"]]
    eng = Engine(args.dataset)
    threads_before = torch.get_num_threads()
    eng.mood_search("warm-up", k=10)
    enc, search, wall = [], [], []
    for _ in range(args.rounds):
        for q in queries:
            t0 = time.perf_counter()
            hits = eng.mood_search(q, k=10)
            wall.append(1e3 * (time.perf_counter() - t0))
            enc.append(hits.timings_ms["encode"])
            search.append(hits.timings_ms["search"])
    threads_after = torch.get_num_threads()
    print(f"{len(wall)} mood queries on {args.dataset}, one at a time")
    for name, xs in (("encode", enc), ("search", search), ("total (wall)", wall)):
        a = np.asarray(xs)
        print(f"  {name:<13} p50 {np.percentile(a, 50):7.1f} ms   p95 {np.percentile(a, 95):7.1f} ms   mean {a.mean():7.1f} ms")
    print(f"  torch threads: {threads_before} before, {threads_after} after")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
