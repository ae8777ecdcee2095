"""Scale lab benchmark: exact vs HNSW / IVF-Flat / IVF-SQ8 / IVF-PQ fast-scan, per size and distribution.

    python benchmarks/bench_scale.py --distribution hard --sizes 40000,200000
    python benchmarks/bench_scale.py --distribution real-like --sizes 40000,200000 --dataset ml-100k --space mf
    python benchmarks/bench_scale.py --sizes 40000 --quick

Two distributions (``engine.core.registry.SCALE_DISTRIBUTIONS``): ``hard`` (isotropic gaussian blobs,
intrinsic dimension near the full 64) and ``real-like`` (a mixture of low-rank gaussians fitted to a
built catalogue's own vectors, ``engine.lab.mixture``; it needs ``python -m engine build`` first and
draws vectors of that space's dimension).  For real-like the intrinsic dimension and neighbour
statistics of the real vectors and of the generated ones are printed side by side.

Per size: exact, then every index family over its search settings; per row build seconds, memory
(index plus the float32 rows re-ranking reads), recall@10 against exact, single-query p50 / p99 on
one thread and batch QPS on every core.  Then the Pareto front (memory x recall x p50) and the
fastest setting at recall@10 >= 0.95 and >= 0.99.  Writes ``engine/published/scale-<distribution>.json``
(sealed; the Scale lab's Pareto section reads it) with the load average at the start of each size.
``scale.json`` (the first runs, 40k to 10M, hard only) is written only with ``--out`` naming it.
"""

from __future__ import annotations

import argparse
import math
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import faiss  # noqa: E402


from engine.core.artifacts import read_sealed_json, write_sealed_json  # noqa: E402
from engine.cli.distribution import add_distribution_args, distribution_mixture  # noqa: E402
from engine.lab.mixture import mixture_vectors, vector_stats  # noqa: E402
from engine.lab.results import parse_scale, scale_stem  # noqa: E402
from engine.lab.scale import clustered_vectors, estimate_exact, merge_rows, run_grid  # noqa: E402
from engine.core.machine import machine_facts  # noqa: E402
from engine.published import published_path  # noqa: E402
from engine.vectors.faiss_index import IVF_CODECS, IndexConfig  # noqa: E402

FAMILIES = ("hnsw", *(f"ivf-{c}" for c in IVF_CODECS))
HNSW_BUILDS = ((16, 100), (32, 200))              # (M, efConstruction)
HNSW_EF = (16, 32, 48, 64, 96, 128, 256, 512)   # 48 and 96: the 0.99 crossing falls between powers of two
NPROBE = (1, 2, 4, 8, 16, 32, 48, 64, 96, 128, 256, 512)
REFINE = (4, 16)                                  # PQ fast-scan short list: 40 or 160 exact re-scores
MAX_NLIST = 65_536


def nlists_for(n: int) -> list[int]:
    """Powers of two near sqrt(n), 4 sqrt(n) and 16 sqrt(n), with at least 39 training rows a list
    (FAISS's floor) and at most 65,536 lists (k-means on a 64-rows-a-list sample stays within 2 cores)."""
    out = []
    for f in (1, 4, 16):
        p = 1 << max(4, round(math.log2(f * n ** 0.5)))
        if p * 39 <= n and p <= MAX_NLIST and p not in out:
            out.append(p)
    return out


