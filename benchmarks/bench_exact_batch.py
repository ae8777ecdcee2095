"""Exact search's batch throughput: FAISS's per-query scan against its BLAS path, same queries, same rows.

    python benchmarks/bench_exact_batch.py [--distribution hard|real-like] [--sizes 1000000] [--queries 1000]

FAISS 1.15 sends a batch of inner-product searches through BLAS (one matrix product per block,
then a top-k per query) only when queries x dimension reaches ``distance_compute_blas_threshold``
(128,000 by default), so the Scale lab's 1,000 queries of 64 dimensions take the per-query SIMD
scan.  This prints queries per second on every core for both paths over the same vectors
(the Scale lab's generators), each timed ``--repeats`` times with the best kept (a timing that
another process slowed is never the one reported), and stops with exit status 1 when the two
return different top-10s (overlap below 0.999).
The threshold is a process-wide FAISS setting: it is changed here, in a benchmark process, and
restored after each timing; the app never changes it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import faiss  # noqa: E402

from engine.cli.distribution import add_distribution_args, distribution_mixture  # noqa: E402
from engine.lab.scale import draw, draw_queries  # noqa: E402

K = 10
MIN_SAME = 0.999   # ties at the 10th place may order differently; anything more is a different search


def scan_threshold(queries: int, d: int, default: int) -> int:
    """A BLAS threshold above this batch (queries x d), so FAISS takes the per-query scan."""
    return max(default, queries * d + 1)


def timed_batch(index: faiss.Index, xq: np.ndarray, threshold: int, repeats: int) -> tuple[float, np.ndarray]:
    """(best queries per second over ``repeats`` batch searches, ids int64 (q, K)) with FAISS's BLAS
    threshold set to ``threshold`` for the duration of the calls."""
    before = faiss.cvar.distance_compute_blas_threshold
    faiss.cvar.distance_compute_blas_threshold = threshold
    try:
        best, ids = 0.0, None
        for _ in range(repeats):
            t0 = time.perf_counter()
            _, ids = index.search(xq, K)
            best = max(best, len(xq) / (time.perf_counter() - t0))
        return best, ids
    finally:
        faiss.cvar.distance_compute_blas_threshold = before


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_distribution_args(ap)
    ap.add_argument("--sizes", default="1000000")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    mixture, _ = distribution_mixture(args)
    default = faiss.cvar.distance_compute_blas_threshold
    print(f"{args.distribution}, {args.queries} queries x {args.d} dims, {faiss.omp_get_max_threads()} threads, "
          f"load average {os.getloadavg()[0]:.2f}; FAISS's BLAS threshold {default:,} (queries x dims)")
    print(f"{'n':>12} {'scan QPS':>10} {'BLAS QPS':>10} {'BLAS/scan':>10} {'same top-10':>12}")
    for n in (int(s) for s in args.sizes.split(",")):
        xb = draw(args.distribution, n, args.d, 0, mixture)
        xq = draw_queries(args.distribution, args.queries, n, args.d, 1, mixture)
        index = faiss.IndexFlatIP(args.d)
        index.add(xb)
        scan, ids_scan = timed_batch(index, xq, scan_threshold(args.queries, args.d, default), args.repeats)
        blas, ids_blas = timed_batch(index, xq, 0, args.repeats)
        same = float(np.mean([len(set(a) & set(b)) / K for a, b in zip(ids_scan, ids_blas)]))
        print(f"{n:>12,} {scan:>10,.0f} {blas:>10,.0f} {blas / scan:>9.1f}x {same:>12.4f}", flush=True)
        if same < MIN_SAME:
            print(f"the two paths disagree on {1 - same:.2%} of the top-10 at n={n:,}: their timings are not "
                  "of the same search", file=sys.stderr)
            return 1
        del index, xb
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
