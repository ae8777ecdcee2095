"""Keyword, semantic and hybrid search on a Korean catalogue: nDCG@10 per method and query kind, latency.

    python -m engine data --dataset ko-films --data-dir benchmarks/data/ko-films
    python -m engine build --dataset ko-films --models use,text
    python benchmarks/bench_korean.py                 # the test set, reported once
    python benchmarks/bench_korean.py --validation    # the validation set and the choices made on it

The catalogue (benchmarks/data/ko-films: 215 well-known films with Korean titles, English original
titles and Korean plot summaries written for it, seeded synthetic ratings) and its queries
(queries_validation.json, queries_test.json; relevant movie ids labelled before any run) are the
project's own.  Query kinds: ``title`` (a title with particles: "인터스텔라를 보고 싶어"), ``plot``
(plot words: "우주", "복수"), ``mood`` ("우울할 때 보기 좋은 영화") and ``mixed``.

Methods: ``like`` (SQL LIKE baseline), ``bm25:unicode61`` / ``bm25:trigram`` / ``bm25:kiwi`` (FTS5 over
title, genres, tags and overview; the three index variants of engine/data/fts.py, built in an in-memory
copy of the catalogue), ``semantic:use`` (USE multilingual), ``hybrid`` (the engine's default mode as
it runs).  Latency: median milliseconds per query of each method (Kiwi loaded before timing).

``--validation`` also sweeps what is chosen on this set: the BM25 index variant, the overview column's
weight (title, genres and tags keep 2:1:1, so English catalogues, which have no overviews, rank as
before) and the hybrid gate (BM25 votes when its top hit holds every query word, or every noun, in
the gate's columns).  Relevance is binary (movieId in ``relevant``); nDCG@10 with ideal DCG over min(10, #relevant).
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_mood import ndcg_at_k  # noqa: E402
from engine.core.artifacts import atomic_write_json  # noqa: E402
from engine.data import fts  # noqa: E402
from engine.data.catalogue import bm25_terms  # noqa: E402
from engine.recsys import hybrid  # noqa: E402

DATA = ROOT / "benchmarks" / "data" / "ko-films"
KINDS = ("title", "plot", "mood", "mixed")
BM25 = [f"bm25:{v}" for v in fts.VARIANTS]
METHODS = ["like", *BM25, "semantic:use", "hybrid"]
OVERVIEW_WEIGHTS = (0.25, 0.5, 1.0, 2.0)
UNSURE = (0.1, 0.2, 0.3, 0.5)
GATES = {"title+genres": ("title", "genres"), "title+genres+overview": ("title", "genres", "overview")}


def load(validation: bool) -> list[dict]:
    name = "queries_validation.json" if validation else "queries_test.json"
    return json.loads((DATA / name).read_text(encoding="utf-8"))["queries"]


def variant_copy(path: str) -> tuple[sqlite3.Connection, dict[str, str]]:
    """An in-memory copy of the catalogue with one FTS5 table per index variant: (connection, variant -> table)."""
    mem = sqlite3.connect(":memory:")
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as src:
        src.backup(mem)
    with mem:
        tables = {v: fts.build_variant(mem, v) for v in fts.VARIANTS}
    return mem, tables


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, 1e3 * (time.perf_counter() - t0)


def fused(sem: list[int], bm: list[int], confident: bool, k: int, unsure: float | None = None) -> list[int]:
    """The hybrid fusion of one semantic list and the BM25 list (as engine/service/search.py fuses them);
    ``unsure``: BM25's weight when it is not confident (None = the engine's)."""
    cfg = hybrid.FUSION if unsure is None else dataclasses.replace(hybrid.FUSION, bm25_weight_unsure=unsure)
    w = hybrid.fusion_weights(1, confident, cfg)
    return [m for m, _, _ in hybrid.rrf([sem, bm], k, c=hybrid.FUSION.rrf_k, weights=w)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ko-films")
    ap.add_argument("--validation", action="store_true", help="the validation set, with the sweeps chosen on it")
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--out", default=None, help="default benchmarks/results/korean[_validation].json")
    args = ap.parse_args()
    from engine.service import Engine

    eng = Engine(args.dataset)
    queries = load(args.validation)
    mem, tables = variant_copy(eng.catalogue.path)
    k, depth = args.k, hybrid.FUSION.depth
    fts.analyse("워밍업")                                  # Kiwi loads once, before any timing
    eng.search("워밍업", mode="hybrid", k=1)
    rows, lat = [], {m: [] for m in METHODS}
    sweep: dict[str, list[float]] = {}
    for q in queries:
        rel, text = set(q["relevant"]), q["query"]
        row = {"kind": q["kind"], "query": text}
        hits, ms = timed(lambda: eng.search(text, mode="keyword", k=k).ids())
        row["like"], _ = ndcg_at_k(hits, rel, k), lat["like"].append(ms)
        lists = {}
        for v, table in tables.items():
            got, ms = timed(lambda: [m for m, _ in fts.search(mem, bm25_terms(text, v), depth, table)])
            lists[v] = got
            row[f"bm25:{v}"], _ = ndcg_at_k(got, rel, k), lat[f"bm25:{v}"].append(ms)
        hits, ms = timed(lambda: eng.search(text, mode="semantic", space="use", k=k).ids())
        row["semantic:use"], _ = ndcg_at_k(hits, rel, k), lat["semantic:use"].append(ms)
        hits, ms = timed(lambda: eng.search(text, mode="hybrid", k=k).ids())
        row["hybrid"], _ = ndcg_at_k(hits, rel, k), lat["hybrid"].append(ms)
        if args.validation:
            sem = eng.search(text, mode="semantic", space="use", k=depth).ids()
            terms = bm25_terms(text)
            gate_terms = {"all words": terms, "nouns": bm25_terms(text, stems=False)}
            for w in OVERVIEW_WEIGHTS:
                weights = (*fts.WEIGHTS[:3], w)
                bm = [m for m, _ in fts.search(mem, terms, depth, tables[fts.DEFAULT], weights)]
                sweep.setdefault(f"bm25:kiwi overview={w}", []).append(ndcg_at_k(bm, rel, k))
                for (gate, cols), (words, gt) in itertools.product(GATES.items(), gate_terms.items()):
                    sure = bool(bm) and fts.covers(mem, bm[0], gt, cols, tables[fts.DEFAULT])
                    sweep.setdefault(f"hybrid gate={gate} ({words}) overview={w}", []).append(
                        ndcg_at_k(fused(sem, bm, sure, k), rel, k))
                    if w == fts.WEIGHTS[3] and words == "all words":
                        for u in UNSURE:
                            sweep.setdefault(f"hybrid gate={gate} unsure={u}", []).append(
                                ndcg_at_k(fused(sem, bm, sure, k, u), rel, k))
        rows.append(row)
    which = "validation" if args.validation else "test"
    print(f"\n{args.dataset}, {which} set: nDCG@{k} per query kind x method (mean over queries)")
    print(f"{'kind':<8}{'n':>4}" + "".join(f"{m:>16}" for m in METHODS))
    summary = {}
    for kind in (*KINDS, "all"):
        sel = [r for r in rows if kind in (r["kind"], "all")]
        summary[kind] = {"n": len(sel), **{m: round(float(np.mean([r[m] for r in sel])), 4) for m in METHODS}}
        s = summary[kind]
        print(f"{kind:<8}{s['n']:>4}" + "".join(f"{s[m]:>16.3f}" for m in METHODS))
    latency = {m: round(statistics.median(v), 2) for m, v in lat.items()}
    print(f"{'p50 ms':<12}" + "".join(f"{latency[m]:>16.2f}" for m in METHODS))
    for kind in KINDS:
        best = max(METHODS, key=lambda m: summary[kind][m])
        print(f"{kind}: best {best} {summary[kind][best]:.3f}; hybrid short of it by "
              f"{summary[kind][best] - summary[kind]['hybrid']:.3f}")
    swept = {}
    if sweep:
        print("\nchoices on validation (mean nDCG@10 over all queries; per kind in the JSON):")
        for name, vals in sweep.items():
            swept[name] = {"all": round(float(np.mean(vals)), 4),
                           **{kind: round(float(np.mean([v for v, r in zip(vals, rows) if r["kind"] == kind])), 4)
                              for kind in KINDS}}
            print(f"  {name:<48}{swept[name]['all']:.3f}  " + " ".join(
                f"{kind} {swept[name][kind]:.3f}" for kind in KINDS))
    out = Path(args.out or ROOT / "benchmarks" / "results" / f"korean{'_validation' if args.validation else ''}.json")
    atomic_write_json(out, {
        "description": f"nDCG@{k} per query kind x method on the Korean catalogue's {which} set; see "
                       "benchmarks/bench_korean.py",
        "command": "python benchmarks/bench_korean.py" + (" --validation" if args.validation else ""),
        "generated": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "dataset": args.dataset,
        "summary": summary, "latency_ms_p50": latency, "sweep": swept, "rows": rows})
    return 0


if __name__ == "__main__":
    sys.exit(main())
