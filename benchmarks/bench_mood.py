"""Mood search vs the keyword (SQL LIKE) baseline: nDCG@10 on benchmarks/mood_queries.json.

    python benchmarks/bench_mood.py [--dataset ml-100k]

Needs the data set's catalogue with text vectors (`python -m engine build`).  A movie is
relevant to a query when its genres include every label of the query; relevance is
binary; ideal DCG uses min(10, #relevant).  Queries never contain their label words
(checked here).  Prints per-query and mean nDCG@10 for both, the ratio, and writes
benchmarks/results/mood.json.
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

from engine.artifacts import atomic_write_json  # noqa: E402
from engine.data.catalogue import keyword_terms  # noqa: E402

QUERIES = ROOT / "benchmarks" / "mood_queries.json"
GENRE_ALIASES = {"children": "children's"}  # ml-latest-small spells it "Children"


def ndcg_at_k(ranked: list[int], relevant: set[int], k: int = 10) -> float:
    """Binary nDCG@k of a ranked id list."""
    dcg = sum(1.0 / np.log2(i + 2) for i, m in enumerate(ranked[:k]) if m in relevant)
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(relevant))))
    return float(dcg / ideal) if ideal > 0 else 0.0


def leaks(query: str, genre_names: list[str]) -> list[str]:
    """Query words that are, contain, or are contained in a genre name (LIKE would match them)."""
    names = [g.lower() for g in genre_names]
    return [t for t in keyword_terms(query) if any(t in g or g in t for g in names)]


def load_queries(path: Path = QUERIES) -> list[dict]:
    return json.loads(path.read_text())["queries"]


def relevant_sets(movies, queries: list[dict]) -> list[set[int]]:
    genres = {int(m): {GENRE_ALIASES.get(g.lower(), g.lower()) for g in gs}
              for m, gs in zip(movies["movie_id"], movies["genres"])}
    return [{m for m, gs in genres.items() if {lab.lower() for lab in q["labels"]} <= gs} for q in queries]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--index", default="exact")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "mood.json"))
    args = ap.parse_args()
    from engine.service import Engine

    eng = Engine(args.dataset)
    movies = eng.catalogue.movies()
    queries = load_queries()
    all_genres = sorted({g for gs in movies["genres"] for g in gs})
    bad = {q["query"]: leaks(q["query"], all_genres) for q in queries if leaks(q["query"], all_genres)}
    if bad:
        print(f"label words leak into queries: {bad}", file=sys.stderr)
        return 1
    rel = relevant_sets(movies, queries)
    eng.mood_search("warm-up", k=1)
    rows, t0 = [], time.perf_counter()
    for q, r in zip(queries, rel):
        if not r:
            print(f"skip (no relevant movie in {args.dataset}): {q['query']}")
            continue
        mood = eng.mood_search(q["query"], k=args.k, index=args.index)
        kw = eng.keyword_search(q["query"], k=args.k)
        rows.append({"query": q["query"], "labels": q["labels"], "n_relevant": len(r),
                     "mood_ndcg": ndcg_at_k(mood.ids(), r, args.k), "keyword_ndcg": ndcg_at_k(kw.ids(), r, args.k),
                     "keyword_hits": len(kw.items), "mood_ms": sum(mood.timings_ms.values())})
        print(f"{rows[-1]['mood_ndcg']:.3f}  {rows[-1]['keyword_ndcg']:.3f}  ({len(kw.items):>2} kw hits)  "
              f"{'+'.join(q['labels']):<22} {q['query']}")
    mood_mean = float(np.mean([x["mood_ndcg"] for x in rows]))
    kw_mean = float(np.mean([x["keyword_ndcg"] for x in rows]))
    ms = [x["mood_ms"] for x in rows]
    summary = {"dataset": args.dataset, "queries": len(rows), "k": args.k, "mood_ndcg_at_10": round(mood_mean, 4),
               "keyword_ndcg_at_10": round(kw_mean, 4), "keyword_empty": sum(x["keyword_hits"] == 0 for x in rows),
               "mood_p50_ms": round(float(np.median(ms)), 2), "text_vectors": eng.catalogue.vector_info()}
    print(f"\n{args.dataset}: {len(rows)} queries  nDCG@{args.k}: mood {mood_mean:.4f}  keyword {kw_mean:.4f}  "
          f"(x{mood_mean / max(kw_mean, 1e-9):.1f}); keyword returned nothing for {summary['keyword_empty']}; "
          f"mood p50 {summary['mood_p50_ms']} ms ({time.perf_counter() - t0:.1f} s total)")
    atomic_write_json(args.out, {**summary, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
