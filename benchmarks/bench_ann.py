"""ANN vs exact at 1M x 64 (synthetic clustered): recall@10 and single-query speed-up.

    python benchmarks/bench_ann.py                # IVF-Flat and IVF-SQ8+refine nprobe sweeps (~6 min)
    python benchmarks/bench_ann.py --hnsw         # + HNSW M=32 efC=200 (build ~10-20 min on 2 cores)

Bar: some ANN setting with recall@10 >= 0.99 is >= 20x faster (single-query p50, one
thread) than exact in the same run.  Uses engine.lab.scale.run_grid (same code as the Scale page).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.vectors.faiss_index import IndexConfig  # noqa: E402
from engine.lab.scale import merge_rows, run_grid  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--queries", type=int, default=500)
    ap.add_argument("--nlist", type=int, default=4096)
    ap.add_argument("--codecs", default="flat,sq8", help="IVF list codecs to try: flat,sq8")
    ap.add_argument("--nprobe", default="", help="comma-separated nprobe values (default per codec)")
    ap.add_argument("--hnsw", action="store_true", help="also build HNSW (slow)")
    ap.add_argument("--save", action="store_true", help="merge the rows into engine/published/scale.json")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    probes = {"flat": (128, 160, 192), "sq8": (128, 192, 256)}
    if args.nprobe:
        probes = {c: tuple(int(p) for p in args.nprobe.split(",")) for c in probes}
    configs = [IndexConfig("ivf", nlist=args.nlist, nprobe=p, ivf_codec=codec, refine_factor=4)
               for codec in args.codecs.split(",") for p in probes[codec]]
    if args.hnsw:
        configs += [IndexConfig("hnsw", hnsw_m=32, ef_construction=200, ef_search=e) for e in (128, 256, 512)]
    rows = run_grid(args.n, args.d, configs, n_queries=args.queries,
                    progress=lambda f, m: logging.info("%.0f%% %s", 100 * f, m))
    exact = rows[0]
    if args.save:
        merge_rows(rows)
    for r in rows:
        print(f"{r['label']:<38} build {r['build_s']:7.1f} s  recall@10 {r['recall_at_10']:.4f}  "
              f"p50 {r['p50_ms']:8.3f} ms  p99 {r['p99_ms']:8.3f} ms  x{exact['p50_ms'] / r['p50_ms']:6.1f} vs exact")
    good = [r for r in rows[1:] if r["recall_at_10"] >= 0.99]
    if not good:
        print("FAIL: no ANN setting reached recall@10 0.99")
        return 1
    best = min(good, key=lambda r: r["p50_ms"])
    speedup = exact["p50_ms"] / best["p50_ms"]
    print(f"\n{args.n:,} x {args.d}: exact p50 {exact['p50_ms']:.3f} ms; best with recall >= 0.99: {best['label']} "
          f"recall {best['recall_at_10']:.4f} p50 {best['p50_ms']:.3f} ms -> {speedup:.1f}x "
          f"(bar >= 20x: {'PASS' if speedup >= 20 else 'FAIL'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
