"""Mood search benchmark: nDCG@10 per query set x method x language.

    python benchmarks/bench_mood.py [--dataset ml-100k] [--sets mood,keyword,mixed,korean]
    python benchmarks/bench_mood.py --validation [--dataset ml-100k]     # the sets parameters are chosen on

Needs the data set's catalogue with both text spaces (`python -m engine build --models text,use`).

Query sets (benchmarks/mood_queries.json and benchmarks/queries/*.json):

- ``mood``: mood queries that avoid their label words (favours semantic search: keyword
  search can only miss the labels);
- ``keyword``: titles, title fragments, franchise and genre words (favours keyword search);
- ``mixed``: a mood part plus a keyword part (title word or decade);
- ``korean``: Korean mood queries, run in Korean (``ko``) and as their English
  translations (``en``).

Relevance is binary and follows mood_queries.json: a movie is relevant when its genres
include every label, and (where a query has them) its title contains one of ``title_any``
and its year lies in ``years``.  Ideal DCG uses min(10, #relevant); a query with no
relevant movie in the data set is skipped.  Label words never leak into mood and Korean
queries (checked here).  ``random`` is the expected nDCG@10 of a random ranking.

``--validation`` runs the validation sets instead (benchmarks/queries/*_validation.json:
mood, keyword, mixed, Korean and ``korean_style``: a second Korean set in another style —
colloquial, genre loanwords in Hangul, spelling variants, descriptive — whose queries may name genres
as users do, and whose per-kind gaps are printed; written and labelled before any result) and writes
benchmarks/results/mood_validation.json: the hybrid fusion and the default mode are chosen on
these, and the test sets above are reported once.

Methods: ``like`` (SQL LIKE baseline), ``bm25`` (FTS5), ``semantic`` in each text space
(``text`` = MiniLM, ``use`` = USE Multilingual v3), ``hybrid`` in one space (``hybrid:text``,
``hybrid:use``: that space's list and BM25), ``hybrid`` as the engine runs it with no space
named (every text space that reads the query's language, and BM25 when it is confident; see
engine/recsys/hybrid.py FUSION), and ``default`` (what `python -m engine search` does with no
options).  Prints one table per data set, writes benchmarks/results/mood.json (all data sets run
so far are kept, one entry each).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from engine.core.artifacts import atomic_write_json  # noqa: E402
from engine.data.catalogue import keyword_terms  # noqa: E402

QUERIES = ROOT / "benchmarks" / "mood_queries.json"
SETS = {"mood": QUERIES, "keyword": ROOT / "benchmarks" / "queries" / "keyword.json",
        "mixed": ROOT / "benchmarks" / "queries" / "mixed.json",
        "korean": ROOT / "benchmarks" / "queries" / "korean.json"}
#: validation sets (``--validation``): choices are made on these, never on SETS
VALIDATION = {name: ROOT / "benchmarks" / "queries" / f"{name}_validation.json"
              for name in ("mood", "keyword", "mixed", "korean", "korean_style")}
NO_LEAK = ("mood", "korean")                       # sets whose queries must not name a genre
GENRE_ALIASES = {"children": "children's"}  # ml-latest-small spells it "Children"
#: (method name, mode, space)
METHODS = [("like", "keyword", None), ("bm25", "bm25", None),
           ("semantic:text", "semantic", "text"), ("semantic:use", "semantic", "use"),
           ("hybrid:text", "hybrid", "text"), ("hybrid:use", "hybrid", "use"), ("hybrid", "hybrid", None),
           ("default", None, None)]


def ndcg_at_k(ranked: list[int], relevant: set[int], k: int = 10) -> float:
    """Binary nDCG@k of a ranked id list."""
    dcg = sum(1.0 / np.log2(i + 2) for i, m in enumerate(ranked[:k]) if m in relevant)
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(k, len(relevant))))
    return float(dcg / ideal) if ideal > 0 else 0.0


def random_ndcg(n_relevant: int, n_movies: int, k: int = 10) -> float:
    """Expected nDCG@k of a uniformly random ranking (each position relevant with p = R/N)."""
    p = n_relevant / max(n_movies, 1)
    ideal = sum(1.0 / np.log2(i + 2) for i in range(min(k, n_relevant)))
    return float(p * sum(1.0 / np.log2(i + 2) for i in range(k)) / ideal) if ideal > 0 else 0.0


def leaks(query: str, genre_names: list[str]) -> list[str]:
    """Query words that are, contain, or are contained in a genre name (LIKE would match them)."""
    names = [g.lower() for g in genre_names]
    return [t for t in keyword_terms(query) if any(t in g or g in t for g in names)]


def load_queries(path: Path = QUERIES) -> list[dict]:
    return json.loads(path.read_text())["queries"]


def relevant_sets(movies, queries: list[dict]) -> list[set[int]]:
    """Relevant movie ids per query: genres include every label; title_any / years where given."""
    genres = {int(m): {GENRE_ALIASES.get(g.lower(), g.lower()) for g in gs}
              for m, gs in zip(movies["movie_id"], movies["genres"])}
    titles = {int(m): str(t).lower() for m, t in zip(movies["movie_id"], movies["title"])}
    years = {int(m): (None if pd.isna(y) else int(y)) for m, y in zip(movies["movie_id"], movies["year"])}
    out = []
    for q in queries:
        labels = {GENRE_ALIASES.get(lab.lower(), lab.lower()) for lab in q.get("labels", [])}
        words = [w.lower() for w in q.get("title_any", [])]
        lo, hi = q.get("years", [None, None])
        out.append({m for m, gs in genres.items()
                    if labels <= gs
                    and (not words or any(w in titles[m] for w in words))
                    and (lo is None or (years[m] is not None and lo <= years[m] <= hi))})
    return out


def run_set(eng, name: str, queries: list[dict], rel: list[set[int]], lang: str, k: int, index: str,
            n_movies: int) -> list[dict]:
    rows = []
    for q, r in zip(queries, rel):
        if not r:
            continue
        text = q["english"] if lang == "en" and "english" in q else q["query"]
        row = {"set": name, "lang": lang, "query": text, "kind": q.get("kind"), "n_relevant": len(r),
               "random": random_ndcg(len(r), n_movies, k)}
        for method, mode, space in METHODS:
            hits = eng.search(text, mode=mode, space=space, k=k, index=index)
            row[method] = ndcg_at_k(hits.ids(), r, k)
            if method == "default":
                row["default_space"] = hits.query.space
        rows.append(row)
    return rows


def summarise(rows: list[dict]) -> dict[str, dict]:
    """(set, lang) -> {n, method: mean nDCG}."""
    out: dict[str, dict] = {}
    for key in dict.fromkeys((r["set"], r["lang"]) for r in rows):
        sel = [r for r in rows if (r["set"], r["lang"]) == key]
        out[f"{key[0]}/{key[1]}"] = {"n": len(sel), "random": round(float(np.mean([r["random"] for r in sel])), 4),
                                     **{m: round(float(np.mean([r[m] for r in sel])), 4) for m, _, _ in METHODS}}
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--sets", default=",".join(SETS), help="comma-separated: " + ",".join(SETS))
    ap.add_argument("--validation", action="store_true",
                    help="run the validation sets (benchmarks/queries/*_validation.json) -> results/mood_validation.json")
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--index", default="exact")
    ap.add_argument("--out", default=None, help="default benchmarks/results/mood.json (mood_validation.json with --validation)")
    args = ap.parse_args()
    sets = VALIDATION if args.validation else SETS
    args.out = args.out or str(ROOT / "benchmarks" / "results" / ("mood_validation.json" if args.validation else "mood.json"))
    from engine.service import Engine

    eng = Engine(args.dataset)
    movies = eng.catalogue.movies()
    all_genres = sorted({g for gs in movies["genres"] for g in gs})
    rows, t0 = [], time.perf_counter()
    eng.search("warm-up", mode="hybrid", space="use", k=1)
    eng.search("warm-up", mode="hybrid", space="text", k=1)
    for name in [s.strip() for s in args.sets.split(",") if s.strip()]:
        queries = load_queries(sets[name])
        if name in NO_LEAK:
            texts = [q.get("english", q["query"]) for q in queries] + [q["query"] for q in queries]
            bad = {t: leaks(t, all_genres) for t in texts if leaks(t, all_genres)}
            if bad:
                print(f"label words leak into {name} queries: {bad}", file=sys.stderr)
                return 1
        rel = relevant_sets(movies, queries)
        skipped = [q["query"] for q, r in zip(queries, rel) if not r]
        if skipped:
            print(f"{name}: skipped (no relevant movie in {args.dataset}): {skipped}")
        for lang in (("ko", "en") if name.startswith("korean") else ("en",)):
            rows += run_set(eng, name, queries, rel, lang, args.k, args.index, len(movies))
    summary = summarise(rows)
    methods = ["random"] + [m for m, _, _ in METHODS]
    print(f"\n{args.dataset}: nDCG@{args.k} per set x method (mean over queries)")
    print(f"{'set/lang':<12}{'n':>4}" + "".join(f"{m:>15}" for m in methods))
    for key, s in summary.items():
        print(f"{key:<12}{s['n']:>4}" + "".join(f"{s[m]:>15.3f}" for m in methods))
    overall = {m: round(float(np.mean([s[m] for s in summary.values()])), 4) for m in methods}
    print(f"{'mean of sets':<16}" + "".join(f"{overall[m]:>15.3f}" for m in methods))
    for name in dict.fromkeys(r["set"] for r in rows if r["lang"] == "ko"):
        ko, en = summary[f"{name}/ko"], summary[f"{name}/en"]
        print(f"{name}: Korean vs English translation (en - ko): " + ", ".join(
            f"{m} {en[m] - ko[m]:.3f}" for m in ("semantic:use", "hybrid", "default")))
        kinds = list(dict.fromkeys(r["kind"] for r in rows if r["set"] == name and r["kind"]))
        for kind in kinds:
            sel = {lang: [r["default"] for r in rows if (r["set"], r["lang"], r["kind"]) == (name, lang, kind)]
                   for lang in ("ko", "en")}
            print(f"  {kind:<12} n {len(sel['ko']):>3}  default ko {np.mean(sel['ko']):.3f}  en {np.mean(sel['en']):.3f}"
                  f"  gap {np.mean(sel['en']) - np.mean(sel['ko']):.3f}")
    best = max((m for m in methods if m not in ("random", "default")), key=lambda m: overall[m])
    print(f"best overall: {best} ({overall[best]:.3f}); default is {eng.search('x', k=1).query.mode} "
          f"({time.perf_counter() - t0:.1f} s)")
    out = Path(args.out)
    prev = json.loads(out.read_text()) if out.exists() else {}
    runs = prev.get("runs", {}) if isinstance(prev.get("runs"), dict) else {}
    runs[args.dataset] = {"dataset": args.dataset, "k": args.k, "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                          "command": "python benchmarks/bench_mood.py --dataset " + args.dataset
                                     + (" --validation" if args.validation else ""),
                          "summary": summary, "mean_of_sets": overall, "best": best,
                          "vectors": eng.catalogue.vector_info(), "rows": rows}
    what = "validation sets (choices are made on these)" if args.validation else "test sets (reported once)"
    atomic_write_json(out, {"description": f"nDCG@10 per set x method x language on the {what}; see benchmarks/bench_mood.py",
                            "runs": runs})
    return 0


if __name__ == "__main__":
    sys.exit(main())
