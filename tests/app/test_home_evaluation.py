"""Home renders (without the evaluation table) when the stored evaluation is malformed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def csv_env(monkeypatch, dir_csv):
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    monkeypatch.setenv("MOVIEDNA_DATASET", "ml-25m")
    monkeypatch.setenv("MOVIEDNA_DATA_DIR", str(dir_csv))


@pytest.mark.parametrize("blob", [{"models": {"mf": {"sampled": {}}}}, {"models": {"mf": "x"}}, "not json"])
def test_home_survives_a_malformed_evaluation(csv_env, blob):
    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset

    cat = open_catalogue(load_dataset())
    if blob == "not json":
        cat.put_json("evaluation", {})
        con = sqlite3.connect(cat.path)
        con.execute("UPDATE blobs SET value = '{nope' WHERE key = 'evaluation'")
        con.commit()
        con.close()
    else:
        cat.put_json("evaluation", blob)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, at.exception
    assert [m.value for m in at.metric][:3] == ["5", "3", "10"]
