"""Build pipeline: build, skip, recover, tamper, load_model, CLI."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest

from engine.service import build as buildmod
from engine.data.catalogue import open_catalogue
from engine.core.config import catalogue_path
from engine.core.errors import ArtifactError, ModelNotBuiltError, UnknownModelError

from tests.models.synth_dataset import synthetic_dataset


@pytest.fixture
def ds():
    return synthetic_dataset()


def _build(ds, models="mf,sasrec", **kw):
    calls = []
    rep = buildmod.build(dataset=ds, models=models, epochs=2, progress=lambda f, m: calls.append((f, m)), **kw)
    return rep, calls


def test_build_skip_and_load(ds):
    rep, calls = _build(ds)
    assert {n: r["status"] for n, r in rep["models"].items()} == {"mf": "built", "sasrec": "built"}
    fr = [f for f, _ in calls]
    assert fr == sorted(fr) and fr[-1] == 1.0 and all(0 <= f <= 1 for f in fr)
    cat = open_catalogue(ds)
    vs = cat.get_vectors("sasrec")
    cat.close()
    assert vs.vectors.shape == (60, 2 * 64)                 # 2 members x hidden 64
    assert vs.config["build_key"] == rep["models"]["sasrec"]["key"]
    rep2, _ = _build(ds)
    assert {r["status"] for r in rep2["models"].values()} == {"skipped"}
    m = buildmod.load_model(ds.name, "sasrec")
    s = m.score([101, 102, 103], np.array([104, 105, 999]))
    assert s.shape == (3,) and s[2] == -np.inf
    assert np.array_equal(m.item_embeddings(), vs.vectors)


def test_build_text_embeds_every_movie(ds):
    rep, _ = _build(ds, models="text")
    assert rep["models"]["text"]["n"] == len(ds.movies)          # unrated movies included
    q = buildmod.load_model(ds, "text").encode_queries(["space robots"])
    assert q.shape == (1, rep["models"]["text"]["dim"])


def test_config_change_rebuilds(ds):
    _build(ds, models="mf")
    rep = buildmod.build(dataset=ds, models="mf", epochs=3)
    assert rep["models"]["mf"]["status"] == "built"
    files = list((catalogue_path(ds.name).parent / "models").glob("mf-*.npz"))
    assert len(files) == 1                                        # the stale weights are gone


def test_interrupted_build_restores_from_weights(ds):
    _build(ds, models="mf")
    cat = open_catalogue(ds)
    cat.delete_vectors("mf")                                      # as if killed before put_vectors
    cat.put_json("build:mf", None)
    cat.close()
    rep, _ = _build(ds, models="mf")
    assert rep["models"]["mf"]["status"] == "restored"


def test_tampered_vectors_are_detected_and_rebuilt(ds):
    _build(ds, models="mf")
    con = sqlite3.connect(catalogue_path(ds.name))
    blob = bytearray(con.execute('SELECT vectors FROM "vec_mf" WHERE chunk = 0').fetchone()[0])
    blob[0:4] = np.float32(123.0).tobytes()
    con.execute('UPDATE "vec_mf" SET vectors = ? WHERE chunk = 0', (bytes(blob),))
    con.commit()
    con.close()
    cat = open_catalogue(ds)
    with pytest.raises(ArtifactError, match="engine build --models mf"):
        cat.get_vectors("mf")
    cat.close()
    rep, _ = _build(ds, models="mf")
    assert rep["models"]["mf"]["status"] == "restored"
    cat = open_catalogue(ds)
    assert cat.get_vectors("mf").vectors[0, 0] != 123.0
    cat.close()


def test_tampered_weights_raise_with_rebuild_hint(ds):
    rep, _ = _build(ds, models="mf")
    path = rep["models"]["mf"]["path"]
    raw = bytearray(open(path, "rb").read())
    raw[len(raw) // 2] ^= 0xFF
    open(path, "wb").write(bytes(raw))
    buildmod._LOADED.clear()
    with pytest.raises(ArtifactError, match="engine build"):
        buildmod.load_model(ds.name, "mf")


def test_not_built_and_unknown(ds):
    with pytest.raises(ModelNotBuiltError, match="engine build"):
        buildmod.load_model("ml-100k", "sasrec")
    with pytest.raises(UnknownModelError):
        buildmod.build(dataset=ds, models="mf,lightgcn")
    with pytest.raises(UnknownModelError):
        buildmod.load_model("ml-100k", "lightgcn")


def test_cli_rejects_unknown_model(capsys):
    from engine.cli.main import main

    assert main(["build", "--models", "nope", "--json"]) == 2
    assert "Unknown model" in capsys.readouterr().err
    assert main(["evaluate", "--models", "nope"]) == 2


def test_build_widedeep_ranker_with_demographics(ds):
    """Wide & Deep is built on request, with the users' demographics when the data set has them."""
    from dataclasses import replace

    from tests.models.synth import users_frame

    ds = replace(ds, users=users_frame(ds.ratings["user_id"]))
    rep, _ = _build(ds, models="widedeep")
    info = rep["models"]["widedeep"]
    assert info["status"] == "built" and info["fit_info"]["epochs_run"] == 2
    assert info["fit_info"]["user_features"] == ["age", "gender", "occupation"]
    m = buildmod.load_model(ds.name, "widedeep")
    s = m.score([101, 102, 103], np.array([104, 105, 999]), user=1)
    assert s.shape == (3,) and s[2] == -np.inf and np.isfinite(s[:2]).all()


def test_text_spaces_record_their_encoder_and_old_vectors_get_it_on_rebuild(ds):
    from engine.models.use import PINNED_SHA256, USE_NAME

    _build(ds, models="use")
    cat = open_catalogue(ds)
    cfg = {v["model"]: v["config"] for v in cat.vector_info()}
    assert cfg["use"]["encoder"] == {"name": USE_NAME, "sha256": PINNED_SHA256["weights.npz"]}
    vs = cat.get_vectors("use")                              # as stored before identities existed
    old = {k: v for k, v in vs.config.items() if k != "encoder"}
    cat.put_vectors("use", vs.movie_ids, vs.vectors, old)
    manifest = cat.get_json("build:use")
    cat.put_json("build:use", manifest | {"vectors_hash": cat.get_vectors("use").content_hash})
    rep = buildmod.build(dataset=ds, models="use")
    assert rep["models"]["use"]["status"] == "restored"     # re-stored from the weights, not re-embedded
    assert {v["model"]: v["config"] for v in open_catalogue(ds).vector_info()}["use"]["encoder"]["name"] == USE_NAME
