"""100,000,000 vectors on one machine, measured: build, memory, exact (disk and RAM), recall-latency.

    python benchmarks/bench_100m.py --n 10000000 --factories "IVF4096_HNSW32,SQ8;IVF16384_HNSW32,SQ8"
    python benchmarks/bench_100m.py                       # 100M x 64 with the factory chosen at 10M
    python benchmarks/bench_100m.py --phase report        # print the table from the phases on disk
    python benchmarks/bench_100m.py --distribution real-like --dataset ml-100k --space mf   # real-shaped vectors

Protocol (docs/SCALE.md, "The 100-million row"):
1. gen: n unit vectors written to a raw float32 file in 1M-row chunks, with a sha256 sidecar:
   ``--distribution hard`` (default) the Scale lab's clustered 64-d blobs
   (engine.lab.scale.clustered_chunks); ``real-like`` the mixture fitted to a built catalogue's
   vectors (engine.lab.mixture.mixture_chunks, ``--dataset`` / ``--space``; d is that space's).
2. truth: exact top-10 of the held-out queries, streamed over the file block by block.
3. build: each factory trained on its first rows, every row added; index written to disk.
4. search: per nprobe, recall@10 of all queries (one batch) and single-query p50/p99 on one
   thread over the first --latency-queries queries, with the short list re-ranked exactly
   from the float32 file (k_factor x 10 random reads; k_factor 1 = no re-ranking).
5. exact: one query at a time, one thread: streamed from disk with the file's pages dropped
   from the page cache first (the file is larger than RAM), and in RAM over the largest
   prefix that fits (--ram-n), plus disk-streamed over that same prefix for the ratio.
Every phase runs in its own process (its peak RSS is its own) and writes phase-*.json in
the work directory, so an interrupted run resumes where it stopped.  The figures go to
engine/published/bigann-<n>.json (hard) or bigann-<n>-real-like.json (small, committed); vectors and indexes stay in the work
directory (default: the MovieDNA cache, bench-100m/), never in the repository.
Needs n*d*4 bytes of disk for the vectors (25.6 GB at 100M) plus the index.
"""

from __future__ import annotations

import argparse
import json
import logging
import shlex
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import faiss  # noqa: E402
import numpy as np  # noqa: E402

from engine.core import config  # noqa: E402
from engine.core.artifacts import atomic_path, atomic_write_json, sha256_file, write_sealed_json  # noqa: E402
from engine.core.errors import ArtifactError  # noqa: E402
from engine.cli.distribution import add_distribution_args  # noqa: E402
from engine.lab.results import bigann_stem  # noqa: E402
from engine.published import published_path  # noqa: E402
from engine.lab import bigann  # noqa: E402
from engine.core.machine import machine_facts  # noqa: E402
from engine.lab.scale import draw_queries, recall_at  # noqa: E402
from engine.vectors.faiss_index import faiss_threads  # noqa: E402

log = logging.getLogger("bench_100m")
RESULTS = Path(__file__).resolve().parent / "results"
PHASES = ("gen", "truth", "build", "search", "exact", "report")
K = 10


def progress_logger(what: str, every_s: float = 15.0):
    """A Progress callback that logs at most every ``every_s`` seconds, with an ETA."""
    t0 = time.perf_counter()
    last = [0.0]

    def report(fraction: float, message: str) -> None:
        now = time.perf_counter()
        if now - last[0] < every_s and fraction < 1.0:
            return
        last[0] = now
        eta = (now - t0) / fraction * (1 - fraction) if fraction > 0 else float("nan")
        log.info("%s %5.1f%%  %s  (elapsed %.0f s, ETA %.0f s)", what, 100 * fraction, message, now - t0, eta)
    return report


def mixture_for(args: argparse.Namespace):
    """The verified mixture of ``--dataset`` / ``--space`` (fitted and saved on first use)."""
    from engine.lab.mixture import catalogue_mixture

    return catalogue_mixture(args.dataset, args.space)[0]


