"""Catalogue read speed: all vectors of one model back as one contiguous float32 array.

Target (issue: Foundation): 40,000 x 64 loads well under 100 ms.  Prints the p50/min/max of
`Catalogue.get_vectors` (SQLite read + hash verification) next to the raw `np.load` of
the same array from an .npy file, measured in one run.

    python benchmarks/bench_catalogue.py [--n 40000] [--d 64] [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from engine.data.catalogue import Catalogue  # noqa: E402


def timed(fn, repeats: int) -> list[float]:
    out = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=40_000)
    ap.add_argument("--d", type=int, default=64)
    ap.add_argument("--repeats", type=int, default=20)
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    vecs = rng.normal(size=(args.n, args.d)).astype(np.float32)
    ids = rng.permutation(args.n).astype(np.int64) + 1
    with tempfile.TemporaryDirectory() as tmp:
        cat = Catalogue(Path(tmp) / "bench.sqlite")
        t0 = time.perf_counter()
        cat.put_vectors("mf", ids, vecs, {"bench": True})
        write_ms = (time.perf_counter() - t0) * 1000
        np.save(Path(tmp) / "v.npy", vecs)
        cat.get_vectors("mf")  # warm the page cache like a running app
        sqlite_ms = timed(lambda: cat.get_vectors("mf"), args.repeats)
        npy_ms = timed(lambda: np.load(Path(tmp) / "v.npy"), args.repeats)
        got = cat.get_vectors("mf")
        assert got.vectors.shape == (args.n, args.d) and got.vectors.dtype == np.float32
        assert got.vectors.flags.c_contiguous
    p50, p50_npy = statistics.median(sqlite_ms), statistics.median(npy_ms)
    print(f"vectors: {args.n:,} x {args.d} float32 ({vecs.nbytes / 2**20:.1f} MiB); write {write_ms:.0f} ms")
    print(f"Catalogue.get_vectors (SQLite + sha256 check): p50 {p50:.1f} ms  min {min(sqlite_ms):.1f}  max {max(sqlite_ms):.1f}")
    print(f"np.load of the same array (.npy, no check):     p50 {p50_npy:.1f} ms")
    print(f"ratio catalogue/npy: {p50 / p50_npy:.1f}x   target < 100 ms: {'PASS' if p50 < 100 else 'FAIL'}")


if __name__ == "__main__":
    main()
