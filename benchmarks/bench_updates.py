"""A live catalogue: how long from ``add`` until the new movie is found, per backend; updates vs a rebuild.

Usage (from the repo root, after ``python -m engine build``)::

    python benchmarks/bench_updates.py [--dataset ml-100k] [--backends faiss,pgvector,milvus] [--adds 30] [--bulk 1000]

Works on a copy of the data set's catalogue (and its cold-start maps) in a temporary cache, so the
real one is never edited.  Per backend: ``--adds`` movies are added through ``Engine.add_movie`` (the
real encoders, cold-start vectors, one SQLite transaction, index updates) while every space's index
is open; the clock stops when a search of every space with the new movie's own vector returns it
first.  p50 / p95 ms, and the p50 of the parts the add reports (embed, predict, catalogue, indexes).

Then on FAISS: ``--bulk`` adds in a row vs one rebuild of the indexes over the final vectors:

- engine: wall time of the adds (everything above) against building every space's index again
  (exact and HNSW) the way the cache builds it;
- index only: ``--bulk`` single-row ``FaissIndex.updated`` calls per kind against one build.

``--synthetic 87585`` measures the write path at a larger catalogue without the encoders (no text
to embed): movies and clustered vectors of the real spaces' dimensions (MF 64, MiniLM 384, USE 512)
in a file catalogue; ``--adds`` one-transaction adds (``Catalogue.edit``: an add re-reads and
re-hashes every space's vectors, so its cost grows with the catalogue), then the index-only
comparison (exact in every space, HNSW in the 64-d one).
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.core.config import catalogue_path, dataset_cache_dir  # noqa: E402
from engine.data.catalogue import Catalogue  # noqa: E402
from engine.vectors.contract import enable_backends  # noqa: E402
from engine.vectors.faiss_index import FaissIndex, IndexConfig  # noqa: E402

log = logging.getLogger("bench_updates")
KINDS = ("exact", "hnsw")


def copy_cache(dataset: str, root: Path) -> Path:
    """Copy the catalogue (SQLite backup: consistent even with a WAL) and the models folder under ``root``."""
    src_dir = dataset_cache_dir(dataset)
    dst_dir = root / dataset
    dst_dir.mkdir(parents=True)
    src = sqlite3.connect(str(catalogue_path(dataset)))
    dst = sqlite3.connect(str(dst_dir / "catalogue.sqlite"))
    src.backup(dst)
    src.close()
    dst.close()
    if (src_dir / "models").is_dir():
        shutil.copytree(src_dir / "models", dst_dir / "models")
    return dst_dir / "catalogue.sqlite"


def found_everywhere(eng, movie_id: int) -> bool:
    """Every space's index returns the movie first for its own vector."""
    for m in eng.models():
        sp = eng.space(m)
        _, ids = eng.index(m).search(sp.unit[sp.row[movie_id]], 1)
        if int(ids[0, 0]) != movie_id:
            return False
    return True


def p(values, q):
    return float(np.percentile(values, q)) if values else float("nan")


def run_backend(dataset: str, source: Path, backend: str, adds: int, genres: list[str]) -> dict:
    from engine.service import Engine

    root = Path(tempfile.mkdtemp(prefix=f"moviedna-updates-{backend}-"))
    try:
        path = copy_cache_from(source, dataset, root)
        eng = Engine(dataset, catalogue=Catalogue.open_existing(path), backend=backend)
        for m in eng.models():   # open every index first: an edit updates them
            eng.similar(1, m, k=5)
        eng.add_movie("Warm-up film", 2020, genres[:1])   # encoders and the cold-start maps load here
        totals, parts = [], {}
        for i in range(adds):
            t0 = time.perf_counter()
            done = eng.add_movie(f"Benchmark film {i}", 1990 + i % 30, genres[i % len(genres)],
                                 overview=f"A film about {genres[(i + 1) % len(genres)].lower()} number {i}.")
            ok = found_everywhere(eng, done.movie_id)
            totals.append(1e3 * (time.perf_counter() - t0))
            if not ok:
                raise SystemExit(f"{backend}: movie {done.movie_id} was not found after add")
            for k, v in done.timings_ms.items():
                parts.setdefault(k, []).append(v)
        eng.catalogue.close()
        from engine.vectors.served import POOL

        POOL.close()   # stops an embedded server before its folder goes
        return {"p50": p(totals, 50), "p95": p(totals, 95), **{k: p(v, 50) for k, v in parts.items()}}
    finally:
        shutil.rmtree(root, ignore_errors=True)


