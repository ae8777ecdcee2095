"""Index designs tried for the 1M real-like target before adding them to the Scale lab, on validation queries.

    python benchmarks/bench_scale_alternatives.py [--n 1000000] [--queries 500]

``bench_scale.py`` times its families on queries drawn with seed 1; a design that earned a place
there because it won on those same queries would be chosen on the figures it reports.  This
script draws its queries with another seed (``--seed``, 7) and prints, for each design, recall@10
and single-query p50 / p99 on one thread at several settings, beside exact search of this run:

- IVF with 4,096 lists and 4-bit PQ fast-scan codes with one sub-quantizer per dimension
  (``PQ64x4fs``, d/2 bytes a row: twice the bits of the Scale lab's ``pqfs``), re-ranked exactly
  from 40, 160 or 320 candidates;
- IVF with 16,384 lists found by an HNSW coarse quantizer, float32 lists.  Unlike
  ``bench_100m.py`` (two-level k-means, graph searched at the probed efSearch), its k-means trains
  through the graph and rows are assigned at the graph's default efSearch 16, so this design is
  handicapped here and its figures do not settle it.

Real-like vectors only (the distribution the target is set on); the mixture is fitted to
``--dataset`` / ``--space`` like ``bench_scale.py``'s.
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

from engine.lab.mixture import catalogue_mixture  # noqa: E402
from engine.lab.scale import draw, latency_ms, recall_at  # noqa: E402

K = 10


def report(name: str, index: faiss.Index, xq: np.ndarray, truth: np.ndarray, exact_ms: float, seconds: float) -> None:
    _, found = index.search(xq, K)
    p50, p99, timed = latency_ms(index, xq, K, None, seconds)
    print(f"{name:<44} recall {recall_at(found, truth):.4f}  p50 {p50:.3f} ms  p99 {p99:.3f} ms  "
          f"({timed} timed)  {exact_ms / p50:5.0f}x exact", flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7, help="query seed; bench_scale.py's queries use 1")
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--space", default="mf")
    ap.add_argument("--latency-seconds", type=float, default=2.0)
    args = ap.parse_args()
    if args.seed == 1:
        ap.error("seed 1 draws bench_scale.py's own queries; pick another")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    mixture, _ = catalogue_mixture(args.dataset, args.space)
    xb = draw("real-like", args.n, mixture.d, 0, mixture)
    xq = draw("real-like", args.queries, mixture.d, args.seed, mixture)
    d = xb.shape[1]
    flat = faiss.IndexFlatIP(d)
    flat.add(xb)
    _, truth = flat.search(xq, K)
    exact_ms = latency_ms(flat, xq, K, None, 5.0)[0]
    print(f"real-like, {args.n:,} x {d}, {args.queries} validation queries (seed {args.seed}); "
          f"load average {os.getloadavg()[0]:.2f}; exact p50 {exact_ms:.2f} ms", flush=True)
    rng = np.random.default_rng(0)

    nlist = 4096
    t0 = time.perf_counter()
    base = faiss.IndexIVFPQFastScan(faiss.IndexFlatIP(d), d, nlist, d, 4, faiss.METRIC_INNER_PRODUCT)
    base.train(xb[np.sort(rng.choice(args.n, min(args.n, 64 * nlist), replace=False))])
    refined = faiss.IndexRefineFlat(base)
    refined.add(xb)
    logging.info("IVF%d,PQ%dx4fs built in %.0f s", nlist, d, time.perf_counter() - t0)
    for k_factor in (4, 16, 32):
        refined.k_factor = k_factor
        for nprobe in (32, 48, 64, 96):
            base.nprobe = nprobe
            report(f"IVF{nlist},PQ{d}x4fs nprobe={nprobe} re-rank {K * k_factor}", refined, xq, truth, exact_ms,
                   args.latency_seconds)
    del refined, base

    nlist = 16384
    t0 = time.perf_counter()
    coarse = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.IndexIVFFlat(coarse, d, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.niter = 10
    ivf.train(xb[np.sort(rng.choice(args.n, min(args.n, 64 * nlist), replace=False))])
    ivf.add(xb)
    coarse.hnsw.efSearch = 128
    logging.info("IVF%d_HNSW32,Flat built in %.0f s", nlist, time.perf_counter() - t0)
    for nprobe in (64, 96, 128, 192):
        ivf.nprobe = nprobe
        report(f"IVF{nlist}_HNSW32,Flat nprobe={nprobe}", ivf, xq, truth, exact_ms, args.latency_seconds)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
