"""AppTest: the Mood search page on a Korean catalogue (benchmarks/data/ko-films) in the Korean UI."""

from __future__ import annotations

import zlib
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from tests.app.conftest import APP, OPERATOR_VARS

pytestmark = pytest.mark.slow

KO_FILMS = Path(__file__).resolve().parents[2] / "benchmarks" / "data" / "ko-films"
D = 64


def fake_encoder(texts):
    """Hashed bag of words (the real encoders' download and load stay out of a page test)."""
    out = np.full((len(texts), D), 0.001, np.float32)
    for i, text in enumerate(texts):
        for w in text.split():
            out[i, zlib.crc32(w.encode()) % D] += 1.0
    return out


@pytest.fixture
def ko_films(isolated_cache, monkeypatch):
    """The Korean catalogue imported into a fresh cache, both text spaces stored by the fake encoder."""
    import streamlit as st

    import engine.models.encoders as enc_mod
    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset
    from engine.models.text import movie_documents

    for var in OPERATOR_VARS:
        monkeypatch.delenv(var, raising=False)
    ds = load_dataset("ko-films", KO_FILMS)
    cat = open_catalogue(ds)
    ids = ds.movies["movie_id"].to_numpy(np.int64)
    vectors = fake_encoder(movie_documents(ds.movies, ids))
    for space in ("text", "use"):
        cat.put_vectors(space, ids, vectors, {"model": space, "config": {}})
    cat.close()
    monkeypatch.setenv("MOVIEDNA_DATASET", "ko-films")
    monkeypatch.setattr(enc_mod, "_ENCODER", fake_encoder)
    st.cache_data.clear()
    st.cache_resource.clear()
    return ds


#: the page's display-only tables by position (AppTest does not index them by key)
COLUMN = {"mood_semantic": 0, "mood_bm25": 1, "mood_hybrid": 2}


def titles(at: AppTest, key: str) -> list[str]:
    df = at.dataframe[COLUMN[key]].value
    return (df.data if hasattr(df, "data") else df).iloc[:, 0].tolist()


def test_korean_plot_word_gets_bm25_and_hybrid_results_in_korean(ko_films):
    at = AppTest.from_file(APP, default_timeout=300)
    at.session_state["lang"] = "ko"
    at.run()
    at.switch_page("views/mood.py").run()
    at.text_input(key="mood_query").set_value("우주").run()
    assert not at.exception, [e.value for e in at.exception]
    bm25 = titles(at, "mood_bm25")
    assert {"그래비티", "인터스텔라", "마션"} & set(bm25) and len(bm25) == 10     # plots that say 우주
    assert all(any("\uac00" <= c <= "\ud7a3" for c in t) for t in bm25[:5])        # Korean titles in the Korean UI
    hybrid = titles(at, "mood_hybrid")
    assert len(hybrid) == 10 and set(bm25[:3]) & set(hybrid)                        # BM25 voted: it is confident
    at.text_input(key="mood_query").set_value("인터스텔라를 보고 싶어").run()
    assert titles(at, "mood_bm25")[0] == "인터스텔라"
    assert "인터스텔라" in titles(at, "mood_hybrid")[:2]     # BM25's first place ties the fake semantic list's


def test_english_ui_shows_the_english_original_titles(ko_films):
    at = AppTest.from_file(APP, default_timeout=300)
    at.run()
    at.switch_page("views/mood.py").run()
    at.text_input(key="mood_query").set_value("Interstellar").run()
    assert not at.exception, [e.value for e in at.exception]
    assert titles(at, "mood_bm25")[0] == "Interstellar"
