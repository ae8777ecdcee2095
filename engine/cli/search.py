"""Search commands: ``similar``, ``search`` (``--mode semantic|keyword|bm25|hybrid``, ``--space``; ``--compare``
adds the LIKE baseline), ``recommend``.

Each returns a :class:`~engine.cli.Result`; ``--json`` prints ``Hits.to_dict()``.
"""

from __future__ import annotations

import argparse


from engine.cli.main import Result, add_common, positive_int
from engine.data.filters import GENRE_MODES, Filter
from engine.core.errors import BadQueryError, CatalogueError
from engine.core.registry import SPACES
from engine.vectors.contract import BACKENDS
from engine.service.results import Hits

MODEL_CHOICES = SPACES
INDEX_CHOICES = ("exact", "hnsw", "ivf")


def register(sub: "argparse._SubParsersAction") -> None:
    p = sub.add_parser("similar", help="movies nearest to one movie in a vector space")
    p.add_argument("title", nargs="?", help="movie title (exact, case-insensitive or fuzzy)")
    p.add_argument("--id", type=int, default=None, help="movie id instead of a title")
    p.add_argument("--model", default="mf", choices=(*MODEL_CHOICES, "all"),
                   help="vector space; 'all' shows every built space and their top-k overlap")
    _common(p)
    p.set_defaults(handler=cmd_similar)

    from engine.recsys.hybrid import RRF_K
    from engine.core.registry import DEFAULT_MODE, MODES, TEXT_SPACES

    p = sub.add_parser("search", help="mood search: free text, ranked semantically, by keywords (LIKE, BM25) or both")
    p.add_argument("query", help='e.g. "a heartwarming story about friendship"')
    p.add_argument("--mode", default=DEFAULT_MODE, choices=MODES,
                   help=f"semantic (text space), keyword (SQL LIKE baseline), bm25 (SQLite FTS5) or hybrid "
                        f"(reciprocal-rank fusion, k={RRF_K}, of the text spaces that read the query's language and of bm25 "
                        f"when its best match holds every query word); default {DEFAULT_MODE}")
    p.add_argument("--space", default="auto", choices=("auto", *TEXT_SPACES),
                   help="text space for semantic/hybrid: use (USE multilingual), text (MiniLM, English); "
                        "auto picks by the query's language (default)")
    p.add_argument("--compare", action="store_true", help="also show the keyword (LIKE) baseline")
    _common(p)
    p.set_defaults(handler=cmd_search)

    p = sub.add_parser("recommend", help="live personalisation from clicked movie ids")
    p.add_argument("--clicks", required=True, help="comma-separated movie ids, oldest first")
    p.add_argument("--dislikes", default="", help="comma-separated movie ids to push away from")
    p.add_argument("--model", default="mf", choices=MODEL_CHOICES)
    p.add_argument("--rerank", default=None, choices=("sasrec", "widedeep"),
                   help="two-stage: re-rank candidates with SASRec or Wide & Deep (build it with --models widedeep)")
    p.add_argument("--candidates", type=positive_int, default=100, help="stage-1 candidates (with --rerank)")
    p.add_argument("--half-life", type=float, default=None, help="recency half-life in clicks")
    _common(p)
    p.set_defaults(handler=cmd_recommend)


def _common(p: argparse.ArgumentParser, index: bool = True) -> None:
    add_common(p)
    add_filter_args(p)
    p.add_argument("-k", type=positive_int, default=10, help="number of results (default 10)")
    if index:
        p.add_argument("--index", default="exact", choices=INDEX_CHOICES, help="FAISS index kind")
    p.add_argument("--backend", default=None, choices=tuple(BACKENDS),
                   help="vector database (default: $MOVIEDNA_VECTOR_BACKEND or faiss); naming one here "
                        "enables it for this command, as MOVIEDNA_BACKENDS does for the app")


def add_filter_args(p: argparse.ArgumentParser) -> None:
    """The filter flags ``similar``, ``search`` and ``recommend`` share (parsed by :func:`filter_of`
    with the same rules as a link's ``?genre=&year=&min_ratings=``)."""
    g = p.add_argument_group("filter (every search honours it)")
    g.add_argument("--genre", action="append", default=None, metavar="NAME",
                   help="keep movies of this genre; repeat (or comma-separate) for several")
    g.add_argument("--genre-mode", default="any", choices=GENRE_MODES,
                   help="any: at least one of the genres (default); all: every one")
    g.add_argument("--year", default=None, metavar="FROM:TO", help="release years, e.g. 1990:1999, 1990:, :1999 or 1995")
    g.add_argument("--min-ratings", default=None, metavar="N", help="at least N ratings")
    g.add_argument("--exclude", default=None, metavar="IDS", help="movie ids never to return (seen), e.g. 50,181")


def filter_of(args: argparse.Namespace) -> Filter | None:
    """The parsed flags as one :class:`~engine.data.filters.Filter`; None when no flag is given."""
    flt = Filter.parse(args.genre, args.genre_mode, args.year, args.min_ratings, args.exclude)
    return flt if flt.active else None


