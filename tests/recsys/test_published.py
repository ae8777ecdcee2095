"""The evaluation published with the code (engine/published/evaluation-<data set>.json): verified
on load by its own sha256, the data set's content hash, the protocol (k, negatives, seed) and every
model's evaluation settings; the pages show a stored evaluation first, unless it is malformed."""

from __future__ import annotations

import dataclasses
import json

import pytest

from engine.data.catalogue import open_catalogue
from engine.core.errors import MovieDNAError
from engine.recsys.evaluation import (Protocol, current_evaluation, evaluate, evaluation_key, measured_figures,
                                      publish_evaluation, published_evaluation, published_path)
from engine.recsys.evaluation import run as R

from tests.models.synth_dataset import synthetic_dataset

#: the tiny data set has too few movies for 100 negatives; the verifier is told which protocol it expects
PROTO = Protocol(negatives=20)


def published(ds, folder, data_hash="same", protocol=PROTO):
    return published_evaluation(ds.name, ds.content_hash if data_hash == "same" else data_hash, folder, protocol)


@pytest.fixture(scope="module")
def result():
    ds = synthetic_dataset(n_users=40)
    return ds, evaluate(dataset=ds, models="popularity,mf", n_negatives=PROTO.negatives, store=False, stages=False)


def test_round_trip_verified(tmp_path, result):
    ds, res = result
    path = publish_evaluation(res, tmp_path)
    assert path.name == f"evaluation-{ds.name}.json"
    got = published(ds, tmp_path)
    assert got is not None and got.source == "published" and got.protocol == PROTO
    assert got.model("mf").full.ndcg == res["models"]["mf"]["full"]["ndcg@10"]
    assert got.machine.cpus >= 1 and got.created == res["created"]


def test_edited_file_other_data_or_settings_are_refused(tmp_path, result, monkeypatch):
    ds, res = result
    path = publish_evaluation(res, tmp_path)
    assert published(ds, tmp_path, "another-hash") is None          # other ratings / movies
    assert published(ds, tmp_path, None) is None
    blob = json.loads(path.read_text())
    blob["models"]["mf"]["full"]["ndcg@10"] = 0.99                                   # edited: sha256 no longer fits
    path.write_text(json.dumps(blob))
    assert published(ds, tmp_path) is None
    path.write_text("{not json")
    assert published(ds, tmp_path) is None
    # the code's MF settings changed since the file was measured: the figures describe another model
    publish_evaluation(res, tmp_path)
    real = R.eval_config
    monkeypatch.setattr(R, "eval_config", lambda name, *a, **k: dataclasses.replace(real(name), reg=real("mf").reg + 1)
                        if name == "mf" else real(name, *a, **k))
    assert published(ds, tmp_path) is None


@pytest.mark.parametrize("change", [{"negatives": 30}, {"k": 5}, {"seed": 1}])
def test_a_file_measured_with_another_protocol_is_refused(tmp_path, result, change):
    """Home labels the columns "HR@10 sampled-100": a file measured with other negatives, k or seed
    (correctly signed, same data and settings) is not shown as this code's figures."""
    ds, res = result
    other = json.loads(json.dumps(res))
    other["protocol"].update(change)
    k = other["protocol"]["k"]
    for m in other["models"].values():                 # the figures under the keys that k writes
        for part in ("sampled", "full"):
            m[part] = {f"hr@{k}": m[part]["hr@10"], f"ndcg@{k}": m[part]["ndcg@10"], "users": m[part]["users"]}
    publish_evaluation(other, tmp_path)
    assert published(ds, tmp_path) is None
    publish_evaluation(res, tmp_path)
    assert published(ds, tmp_path) is not None
    # a caller that means the other protocol gets it
    publish_evaluation(other, tmp_path)
    assert published(ds, tmp_path, protocol=dataclasses.replace(PROTO, **change)) is not None
    assert published_evaluation(ds.name, ds.content_hash, tmp_path) is None          # this code's default protocol


def test_missing_file_and_bad_names(tmp_path):
    assert published_evaluation("ml-100k", "x", tmp_path) is None
    assert published_evaluation("../etc", "x", tmp_path) is None                      # validated, never a path
    with pytest.raises(MovieDNAError):
        published_path("../etc", tmp_path)


def test_local_evaluation_comes_first(tmp_path, result):
    ds, res = result
    cat = open_catalogue(ds)
    try:
        cat.put_json("evaluation", {})
        assert current_evaluation(cat, ds.name, ds.content_hash, tmp_path, PROTO) is None
        publish_evaluation(res, tmp_path)
        ev = current_evaluation(cat, ds.name, ds.content_hash, tmp_path, PROTO)
        assert ev.source == "published" and ev.model("mf").sampled.hr == res["models"]["mf"]["sampled"]["hr@10"]
        cat.put_json("evaluation", res)
        assert current_evaluation(cat, ds.name, ds.content_hash, tmp_path, PROTO).source == "local"
        assert measured_figures(cat, ds.name, ds.content_hash, tmp_path, PROTO) is None      # measured without stages
    finally:
        cat.close()


@pytest.mark.parametrize("bad", [{"models": {"mf": {"sampled": 1}}},
                                 {"models": {"mf": {"sampled": {"hr@10": None}}}, "split": {"users": 3}}])
def test_a_malformed_stored_evaluation_falls_back_to_the_published_one(tmp_path, result, bad, caplog):
    """A damaged record in the catalogue is refused (logged) and the verified published file is
    shown, not a table of None and "? users"."""
    ds, res = result
    publish_evaluation(res, tmp_path)
    cat = open_catalogue(ds)
    try:
        cat.put_json("evaluation", bad)
        with caplog.at_level("WARNING"):
            ev = current_evaluation(cat, ds.name, ds.content_hash, tmp_path, PROTO)
        assert ev is not None and ev.source == "published"
        assert ev.split.users == res["split"]["users"]
        assert "stored evaluation refused" in caplog.text
    finally:
        cat.close()


def test_the_cache_key_follows_what_the_pages_would_read(tmp_path, result):
    ds, res = result
    cat = open_catalogue(ds)
    try:
        cat.put_json("evaluation", {})
        empty = evaluation_key(cat, ds.name, tmp_path)
        publish_evaluation(res, tmp_path)
        published = evaluation_key(cat, ds.name, tmp_path)
        cat.put_json("evaluation", res)
        stored = evaluation_key(cat, ds.name, tmp_path)
        assert len({empty, published, stored}) == 3 and evaluation_key(cat, ds.name, tmp_path) == stored
    finally:
        cat.close()
