"""AppTest of the home page (through app.py, as a user lands on it)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def csv_env(monkeypatch, dir_csv):
    import streamlit as st

    st.cache_data.clear()  # every test has its own cache dir; the app caches per process
    st.cache_resource.clear()
    monkeypatch.setenv("MOVIEDNA_DATASET", "ml-25m")
    monkeypatch.setenv("MOVIEDNA_DATA_DIR", str(dir_csv))


def test_home_shows_counts(csv_env):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert [m.value for m in at.metric][:3] == ["5", "3", "10"]
    assert "MovieDNA" in at.title[0].value


def test_home_korean(csv_env):
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "ko"
    at.run()
    assert not at.exception
    assert [m.label for m in at.metric][:3] == ["영화", "사용자", "평점"]


def test_home_bad_data_dir_shows_error(monkeypatch, tmp_path):
    monkeypatch.setenv("MOVIEDNA_DATASET", "ml-1m")
    monkeypatch.setenv("MOVIEDNA_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MOVIEDNA_OFFLINE", "1")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert at.error and "lacks ratings.dat" in at.error[0].value


def test_home_real_ml100k(ml100k):
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert [m.value for m in at.metric][:3] == ["1,682", "943", "100,000"]


def test_home_renders_the_stored_evaluation(csv_env):
    """The evaluation table reads what `engine evaluate` stores (shape as engine.recsys.evaluate writes it)."""
    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset

    metrics = {"sampled": {"hr@10": 0.7, "ndcg@10": 0.44, "users": 3}, "full": {"hr@10": 0.2, "ndcg@10": 0.1, "users": 3},
               "train_seconds": 12.5}
    ev = {"models": {"sasrec": metrics, "popularity": metrics}, "split": {"users": 3, "items": 5, "interactions": 10},
          "references": {"sasrec": {"sampled_hr@10": 0.71, "sampled_ndcg@10": 0.44, "full_hr@10": 0.206,
                                    "full_ndcg@10": 0.104}}}
    open_catalogue(load_dataset()).put_json("evaluation", ev)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert table["model"].tolist() == ["sasrec (CE + BCE nets, side info)",
                                         "  reference sasrec (one BCE net, no side info)", "popularity"]
    assert table.loc[1, "NDCG@10 full"] == 0.104


def stages_blob() -> dict:
    """A stored evaluation with stages, in the shape engine.recsys.stages.evaluate_stages writes."""
    cell = {"25": {"hr@10": 0.15, "ndcg@10": 0.08}, "100": {"hr@10": 0.17, "ndcg@10": 0.092},
            "all": {"hr@10": 0.2, "ndcg@10": 0.112}}
    metrics = {"sampled": {"hr@10": 0.7, "ndcg@10": 0.44}, "full": {"hr@10": 0.2, "ndcg@10": 0.1}, "train_seconds": 1.0}
    return {"models": {"mf": metrics, "sasrec": metrics}, "split": {"users": 3, "items": 5, "interactions": 10},
            "created": 1_790_000_000, "machine": {"cpus": 2, "cpu": "Test CPU [x](http://evil.example)"},
            "stages": {"protocol": {"k": 10},
                       "stage1_taste": {"mf:taste": {"space": "mf", "test": {"hr@10": 0.12, "ndcg@10": 0.063}},
                                        "mf:taste_recency": {"space": "mf", "test": {"hr@10": 0.19, "ndcg@10": 0.102},
                                                             "test_ndcg@10_by_half_life": {"off": 0.063, "3": 0.102}}},
                       "stage1_native": {"mf:native": {"space": "mf", "test": {"hr@10": 0.15, "ndcg@10": 0.08}}},
                       "two_stage": {"sasrec": {"ranker_alone": cell["all"], "by_stage1": {"mf:taste": cell}}},
                       "latency_ms": {"stage1": {"mf:taste": {"25": 0.2, "100": 0.3, "all": 0.5}},
                                      "stage2": {"sasrec": {"25": 9.0, "100": 10.0, "all": 12.0}}}}}


def test_home_says_what_the_pages_do_in_plain_words(csv_env):
    """Beside each model's own figures: the taste vector and the two stages, and where they were measured."""
    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset

    open_catalogue(load_dataset()).put_json("evaluation", stages_blob())
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert "MF taste vector (Live personalization)" in table["model"].tolist()
    assert table.loc[table["model"] == "MF taste vector, 100 candidates -> sasrec (Retrieval + ranking)",
                     "NDCG@10 full"].tolist() == [0.092]
    plain = next(m.value for m in at.markdown if "In plain words" in m.value)
    assert "**12%**" in plain and "**15%**" in plain and "**17%**" in plain
    source = next(c.value for c in at.caption if "python -m engine evaluate" in c.value and "cores" in c.value)
    assert "2 cores" in source and "](http" not in source          # file text is escaped, never a link