def copy_cache_from(source: Path, dataset: str, root: Path) -> Path:
    """Copy a prepared catalogue + models folder (``source`` = its data set folder) under ``root``."""
    dst_dir = root / dataset
    shutil.copytree(source, dst_dir)
    os.environ["MOVIEDNA_CACHE_DIR"] = str(root)
    return dst_dir / "catalogue.sqlite"


def updates_vs_build(space: str, kind: str, ids: np.ndarray, vecs: np.ndarray, n: int) -> None:
    """Print one row: the last ``n`` of ``vecs`` added one at a time to an index of the others
    (``FaissIndex.updated``) vs one build over all rows.  ids int64 (N,), vecs float32 (N, d)."""
    base = len(ids) - n
    idx = FaissIndex.build(ids[:base], vecs[:base], IndexConfig(kind=kind), check_recall=False)
    t0 = time.perf_counter()
    for i in range(base, len(ids)):
        idx = idx.updated(ids[i:i + 1], vecs[i:i + 1], np.zeros(0, np.int64))
    up = time.perf_counter() - t0
    t0 = time.perf_counter()
    FaissIndex.build(ids, vecs, IndexConfig(kind=kind), check_recall=False)
    b = time.perf_counter() - t0
    print(f"{space:<8}{kind:<7}{up:>10.2f}{1e3 * up / n:>15.2f}{b:>9.3f}{b / (up / n):>16.1f}", flush=True)


def bulk(dataset: str, source: Path, n: int, genres: list[str]) -> None:
    from engine.service import Engine

    root = Path(tempfile.mkdtemp(prefix="moviedna-updates-bulk-"))
    try:
        path = copy_cache_from(source, dataset, root)
        eng = Engine(dataset, catalogue=Catalogue.open_existing(path), backend="faiss")
        for m in eng.models():
            for kind in KINDS:
                eng.similar(1, m, k=5, index=kind)
        eng.add_movie("Warm-up film", 2020, genres[:1])
        t0 = time.perf_counter()
        for i in range(n):
            eng.add_movie(f"Bulk film {i}", 1990 + i % 30, genres[i % len(genres)])
        adds_s = time.perf_counter() - t0
        for m in eng.models():
            for kind in KINDS:
                assert eng.similar(1, m, k=5, index=kind).ids()
        t0 = time.perf_counter()
        for m in eng.models():
            sp = eng.space(m)
            for kind in KINDS:
                FaissIndex.build(sp.ids, sp.unit, IndexConfig(kind=kind))
        rebuild_s = time.perf_counter() - t0
        n_movies = eng.catalogue.n_movies()
        print(f"\nFAISS, engine: {n} adds in a row (embed, cold start, one transaction each, {len(eng.models())} "
              f"spaces x {'/'.join(KINDS)} indexes updated): {adds_s:.1f} s = {1e3 * adds_s / n:.1f} ms per add; "
              f"rebuilding those {len(eng.models()) * len(KINDS)} indexes once over {n_movies:,} movies: "
              f"{rebuild_s:.2f} s = the time of {n * rebuild_s / adds_s:.0f} adds (a rebuild of the indexes alone "
              "embeds, predicts and stores nothing: those are what an add spends its time on)")
        print(f"\nFAISS, index only: {n} single-row updates vs one build over the final {n_movies:,} rows")
        print(f"{'space':<8}{'kind':<7}{'updates s':>10}{'per update ms':>15}{'build s':>9}{'build / update':>16}")
        for m in eng.models():
            sp = eng.space(m)
            for kind in KINDS:
                updates_vs_build(m, kind, sp.ids, sp.unit, n)
        eng.catalogue.close()
    finally:
        shutil.rmtree(root, ignore_errors=True)


