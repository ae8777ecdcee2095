"""Filtered vector search: selectivity x backend x index -> recall@10, rows returned, p50 / p99 ms.

    python benchmarks/bench_filters.py --scale ml-100k                      # FAISS on the built ml-100k (mf)
    python benchmarks/bench_filters.py --scale ml-100k --backends faiss,pgvector,milvus
    python benchmarks/bench_filters.py --scale 1m                           # FAISS at 1M x 64 synthetic

The filter keeps movies with at least n ratings, n chosen so that 50 %, 10 %, 1 % and 0.1 % of the
movies match (on synthetic data the counts are a random permutation, so the filter is uncorrelated
with the vectors).  Ground truth: exact top-10 over just the matching rows.  Each row is one index
searched single-query (one thread) through its ``search(q, k, where)``:

- ``planner``: what the engine does (exact over the matching rows below SUBSET_MAX, else the index
  with a FAISS IDSelectorBitmap and efSearch / nprobe widened by 1/selectivity);
- ``selector``: the index with its selector at every selectivity (the planner switched off);
- pgvector: ``exact`` (WHERE + sequential scan), HNSW ``iterative`` (hnsw.iterative_scan =
  relaxed_order) and HNSW ``plain`` (no iterative scan: the WHERE filters the first ef_search
  candidates, so selective filters return too few rows); Milvus: HNSW with a filter expression.

Target at 1M on FAISS: filtered p50 <= 2x the same index's unfiltered p50 at every selectivity, recall
>= 0.95.  Prints a table and writes benchmarks/results/filters-<scale>.json.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine.vectors.contract as contract  # noqa: E402
from engine.core.artifacts import atomic_write_json  # noqa: E402
from engine.data.filters import Facets, Filter, columns_for  # noqa: E402
from engine.core.machine import machine_facts  # noqa: E402
from engine.vectors.contract import exact_search  # noqa: E402
from engine.vectors.faiss_index import FaissIndex, IndexConfig  # noqa: E402

SELECTIVITIES = (0.5, 0.1, 0.01, 0.001)
K = 10
RESULTS = Path(__file__).resolve().parent / "results"


def ml100k(model: str) -> tuple[np.ndarray, np.ndarray, Facets]:
    """The built ml-100k space (ids, unit vectors) and its facets."""
    from engine.service import Engine

    eng = Engine("ml-100k")
    sp = eng.space(model)
    return sp.ids, sp.unit, eng.facets()


def synthetic(n: int, d: int) -> tuple[np.ndarray, np.ndarray, Facets]:
    from engine.lab.scale import clustered_vectors

    rng = np.random.default_rng(7)
    ids = np.arange(1, n + 1, dtype=np.int64)
    movies = pd.DataFrame({"movie_id": ids, "year": rng.integers(1920, 2024, n),
                           "n_ratings": rng.permutation(n), "genres": [[]] * n})
    return ids, clustered_vectors(n, d, seed=0), Facets(movies, f"synthetic-{n}")


def queries_for(vectors: np.ndarray, n: int) -> np.ndarray:
    rng = np.random.default_rng(11)
    base = vectors[rng.choice(len(vectors), n, replace=False)]
    return contract.normalize(base + 0.1 * rng.normal(size=base.shape).astype(np.float32))


def filters(facets: Facets) -> list[tuple[float, Filter]]:
    counts = np.sort(facets.n_ratings)[::-1]
    return [(s, Filter(min_ratings=int(counts[max(1, int(round(len(counts) * s))) - 1]))) for s in SELECTIVITIES]


def measure(search, queries: np.ndarray, truth: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
            matching: int) -> dict:
    """Time ``search(q (1, d)) -> ids (1, K)`` per query; recall@K against ``truth`` = (kth exact
    score per query (q,), all ids sorted (n,), their unit vectors (n, d)): a returned movie counts when
    its exact cosine reaches the k-th best (ties in the data, e.g. movies with the same few ratings,
    count as found whichever of them is returned)."""
    search(queries[:1])  # warm (selector, subset)
    times, got = [], []
    for q in queries:
        t0 = time.perf_counter()
        ids = search(q[None, :])
        times.append(1e3 * (time.perf_counter() - t0))
        got.append(ids[0])
    got_a = np.asarray(got)
    rows = (got_a >= 0).sum(axis=1)
    out = {"p50_ms": float(np.percentile(times, 50)), "p99_ms": float(np.percentile(times, 99)),
           "rows_min": int(rows.min()), "rows_mean": float(rows.mean()), "rows_expected": min(K, matching)}
    if truth is not None:
        kth, all_ids, unit = truth
        kk = max(min(K, matching), 1)
        hits = []
        for q, found, bar in zip(queries, got_a, kth):
            found = found[found >= 0]
            cos = unit[np.searchsorted(all_ids, found)] @ q
            hits.append(min(int((cos >= bar - 1e-5).sum()), kk) / kk)
        out["recall_at_10"] = float(np.mean(hits))
    return out


def faiss_rows(ids, vecs, facets, queries, configs, truths, index_dir: Path | None) -> list[dict]:
    import faiss

    rows = []
    for cfg in configs:
        t0 = time.perf_counter()
        path = index_dir / f"{cfg.kind}-{len(ids)}-{cfg.build_key()}.faiss" if index_dir else None
        if path is not None and path.exists():
            idx = FaissIndex(faiss.read_index(str(path)), ids, cfg, vectors=vecs)
        else:
            idx = FaissIndex.build(ids, vecs, cfg, check_recall=False)
            if path is not None:
                faiss.write_index(idx.index, str(path))
        logging.info("%s ready in %.1f s", cfg.label(), time.perf_counter() - t0)
        base = measure(lambda q: idx.search(q, K)[1], queries, truths[None], len(ids))
        rows.append({"backend": "faiss", "index": cfg.kind, "label": cfg.label(), "variant": "unfiltered",
                     "selectivity": 1.0, "matching": len(ids), **base})
        for s, flt in filters(facets):
            sel = facets.select(flt)
            variants = ["planner"] + (["selector"] if cfg.kind != "exact" or sel.matching <= contract.SUBSET_MAX else [])
            for variant in variants:
                saved = contract.SUBSET_MAX
                contract.SUBSET_MAX = saved if variant == "planner" else 0
                try:
                    plan = idx.plan(sel)
                    r = measure(lambda q: idx.search(q, K, sel)[1], queries, truths[s], sel.matching)
                finally:
                    contract.SUBSET_MAX = saved
                rows.append({"backend": "faiss", "index": cfg.kind, "label": cfg.label(), "variant": variant,
                             "selectivity": s, "matching": sel.matching, "path": plan.path, "params": plan.params,
                             "vs_unfiltered_p50": r["p50_ms"] / base["p50_ms"], **r})
            logging.info("%s %.1f%% done", cfg.kind, 100 * s)
    return rows


def store_rows(backend: str, ids, vecs, facets, queries, truths) -> list[dict]:
    from engine.vectors.contract import enable_backends, open_store

    enable_backends(backend)  # the operator runs this benchmark: an explicit opt-in
    tmp = Path(tempfile.mkdtemp(prefix="moviedna-bench-"))
    opts = {"data_dir": tmp / "pgdata", "ef_search": 40} if backend == "pgvector" else {"uri": str(tmp / "milvus.db")}
    store = open_store(backend, **opts)
    rows = []
    try:
        store.upsert("bench", ids, vecs, columns_for(facets, ids))
        variants = {"pgvector": {"exact": {"exact": True}, "iterative": {}, "plain": {"iterative_scan": False}},
                    "milvus": {"hnsw": {}}}[backend]
        base = measure(lambda q: store.search("bench", q, K)[1], queries, truths[None], len(ids))
        rows.append({"backend": backend, "index": "hnsw", "variant": "unfiltered", "selectivity": 1.0,
                     "matching": len(ids), **base})
        for s, flt in filters(facets):
            sel = facets.select(flt)
            for variant, kw in variants.items():
                r = measure(lambda q: store.search("bench", q, K, where=sel, **kw)[1], queries, truths[s], sel.matching)
                rows.append({"backend": backend, "index": "exact" if variant == "exact" else "hnsw", "variant": variant,
                             "selectivity": s, "matching": sel.matching, "vs_unfiltered_p50": r["p50_ms"] / base["p50_ms"],
                             **r})
    finally:
        store.close()
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", default="ml-100k", choices=("ml-100k", "1m"))
    ap.add_argument("--n", type=int, default=1_000_000, help="synthetic vectors (with --scale 1m)")
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--model", default="mf", help="ml-100k space")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--backends", default="faiss")
    ap.add_argument("--indexes", default="exact,hnsw,ivf", help="FAISS index kinds to measure")
    ap.add_argument("--ef-search", type=int, default=None, help="HNSW efSearch (default 64, 256 at 1M)")
    ap.add_argument("--nprobe", type=int, default=None, help="IVF nprobe (default 32, 64 at 1M)")
    ap.add_argument("--index-dir", default=None, help="keep built FAISS indexes here (re-runs skip the build)")
    ap.add_argument("--widen-max", type=int, default=contract.WIDEN_MAX,
                    help="most a filter widens efSearch / nprobe (1 = never; the engine's default otherwise)")
    ap.add_argument("--subset-max", type=int, default=contract.SUBSET_MAX,
                    help="the planner's threshold (matching movies searched exactly below it)")
    args = ap.parse_args()
    contract.WIDEN_MAX, contract.SUBSET_MAX = args.widen_max, args.subset_max
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)

    ids, vecs, facets = ml100k(args.model) if args.scale == "ml-100k" else synthetic(args.n, args.d)
    queries = queries_for(vecs, args.queries)
    order = np.argsort(ids)
    sorted_ids, sorted_unit = ids[order], vecs[order]

    def truth(keep: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        scores = exact_search(vecs[keep], ids[keep], queries, K, unit=True)[0]
        finite = np.where(np.isfinite(scores), scores, np.inf)
        return finite.min(axis=1), sorted_ids, sorted_unit

    truths = {None: truth(np.ones(len(ids), bool))}
    for s, flt in filters(facets):
        truths[s] = truth(facets.select(flt).mask(ids))
    n = len(ids)
    big = n > 200_000  # a build that fits the shared 2-core machine: M=16 efC=64, nlist=1024
    configs = [IndexConfig("exact"),
               IndexConfig("hnsw", hnsw_m=16 if big else 32, ef_construction=64 if big else 200,
                           ef_search=args.ef_search or (256 if big else 64)),
               IndexConfig("ivf", nlist=1024 if big else 0, nprobe=args.nprobe or (64 if big else 32))]
    configs = [c for c in configs if c.kind in args.indexes.split(",")]
    rows: list[dict] = []
    for backend in args.backends.split(","):
        if backend == "faiss":
            index_dir = Path(args.index_dir) if args.index_dir else None
            if index_dir:
                index_dir.mkdir(parents=True, exist_ok=True)
            rows += faiss_rows(ids, vecs, facets, queries, configs, truths, index_dir)
        else:
            rows += store_rows(backend, ids, vecs, facets, queries, truths)

    print(f"\nFiltered search, {args.scale} ({n:,} x {vecs.shape[1]}), {args.queries} single queries, k={K}")
    print(f"{'backend':<9}{'index':<7}{'variant':<11}{'select.':>8}{'match':>9}{'path':>8}{'params':>16}"
          f"{'recall':>8}{'rows':>10}{'p50 ms':>9}{'p99 ms':>9}{'x unf.':>8}")
    for r in rows:
        rec = f"{r['recall_at_10']:.3f}" if "recall_at_10" in r else "-"
        rows_txt = f"{r['rows_min']}/{r['rows_expected']}"
        print(f"{r['backend']:<9}{r['index']:<7}{r['variant']:<11}{100 * r['selectivity']:>7.1f}%{r['matching']:>9,}"
              f"{r.get('path', '-'):>8}{r.get('params', '') or '-':>16}{rec:>8}{rows_txt:>10}{r['p50_ms']:>9.3f}"
              f"{r['p99_ms']:>9.3f}{r.get('vs_unfiltered_p50', 1.0):>8.2f}")
    planner = [r for r in rows if r["backend"] == "faiss" and r["variant"] == "planner"]
    ok_speed = all(r["vs_unfiltered_p50"] <= 2.0 for r in planner)
    ok_recall = all(r["recall_at_10"] >= 0.95 and r["rows_min"] == r["rows_expected"] for r in planner)
    print(f"\nFAISS planner: filtered p50 <= 2x unfiltered at every selectivity and index: "
          f"{'PASS' if ok_speed else 'FAIL'}; recall@10 >= 0.95 with min(k, matching) rows: "
          f"{'PASS' if ok_recall else 'FAIL'}")
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"filters-{args.scale}{'' if args.backends == 'faiss' else '-' + args.backends.replace(',', '-')}.json"
    atomic_write_json(out, {"scale": args.scale, "n": n, "d": int(vecs.shape[1]), "queries": args.queries, "k": K,
                            "subset_max": contract.SUBSET_MAX, "widen_max": contract.WIDEN_MAX,
                            "date": time.strftime("%Y-%m-%d"), "machine": machine_facts(), "rows": rows})
    print(f"wrote {out.relative_to(Path.cwd()) if out.is_relative_to(Path.cwd()) else out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