def _engine(args: argparse.Namespace):
    """An Engine on the existing catalogue; loads the data set only when there is none yet."""
    from engine.data.catalogue import Catalogue
    from engine.core.config import Settings, catalogue_path
    from engine.service import Engine
    from engine.vectors.contract import enable_backends

    if getattr(args, "backend", None):
        enable_backends(args.backend)  # the operator typed it: an explicit opt-in, like MOVIEDNA_BACKENDS
    name = args.dataset or Settings.from_env().dataset
    try:
        cat = Catalogue.open_existing(catalogue_path(name), dataset=name)
        if cat.n_movies() > 0:
            return Engine(name, catalogue=cat, backend=getattr(args, "backend", None))
    except CatalogueError:
        pass  # none yet (or an empty leftover): loading the data set makes it
    return Engine.open(name, args.data_dir, backend=getattr(args, "backend", None))


def _ids(text: str, what: str) -> list[int]:
    parts = [p.strip() for p in str(text).split(",") if p.strip()]
    try:
        return [int(p) for p in parts]
    except ValueError:
        raise BadQueryError(f"--{what} must be comma-separated whole-number movie ids; got {text!r}.") from None


def _table(hits: Hits, extra: str = "") -> str:
    lines = []
    for it in hits.items:
        year = f" ({it.year})" if it.year else ""
        line = f"{it.rank:>3}. {it.title}{year}  [{it.score:.3f}]"
        if it.rank_before is not None:
            line += f"  rank {it.rank_before} -> {it.rank_after}"
        if it.ranks:  # hybrid: the item's rank in every fused list (text spaces, then BM25)
            line += "  (" + ", ".join(f"{m} #{r}" for m, r in it.ranks.items() if r) + ")"
        if it.because_title:
            line += f"  because you clicked {it.because_title}"
        lines.append(line)
    lines += [f"note: {n.text()}" for n in hits.notes]
    if hits.timings_ms:
        lines.append("time: " + ", ".join(f"{k} {v:.2f} ms" for k, v in hits.timings_ms.items()))
    return extra + "\n".join(lines or ["(no results)"])


def cmd_similar(args: argparse.Namespace) -> Result:
    if (args.title is None) == (args.id is None):
        raise BadQueryError("Give a movie title or --id N (one of them).")
    where = filter_of(args)  # bad flags fail before any data is loaded
    eng = _engine(args)
    movie = args.id if args.id is not None else args.title
    if args.model == "all":
        ag = eng.similar_all(movie, k=args.k, index=args.index, where=where)
        text = [f"Similar to {ag.title}:"]
        for m, h in ag.spaces.items():
            text.append(_table(h, f"\n[{m}]\n"))
        text.append("\nagreement (top-k overlap):")
        text += [f"  {o.a} vs {o.b}: {o.count}/{args.k} shared (Jaccard {o.jaccard:.2f})" for o in ag.overlaps]
        return Result(ag.to_dict(), "\n".join(text))
    hits = eng.similar(movie, model=args.model, k=args.k, index=args.index, where=where)
    return Result(hits.to_dict(), _table(hits, f"Similar to {hits.query.title} in the {args.model} space:\n"))


def cmd_search(args: argparse.Namespace) -> Result:
    where = filter_of(args)
    eng = _engine(args)
    hits = eng.search(args.query, mode=args.mode, space=args.space, k=args.k, index=args.index, where=where)
    q = hits.query
    data = hits.to_dict()
    data |= {"mode": q.mode, "space": q.space, "encoder": data["query"]["encoder"]}
    served = f" in the {q.space} space ({q.encoder.name if q.encoder else 'no encoder'})" if q.space else ""
    text = _table(hits, f"Search ({q.mode}{served}): {q.text!r}\n")
    if args.compare:
        kw = eng.keyword_search(args.query, k=args.k, where=where)
        data["keyword"] = kw.to_dict()
        text += "\n\n" + _table(kw, "Keyword (LIKE) baseline:\n")
    return Result(data, text)


def cmd_recommend(args: argparse.Namespace) -> Result:
    where = filter_of(args)
    eng = _engine(args)
    clicks, dislikes = _ids(args.clicks, "clicks"), _ids(args.dislikes, "dislikes")
    if not clicks:
        raise BadQueryError("--clicks is empty; give at least one movie id.")
    if args.rerank:
        hits = eng.two_stage(clicks, dislikes, model=args.model, k=args.k, n_candidates=args.candidates,
                             recency_half_life=args.half_life, index=args.index, ranker=args.rerank,
                             where=where)
        head = f"Two-stage: {hits.query.n_candidates} {args.model} candidates re-ranked by {args.rerank}\n"
    else:
        hits = eng.recommend(clicks, dislikes, model=args.model, k=args.k,
                             recency_half_life=args.half_life, index=args.index, where=where)
        head = f"Recommended in the {args.model} space:\n"
    return Result(hits.to_dict(), _table(hits, head))
