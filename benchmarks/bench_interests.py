"""How many interests should a taste have? The multi-interest strategy's split cosine, measured on validation.

Usage (from the repo root)::

    python benchmarks/bench_interests.py --dataset ml-100k
    python benchmarks/bench_interests.py --dataset ml-latest-small --data-dir DIR [--vectors FILE.npz]

Fits MF, Text (MiniLM) and USE on the data set's leave-one-out train split (what ``evaluate`` fits;
SASRec and Wide & Deep are left out: 15-30 minutes of training each) and, on the **validation**
holdout only, prints NDCG@10 of the multi-interest strategy per space and history length for every
split cosine in ``engine.recsys.taste.SPLIT_COSINES`` (1.0 = always split to three interests, the old
behaviour; never splitting is the average strategy's row), with the mean number of interests, the
average and best strategies as reference rows, and the cosine each space chooses (best mean over the history
lengths; ties to the lower cosine) and the one global cosine that keeps the largest mean share of each space's best (the fallback
``SPLIT_COSINE`` for records measured before the per-space choice).
``--vectors`` keeps the fitted item vectors in an npz file (not verified: a scratch file for reruns).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.recsys.beyond import HISTORY_BUCKETS, _cut, bucket_mean, choose_split, history_grid  # noqa: E402
from engine.recsys.taste import SPLIT_COSINES, interests  # noqa: E402

SPACES_FITTED = ("mf", "text", "use")


def item_vectors(dataset: str, data_dir: str | None, keep: Path | None):
    """(split, {space: unit rows float32 (n, d)}) fitted on the split's train part (or read from ``keep``)."""
    from engine.core.arrays import normalize
    from engine.data.dataset import load_dataset
    from engine.recsys.evaluation import evaluate_split
    from engine.recsys.splits import leave_one_out

    ds = load_dataset(dataset, data_dir)
    split = leave_one_out(ds.ratings)
    if keep is not None and keep.exists():
        with np.load(keep) as z:
            if np.array_equal(z["item_ids"], split.item_ids):
                return split, {m: z[m] for m in SPACES_FITTED if m in z}
    fitted: dict = {}
    t0 = time.perf_counter()
    evaluate_split(split, ds.movies, list(SPACES_FITTED), keep=fitted, users=ds.users)
    print(f"fitted {', '.join(SPACES_FITTED)} on the train split in {time.perf_counter() - t0:.0f} s", flush=True)
    units = {m: normalize(fitted[m].item_embeddings()).astype(np.float32) for m in SPACES_FITTED}
    if keep is not None:
        np.savez(keep, item_ids=split.item_ids, **units)
    return split, units


def mean_interests(unit: np.ndarray, histories, last: int | None, split_below: float) -> float:
    return float(np.mean([len(interests(unit[h], split_below=split_below)[0]) for h in _cut(histories, last)]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--vectors", default=None, help="npz file keeping the fitted item vectors between runs")
    args = ap.parse_args()
    print("command: python benchmarks/bench_interests.py " + " ".join(sys.argv[1:]), flush=True)
    split, units = item_vectors(args.dataset, args.data_dir, Path(args.vectors) if args.vectors else None)
    valid = split.valid_holdout()
    k = 10
    labs = [lab for lab, _, _ in HISTORY_BUCKETS]
    users = None
    print(f"\n{args.dataset}: validation NDCG@{k} (leave-one-out, second-last item) by history length; "
          f"'n' = mean interests at 6-20 clicks")
    head = f"{'space':<6}{'variant':<14}" + "".join(f"{b:>9}" for b in labs) + f"{'mean':>9}{'n':>6}"
    chosen: dict[str, float] = {}
    tried_all: dict[str, dict[float, float | None]] = {}
    for m, unit in units.items():
        print(head)
        for s in ("average", "best"):
            g = history_grid(unit, valid, s, k)
            users = users or {b: g[b]["users"] for b in labs}
            print(f"{m:<6}{s:<14}" + "".join(f"{g[b][f'ndcg@{k}'] or 0:>9.4f}" for b in labs)
                  + f"{bucket_mean(g, k):>9.4f}")
        tried = {}
        for c in SPLIT_COSINES:
            g = history_grid(unit, valid, "multi", k, c)
            tried[c] = bucket_mean(g, k)
            n = mean_interests(unit, valid.histories, 20, c)
            print(f"{m:<6}{'multi @' + format(c, '+.1f'):<14}" + "".join(f"{g[b][f'ndcg@{k}'] or 0:>9.4f}" for b in labs)
                  + f"{tried[c]:>9.4f}{n:>6.2f}")
        chosen[m] = choose_split(tried)
        tried_all[m] = tried
        print(f"{m}: chosen split cosine {chosen[m]:+.1f} (multi mean {tried[chosen[m]]:.4f}; always-3 {tried[1.0]:.4f})\n")
    # one value for every space: each space's figure as a share of its own best cosine's, so a space with
    # larger NDCG (MF) does not decide alone
    overall = {c: float(np.mean([t[c] / max(t.values()) for t in tried_all.values()])) for c in SPLIT_COSINES}
    glob = choose_split(overall)
    print(f"users per bucket: {users}")
    print(f"per space: {chosen}; one global cosine: {glob:+.1f} (mean share of each space's best "
          f"{overall[glob]:.3f}; always-3 {overall[1.0]:.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
