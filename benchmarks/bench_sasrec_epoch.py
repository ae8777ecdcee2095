"""SASRec training speed: seconds per epoch on the ml-100k train split, per config variant.

Usage (from the repo root)::

    python benchmarks/bench_sasrec_epoch.py [--epochs 8]

Fits one SASRec net (the CE net, ``members=("ce",)``) without validation for ``--epochs`` epochs per variant (same
data, same process) and prints seconds per epoch and the ratio to the default config.  The default
model trains ``members`` nets one after another, so its training time is members x epochs x s/epoch;
the evaluation budget is 273 s (a third of the reference's ~820 s).

The variant "unfused" swaps in the pre-session-3 code paths (``F.cross_entropy`` over the full
(N, n) logit matrix and torch's ``rand_like`` dropout masks) to show what the chunked
cross-entropy and numpy-drawn dropout masks save.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.data.dataset import load_dataset  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from engine.models.sasrec import net as sasrec_module  # noqa: E402
from engine.models.sasrec import SASRecModel  # noqa: E402
from engine.models.sasrec.net import Dropout, SASRecConfig  # noqa: E402
from engine.recsys.splits import leave_one_out  # noqa: E402

VARIANTS: dict[str, dict] = {
    "default": {},                      # the CE net
    "bce net": {"members": ("bce",)},   # the default's second net (8 negatives per position)
    "neg_samples=16": {"neg_samples": 16},
    "block_style=pmixer": {"block_style": "pmixer"},
    "attn_dropout=0.2": {"attn_dropout": 0.2},
    "maxlen=400": {"maxlen": 400},
    "hidden=128": {"hidden": 128},
    "unfused": {},
}


class _PlainCE:
    """F.cross_entropy over the materialised (N, n) logits: the path FullSoftmaxCE replaced."""

    @staticmethod
    def apply(h, W, target):
        return F.cross_entropy(h @ W.T, target)


def fit_seconds(cfg: SASRecConfig, train, unfused: bool) -> float:
    model = SASRecModel(cfg)
    saved_ce = sasrec_module.FullSoftmaxCE
    saved_init = Dropout.__init__
    if unfused:
        sasrec_module.FullSoftmaxCE = _PlainCE

        def torch_masks(self, p):        # gen stays None: masks from torch.rand_like
            saved_init(self, p)
            self.__class__ = _TorchDropout
        Dropout.__init__ = torch_masks
    try:
        t = time.perf_counter()
        model.fit(train)
        return time.perf_counter() - t
    finally:
        sasrec_module.FullSoftmaxCE, Dropout.__init__ = saved_ce, saved_init


class _TorchDropout(Dropout):
    gen = property(lambda self: None, lambda self, value: None)   # ignore the net's numpy generator


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=8)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    args = ap.parse_args()
    ds = load_dataset("ml-100k")
    train = leave_one_out(ds.ratings).train_data(ds.movies)
    print(f"ml-100k train split: {len(train.sequences)} users, {train.n_items} items; "
          f"os.cpu_count()={os.cpu_count()}, load average {os.getloadavg()[0]:.2f}", flush=True)
    # warm-up: the first fit in a process pays for allocator and thread-pool start-up (~0.3 s/epoch
    # over 5 epochs), which would otherwise be charged to whichever variant runs first
    SASRecModel(SASRecConfig(epochs=2, members=("ce",))).fit(train)
    base = None
    for name in args.variants.split(","):
        cfg = SASRecConfig(**({"epochs": args.epochs, "members": ("ce",)} | VARIANTS[name]))
        per = fit_seconds(cfg, train, unfused=name == "unfused") / args.epochs
        base = base or per
        print(f"{name:<22} {per:6.2f} s/epoch  x{per / base:4.2f}  "
              f"100 epochs ~{100 * per:5.0f} s per net", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