def queries_for(args: argparse.Namespace) -> np.ndarray:
    """Held-out queries from the database's distribution (another seed), as the Scale lab draws them."""
    mixture = mixture_for(args) if args.distribution == "real-like" else None
    return draw_queries(args.distribution, args.queries, args.n, args.d, 1, mixture)


def workdir(args: argparse.Namespace) -> Path:
    root = Path(args.workdir) if args.workdir else config.cache_root() / "bench-100m"
    name = f"n{args.n}-d{args.d}" if args.distribution == "hard" else f"n{args.n}-real-like-{args.dataset}-{args.space}"
    path = root / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def vector_path(args: argparse.Namespace) -> Path:
    return workdir(args) / "base.f32"


def phase_path(args: argparse.Namespace, name: str) -> Path:
    return workdir(args) / f"phase-{name}.json"


#: the options each phase's figures depend on: a phase on disk run with other ones is redone
_DATA = ("n", "d", "distribution", "dataset", "space")
PHASE_ARGS = {"gen": _DATA, "truth": (*_DATA, "queries"),
              "build": (*_DATA, "factories", "train_per_list", "niter"),
              "search": (*_DATA, "queries", "latency_queries", "factories", "train_per_list", "niter", "nprobe", "k_factor"),
              "exact": (*_DATA, "queries", "ram_n", "disk_queries", "ram_queries")}


#: how the search phase times its batch: all queries in one call, re-ranking included, page cache dropped first
SEARCH_BATCH = "one call, re-ranking from a cold page cache"


def two_level_prefixes(args: argparse.Namespace) -> list[str]:
    """The coarse quantizers (``IVF<nlist>_HNSW<M>``) this run trains by two-level k-means."""
    return sorted({f.split(",")[0] for f in args.factory_list if bigann.IvfPlan(f).nlist() > args.two_level_above})


def signature(args: argparse.Namespace, phase: str) -> dict:
    sig = {k: getattr(args, k) for k in PHASE_ARGS[phase]}
    # only what changes the figures: a threshold no factory crosses leaves earlier builds valid
    if phase in ("build", "search") and two_level_prefixes(args):
        sig["two_level"] = two_level_prefixes(args)
    if phase == "search":
        sig["batch"] = SEARCH_BATCH
    return sig


