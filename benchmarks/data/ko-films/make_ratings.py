"""Write ratings.csv for the Korean test catalogue: seeded synthetic users with genre tastes.

    python benchmarks/data/ko-films/make_ratings.py

Each user likes two genres; a user rates 15-45 movies drawn with probability proportional to the
movie's popularity (log-normal, seeded) times 4 for a liked genre; ratings are 3 + 1 per liked
genre + noise, clipped to 0.5-5 in half stars; timestamps increase per user.  Same seed, same file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
SEED, USERS = 21, 250


def main() -> None:
    rng = np.random.default_rng(SEED)
    with open(HERE / "movies.csv", encoding="utf-8", newline="") as f:
        movies = list(csv.DictReader(f))
    ids = np.array([int(m["movieId"]) for m in movies])
    genres = [set(m["genres"].split("|")) for m in movies]
    names = sorted(set().union(*genres) - {"IMAX"})
    popularity = rng.lognormal(0.0, 1.0, len(movies))
    rows = []
    for user in range(1, USERS + 1):
        liked = set(rng.choice(names, 2, replace=False).tolist())
        match = np.array([len(g & liked) for g in genres])
        p = popularity * np.where(match > 0, 4.0, 1.0)
        n = int(rng.integers(15, 46))
        seen = rng.choice(len(movies), n, replace=False, p=p / p.sum())
        t = 1_600_000_000 + int(rng.integers(0, 50_000_000))
        for i in seen:
            stars = np.clip(np.round((3.0 + match[i] + rng.normal(0, 0.8)) * 2) / 2, 0.5, 5.0)
            t += int(rng.integers(60, 86_400))
            rows.append((user, int(ids[i]), float(stars), t))
    with open(HERE / "ratings.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["userId", "movieId", "rating", "timestamp"])
        w.writerows(rows)


if __name__ == "__main__":
    main()
