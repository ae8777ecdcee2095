"""Cold-start vectors: how well a movie's MF / SASRec vector is predicted from its text vector.

Usage (from the repo root, after ``python -m engine build``)::

    python benchmarks/bench_coldstart.py [--datasets ml-100k,ml-latest-small] [--seed 0]

Per data set: 10 % of the movies that have both vectors are held out (seeded).  The maps of
:mod:`engine.recsys.coldstart` (ridge, kNN; alpha / k chosen on a validation split of the other
90 %, which is also how the app chooses between them) learn text -> ratings space from the 90 %,
from each text space (``text`` = MiniLM, ``use`` = USE multilingual), and predict the held-out
movies' vectors.  Against the held-out movies' true (learned) vectors, with two baselines:
``random`` (Gaussian vectors) and ``popularity`` (every held-out movie gets the mean direction of
the 100 most-rated movies), it reports

- overlap@10: share of the 10 nearest (training) movies a predicted vector has in common with the
  true vector's 10 nearest;
- HR@10 watchers: for each rating of a held-out movie, the user's taste vector (mean of the unit
  vectors of what they rated before it, held-out movies excluded, last 50) ranks every movie they
  have not rated before, the held-out movie with the method's vector and every other movie with its
  learned one (one new movie at a time, as when an operator adds one): how often the held-out movie
  is in the top 10, and its median rank percentile (ties count half);
- HR@10 others: the same for as many users who never rated it (their last 50 ratings): a vector that
  is recommended to everyone (a popular direction) scores high on watchers and on others alike;
  ``lift`` = HR@10 watchers / HR@10 others says how much the vector tells the two apart.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.core.arrays import normalize  # noqa: E402
from engine.data.catalogue import open_catalogue  # noqa: E402
from engine.data.dataset import load_dataset  # noqa: E402
from engine.recsys import coldstart  # noqa: E402

HISTORY = 50


def pairs(ratings, held: np.ndarray, known: np.ndarray, seed: int):
    """Watchers: (histories, target per pair) for every rating of a held-out movie with a history
    before it; others: as many (history, target) pairs of users who never rated the target."""
    r = ratings.sort_values(["user_id", "timestamp"], kind="stable")
    held_set, known_set = set(held.tolist()), set(known.tolist())
    hist, target, last, rated = [], [], {}, {}
    for u, g in r.groupby("user_id", sort=False):
        ms, ts = g["movie_id"].to_numpy(np.int64), g["timestamp"].to_numpy(np.int64)
        rated[u] = set(ms.tolist())
        last[u] = [x for x in ms.tolist() if x in known_set and x not in held_set][-HISTORY:]
        for i, (m, t) in enumerate(zip(ms.tolist(), ts.tolist())):
            if m in held_set:
                before = [x for x, tt in zip(ms[:i].tolist(), ts[:i].tolist()) if tt < t and x in known_set
                          and x not in held_set][-HISTORY:]
                if before:
                    hist.append(before)
                    target.append(m)
    rng = np.random.default_rng(seed)
    users = [u for u in last if last[u]]
    o_hist, o_target = [], []
    for m in target:
        for _ in range(20):  # a user who never rated m
            u = users[int(rng.integers(len(users)))]
            if m not in rated[u]:
                o_hist.append(last[u])
                o_target.append(m)
                break
    return (hist, np.asarray(target, np.int64)), (o_hist, np.asarray(o_target, np.int64))


def rank_metrics(ids: np.ndarray, unit: np.ndarray, pred: dict[int, np.ndarray], hist: list[list[int]],
                 target: np.ndarray) -> tuple[float, float]:
    """(HR@10, median rank percentile) of each pair's target, placed at ``pred[target]`` while every
    other movie keeps its vector in ``unit``, among all movies not in the pair's history."""
    row = {int(m): i for i, m in enumerate(ids)}
    hits, pct = [], []
    for start in range(0, len(hist), 2000):
        hs = hist[start:start + 2000]
        taste = normalize(np.stack([unit[[row[m] for m in h]].mean(0) for h in hs]))
        scores = taste @ unit.T
        for j, h in enumerate(hs):
            m = int(target[start + j])
            s = scores[j]
            s[[row[x] for x in h]] = -np.inf
            s[row[m]] = -np.inf
            mine = float(taste[j] @ pred[m])
            better = float((s > mine).sum() + 0.5 * (s == mine).sum())
            hits.append(better < 10)
            pct.append(better / (np.isfinite(s).sum()))
    return float(np.mean(hits)), float(np.median(pct))