def save_phase(args: argparse.Namespace, name: str, facts: dict) -> None:
    facts = {**facts, "args": signature(args, name), "peak_rss_mb": round(bigann.peak_rss_mb(), 1),
             "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    atomic_write_json(phase_path(args, name), facts)
    log.info("phase %s: %s", name, json.dumps({k: v for k, v in facts.items() if k != "curve"})[:600])


def load_phase(args: argparse.Namespace, name: str) -> dict | None:
    p = phase_path(args, name)
    return json.loads(p.read_text()) if p.exists() else None


def factory_tag(factory: str) -> str:
    return "".join(ch if ch.isalnum() else "_" for ch in factory)


def phase_gen(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    if args.distribution == "real-like":
        vf = bigann.write_mixture(vector_path(args), mixture_for(args), args.n, progress=progress_logger("gen"))
    else:
        vf = bigann.write_clustered(vector_path(args), args.n, args.d, progress=progress_logger("gen"))
    save_phase(args, "gen", {"n": vf.n, "d": vf.d, "bytes": vf.nbytes, "sha256": vf.sha256,
                             "seconds": round(time.perf_counter() - t0, 1), "params": vf.meta})


def phase_truth(args: argparse.Namespace) -> None:
    vf = bigann.VectorFile.open(vector_path(args))
    q = queries_for(args)
    t0 = time.perf_counter()
    scores, ids = bigann.streamed_exact(vf, q, K, progress=progress_logger("truth"))
    seconds = time.perf_counter() - t0
    with atomic_path(workdir(args) / "truth.npz") as tmp, open(tmp, "wb") as fh:
        np.savez(fh, ids=ids, scores=scores)  # a file object: np.savez would append ".npz" to a path
    save_phase(args, "truth", {"queries": len(q), "k": K, "vectors_sha256": vf.sha256,
                               "seconds": round(seconds, 1), "gb_per_s": round(vf.nbytes / seconds / 1e9, 2)})


def load_truth(args: argparse.Namespace, vf: bigann.VectorFile) -> np.ndarray:
    facts = load_phase(args, "truth")
    if not facts or facts["vectors_sha256"] != vf.sha256 or facts["queries"] != args.queries:
        raise ArtifactError("The ground truth is missing or belongs to other vectors; run --phase truth.")
    return np.load(workdir(args) / "truth.npz")["ids"]


def index_path(args: argparse.Namespace, factory: str) -> Path:
    return workdir(args) / f"{factory_tag(factory)}.faissindex"


def phase_build(args: argparse.Namespace) -> None:
    vf = bigann.VectorFile.open(vector_path(args))
    out = {}
    coarse: dict[str, faiss.Index] = {}  # trained coarse quantizers by IVF prefix: k-means once per nlist
    for factory in args.factory_list:
        plan = bigann.IvfPlan(factory, train_rows=min(vf.n, args.train_per_list * bigann.IvfPlan(factory).nlist()),
                              niter=args.niter)
        path = index_path(args, factory)
        prefix = factory.split(",")[0]
        kmeans_s = None
        if prefix not in coarse and plan.nlist() > args.two_level_above:  # one-level k-means would take hours
            coarse[prefix], kmeans_s = bigann.two_level_quantizer(vf, factory, plan.train_rows, args.niter,
                                                                  progress=progress_logger(f"k-means {prefix}"))
        index, facts = bigann.build_ivf(vf, plan, progress=progress_logger(f"build {factory}"), coarse=coarse.get(prefix))
        if kmeans_s is not None:  # this factory paid for the k-means: its training time counts it
            facts.update({"kmeans": "two-level", "kmeans_s": round(kmeans_s, 1),
                          "kmeans_niter": [args.niter, bigann.SECOND_LEVEL_NITER],
                          "train_s": round(facts["train_s"] + kmeans_s, 1)})
        if prefix not in coarse:
            coarse[prefix] = faiss.clone_index(faiss.extract_index_ivf(index).quantizer)
        t0 = time.perf_counter()
        with atomic_path(path, ".faissindex") as tmp:
            faiss.write_index(index, str(tmp))
        facts.update({"write_s": round(time.perf_counter() - t0, 1), "disk_bytes": path.stat().st_size,
                      "sha256": sha256_file(path), "vectors_sha256": vf.sha256})
        atomic_write_json(path.with_suffix(".json"), facts)
        out[factory] = facts
        del index
    save_phase(args, "build", {"indexes": out})


def open_index(args: argparse.Namespace, factory: str, vf: bigann.VectorFile) -> tuple[faiss.Index, float]:
    """Read a built index after checking its sha256 and the vectors it was built from."""
    path = index_path(args, factory)
    side = path.with_suffix(".json")
    if not path.exists() or not side.exists():
        raise ArtifactError(f"No index for {factory}; run --phase build.")
    facts = json.loads(side.read_text())
    if facts["vectors_sha256"] != vf.sha256 or sha256_file(path) != facts["sha256"]:
        raise ArtifactError(f"The {factory} index does not match its vectors or its own hash; run --phase build.")
    t0 = time.perf_counter()
    index = faiss.read_index(str(path))
    return index, time.perf_counter() - t0


def phase_search(args: argparse.Namespace) -> None:
    vf = bigann.VectorFile.open(vector_path(args))
    truth = load_truth(args, vf)
    q = queries_for(args)
    base = vf.memmap()
    results = {}
    for factory in args.factory_list:
        index, load_s = open_index(args, factory, vf)
        rows = []
        for nprobe in args.nprobe_list:
            params = bigann.ivf_params(nprobe)
            for kf in args.k_factor_list:
                lat = []
                if kf > 1:  # re-ranking reads rows from the file: start every setting from a cold page cache
                    bigann.drop_cached_pages(vf.path)
                with faiss_threads(1):
                    for i in range(min(args.latency_queries, len(q))):
                        t1 = time.perf_counter()
                        bigann.refine_search(index, base, q[i:i + 1], K, kf, params)
                        lat.append((time.perf_counter() - t1) * 1e3)
                # every query in one call, the index on all threads, the re-ranking (one thread) and its reads
                # included, from the disk as in the single-query timings
                if kf > 1:
                    bigann.drop_cached_pages(vf.path)
                t0 = time.perf_counter()
                found = bigann.refine_search(index, base, q, K, kf, params)[1]
                batch_s = time.perf_counter() - t0
                recall = recall_at(found, truth)
                row = {"nprobe": nprobe, "ef_search": max(nprobe, 64), "k_factor": kf, "recall_at_10": round(recall, 4),
                       "p50_ms": round(float(np.percentile(lat, 50)), 3), "p99_ms": round(float(np.percentile(lat, 99)), 3),
                       "timed_queries": len(lat), "batch_qps": round(len(q) / batch_s, 1), "batch_reranks": True,
                       "scanned_fraction": round(nprobe / bigann.IvfPlan(factory).nlist(), 5)}
                rows.append(row)
                log.info("%s nprobe=%d kf=%d recall@10 %.4f p50 %.2f ms p99 %.2f ms, batch %.0f QPS", factory, nprobe,
                         kf, recall, row["p50_ms"], row["p99_ms"], row["batch_qps"])
        results[factory] = {"load_s": round(load_s, 1), "curve": rows, "peak_rss_mb_so_far": round(bigann.peak_rss_mb(), 1)}
        del index
    save_phase(args, "search", {"queries": len(q), "latency_queries": args.latency_queries, "results": results})


def phase_exact(args: argparse.Namespace) -> None:
    vf = bigann.VectorFile.open(vector_path(args))
    truth = load_truth(args, vf)
    q = queries_for(args)
    ram_n = min(args.ram_n, vf.n)
    disk_full = []
    for i in range(args.disk_queries):
        s, ids = bigann.exact_from_disk(vf, q[i], K)
        disk_full.append(s)
        log.info("exact from disk, %s rows: %.2f s (matches truth: %s)", f"{vf.n:,}", s, set(ids) == set(truth[i]))
        if set(ids.tolist()) != set(truth[i].tolist()):
            raise ArtifactError("The disk-streamed exact search disagrees with the ground truth.")
    disk_prefix = []
    if ram_n < vf.n:
        for i in range(args.disk_queries):
            s, _ = bigann.exact_from_disk(vf, q[i], K, stop=ram_n)
            disk_prefix.append(s)
            log.info("exact from disk, %s rows: %.2f s", f"{ram_n:,}", s)
    else:
        disk_prefix = list(disk_full)
    t0 = time.perf_counter()
    xb = vf.rows(0, ram_n)
    load_s = time.perf_counter() - t0
    ram = []
    for i in range(args.ram_queries):
        s, ids = bigann.exact_in_ram(xb, q[i], K)
        ram.append(s)
    log.info("exact in RAM, %s rows: p50 %.3f s", f"{ram_n:,}", float(np.median(ram)))
    save_phase(args, "exact", {
        "disk": {"n": vf.n, "seconds": [round(x, 3) for x in disk_full], "p50_s": round(float(np.median(disk_full)), 3),
                 "gb_per_s": round(vf.nbytes / float(np.median(disk_full)) / 1e9, 2)},
        "disk_same_n_as_ram": {"n": ram_n, "seconds": [round(x, 3) for x in disk_prefix],
                               "p50_s": round(float(np.median(disk_prefix)), 3)},
        "ram": {"n": ram_n, "seconds": [round(x, 4) for x in ram], "p50_s": round(float(np.median(ram)), 4),
                "load_s": round(load_s, 1), "bytes": int(xb.nbytes)},
    })


def phase_report(args: argparse.Namespace) -> int:
    phases = {name: load_phase(args, name) for name in PHASES[:-1]}
    missing = [name for name, facts in phases.items() if facts is None]
    if missing:
        print(f"phases not run yet: {', '.join(missing)}", file=sys.stderr)
        return 1
    gen, truth, build, search, exact = (phases[n] for n in PHASES[:-1])
    choices = []
    for factory, res in search["results"].items():
        good = [r for r in res["curve"] if r["recall_at_10"] >= 0.99]
        best = min(good, key=lambda r: r["p50_ms"]) if good else None
        choices.append((factory, best))
    ranked = sorted((c for c in choices if c[1]), key=lambda c: c[1]["p50_ms"])
    doc = {
        "n": args.n, "d": args.d, "measured_on": machine_facts(),
        "date": max(p["finished"] for p in phases.values())[:10],
        "command": shlex.join(["python", "benchmarks/bench_100m.py", *without_phase(sys.argv[1:])]),
        "protocol": "docs/SCALE.md#the-100-million-row",
        "distribution": args.distribution,
        "data": {k: gen["params"][k] for k in ("generator", "n", "d", "seed", "n_clusters", "spread", "centers_seed",
                                               "mixture_sha256", "mixture_k", "mixture_rank", "source")
                 if k in gen["params"]},
        "vectors": {"bytes": gen["bytes"], "sha256": gen["sha256"], "generate_s": gen["seconds"], "peak_rss_mb": gen["peak_rss_mb"]},
        "ground_truth": {k: truth[k] for k in ("queries", "k", "seconds", "gb_per_s", "peak_rss_mb")},
        "build": {f: {k: v for k, v in facts.items() if k not in ("sha256", "vectors_sha256")}
                  for f, facts in build["indexes"].items()},
        "build_peak_rss_mb": build["peak_rss_mb"],
        "search": search["results"], "search_peak_rss_mb": search["peak_rss_mb"],
        "latency_queries": search["latency_queries"],
        "exact": {**exact, "peak_rss_mb": exact["peak_rss_mb"]},
        "best": {f: b for f, b in choices},
        "chosen": ranked[0][0] if ranked else None,
    }
    for key in ("finished",):
        doc["exact"].pop(key, None)
    out = Path(args.out) if args.out else published_path(bigann_stem(args.n, args.distribution))
    write_sealed_json(out, doc)
    print_table(doc)
    print(f"\nwrote {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out.name}", file=sys.stderr)
    return 0


def print_table(doc: dict) -> None:
    n, m = doc["n"], doc["measured_on"]
    print(f"{doc.get('distribution', 'hard')} distribution, {n:,} x {doc['d']} float32 ({doc['vectors']['bytes'] / 1e9:.1f} GB) on {m['cpus']} cores, {m['ram_gb']} GB RAM, "
          f"{m['cpu']}, {doc['date']}")
    gt = doc["ground_truth"]
    print(f"ground truth: {gt['queries']} queries, exact, streamed: {gt['seconds']:.0f} s ({gt['gb_per_s']} GB/s)")
    ex = doc["exact"]
    print(f"exact, 1 query, 1 thread, from disk (page cache dropped): {ex['disk']['p50_s']:.2f} s p50 at {ex['disk']['n']:,} "
          f"({ex['disk']['gb_per_s']} GB/s)")
    ratio = ex["disk_same_n_as_ram"]["p50_s"] / ex["ram"]["p50_s"]
    print(f"exact, 1 query, 1 thread, in RAM at {ex['ram']['n']:,} (largest that fits beside the OS): {ex['ram']['p50_s']:.3f} s; "
          f"from disk at the same n: {ex['disk_same_n_as_ram']['p50_s']:.2f} s -> disk/RAM {ratio:.1f}x")
    for factory, b in doc["build"].items():
        print(f"\n{factory}: train {b['train_s']:.0f} s on {b['train_rows']:,} rows, add {b['add_s']:.0f} s, "
              f"RAM {b['ram_bytes'] / 2**30:.2f} GiB, disk {b['disk_bytes'] / 2**30:.2f} GiB, build peak RSS "
              f"{doc['build_peak_rss_mb'] / 1024:.1f} GiB")
        print(f"  {'nprobe':>6} {'k_factor':>8} {'recall@10':>9} {'p50 ms':>9} {'p99 ms':>9} {'batch QPS':>10} "
              f"{'vs disk exact':>14} {'scanned':>8}")
        for r in doc["search"][factory]["curve"]:
            # files written before the batch call re-ranked timed the codes only: no QPS for re-ranked rows there
            qps = f"{r['batch_qps']:,.0f}" if r["k_factor"] == 1 or r.get("batch_reranks") else "-"
            print(f"  {r['nprobe']:>6} {r['k_factor']:>8} {r['recall_at_10']:>9.4f} {r['p50_ms']:>9.2f} {r['p99_ms']:>9.2f} "
                  f"{qps:>10} {ex['disk']['p50_s'] * 1e3 / r['p50_ms']:>13.0f}x {100 * r['scanned_fraction']:>7.2f}%")
        best = doc["best"].get(factory)
        if best:
            print(f"  fastest with recall@10 >= 0.99: nprobe {best['nprobe']}, k_factor {best['k_factor']}: "
                  f"{best['p50_ms']:.2f} ms p50, recall {best['recall_at_10']:.4f} -> "
                  f"{ex['disk']['p50_s'] * 1e3 / best['p50_ms']:.0f}x faster than exact from disk")
        else:
            print("  no setting reached recall@10 0.99")
    if doc["chosen"]:
        print(f"\nchosen factory (fastest at recall@10 >= 0.99): {doc['chosen']}")


def without_phase(argv: list[str]) -> list[str]:
    """argv minus any ``--phase X`` / ``--phase=X`` (the driver adds its own)."""
    out, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--phase":
            skip = True
        elif not a.startswith("--phase="):
            out.append(a)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000_000)
    add_distribution_args(ap)
    ap.add_argument("--queries", type=int, default=500, help="held-out queries with ground truth (>= 200)")
    ap.add_argument("--latency-queries", type=int, default=200, help="queries timed one at a time per setting")
    ap.add_argument("--factories", default="IVF16384_HNSW32,SQ8", help="FAISS factory strings, ';'-separated")
    ap.add_argument("--train-per-list", type=int, default=40, help="k-means training rows per inverted list")
    ap.add_argument("--niter", type=int, default=10, help="k-means iterations")
    ap.add_argument("--two-level-above", type=int, default=16384,
                    help="coarse k-means in two levels (sqrt(nlist) clusters, then sub-clusters) above this nlist")
    ap.add_argument("--nprobe", default="64,128,256,512,1024")
    ap.add_argument("--k-factor", default="1,4", help="short list = 10 x k_factor rows re-ranked from disk")
    ap.add_argument("--ram-n", type=int, default=60_000_000, help="rows for the in-RAM exact figure")
    ap.add_argument("--disk-queries", type=int, default=3)
    ap.add_argument("--ram-queries", type=int, default=10)
    ap.add_argument("--phase", choices=("all", *PHASES), default="all")
    ap.add_argument("--workdir", default="", help="where vectors and indexes go (default: the MovieDNA cache)")
    ap.add_argument("--out", default="", help="result JSON (default engine/published/bigann-<n>.json)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    if args.queries < 200:
        ap.error("--queries must be at least 200 (the ground truth of the protocol)")
    if args.distribution == "real-like":
        args.d = mixture_for(args).d             # the space's dimension, before any phase names its folder
    else:
        args.dataset = args.space = ""           # not part of the hard distribution's identity
    args.factory_list = [f.strip() for f in args.factories.split(";") if f.strip()]
    args.nprobe_list = [int(x) for x in args.nprobe.split(",")]
    args.k_factor_list = sorted({int(x) for x in args.k_factor.split(",")})
    if args.phase == "all":
        argv = without_phase(sys.argv[1:])
        for name in PHASES[:-1]:
            done = load_phase(args, name)
            if done and done.get("args") == signature(args, name):
                log.info("phase %s already done with these options (%s); delete that file to redo it",
                         name, phase_path(args, name))
                continue
            rc = subprocess.call([sys.executable, __file__, *argv, "--phase", name])
            if rc:
                return rc
        return phase_report(args)
    return {"gen": phase_gen, "truth": phase_truth, "build": phase_build, "search": phase_search,
            "exact": phase_exact, "report": phase_report}[args.phase](args) or 0


if __name__ == "__main__":
    sys.exit(main())
