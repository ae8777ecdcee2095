"""What one SASRec position costs, by history length: whether the epoch bound should count positions.

    python benchmarks/bench_sasrec_cost.py [--positions 300000] [--items 10000]

For histories of 20, 50, 100 and 200 clicks, fits the default SASRec pair (both nets, sampled
softmax since ``--items`` is above ``full_softmax_items``; no side information) for one epoch on
``--positions`` random training positions, one torch thread, and prints CPU seconds and
microseconds per trained position.  Batches are grouped by length and trimmed to their longest
history, so a cost that hardly moves with length means the work is the positions trained: what
``SASRecConfig.max_positions`` bounds.  CPU seconds (not wall) are compared, so another process
on the machine changes them little.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--positions", type=int, default=300_000)
    ap.add_argument("--items", type=int, default=10_000)
    ap.add_argument("--lengths", default="20,50,100,200")
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    args = ap.parse_args()

    import numpy as np
    import torch

    from engine.data.interactions import Interactions
    from engine.models.sasrec.model import SASRecModel
    from engine.models.sasrec.net import SASRecConfig

    torch.set_num_threads(1)                      # a benchmark process, not the app
    rng = np.random.default_rng(0)
    out = {}
    for length in (int(x) for x in args.lengths.split(",")):
        users = max(128, args.positions // length)
        seqs = tuple(rng.integers(0, args.items, length + 1).astype(np.int64) for _ in range(users))
        data = Interactions(np.arange(1, args.items + 1, dtype=np.int64), seqs)
        cfg = SASRecConfig(epochs=1, threads=1, side_info=False, max_positions=0)
        t = time.process_time()
        SASRecModel(cfg).fit(data)
        cpu = time.process_time() - t
        positions = users * min(length, cfg.maxlen)
        out[length] = {"users": users, "positions": positions, "cpu_s": round(cpu, 2),
                       "us_per_position": round(cpu / positions * 1e6, 1)}
        if not args.json:
            print(f"history {length:>4}: {users:>7,} users, {positions:>9,} positions, {cpu:7.1f} CPU s, "
                  f"{cpu / positions * 1e6:6.1f} µs a position (both nets)", flush=True)
    if args.json:
        print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
