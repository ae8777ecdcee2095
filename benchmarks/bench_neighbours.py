"""Do a space's movie vectors make sensible neighbours? Genre overlap and co-click agreement of top-10 neighbours.

Usage (from the repo root, after ``python -m engine build``)::

    python benchmarks/bench_neighbours.py [--dataset ml-100k] [--data-dir DIR] [--min-ratings 20]

For every built space in the catalogue and every movie with at least ``--min-ratings`` ratings:
the mean genre Jaccard between the movie and its 10 nearest neighbours by cosine, the share of
those neighbours among the 50 movies most often clicked by the same users, and |Spearman| between
the vectors' norms and popularity; then the 5 nearest neighbours of a few well-known movies.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from engine.data.catalogue import open_catalogue  # noqa: E402
from engine.data.dataset import load_dataset  # noqa: E402
from engine.vectors.contract import normalize  # noqa: E402

EXAMPLES = ("Star Wars", "Toy Story", "Return of the Jedi", "Scream")


def main() -> int:
    from scipy.stats import spearmanr

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--data-dir", default=None)
    ap.add_argument("--min-ratings", type=int, default=20)
    args = ap.parse_args()
    print("command: python benchmarks/bench_neighbours.py " + " ".join(sys.argv[1:]), flush=True)
    ds = load_dataset(args.dataset, args.data_dir)
    cat = open_catalogue(ds)
    r = ds.ratings
    items = np.unique(r["movie_id"].to_numpy())
    col = {int(m): i for i, m in enumerate(items)}
    users = r["user_id"].astype("category").cat.codes.to_numpy()
    X = np.zeros((users.max() + 1, len(items)), dtype=np.float32)              # users x movies clicks
    X[users, [col[int(m)] for m in r["movie_id"]]] = 1.0
    co = X.T @ X                                                                  # co-click counts
    np.fill_diagonal(co, 0)
    counts = X.sum(0)
    genres = {int(k): set(v) for k, v in ds.movies.set_index("movie_id")["genres"].items()}
    titles = ds.movies.set_index("movie_id")["title"].to_dict()
    queries = items[counts >= args.min_ratings]
    spaces = {v["model"]: cat.get_vectors(v["model"]) for v in cat.vector_info()}
    print(f"{ds.name}: {len(queries)} movies with >= {args.min_ratings} ratings; top-10 cosine neighbours")
    print(f"{'space':<10}{'genre Jaccard':>14}{'in top-50 co-clicked':>22}{'|Spearman norm, pop|':>22}")
    for name, vs in spaces.items():
        keep = np.isin(vs.movie_ids, items)
        ids, unit = vs.movie_ids[keep], normalize(vs.vectors[keep])
        row = {int(m): i for i, m in enumerate(ids)}
        jac, agree = [], []
        for q in queries:
            s = unit @ unit[row[int(q)]]
            s[row[int(q)]] = -np.inf
            nn = ids[np.argsort(-s)[:10]]
            g = genres[int(q)]
            jac.append(np.mean([len(g & genres[int(n)]) / max(1, len(g | genres[int(n)])) for n in nn]))
            top = set(items[np.argsort(-co[col[int(q)]])[:50]].tolist())
            agree.append(np.mean([int(n) in top for n in nn]))
        rho = spearmanr(np.linalg.norm(vs.vectors[keep], axis=1), counts[[col[int(m)] for m in ids]]).correlation
        print(f"{name:<10}{np.mean(jac):>14.3f}{np.mean(agree):>22.3f}{abs(rho):>22.2f}")
    for title in EXAMPLES:
        hit = ds.movies[ds.movies["title"] == title]
        if not len(hit):
            continue
        q = int(hit["movie_id"].iloc[0])
        print(f"\n{title}:")
        for name, vs in spaces.items():
            unit = normalize(vs.vectors)
            i = int(np.flatnonzero(vs.movie_ids == q)[0])
            s = unit @ unit[i]
            s[i] = -np.inf
            print(f"  {name:<9}" + "; ".join(str(titles[int(vs.movie_ids[j])])[:30] for j in np.argsort(-s)[:5]))
    cat.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