def configs_for(n: int, families: list[str], quick: bool,
                hnsw_builds: tuple[tuple[int, int], ...] = HNSW_BUILDS) -> list[IndexConfig]:
    cfgs: list[IndexConfig] = []
    nlists = nlists_for(n)[-2:] if quick else nlists_for(n)
    if "hnsw" in families:
        for m, efc in hnsw_builds[-1:] if quick else hnsw_builds:
            cfgs += [IndexConfig("hnsw", hnsw_m=m, ef_construction=efc, ef_search=e) for e in HNSW_EF]
    for codec in IVF_CODECS:
        if f"ivf-{codec}" not in families:
            continue
        for nl in nlists:
            probes = [p for p in NPROBE if p <= nl // 2]
            refines = REFINE if codec == "pqfs" else (4,)
            cfgs += [IndexConfig("ivf", nlist=nl, nprobe=p, ivf_codec=codec, refine_factor=r)
                     for r in refines for p in probes]
    return cfgs


def row_line(r: dict) -> str:
    return (f"{r['distribution']:<9} n={r['n']:>9,} d={r['d']} {r['label']:<50} build {r['build_s']:>8.2f} s  "
            f"mem {r['memory_mb']:>8.1f} MB  recall@10 {r['recall_at_10']:.4f}  p50 {r['p50_ms']:8.3f} ms  "
            f"p99 {r['p99_ms']:8.3f} ms  QPS {r['batch_qps']:>9.0f}")


def summarise(doc: dict) -> list[str]:
    """The Pareto front and the winners at 0.95 / 0.99 per size, from the typed results."""
    res = parse_scale(doc)
    lines = []
    for n in res.sizes():
        exact = res.exact_at(n)
        lines.append(f"\n{res.distribution} n={n:,}: Pareto front (memory x recall@10 x p50), exact p50 "
                     f"{exact.p50_ms:.3f} ms, QPS {exact.batch_qps:,.0f}" if exact else f"\n{res.distribution} n={n:,}")
        for r in res.pareto(n):
            lines.append(f"  {r.label:<50} mem {r.memory_mb:>8.1f} MB  recall {r.recall_at_10:.4f}  "
                         f"p50 {r.p50_ms:.3f} ms  p99 {r.p99_ms:.3f} ms  QPS {r.batch_qps:,.0f}")
        for floor in (0.95, 0.99):
            w = res.winner(n, floor)
            if w is None:
                lines.append(f"  recall@10 >= {floor}: no setting reached it")
                continue
            ratio = f", {exact.p50_ms / w.p50_ms:.1f}x exact" if exact else ""
            lines.append(f"  recall@10 >= {floor}: {w.label} p50 {w.p50_ms:.3f} ms (recall {w.recall_at_10:.4f}{ratio}), "
                         f"build {w.build_s:.1f} s, memory {w.memory_mb:.1f} MB, QPS {w.batch_qps:,.0f}")
    return lines


def stats_rows(args: argparse.Namespace, mixture, real, sizes: list[int]) -> list[dict]:
    """Shape figures of the real vectors (real-like only) and of generated sets beside them."""
    out = []

    def add(what: str, x) -> None:
        s = vector_stats(x, queries=1000, seed=0)
        out.append({"what": what, "n": s.n, "d": s.d, "twonn_dim": s.twonn_dim, "pca90_dims": s.pca90_dims,
                    "relative_contrast": s.relative_contrast, "mean_10nn_cos": s.mean_10nn_cos})

    if mixture is not None:
        add(f"real: {args.dataset} {args.space} vectors", real)
        add("real-like, as many rows as the real set", mixture_vectors(mixture, len(real), seed=0))
    for n in sorted(set([40_000] + [s for s in sizes if s <= 200_000])):
        x = mixture_vectors(mixture, n, seed=0) if mixture is not None else clustered_vectors(n, args.d)
        add(f"{args.distribution}, generated", x)
    return out


STATS_HEADER = f"{'vectors':<45} {'n':>8} {'d':>4} {'TwoNN dim':>9} {'PCA 90%':>8} {'rel.contrast':>12} {'10-NN cos':>9}"


def stats_line(s: dict) -> str:
    return (f"{s['what']:<45} {s['n']:>8,} {s['d']:>4} {s['twonn_dim']:>9.2f} {s['pca90_dims']:>8} "
            f"{s['relative_contrast']:>12.3f} {s['mean_10nn_cos']:>9.4f}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_distribution_args(ap)
    ap.add_argument("--sizes", default="40000,200000")
    ap.add_argument("--families", default=",".join(FAMILIES), help=f"any of {', '.join(FAMILIES)}")
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--latency-seconds", type=float, default=5.0, help="single-query timing budget per row")
    ap.add_argument("--quick", action="store_true", help="one HNSW build and the two largest nlists")
    ap.add_argument("--hnsw-builds", default=";".join(f"{m},{e}" for m, e in HNSW_BUILDS), metavar="M,EFC[;M,EFC]",
                    help="the HNSW graphs to build (each searched at every efSearch); one 1M build takes tens of minutes")
    ap.add_argument("--out", default=None, help="default engine/published/scale-<distribution>.json")
    ap.add_argument("--merge", action="store_true", help="add/replace these sizes' rows in --out, keep the others")
    ap.add_argument("--show", action="store_true", help="print the tables of the verified --out file; measure nothing")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    families = [f.strip() for f in args.families.split(",") if f.strip()]
    if unknown := [f for f in families if f not in FAMILIES]:
        ap.error(f"unknown families {unknown}; choose from {FAMILIES}")
    try:
        hnsw_builds = tuple((int(m), int(e)) for m, e in (b.split(",") for b in args.hnsw_builds.split(";") if b.strip()))
    except ValueError:
        ap.error(f"--hnsw-builds takes M,efConstruction pairs separated by ';', e.g. 16,100;32,200; got {args.hnsw_builds!r}")
    if "hnsw" in families and (not hnsw_builds or any(m < 2 or e < 1 for m, e in hnsw_builds)):
        ap.error("--hnsw-builds needs at least one pair with M >= 2 and efConstruction >= 1")
    args.out = args.out or str(published_path(scale_stem(args.distribution)))
    if args.show:
        doc = read_sealed_json(args.out)
        print(f"{doc.get('command', '')}\n{doc.get('data', '')}\nload average at the start of each size: {doc.get('load_avg')}")
        print(STATS_HEADER)
        for s in doc.get("stats", []):
            print(stats_line(s))
        for r in doc["rows"]:
            print(row_line(r))
        for line in summarise(doc):
            print(line)
        return 0
    sizes = [int(s) for s in args.sizes.split(",")]
    mixture, real = distribution_mixture(args)
    stats = stats_rows(args, mixture, real, sizes)
    print(STATS_HEADER)
    for s in stats:
        print(stats_line(s), flush=True)
    rows: list[dict] = []
    load: dict[str, float] = {}
    size_seconds: dict[int, float] = {}
    started = time.time()
    for n in sizes:
        t0 = time.time()
        load[str(n)] = round(os.getloadavg()[0], 2)
        part = run_grid(n, args.d, configs_for(n, families, args.quick, hnsw_builds), n_queries=args.queries,
                        latency_seconds=args.latency_seconds, distribution=args.distribution, mixture=mixture,
                        progress=lambda f, m, n=n: logging.info("n=%s %.0f%% %s", f"{n:,}", 100 * f, m))
        rows += part
        for r in part:
            print(row_line(r), flush=True)
        size_seconds[n] = round(time.time() - t0, 1)
        logging.info("n=%s took %.0f s", f"{n:,}", size_seconds[n])
        doc = _write(args, rows, started, stats, load, mixture, size_seconds)  # keep partial results if a later size is interrupted
    for line in summarise(doc):
        print(line)
    return 0


SHARED_LOAD = 2.0   # a load average at the start of a size from which both cores were already busy


def run_notes(load_avg: dict[str, float]) -> list[str]:
    """The file's notes, from the load average at the start of each size: which sizes shared the cores."""
    shared = sorted((int(n) for n, v in load_avg.items() if float(v) >= SHARED_LOAD))
    notes = []
    if shared:
        notes.append(f"{'Sizes' if len(shared) > 1 else 'Size'} {', '.join(f'{n:,}' for n in shared)} started with a load average of {SHARED_LOAD:g} or "
                     f"more (load_avg): other jobs shared the {os.cpu_count()} cores, so their timings are inflated and p99 suffers "
                     "most; the other sizes ran on an idle machine.")
    notes.append("Exact at 100M in 'estimates' is linear in n from measured sizes, not a measurement.")
    return notes


def _write(args: argparse.Namespace, rows: list[dict], started: float, stats: list[dict], load: dict,
           mixture, size_seconds: dict[int, float]) -> dict:
    estimates = []
    try:
        estimates.append(estimate_exact(rows, 100_000_000, args.d))
    except Exception as exc:  # fewer than two sizes measured
        logging.info("no 100M estimate: %s", exc)
    if mixture is not None:
        data = (f"real-like: a mixture of {mixture.k} low-rank gaussians (rank {mixture.rank} + isotropic residual) "
                f"fitted to the {args.space} vectors of {args.dataset} ({mixture.source['n']:,} x {mixture.d}, "
                f"vectors sha256 {mixture.source['vectors_sha256'][:12]}), model sha256 {mixture.sha256[:12]}; "
                "unit vectors (engine.lab.mixture)")
    else:
        data = (f"hard: synthetic clustered unit vectors, {args.d}-d (engine.lab.scale.clustered_vectors, sqrt(n) "
                "overlapping isotropic gaussian clusters, spread 1.25 per dim: intrinsic dimension near the full one)")
    out = {
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": machine_facts(), "distribution": args.distribution, "data": data,
        "mixture": None if mixture is None else {"sha256": mixture.sha256, **mixture.meta()},
        "method": f"recall@10 vs exact on {args.queries} held-out queries (another seed, same distribution); "
                  f"p50/p99 single query, 1 thread; batch QPS on {faiss.omp_get_max_threads()} thread(s), all queries in one call; memory = index "
                  "arrays plus the float32 rows re-ranking reads",
        "command": "python benchmarks/bench_scale.py " + " ".join(sys.argv[1:]),
        "notes": run_notes(load),
        "load_avg": load, "stats": stats, "batch_threads": faiss.omp_get_max_threads(),
        "seconds": round(time.time() - started, 1),
        "size_seconds": {str(k): v for k, v in size_seconds.items()},
        "rows": rows, "estimates": estimates,
    }
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if args.merge:
        if Path(args.out).exists():  # keep the load average of the sizes measured before
            old = read_sealed_json(args.out)
            if old.get("data") != out["data"]:          # names the fitted mixture's sha256, or the dimension
                print(f"{args.out} holds rows of other vectors (another fitted mixture or dimension): "
                      f"write to a new --out instead of merging", file=sys.stderr)
                raise SystemExit(2)
            out["load_avg"] = {**old.get("load_avg", {}), **load}
            out["size_seconds"] = {**old.get("size_seconds", {}), **out["size_seconds"]}
            out["notes"] = run_notes(out["load_avg"])   # about every size the file holds, not only this run's
        doc = merge_rows(rows, args.out, **{k: v for k, v in out.items() if k not in ("rows", "estimates", "seconds")})
    else:
        doc = write_sealed_json(args.out, out)
    print(f"wrote {args.out}", file=sys.stderr)
    return doc


if __name__ == "__main__":
    sys.exit(main())
