"""Commands ``data`` (load, verify, cache, count) and ``keyword`` (the SQL LIKE baseline)."""

from __future__ import annotations

import argparse
import time

from engine.data.catalogue import open_catalogue
from engine.cli.main import Result, add_common, positive_int
from engine.data.dataset import load_dataset


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("data", help="load, verify and cache a MovieLens data set; print its counts")
    add_common(p)
    p.add_argument("--no-verify", action="store_true", help="load files whose hash differs from the published one")
    p.set_defaults(handler=cmd_data)

    p = sub.add_parser("keyword", help="keyword search with SQL LIKE (the baseline for mood search)")
    p.add_argument("query")
    p.add_argument("-k", type=positive_int, default=10)
    add_common(p)
    p.set_defaults(handler=cmd_keyword)


def cmd_data(args: argparse.Namespace) -> Result:
    t0 = time.perf_counter()
    ds = load_dataset(args.dataset, args.data_dir, verify=not args.no_verify)
    cat = open_catalogue(ds)
    data = {
        "dataset": ds.name, **ds.counts, "source": ds.source, "hash_check": ds.verified,
        "content_hash": ds.content_hash, "catalogue": cat.path, "seconds": round(time.perf_counter() - t0, 3),
    }
    text = (f"{ds.name}: {ds.counts['movies']:,} movies, {ds.counts['users']:,} users, "
            f"{ds.counts['ratings']:,} ratings\nsource: {ds.source}\nhash check: {ds.verified}\n"
            f"catalogue: {cat.path}")
    return Result(data, text)


def cmd_keyword(args: argparse.Namespace) -> Result:
    ds = load_dataset(args.dataset, args.data_dir)
    hits = open_catalogue(ds).keyword_search(args.query, args.k)
    results = [
        {"movie_id": int(r.movie_id), "title": r.title, "year": None if r.year is None else int(r.year),
         "genres": r.genres, "score": int(r.score)}
        for r in hits.itertuples(index=False)
    ]
    lines = [f"{i + 1:>2}. {r['title']} ({r['year']}) — {', '.join(r['genres'])}  [score {r['score']}]"
             for i, r in enumerate(results)]
    text = "\n".join(lines) if lines else f"No title, genre or tag contains the words of {args.query!r}."
    return Result({"dataset": ds.name, "query": args.query, "results": results}, text)
