"""Mood search on a catalogue without plots: document year styles and collaborative expansion.

    python benchmarks/bench_noplot.py --dataset ml-100k          # the validation sets: the choice
    python benchmarks/bench_noplot.py --test --years year,none --expand off,mf:10:0.5 --dataset ml-100k
                                                                 # the test sets, reported once

Two changes for a catalogue whose text spaces see only title, year, genres and tags:

- (a) documents that do not let the year dominate (``TextConfig.document_year`` /
  ``UseConfig.document_year``): ``year`` (today, "Iron Man (2008)."), ``decade`` ("Iron Man (2000s).")
  or ``none`` ("Iron Man.").  ``year`` is the catalogue's stored vectors; the others are fitted
  exactly as `python -m engine build` would fit them (the same config but for document_year) and kept
  under the build's own weights path, so a later build with that setting restores them.
- (b) collaborative expansion (engine/recsys/expand.py): the fused list's top ``seeds`` movies, the
  mean of their vectors in a collaborative space (``mf``, ``sasrec``), and that centroid's nearest
  movies join the RRF as one more list with weight ``w``.  Spelled ``SPACE:SEEDS:W``; ``off`` = none.

For every query this script encodes it once per text space (the engine's encoder, generic words
dropped), runs BM25 once through the engine, then ranks offline for every document style
(exact search, the engine's pseudo-relevance feedback) and fuses as the engine does (RRF, BM25
gated, spaces as the engine picks them).  It checks that the ``year`` / ``off`` row reproduces the
engine's own hybrid lists.  Prints nDCG@10 per query set (rows: method x setting; columns: sets),
and, per document style and space, the share of a movie's 10 nearest text neighbours released the
same year (movies with a year), with the neighbours of one example film.  Query sets, labels and
relevance: benchmarks/bench_mood.py.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_mood import SETS, VALIDATION, load_queries, ndcg_at_k, relevant_sets  # noqa: E402
from engine.recsys import expand, hybrid  # noqa: E402
from engine.service.search import reads_script_of  # noqa: E402

log = logging.getLogger("bench_noplot")
SPACES = ("use", "text")
EXAMPLE = {"ml-latest-small": "Iron Man", "ml-100k": "Star Wars"}


def parse_expand(spec: str) -> expand.ExpansionConfig | None:
    """``off`` -> None; ``mf:10:0.5`` -> ExpansionConfig(space="mf", seeds=10, weight=0.5); a fourth
    field ``u`` expands only queries where BM25 is not confident (``unsure_only``)."""
    if spec == "off":
        return None
    space, seeds, weight, *gate = spec.split(":")
    return expand.ExpansionConfig(space=space, seeds=int(seeds), weight=float(weight), unsure_only=gate == ["u"])


def variant_vectors(eng, ds, name: str, style: str) -> tuple[np.ndarray, np.ndarray]:
    """(movie ids int64 (n,), unit vectors float32 (n, d)) of text space ``name`` with documents in ``style``."""
    from engine.service.build import build_config, build_key, model_path, training_data
    from engine.models import model_class

    if style == "year":
        sp = eng.space(name)
        return sp.ids, sp.unit
    cfg = dataclasses.replace(build_config(name), document_year=style)
    path = model_path(ds.name, name, build_key(ds.content_hash, name, cfg))
    cls = model_class(name)
    if path.is_file():
        model = cls.load(path)
    else:
        t0 = time.perf_counter()
        model = cls(cfg).fit(training_data(ds, name))
        model.save(path)
        log.warning("fitted %s with document_year=%s in %.0f s -> %s", name, style, time.perf_counter() - t0, path)
    from engine.core.arrays import normalize

    return np.asarray(model.item_ids(), np.int64), normalize(model.item_embeddings())


def check_stored(eng, ds, name: str) -> float:
    """Lowest cosine between the stored vectors of 8 movies and their ``year`` documents embedded now."""
    from engine.service.build import build_config
    from engine.models.text import movie_documents

    sp, cfg = eng.space(name), build_config(name)
    ids = sp.ids[:8]
    docs = movie_documents(ds.movies, ids, cfg.max_tags, getattr(cfg, "bilingual_genres", False), "year")
    v = np.asarray(eng.document_encoder(name)(docs), np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return float((v * sp.unit[:8]).sum(1).min())


def top(ids: np.ndarray, unit: np.ndarray, vec: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    s = unit @ vec
    k = min(k, len(s))
    part = np.argpartition(-s, k - 1)[:k]
    order = part[np.lexsort((part, -s[part]))]
    return ids[order], s[order]


def semantic(name: str, ids: np.ndarray, unit: np.ndarray, vec: np.ndarray, depth: int, alpha: float) -> list[int]:
    """A space's list as the engine ranks it (exact search, feedback with the query's weight ``alpha``
    where the engine applies it)."""
    fb = hybrid.FEEDBACK
    got, _ = top(ids, unit, vec, max(depth, fb.m))
    if name in fb.spaces and alpha > 0 and len(got):
        row = {int(m): i for i, m in enumerate(ids)}
        vec = hybrid.feedback_vector(vec, unit[[row[int(m)] for m in got[:fb.m]]], alpha)
        got, _ = top(ids, unit, vec, depth)
    return got[:depth].tolist()


def same_year_share(ids: np.ndarray, unit: np.ndarray, years: dict[int, int], k: int = 10) -> float:
    """Mean share of a movie's ``k`` nearest neighbours (itself excluded) released the same year."""
    y = np.array([years.get(int(m), -1) for m in ids])
    shares = []
    for b in range(0, len(ids), 1024):
        s = unit[b:b + 1024] @ unit.T
        s[np.arange(len(s)), np.arange(b, b + len(s))] = -np.inf
        nn = np.argpartition(-s, k, axis=1)[:, :k]
        ok = y[b:b + len(s)] >= 0
        shares.append((y[nn] == y[b:b + len(s), None])[ok].mean(1))
    return float(np.concatenate(shares).mean())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--test", action="store_true", help="the test sets (report once, for the chosen settings)")
    ap.add_argument("--years", default="year,decade,none", help="document styles: year,decade,none")
    ap.add_argument("--expand", default=None,
                    help="off and SPACE:SEEDS:W[:u] settings (default: off and mf/sasrec x seeds 5,10,20 x w 0.1,0.25,0.5, "
                         "every query or :u only those where BM25 abstains)")
    ap.add_argument("-k", type=int, default=10)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from engine.data.dataset import load_dataset
    from engine.models import encoders as enc_mod
    from engine.service import Engine

    t0, k = time.perf_counter(), args.k
    eng = Engine(args.dataset)
    ds = load_dataset(args.dataset)
    built = eng.models()
    styles = args.years.split(",")
    if "year" not in styles:
        ap.error("--years must include year (the baseline every change is compared with)")
    specs = args.expand.split(",") if args.expand else ["off"] + [
        f"{s}:{n}:{w}{g}" for s in ("mf", "sasrec") if s in built for n in (5, 10, 20) for w in (0.1, 0.25, 0.5)
        for g in ("", ":u")]
    expansions = {s: parse_expand(s) for s in specs}
    for name in SPACES:
        print(f"{name}: stored vectors vs year documents embedded now, lowest cosine of 8: {check_stored(eng, ds, name):.4f}")
    vectors = {(st, name): variant_vectors(eng, ds, name, st) for st in styles for name in SPACES}
    collab = {s: eng.space(s) for s in {e.space for e in expansions.values() if e}}

    # (a) the neighbour effect: same-year share of the 10 nearest text neighbours
    years = {int(m): int(y) for m, y in zip(ds.movies["movie_id"], ds.movies["year"]) if not pd.isna(y)}
    titles = dict(zip(ds.movies["movie_id"].astype(int), ds.movies["title"]))
    ex = next((m for m, t in titles.items() if str(t) == EXAMPLE.get(args.dataset)), None)
    print(f"\n{args.dataset}: share of a movie's 10 nearest text neighbours from the same year (movies with a year)")
    for (st, name), (ids, unit) in vectors.items():
        line = f"  {name:<5} {st:<7} {same_year_share(ids, unit, years):.3f}"
        if ex is not None:
            row = int(np.flatnonzero(ids == ex)[0])
            nn, _ = top(ids, unit, unit[row], 11)
            line += f"   {titles[ex]} ({years.get(ex)}): " + "; ".join(
                f"{titles[int(m)]} ({years.get(int(m), '?')})" for m in nn[1:])
        print(line)

    sets = SETS if args.test else VALIDATION
    movies = eng.catalogue.movies()
    table: dict[str, dict[str, list[float]]] = {}
    mismatched, n_queries = 0, 0
    depth = hybrid.FUSION.depth
    for set_name, path in sets.items():
        queries = load_queries(path)
        rel = relevant_sets(movies, queries)
        for lang in (("ko", "en") if set_name.startswith("korean") else ("en",)):
            cell = table.setdefault(f"{set_name}/{lang}", {})
            for q, r in zip(queries, rel):
                if not r:
                    continue
                text = q["english"] if lang == "en" and "english" in q else q["query"]
                engine_hits = eng.search(text, mode="hybrid", k=k, index="exact")
                spaces = engine_hits.query.fusion.spaces
                bm = eng.search(text, mode="bm25", k=depth).ids()
                sure = bool(bm) and eng.catalogue.bm25_covers(text, bm[0])
                qv = {}
                cross = not reads_script_of(eng, text)      # as the engine's search does
                alpha = hybrid.feedback_alpha(text, cross)
                for name in SPACES:
                    with enc_mod.single_thread_inference():
                        qv[name] = enc_mod.encode_query(eng.encoder(name), hybrid.semantic_text(text, cross),
                                                        vectors[(styles[0], name)][1].shape[1])
                n_queries += 1
                for st in styles:
                    lists = {name: semantic(name, *vectors[(st, name)], qv[name], depth, alpha) for name in SPACES}
                    for name in SPACES:
                        cell.setdefault(f"semantic:{name} {st}", []).append(ndcg_at_k(lists[name], r, k))
                    ranked = [lists[s] for s in spaces] + [bm]
                    weights = hybrid.fusion_weights(len(spaces), sure)
                    for spec, cfg in expansions.items():
                        if cfg is None or not cfg.applies(sure):
                            fused = [m for m, _, _ in hybrid.rrf(ranked, k, c=hybrid.FUSION.rrf_k, weights=weights)]
                            if cfg is None and st == "year" and fused != engine_hits.ids():
                                mismatched += 1
                        else:
                            sp = collab[cfg.space]
                            seeds = expand.seed_ids(ranked, weights, sp.row, cfg, hybrid.FUSION.rrf_k)
                            cf = top(sp.ids, sp.unit, expand.centroid(sp.unit[sp.rows(seeds)]), cfg.depth)[0].tolist() \
                                if seeds else []
                            fused = [m for m, _, _ in hybrid.rrf(ranked + [cf], k, c=hybrid.FUSION.rrf_k,
                                                                 weights=weights + [cfg.weight])]
                        cell.setdefault(f"hybrid {st} {spec}", []).append(ndcg_at_k(fused, r, k))
    keys = list(table)
    rows = list(table[keys[0]])
    print(f"\n{args.dataset}, {'test' if args.test else 'validation'} sets: nDCG@{k} (mean over queries); "
          f"'hybrid STYLE EXPANSION' is the default mode")
    print(f"{'method / setting':<28}" + "".join(f"{s:>12}" for s in keys) + f"{'mean':>8}{'worst Δ':>9}")
    base = {s: float(np.mean(table[s]["hybrid year off"])) for s in keys}
    sem_base = {(name, s): float(np.mean(table[s][f"semantic:{name} year"])) for name in SPACES for s in keys}
    for row in rows:
        vals = {s: float(np.mean(table[s][row])) for s in keys}
        ref = base if row.startswith("hybrid") else {s: sem_base[(row.split()[0].split(":")[1], s)] for s in keys}
        worst = min(vals[s] - ref[s] for s in keys)
        print(f"{row:<28}" + "".join(f"{vals[s]:>12.3f}" for s in keys) + f"{np.mean(list(vals.values())):>8.3f}{worst:>+9.3f}")
    print(f"(worst Δ: the lowest per-set change against the same method with year documents and no expansion)")
    print(f"check: the offline 'hybrid year off' lists differ from the engine's hybrid on {mismatched} of {n_queries} queries")
    print(f"({time.perf_counter() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
