"""A popularity prior in semantic search on a catalogue without plots: nDCG@10 per query set and beta.

    python benchmarks/bench_prior.py [--dataset ml-100k]              # the validation sets: the choice
    python benchmarks/bench_prior.py --test --betas 0,B [--dataset ...] # the test sets, reported once

MovieLens has no plot summaries, so a text space sees titles, year, genres and a few tags, and a mood
query about space finds obscure films with "space" in the title.  The prior
(engine/recsys/hybrid.py PriorConfig) re-ranks each space's top 100 by
``cos + beta * log1p(ratings) / log1p(max ratings)``.  For every query this script runs each fused
space's semantic list (depth 100) and BM25 once, then re-ranks offline for every beta and fuses as
the engine does (RRF, BM25 gated); it prints ``semantic:use`` and ``hybrid`` (the default mode) per
set and language.  Query sets, labels and relevance: benchmarks/bench_mood.py.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_mood import SETS, VALIDATION, load_queries, ndcg_at_k, relevant_sets  # noqa: E402
from engine.recsys import hybrid  # noqa: E402

DEPTH = hybrid.FUSION.depth


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--test", action="store_true", help="the test sets (report once, for the chosen beta)")
    ap.add_argument("--betas", default="0,0.02,0.05,0.1,0.2")
    ap.add_argument("-k", type=int, default=10)
    args = ap.parse_args()
    from engine.service import Engine

    betas = [float(b) for b in args.betas.split(",")]
    eng = Engine(args.dataset)
    movies = eng.catalogue.movies()
    sets = SETS if args.test else VALIDATION
    t0, k = time.perf_counter(), args.k
    table: dict[str, dict[str, list[float]]] = {}
    for name, path in sets.items():
        queries = load_queries(path)
        rel = relevant_sets(movies, queries)
        for lang in (("ko", "en") if name == "korean" else ("en",)):
            key = f"{name}/{lang}"
            for q, r in zip(queries, rel):
                if not r:
                    continue
                text = q["english"] if lang == "en" and "english" in q else q["query"]
                spaces = eng.search(text, mode="hybrid", k=k).query.fusion.spaces
                lists = {s: eng.search(text, mode="semantic", space=s, k=DEPTH) for s in spaces}
                bm = eng.search(text, mode="bm25", k=DEPTH).ids()
                sure = bool(bm) and eng.catalogue.bm25_covers(text, bm[0])
                for beta in betas:
                    ranked = []
                    for s in spaces:
                        ids = np.array(lists[s].ids(), np.int64)
                        scores = np.array([h.score for h in lists[s].items], np.float32)
                        ranked.append(hybrid.with_prior(ids, scores, eng.movies.popularity(ids.tolist()), beta)[0].tolist())
                    fused = hybrid.rrf(ranked + [bm], k, c=hybrid.FUSION.rrf_k,
                                       weights=hybrid.fusion_weights(len(ranked), sure))
                    cell = table.setdefault(key, {})
                    cell.setdefault(f"use b={beta}", []).append(ndcg_at_k(ranked[0], r, k))
                    cell.setdefault(f"hybrid b={beta}", []).append(ndcg_at_k([m for m, _, _ in fused], r, k))
    cols = [f"{m} b={b}" for m in ("use", "hybrid") for b in betas]
    print(f"\n{args.dataset}, {'test' if args.test else 'validation'} sets: nDCG@{k} per set x (method, beta)")
    print(f"{'set/lang':<12}" + "".join(f"{c:>16}" for c in cols))
    means = {c: [] for c in cols}
    for key, cell in table.items():
        row = {c: float(np.mean(cell[c])) for c in cols}
        for c in cols:
            means[c].append(row[c])
        print(f"{key:<12}" + "".join(f"{row[c]:>16.3f}" for c in cols))
    print(f"{'mean of sets':<12}" + "".join(f"{np.mean(means[c]):>16.3f}" for c in cols))
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