def bench(name: str, seed: int) -> None:
    ds = load_dataset(name)
    cat = open_catalogue(ds)
    have = {v["model"] for v in cat.vector_info()}
    targets = [m for m in ("mf", "sasrec") if m in have]
    sources = [m for m in ("text", "use") if m in have]
    missing = [m for m in ("mf", "sasrec", "text", "use") if m not in have]
    print(f"\n{name}: targets {', '.join(targets)}; inputs {', '.join(sources)}"
          + (f" (not built here: {', '.join(missing)})" if missing else ""))
    counts = ds.ratings["movie_id"].value_counts()
    print(f"{'target':<7}{'input':<6}{'method':<27}{'overlap@10':>11}{'HR@10 watchers':>16}{'median rank %':>15}"
          f"{'HR@10 others':>14}{'lift':>7}")
    for target in targets:
        tv = cat.get_vectors(target)
        common = tv.movie_ids
        for s in sources:
            common = np.intersect1d(common, cat.get_vectors(s).movie_ids)
        train_rows, test_rows = coldstart.split(len(common), seed=seed)
        train, held = common[train_rows], common[test_rows]
        y_all = normalize(tv.vectors[np.searchsorted(tv.movie_ids, common)])
        y_train, y_held = y_all[train_rows], y_all[test_rows]
        (hist, tgt), (o_hist, o_tgt) = pairs(ds.ratings, held, common, seed)

        def report(label: str, source: str, pred: np.ndarray) -> None:
            ov = coldstart.overlap_at_k(pred, y_held, y_train).mean()
            by_id = dict(zip(held.tolist(), normalize(pred)))
            hr, pct = rank_metrics(common, y_all, by_id, hist, tgt)
            hr_o, _ = rank_metrics(common, y_all, by_id, o_hist, o_tgt)
            lift = f"{hr / hr_o:>7.1f}" if hr_o > 0 else f"{'-':>7}"
            print(f"{target:<7}{source:<6}{label:<27}{ov:>11.3f}{hr:>16.3f}{100 * pct:>14.1f}%{hr_o:>14.3f}{lift}",
                  flush=True)

        report("true vectors", "-", y_held)
        for s in sources:
            sv = cat.get_vectors(s)
            x = sv.vectors[np.searchsorted(sv.movie_ids, common)]
            fitted = {}
            for method in ("ridge", "knn"):
                m = coldstart.choose({s: (common[train_rows], x[train_rows])}, target, train, tv.vectors[
                    np.searchsorted(tv.movie_ids, train)], seed=seed, methods=(method,))
                fitted[method] = m
            best = max(fitted.values(), key=lambda m: m.validation)
            for method, m in fitted.items():
                star = "*" if m is best else " "
                par = f"alpha={m.param:g}" if method == "ridge" else f"k={int(m.param)}"
                report(f"{method} {par} (v {m.validation:.2f}){star}", s, m.predict(x[test_rows]))
        rng = np.random.default_rng(seed)
        report("random", "-", rng.normal(size=y_held.shape).astype(np.float32))
        top = counts.reindex(train).fillna(0).sort_values(ascending=False).index[:100].to_numpy(np.int64)
        mean = normalize(y_all[np.searchsorted(common, top)].mean(0, keepdims=True))
        report("popularity", "-", np.repeat(mean, len(held), axis=0))
        print(f"  ({len(train)} training movies, {len(held)} held out, {len(tgt)} ratings of held-out movies "
              f"with a history, {len(o_tgt)} other users; * = chosen on validation, v = its validation overlap@10)")
    cat.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--datasets", default="ml-100k,ml-latest-small")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print("command: python benchmarks/bench_coldstart.py " + " ".join(sys.argv[1:]), flush=True)
    for name in [d.strip() for d in args.datasets.split(",") if d.strip()]:
        bench(name, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
