"""Commands ``data`` (load, verify, cache, count; import your own catalogue), ``synth`` (a synthetic
catalogue in the MovieLens latest layout) and ``keyword`` (the SQL LIKE baseline)."""

from __future__ import annotations

import argparse
import time

from engine.data.catalogue import open_catalogue
from engine.cli.main import Result, add_common, positive_int
from engine.data.dataset import load_dataset
from engine.core.errors import DataFormatError


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("data", help="load, verify and cache a MovieLens data set; print its counts")
    add_common(p)
    p.add_argument("--no-verify", action="store_true", help="load files whose hash differs from the published one")
    own = p.add_argument_group(
        "your own catalogue", "--dataset NAME --data-dir DIR imports DIR/movies.csv + ratings.csv (+ tags.csv) in the "
        "MovieLens latest layout; other layouts are described by --config or the options below")
    own.add_argument("--config", default=None, metavar="FILE", help="TOML or JSON file: sources and column names")
    own.add_argument("--sqlite", default=None, metavar="DB", help="read --movies/--interactions/--tags as tables of DB")
    own.add_argument("--movies", default=None, metavar="SRC", help="movies: a CSV/Parquet file, or a table with --sqlite")
    own.add_argument("--interactions", default=None, metavar="SRC", help="interactions (user, movie, timestamp[, rating])")
    own.add_argument("--tags", default=None, metavar="SRC", help="optional tags (movie, tag), one row per tag")
    own.add_argument("--map", action="append", default=[], metavar="FIELD=COLUMN",
                     help="column name of a field, e.g. movies.overview=description or interactions.user=uid (repeatable)")
    p.set_defaults(handler=cmd_data)

    p = sub.add_parser("synth", help="write a seeded synthetic catalogue (MovieLens latest CSV layout) for tests and scale runs")
    p.add_argument("--out", required=True, metavar="DIR", help="directory for movies.csv, ratings.csv, tags.csv")
    p.add_argument("--movies", type=positive_int, default=87_585)
    p.add_argument("--users", type=positive_int, default=200_948)
    p.add_argument("--ratings", type=positive_int, default=32_000_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overviews", action="store_true", help="add year and overview columns to movies.csv")
    p.add_argument("--json", action="store_true", help="print exactly one JSON object on stdout")
    p.add_argument("-v", "--verbose", action="store_true", help="log progress details to stderr")
    p.set_defaults(handler=cmd_synth)

    p = sub.add_parser("keyword", help="keyword search with SQL LIKE (the baseline for mood search)")
    p.add_argument("query")
    p.add_argument("-k", type=positive_int, default=10)
    add_common(p)
    p.set_defaults(handler=cmd_keyword)


def custom_spec(args: argparse.Namespace):
    """The CustomSpec the options describe, or None (then --data-dir is the plain MovieLens layout)."""
    from engine.data.custom import CustomSpec

    if not (args.config or args.movies or args.interactions or args.sqlite or args.tags or args.map):
        return None
    if not args.dataset:
        raise DataFormatError("Name your catalogue with --dataset NAME (letters, digits, - and _).")
    if args.config:
        spec = CustomSpec.from_file(args.config)
    elif args.data_dir and not (args.movies or args.interactions):
        spec = CustomSpec.movielens_dir(args.data_dir)
    else:
        if not (args.movies and args.interactions):
            raise DataFormatError("Give both --movies and --interactions (files, or tables with --sqlite), or a --config file.")
        key = "table" if args.sqlite else "file"
        raw = {"movies": {key: args.movies}, "interactions": {key: args.interactions}}
        if args.tags:
            raw["tags"] = {key: args.tags}
        if args.sqlite:
            raw["sqlite"] = args.sqlite
        spec = CustomSpec.from_mapping(raw)
    pairs = {}
    for item in args.map:
        field, sep, column = item.partition("=")
        if not sep or not field.strip():
            raise DataFormatError(f"--map {item!r} is not FIELD=COLUMN, e.g. --map movies.overview=description.")
        pairs[field.strip()] = column.strip()
    return spec.with_columns(pairs)


def cmd_data(args: argparse.Namespace) -> Result:
    t0 = time.perf_counter()
    spec = custom_spec(args)
    ds = load_dataset(args.dataset, None if spec is not None else args.data_dir, verify=not args.no_verify, spec=spec)
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
        {"movie_id": int(r.movie_id), "title": r.title, "year": None if r.year is None or r.year != r.year else int(r.year),
         "genres": r.genres, "score": int(r.score)}
        for r in hits.itertuples(index=False)
    ]
    years = ["" if r["year"] is None else f" ({r['year']})" for r in results]
    lines = [f"{i + 1:>2}. {r['title']}{y} — {', '.join(r['genres'])}  [score {r['score']}]"
             for i, (r, y) in enumerate(zip(results, years))]
    text = "\n".join(lines) if lines else f"No title, genre or tag contains the words of {args.query!r}."
    return Result({"dataset": ds.name, "query": args.query, "results": results}, text)


def cmd_synth(args: argparse.Namespace) -> Result:
    from engine.data.synth import SynthConfig, write_synthetic

    cfg = SynthConfig(movies=args.movies, users=args.users, ratings=args.ratings, seed=args.seed, overviews=args.overviews)
    r = write_synthetic(args.out, cfg)
    data = {"out": r.out, "movies": r.movies, "users": r.users, "ratings": r.ratings, "tags": r.tags,
            "seconds": r.seconds, "config": r.config}
    text = (f"{r.out}: {r.movies:,} movies, {r.users:,} users, {r.ratings:,} ratings, {r.tags:,} tags "
            f"in {r.seconds:.1f}s\nload it with: python -m engine data --dataset NAME --data-dir {r.out}")
    return Result(data, text)
