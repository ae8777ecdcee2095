"""engine.core.config: data set names are checked before any path is built from them (every entry point:
cache paths, Engine, CLI); the operator's settings.  Name rules themselves: tests/data/test_custom.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.core import config
from engine.core.errors import InvalidNameError


@pytest.mark.parametrize("name", ["../escaped", "x" * 300])
def test_cache_paths_refuse_bad_names_before_touching_the_disk(name, isolated_cache):
    for fn in (config.dataset_cache_dir, config.catalogue_path):
        with pytest.raises(InvalidNameError):
            fn(name)
    assert not (isolated_cache.parent / "escaped").exists()


def test_absolute_name_creates_nothing_outside_the_cache(tmp_path, isolated_cache):
    target = tmp_path / "outside"
    with pytest.raises(InvalidNameError):
        config.dataset_cache_dir(str(target))
    assert not target.exists()


def test_engine_refuses_a_path_as_data_set(tmp_path):
    from engine.service import Engine

    target = tmp_path / "outside"
    with pytest.raises(InvalidNameError):
        Engine(str(target))
    with pytest.raises(InvalidNameError):
        Engine("../outside")
    assert not target.exists() and not (Path(config.cache_root()).parent / "outside").exists()


@pytest.mark.parametrize("name", ["../x", "ABSOLUTE", "y" * 300])
def test_cli_dataset_option_is_checked(name, capsys, isolated_cache, tmp_path):
    from engine.cli import main

    outside = tmp_path / "outside"
    name = str(outside) if name == "ABSOLUTE" else name
    assert main(["similar", "Star Wars", "--dataset", name]) == 2
    err = capsys.readouterr().err
    assert "not allowed" in err and "Traceback" not in err
    assert not outside.exists() and not (isolated_cache.parent / "x").exists()


def test_paths_create_nothing(tmp_path, monkeypatch):
    root = tmp_path / "not-yet"
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(root))
    assert config.cache_root() == root
    assert config.dataset_cache_dir("foo") == root / "foo"
    assert config.catalogue_path("foo") == root / "foo" / "catalogue.sqlite"
    assert not root.exists()
    assert config.dataset_cache_dir("foo", create=True).is_dir()   # a writer asks for it
    assert config.cache_root(create=True).is_dir()


@pytest.mark.parametrize("argv", [
    ["similar", "Star Wars", "--dataset", "foo"],
    ["recommend", "--dataset", "foo", "--clicks", "1"],
    ["data", "--dataset", "foo"],
    ["keyword", "space", "--dataset", "foo"],
])
def test_commands_on_an_unknown_data_set_create_nothing(argv, capsys, tmp_path, monkeypatch):
    from engine.cli import main

    root = tmp_path / "fresh-cache"
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(root))
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "foo" in err and "Traceback" not in err and err.count("\n") == 1
    assert not root.exists()


def test_settings_from_env(monkeypatch):
    for var in ("MOVIEDNA_DATASETS", "MOVIEDNA_BACKENDS", "MOVIEDNA_LIVE_MAX_N", "MOVIEDNA_LIVE_MAX_SECONDS"):
        monkeypatch.delenv(var, raising=False)
    s = config.Settings.from_env()
    assert s.datasets == ("ml-100k",) and s.backends == ("faiss",)
    assert s.live_max_n == config.DEFAULT_LIVE_MAX_N and s.live_max_seconds == config.DEFAULT_LIVE_MAX_SECONDS
    monkeypatch.setenv("MOVIEDNA_DATASET", "ml-1m")
    monkeypatch.setenv("MOVIEDNA_DATASETS", " ml-25m, ,ml-1m")
    monkeypatch.setenv("MOVIEDNA_BACKENDS", "FAISS,pgvector")
    monkeypatch.setenv("MOVIEDNA_LIVE_MAX_N", "10**9")  # unreadable -> default
    s = config.Settings.from_env()
    assert s.datasets == ("ml-1m", "ml-25m") and s.backends == ("faiss", "pgvector")
    assert s.live_max_n == config.DEFAULT_LIVE_MAX_N
    monkeypatch.setenv("MOVIEDNA_LIVE_MAX_N", "1_000_000_000")  # clamped to the hard ceiling
    assert config.Settings.from_env().live_max_n == config.LIVE_HARD_MAX_N