def synthetic(n: int, adds: int, bulk_n: int) -> None:
    import pandas as pd

    from engine.data.catalogue import NewMovie, VectorRows
    from engine.lab.scale import clustered_vectors

    dims = {"mf": 64, "text": 384, "use": 512}
    root = Path(tempfile.mkdtemp(prefix="moviedna-updates-synth-"))
    try:
        rng = np.random.default_rng(0)
        movies = pd.DataFrame({"movie_id": np.arange(1, n + 1, dtype=np.int64),
                               "title": [f"Synthetic film {i}" for i in range(n)],
                               "year": pd.array(1950 + np.arange(n) % 70, dtype="Int64"),
                               "genres": [["Drama"] if i % 2 else ["Comedy"] for i in range(n)],
                               "tags": [[] for _ in range(n)], "n_ratings": rng.integers(1, 500, n),
                               "mean_rating": rng.uniform(1, 5, n)})
        movies["original_title"] = movies["title"]
        cat = Catalogue(root / "catalogue.sqlite")
        cat.write_movies(movies)
        vecs = {m: clustered_vectors(n, d, seed=j) for j, (m, d) in enumerate(dims.items())}
        for m, v in vecs.items():
            cat.put_vectors(m, movies["movie_id"].to_numpy(), v, {"synthetic": True})
        times = []
        for i in range(adds):
            mid = cat.next_movie_id()
            rows = [VectorRows(m, np.array([mid]), rng.normal(size=(1, d)).astype(np.float32), m == "mf")
                    for m, d in dims.items()]
            t0 = time.perf_counter()
            cat.edit(add=NewMovie(mid, f"Added film {i}", 2024, ("Drama",)), rows=rows)
            times.append(1e3 * (time.perf_counter() - t0))
        print(f"\nsynthetic {n:,} movies, spaces {', '.join(f'{m} {d}-d' for m, d in dims.items())}: one add in "
              f"one SQLite transaction p50 {p(times, 50):.0f} ms, p95 {p(times, 95):.0f} ms ({adds} adds; the "
              "encoders, which take the same time at any size, not included)")
        cat.close()
        print(f"\nFAISS, index only, synthetic: {bulk_n} single-row updates vs one build over {n + bulk_n:,} rows")
        print(f"{'space':<8}{'kind':<7}{'updates s':>10}{'per update ms':>15}{'build s':>9}{'build / update':>16}")
        for m, d in dims.items():
            extra = clustered_vectors(bulk_n, d, seed=99)
            full = np.concatenate([vecs[m], extra])
            ids = np.arange(1, len(full) + 1, dtype=np.int64)
            for kind in (KINDS if d == 64 else ("exact",)):
                updates_vs_build(m, kind, ids, full, bulk_n)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--backends", default="faiss,pgvector,milvus")
    ap.add_argument("--adds", type=int, default=30, help="adds timed per backend (default 30)")
    ap.add_argument("--bulk", type=int, default=1000, help="adds in a row on FAISS vs a rebuild (0: skip)")
    ap.add_argument("--synthetic", type=int, default=0, metavar="N",
                    help="instead: the write path on N synthetic movies without encoders (e.g. 87585)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")  # the encoders' loading bars stay out of the table
    print("command: python benchmarks/bench_updates.py " + " ".join(sys.argv[1:]), flush=True)
    if args.synthetic:
        synthetic(args.synthetic, args.adds, args.bulk)
        return 0
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    enable_backends(*backends)   # the operator runs this script: an explicit opt-in
    stage = Path(tempfile.mkdtemp(prefix="moviedna-updates-src-"))
    try:
        copy_cache(args.dataset, stage)
        source = stage / args.dataset
        cat = Catalogue.open_existing(source / "catalogue.sqlite")
        genres = sorted({g for gs in cat.movies()["genres"] for g in gs if g and g != "(no genres listed)"})
        n, spaces = cat.n_movies(), [v["model"] for v in cat.vector_info()]
        cat.close()
        print(f"{args.dataset}: {n:,} movies, spaces {', '.join(spaces)}; {args.adds} adds per backend, each "
              "until every space's index returns the new movie for its own vector")
        print(f"{'backend':<10}{'p50 ms':>8}{'p95 ms':>8}{'embed':>8}{'predict':>9}{'catalogue':>11}{'indexes':>9}")
        for b in backends:
            r = run_backend(args.dataset, source, b, args.adds, genres)
            print(f"{b:<10}{r['p50']:>8.0f}{r['p95']:>8.0f}{r.get('embed', 0):>8.0f}{r.get('predict', 0):>9.0f}"
                  f"{r.get('catalogue', 0):>11.0f}{r.get('indexes', 0):>9.0f}", flush=True)
        if args.bulk:
            bulk(args.dataset, source, args.bulk, genres)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
