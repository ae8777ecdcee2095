"""The synthetic MovieLens-latest catalogue: layout, determinism, and the structure it plants."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data.synth import GENRES, NO_GENRES, SynthConfig, SynthConfigError, make_catalogue, write_synthetic

SMALL = SynthConfig(movies=1500, users=600, ratings=60_000, seed=3, overviews=True, chunk_ratings=20_000)


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    report = write_synthetic(out, SMALL)
    return out, report


def test_layout_and_counts(small):
    out, report = small
    movies = pd.read_csv(out / "movies.csv")
    ratings = pd.read_csv(out / "ratings.csv")
    tags = pd.read_csv(out / "tags.csv")
    assert list(movies.columns) == ["movieId", "title", "genres", "year", "overview"]
    assert list(ratings.columns) == ["userId", "movieId", "rating", "timestamp"]
    assert list(tags.columns) == ["userId", "movieId", "tag", "timestamp"]
    assert (report.movies, report.users, report.ratings) == (1500, 600, 60_000)
    assert len(movies) == 1500 and movies["movieId"].is_unique
    assert len(ratings) == 60_000 and ratings["userId"].nunique() == 600
    assert not ratings.duplicated(["userId", "movieId"]).any()
    assert ratings["movieId"].isin(movies["movieId"]).all() and tags["movieId"].isin(movies["movieId"]).all()
    assert set(np.unique(ratings["rating"])) <= set(np.arange(1, 11) / 2)
    assert 3.0 < ratings["rating"].mean() < 4.0
    # time-ordered histories: the file is grouped by user and non-decreasing in time within a user
    assert (np.diff(ratings["userId"].to_numpy()) >= 0).all()
    assert (ratings.groupby("userId")["timestamp"].diff().dropna() >= 0).all()
    assert movies["title"].str.match(r".+ \(\d{4}\)$").all()
    assert movies["title"].str.slice(-5, -1).astype(int).equals(movies["year"])
    genre_sets = movies["genres"].str.split("|")
    assert all(set(g) <= set(GENRES) or g == [NO_GENRES] for g in genre_sets)
    assert movies["overview"].str.len().min() > 20


def test_same_seed_same_bytes_any_chunk_size(small, tmp_path):
    out, _ = small
    again = write_synthetic(tmp_path / "a", SMALL)
    assert again.ratings == 60_000
    for name in ("movies.csv", "ratings.csv", "tags.csv"):
        assert (tmp_path / "a" / name).read_bytes() == (out / name).read_bytes(), name
    other = write_synthetic(tmp_path / "b", SynthConfig(**{**SMALL.__dict__, "seed": 4}))
    assert (tmp_path / "b" / "ratings.csv").read_bytes() != (out / "ratings.csv").read_bytes()
    assert other.ratings == 60_000


def test_popularity_is_heavy_tailed_and_genres_realistic(small):
    out, _ = small
    ratings = pd.read_csv(out / "ratings.csv")
    movies = pd.read_csv(out / "movies.csv")
    counts = ratings["movieId"].value_counts().to_numpy()
    top1, top10 = (counts[: len(movies) * p // 100].sum() / counts.sum() for p in (1, 10))
    # uniform popularity would give 1% and 10%; this dense toy set has ~8% and ~40%
    assert top1 > 0.06 and top10 > 0.35, (top1, top10)
    share = movies["genres"].str.split("|").explode().value_counts(normalize=True)
    assert share.index[0] == "Drama" and share["Drama"] > 2 * share["Action"]
    assert (movies["genres"] == NO_GENRES).mean() == pytest.approx(0.08, abs=0.03)


def test_planted_successor_pattern_beats_popularity(small):
    """Next movie = successor(previous) much more often than next = the most popular unseen movie."""
    out, _ = small
    cat = make_catalogue(SMALL)
    pos = {int(m): i for i, m in enumerate(cat.movie_ids)}
    r = pd.read_csv(out / "ratings.csv")
    items = r["movieId"].map(pos).to_numpy()
    same_user = r["userId"].to_numpy()[1:] == r["userId"].to_numpy()[:-1]
    prev, nxt = items[:-1][same_user], items[1:][same_user]
    successor_hit = float((cat.successor[prev] == nxt).mean())
    most_popular = np.argsort(-cat.popularity)[0]
    popular_hit = float((nxt == most_popular).mean())
    assert successor_hit > 0.2
    assert successor_hit > 10 * popular_hit
    assert (cat.successor != np.arange(len(cat.successor))).all()


def _genre_spread(r: pd.DataFrame, genres: pd.Series) -> float:
    """Mean over users of the L1 distance between their genre mix and the overall mix."""
    per = r[["userId"]].assign(genre=r["movieId"].map(genres)).explode("genre")
    mix = pd.crosstab(per["userId"], per["genre"], normalize="index")
    overall = per["genre"].value_counts(normalize=True).reindex(mix.columns)
    return float((mix - overall).abs().sum(axis=1).mean())


def test_users_prefer_genres(small):
    """Users' genre mixes differ from the overall mix far more than with their movies shuffled among users."""
    out, _ = small
    r = pd.read_csv(out / "ratings.csv")
    genres = pd.read_csv(out / "movies.csv").set_index("movieId")["genres"].str.split("|")
    shuffled = r.assign(movieId=np.random.default_rng(0).permutation(r["movieId"].to_numpy()))
    real, null = _genre_spread(r, genres), _genre_spread(shuffled, genres)
    assert real > 1.35 * null, (real, null)   # ml-latest-small itself: 0.40 vs 0.21


@pytest.mark.parametrize("kwargs, match", [
    ({"movies": 5}, "at least 10"),
    ({"users": 100, "ratings": 50}, "at least --users"),
    ({"movies": 20, "users": 10, "ratings": 150}, "half of users x movies"),
    ({"follow_prob": 1.0}, "follow_prob"),
])
def test_bad_config(kwargs, match, tmp_path):
    with pytest.raises(SynthConfigError, match=match):
        write_synthetic(tmp_path, SynthConfig(**kwargs))
    assert not (tmp_path / "ratings.csv").exists()


def test_without_overviews_or_tags(tmp_path):
    write_synthetic(tmp_path, SynthConfig(movies=50, users=20, ratings=400, tags_per_rating=0.0))
    assert list(pd.read_csv(tmp_path / "movies.csv").columns) == ["movieId", "title", "genres"]
    assert not (tmp_path / "tags.csv").exists()
    assert not list(tmp_path.glob(".*part"))
