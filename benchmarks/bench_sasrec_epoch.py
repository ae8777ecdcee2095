"""SASRec training speed: seconds per epoch on the ml-100k train split, per config variant.

Usage (from the repo root)::

    MOVIEDNA_CACHE_DIR=/work/cache /work/venv/bin/python benchmarks/bench_sasrec_epoch.py [--epochs 5]

Fits ``SASRecModel`` without validation for ``--epochs`` epochs per variant (same data, same
process) and prints seconds per epoch and the ratio to the default config.  The evaluation budget
is 273 s of training (a third of the reference's ~820 s), so epochs x s/epoch must stay below it.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.data import load_dataset  # noqa: E402
from engine.models.sasrec import SASRecConfig, SASRecModel  # noqa: E402
from engine.splits import leave_one_out  # noqa: E402

VARIANTS: dict[str, dict] = {
    "default": {},
    "neg_samples=16": {"neg_samples": 16},
    "block_style=pmixer": {"block_style": "pmixer"},
    "attn_dropout=0.2": {"attn_dropout": 0.2},
    "maxlen=400": {"maxlen": 400},
    "hidden=128": {"hidden": 128},
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args()
    ds = load_dataset("ml-100k")
    train = leave_one_out(ds.ratings).train_data(ds.movies)
    print(f"ml-100k train split: {len(train.sequences)} users, {train.n_items} items; "
          f"os.cpu_count()={os.cpu_count()}, load average {os.getloadavg()[0]:.2f}", flush=True)
    base = None
    for name in args.variants.split(","):
        cfg = SASRecConfig(epochs=args.epochs, **VARIANTS[name])
        t = time.perf_counter()
        SASRecModel(cfg).fit(train)
        per = (time.perf_counter() - t) / args.epochs
        base = base or per
        print(f"{name:<22} {per:6.2f} s/epoch  x{per / base:4.2f}  "
              f"100 epochs ~{100 * per:5.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
