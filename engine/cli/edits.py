"""Catalogue edits: ``add`` (a movie, searchable at once in every space) and ``remove`` (by id).

The command line is the operator's own, so it needs no MOVIEDNA_EDITS (that variable enables the app's
form for visitors).
"""

from __future__ import annotations

import argparse

from engine.cli.main import Result, add_common
from engine.service.results import Edited


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("add", help="add a movie: searchable at once in every space and backend, no rebuild")
    add_common(p)
    p.add_argument("--title", required=True, help="the movie's title (stored and shown as plain text)")
    p.add_argument("--year", required=True, help="release year (1870 to 2100)")
    p.add_argument("--genres", required=True, help='genres of this catalogue separated by "|", e.g. "Comedy|Drama"')
    p.add_argument("--overview", default=None, help="a few sentences about it (goes into the text spaces)")
    p.add_argument("--tags", default=None, help='tags separated by "|"')
    _backend(p)
    p.set_defaults(handler=cmd_add)

    p = sub.add_parser("remove", help="remove a movie from the catalogue, every space and backend")
    add_common(p)
    p.add_argument("--id", type=int, required=True, help="the movie's id")
    _backend(p)
    p.set_defaults(handler=cmd_remove)


def _backend(p: argparse.ArgumentParser) -> None:
    from engine.vectors.contract import BACKENDS

    p.add_argument("--backend", default=None, choices=tuple(BACKENDS),
                   help="also update this vector database's collections (default: $MOVIEDNA_VECTOR_BACKEND or faiss)")


def _text(e: Edited) -> str:
    year = f" ({e.year})" if e.year else ""
    verb = "Added" if e.kind == "add" else "Removed"
    lines = [f"{verb} movie {e.movie_id}: {e.title}{year} [{'|'.join(e.genres)}]",
             f"spaces: {', '.join(e.spaces) or 'none'}"]
    lines += [f"  {m}: cold start (predicted from the {src} space until a rebuild learns it from ratings)"
              for m, src in e.cold_start.items()]
    lines.append("time: " + ", ".join(f"{k} {v:.1f} ms" for k, v in e.timings_ms.items()))
    return "\n".join(lines)


def cmd_add(args: argparse.Namespace) -> Result:
    from engine.cli.search import _engine

    eng = _engine(args)
    done = eng.add_movie(args.title, args.year, args.genres, overview=args.overview, tags=args.tags)
    return Result(done.to_dict(), _text(done))


def cmd_remove(args: argparse.Namespace) -> Result:
    from engine.cli.search import _engine

    eng = _engine(args)
    done = eng.remove_movie(args.id)
    return Result(done.to_dict(), _text(done))
