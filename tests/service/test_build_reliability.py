"""Build manifests survive a moved cache, a missing ``path``, and corrupt weights."""

from __future__ import annotations

import shutil

import pytest

from engine.service import build as buildmod
from engine.core.config import catalogue_path, dataset_cache_dir
from engine.data.catalogue import Catalogue
from engine.core.errors import ArtifactError, MovieDNAError

from tests.models.synth_dataset import synthetic_dataset


@pytest.fixture
def ds():
    return synthetic_dataset()


def _manifest(ds, name):
    cat = Catalogue(catalogue_path(ds.name))
    try:
        return cat.get_json(f"build:{name}")
    finally:
        cat.close()


def _set_manifest(ds, name, value):
    cat = Catalogue(catalogue_path(ds.name))
    cat.put_json(f"build:{name}", value)
    cat.close()


def test_manifest_path_is_relative_and_a_moved_cache_still_loads(ds, tmp_path, monkeypatch):
    buildmod.build(dataset=ds, models="mf", epochs=2)
    assert _manifest(ds, "mf")["path"].startswith("models/mf-")
    moved = tmp_path / "moved-cache"
    shutil.copytree(dataset_cache_dir(ds.name).parent, moved)
    shutil.rmtree(dataset_cache_dir(ds.name).parent)            # the old place is gone
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(moved))
    buildmod._LOADED.clear()
    assert buildmod.load_model(ds.name, "mf").item_embeddings().shape[0] == 60
    rep = buildmod.build(dataset=ds, models="mf", epochs=2)
    assert rep["models"]["mf"]["status"] == "skipped"


def test_old_absolute_manifest_is_read_by_file_name(ds, tmp_path):
    buildmod.build(dataset=ds, models="mf", epochs=2)
    m = _manifest(ds, "mf")
    m["path"] = str(tmp_path / "somewhere-else" / m["path"].split("/")[-1])  # an old, absolute, stale path
    _set_manifest(ds, "mf", m)
    buildmod._LOADED.clear()
    assert buildmod.load_model(ds.name, "mf") is not None


@pytest.mark.parametrize("damage", ["no_path", "path_none", "no_model_hash", "not_a_dict"])
def test_damaged_manifest_gives_a_named_error_or_recovers(ds, damage):
    buildmod.build(dataset=ds, models="mf", epochs=2)
    m = _manifest(ds, "mf")
    if damage == "no_path":
        del m["path"]
    elif damage == "path_none":
        m["path"] = None
    elif damage == "no_model_hash":
        del m["model_hash"]
    else:
        m = ["not", "a", "manifest"]
    _set_manifest(ds, "mf", m)
    buildmod._LOADED.clear()
    if damage in ("no_path", "path_none"):      # the weights' name follows from the build key
        assert buildmod.load_model(ds.name, "mf") is not None
    else:
        with pytest.raises(ArtifactError, match="engine build"):
            buildmod.load_model(ds.name, "mf")
    rep = buildmod.build(dataset=ds, models="mf", epochs=2)  # and the build repairs the record
    assert rep["models"]["mf"]["status"] in ("skipped", "restored")
    buildmod._LOADED.clear()
    assert buildmod.load_model(ds.name, "mf") is not None


def test_manifest_without_path_or_key_is_a_named_error(ds):
    """What the CLI turns into one sentence and exit 2 (before: KeyError traceback, exit 1)."""
    buildmod.build(dataset=ds, models="mf", epochs=2)
    m = _manifest(ds, "mf")
    del m["path"], m["key"]
    _set_manifest(ds, "mf", m)
    buildmod._LOADED.clear()
    with pytest.raises(MovieDNAError, match="engine build"):
        buildmod.load_model(ds.name, "mf")


@pytest.mark.parametrize("name", ["mf", "text"])
def test_corrupt_weights_are_not_skipped(ds, name):
    rep = buildmod.build(dataset=ds, models=name, epochs=2)
    path = rep["models"][name]["path"]
    raw = bytearray(open(path, "rb").read())
    raw[len(raw) // 2] ^= 0xFF
    open(path, "wb").write(bytes(raw))
    rep2 = buildmod.build(dataset=ds, models=name, epochs=2)
    assert rep2["models"][name]["status"] == "built"              # retrained, not "skipped"
    buildmod._LOADED.clear()
    assert buildmod.load_model(ds.name, name) is not None          # and the new weights verify


def test_engine_rejects_vectors_its_build_did_not_write(ds, tmp_path):
    """Hash-consistent vectors of another dimension written under mf's name (through the API, so
    their own hash is valid) are caught against the build record; rebuilding heals."""
    import numpy as np

    from engine.data.catalogue import open_catalogue
    from engine.service import Engine

    buildmod.build(dataset=ds, models="mf", epochs=2)
    cat = open_catalogue(ds)
    good = cat.get_vectors("mf")
    cat.put_vectors("mf", good.movie_ids, np.ones((len(good.movie_ids), 3), np.float32), good.config)
    eng = Engine(ds.name, catalogue=cat, index_dir=tmp_path)
    with pytest.raises(ArtifactError, match="build --dataset .* --models mf"):
        eng.similar(int(good.movie_ids[0]), "mf", k=3)
    rep = buildmod.build(dataset=ds, models="mf", epochs=2)
    assert rep["models"]["mf"]["status"] == "restored"
    assert Engine(ds.name, catalogue=open_catalogue(ds), index_dir=tmp_path).similar(
        int(good.movie_ids[0]), "mf", k=3).items
