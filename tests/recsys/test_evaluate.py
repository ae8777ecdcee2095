"""Offline evaluation end to end on a tiny synthetic data set."""

from __future__ import annotations

import pytest

from engine.data.catalogue import open_catalogue
from engine.errors import DataFormatError, UnknownModelError
from engine.recsys.evaluate import evaluate, format_table

from tests.models.synth_dataset import synthetic_dataset


def test_evaluate_all_models_and_store():
    ds = synthetic_dataset()
    res = evaluate(dataset=ds, models="popularity,mf,sasrec,text", epochs=4, n_negatives=20)
    assert set(res["models"]) == {"popularity", "mf", "sasrec", "text"}
    for name, r in res["models"].items():
        for proto in ("sampled", "full", "valid_full"):
            assert 0.0 <= r[proto]["ndcg@10"] <= r[proto]["hr@10"] <= 1.0, (name, proto)
            assert r[proto]["users"] == res["split"]["users"]
        assert r["train_seconds"] >= 0
    assert res["split"]["users"] == 60
    cat = open_catalogue(ds)
    try:
        stored = cat.get_json("evaluation")
    finally:
        cat.close()
    assert stored["models"]["mf"]["full"] == res["models"]["mf"]["full"]
    assert "popularity" in format_table(res)


def test_evaluation_is_deterministic():
    ds = synthetic_dataset(n_users=40)
    a = evaluate(dataset=ds, models="popularity,mf", epochs=3, n_negatives=20, store=False)
    b = evaluate(dataset=ds, models="popularity,mf", epochs=3, n_negatives=20, store=False)
    assert a["models"]["mf"]["sampled"] == b["models"]["mf"]["sampled"]


def test_unknown_model_and_empty_data():
    ds = synthetic_dataset(n_users=20)
    with pytest.raises(UnknownModelError):
        evaluate(dataset=ds, models="mf,bert4rec", store=False)
    empty = synthetic_dataset(n_users=20)
    object.__setattr__(empty, "ratings", empty.ratings.iloc[:0])
    with pytest.raises(DataFormatError):
        evaluate(dataset=empty, models="mf", store=False)
