"""Index designs tried for the 1M real-like target before adding them to the Scale lab, on validation queries.

    python benchmarks/bench_scale_alternatives.py [--n 1000000] [--queries 500] [--designs pqfs,ivf-hnsw]

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

Three more (``--designs hnsw,pca-hnsw,hnsw-sq8``) ask why HNSW stops short of 100x and whether
smaller rows move it:

- ``hnsw``: the Scale lab's HNSW M 32 / efConstruction 200, with the distances each query computes
  (``faiss.cvar.hnsw_stats.ndis``) and the time per distance they imply, beside exact's;
- ``pca-hnsw``: the graph built and searched on a 32-d PCA of the rows (128-byte rows, two cache
  lines instead of four), its candidates re-ranked exactly on the 64-d rows;
- ``hnsw-sq8``: the graph over 8-bit codes (64-byte rows, one cache line), re-ranked exactly.

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
from engine.lab.scale import draw, draw_queries, faiss_threads, latency_ms, recall_at  # noqa: E402

K = 10
DESIGNS = ("pqfs", "ivf-hnsw", "hnsw", "pca-hnsw", "hnsw-sq8")


def report(name: str, index: faiss.Index, xq: np.ndarray, truth: np.ndarray, exact_ms: float, seconds: float) -> float:
    """Print recall@10, single-query p50 / p99 and the speed-up over exact; returns the p50 (ms)."""
    _, found = index.search(xq, K)
    p50, p99, timed = latency_ms(index, xq, K, None, seconds)
    print(f"{name:<44} recall {recall_at(found, truth):.4f}  p50 {p50:.3f} ms  p99 {p99:.3f} ms  "
          f"({timed} timed)  {exact_ms / p50:5.0f}x exact", flush=True)
    return p50


def hnsw_distances(index: faiss.Index, xq: np.ndarray) -> float:
    """Mean distance computations per query of an HNSW search, counted on one thread."""
    faiss.cvar.hnsw_stats.reset()
    with faiss_threads(1):
        index.search(xq, K)
    return faiss.cvar.hnsw_stats.ndis / len(xq)


def build_graph(name: str, index: faiss.Index, train: np.ndarray, xb: np.ndarray) -> faiss.Index:
    t0 = time.perf_counter()
    index.train(train)
    index.add(xb)
    logging.info("%s built in %.0f s", name, time.perf_counter() - t0)
    return index


def graphs(designs: set[str], xb: np.ndarray, xq: np.ndarray, truth: np.ndarray, exact_ms: float,
           seconds: float, rng: np.random.Generator) -> None:
    """HNSW M 32 / efConstruction 200 over float32, PCA-32 or SQ8 rows; the last two re-ranked."""
    n, d = xb.shape
    train = xb[np.sort(rng.choice(n, min(n, 100_000), replace=False))]
    per_distance_exact = exact_ms * 1e6 / n
    print(f"exact: {per_distance_exact:.1f} ns per distance ({n:,} in {exact_ms:.2f} ms, one stream)", flush=True)
    ef_grid = (32, 48, 64, 96)
    if "hnsw" in designs:
        index = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 200
        build_graph("HNSW32,Flat", index, train, xb)
        for ef in ef_grid:
            index.hnsw.efSearch = ef
            ndis = hnsw_distances(index, xq)
            p50 = report(f"HNSW32,Flat efS={ef}", index, xq, truth, exact_ms, seconds)
            print(f"{'':<44} {ndis:,.0f} distances a query, {p50 * 1e6 / ndis:.0f} ns each", flush=True)
        del index
    for design, name in (("pca-hnsw", "PCA32,HNSW32"), ("hnsw-sq8", "HNSW32,SQ8")):
        if design not in designs:
            continue
        if design == "pca-hnsw":
            graph = faiss.IndexHNSWFlat(32, 32, faiss.METRIC_INNER_PRODUCT)
            pca = faiss.PCAMatrix(d, 32)
            base: faiss.Index = faiss.IndexPreTransform(pca, graph)
        else:
            graph = faiss.IndexHNSWSQ(d, faiss.ScalarQuantizer.QT_8bit, 32, faiss.METRIC_INNER_PRODUCT)
            base = graph
        graph.hnsw.efConstruction = 200
        refined = faiss.IndexRefineFlat(base)
        build_graph(name, refined, train, xb)
        for k_factor in (4, 8):
            refined.k_factor = k_factor
            for ef in sorted({max(ef, K * k_factor) for ef in ef_grid}):
                graph.hnsw.efSearch = ef
                ndis = hnsw_distances(refined, xq)
                p50 = report(f"{name} efS={graph.hnsw.efSearch} re-rank {K * k_factor}", refined, xq, truth,
                             exact_ms, seconds)
                print(f"{'':<44} {ndis:,.0f} graph distances a query", flush=True)
        del refined, base, graph


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--seed", type=int, default=7, help="query seed; bench_scale.py's queries use 1")
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--space", default="mf")
    ap.add_argument("--latency-seconds", type=float, default=2.0)
    ap.add_argument("--designs", default="pqfs,ivf-hnsw",
                    help=f"comma-separated, from {','.join(DESIGNS)}")
    args = ap.parse_args()
    designs = {x.strip() for x in args.designs.split(",") if x.strip()}
    if not designs or designs - set(DESIGNS):
        ap.error(f"--designs: pick from {','.join(DESIGNS)}")
    if args.seed == 1:
        ap.error("seed 1 draws bench_scale.py's own queries; pick another")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    mixture, _ = catalogue_mixture(args.dataset, args.space)
    xb = draw("real-like", args.n, mixture.d, 0, mixture)
    xq = draw_queries("real-like", args.queries, args.n, mixture.d, args.seed, mixture)
    d = xb.shape[1]
    flat = faiss.IndexFlatIP(d)
    flat.add(xb)
    _, truth = flat.search(xq, K)
    exact_ms = latency_ms(flat, xq, K, None, 5.0)[0]
    print(f"real-like, {args.n:,} x {d}, {args.queries} validation queries (seed {args.seed}); "
          f"load average {os.getloadavg()[0]:.2f}; exact p50 {exact_ms:.2f} ms", flush=True)
    rng = np.random.default_rng(0)

    graphs(designs, xb, xq, truth, exact_ms, args.latency_seconds, rng)
    if "pqfs" in designs:
        pqfs(xb, xq, truth, exact_ms, args.latency_seconds, rng)
    if "ivf-hnsw" in designs:
        ivf_hnsw(xb, xq, truth, exact_ms, args.latency_seconds, rng)
    return 0


def pqfs(xb: np.ndarray, xq: np.ndarray, truth: np.ndarray, exact_ms: float, seconds: float,
         rng: np.random.Generator) -> None:
    """IVF4096 with PQ d x 4-bit fast-scan codes, re-ranked exactly from 40, 160 or 320 candidates."""
    n, d = xb.shape
    nlist = 4096
    t0 = time.perf_counter()
    base = faiss.IndexIVFPQFastScan(faiss.IndexFlatIP(d), d, nlist, d, 4, faiss.METRIC_INNER_PRODUCT)
    base.train(xb[np.sort(rng.choice(n, min(n, 64 * nlist), replace=False))])
    refined = faiss.IndexRefineFlat(base)
    refined.add(xb)
    logging.info("IVF%d,PQ%dx4fs built in %.0f s", nlist, d, time.perf_counter() - t0)
    for k_factor in (4, 16, 32):
        refined.k_factor = k_factor
        for nprobe in (32, 48, 64, 96):
            base.nprobe = nprobe
            report(f"IVF{nlist},PQ{d}x4fs nprobe={nprobe} re-rank {K * k_factor}", refined, xq, truth, exact_ms,
                   seconds)


def ivf_hnsw(xb: np.ndarray, xq: np.ndarray, truth: np.ndarray, exact_ms: float, seconds: float,
             rng: np.random.Generator) -> None:
    """IVF16384 with an HNSW coarse quantizer over float32 lists (the handicapped build the docstring describes)."""
    n, d = xb.shape
    nlist = 16384
    t0 = time.perf_counter()
    coarse = faiss.IndexHNSWFlat(d, 32, faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.IndexIVFFlat(coarse, d, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.cp.niter = 10
    ivf.train(xb[np.sort(rng.choice(n, min(n, 64 * nlist), replace=False))])
    ivf.add(xb)
    coarse.hnsw.efSearch = 128
    logging.info("IVF%d_HNSW32,Flat built in %.0f s", nlist, time.perf_counter() - t0)
    for nprobe in (64, 96, 128, 192):
        ivf.nprobe = nprobe
        report(f"IVF{nlist}_HNSW32,Flat nprobe={nprobe}", ivf, xq, truth, exact_ms, seconds)


if __name__ == "__main__":
    raise SystemExit(main())
