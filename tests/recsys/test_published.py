"""The evaluation published with the code (engine/published/evaluation-<data set>.json): verified
on load by its own sha256, the data set's content hash and every model's evaluation settings."""

from __future__ import annotations

import dataclasses
import json

import pytest

from engine.data.catalogue import open_catalogue
from engine.errors import MovieDNAError
from engine.recsys import evaluate as E
from engine.recsys.evaluate import current_evaluation, evaluate, publish_evaluation, published_evaluation

from tests.models.synth_dataset import synthetic_dataset


@pytest.fixture(scope="module")
def result():
    ds = synthetic_dataset(n_users=40)
    return ds, evaluate(dataset=ds, models="popularity,mf", n_negatives=20, store=False, stages=False)


def test_round_trip_verified(tmp_path, result):
    ds, res = result
    path = publish_evaluation(res, tmp_path)
    assert path.name == f"evaluation-{ds.name}.json"
    got = published_evaluation(ds.name, ds.content_hash, tmp_path)
    assert got is not None and got["models"]["mf"]["full"] == res["models"]["mf"]["full"]
    assert got["machine"]["cpus"] >= 1 and "sha256" not in got


def test_edited_file_other_data_or_settings_are_refused(tmp_path, result, monkeypatch):
    ds, res = result
    path = publish_evaluation(res, tmp_path)
    assert published_evaluation(ds.name, "another-hash", tmp_path) is None          # other ratings / movies
    assert published_evaluation(ds.name, None, tmp_path) is None
    blob = json.loads(path.read_text())
    blob["models"]["mf"]["full"]["ndcg@10"] = 0.99                                   # edited: sha256 no longer fits
    path.write_text(json.dumps(blob))
    assert published_evaluation(ds.name, ds.content_hash, tmp_path) is None
    path.write_text("{not json")
    assert published_evaluation(ds.name, ds.content_hash, tmp_path) is None
    # the code's MF settings changed since the file was measured: the figures describe another model
    publish_evaluation(res, tmp_path)
    real = E.eval_config
    monkeypatch.setattr(E, "eval_config", lambda name, *a, **k: dataclasses.replace(real(name), reg=real("mf").reg + 1)
                        if name == "mf" else real(name, *a, **k))
    assert published_evaluation(ds.name, ds.content_hash, tmp_path) is None


def test_missing_file_and_bad_names(tmp_path):
    assert published_evaluation("ml-100k", "x", tmp_path) is None
    assert published_evaluation("../etc", "x", tmp_path) is None                      # validated, never a path
    with pytest.raises(MovieDNAError):
        E.published_path("../etc", tmp_path)


def test_local_evaluation_comes_first(tmp_path, result, monkeypatch):
    ds, res = result
    monkeypatch.setattr(E, "PUBLISHED_DIR", tmp_path)
    cat = open_catalogue(ds)
    try:
        cat.put_json("evaluation", {})
        assert current_evaluation(cat, ds.name, ds.content_hash) is None
        publish_evaluation(res, tmp_path)
        ev, source = current_evaluation(cat, ds.name, ds.content_hash)
        assert source == "published" and ev["models"]["mf"] == json.loads(json.dumps(res["models"]["mf"]))
        cat.put_json("evaluation", res)
        assert current_evaluation(cat, ds.name, ds.content_hash)[1] == "local"
    finally:
        cat.close()
