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


PROTOCOL = {"k": 10, "negatives": 100, "seed": 0}


def test_home_renders_the_stored_evaluation(csv_env):
    """The evaluation table reads what `engine evaluate` stores (the shape engine.recsys.evaluation writes)."""
    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset

    metrics = {"sampled": {"hr@10": 0.7, "ndcg@10": 0.44, "users": 3}, "full": {"hr@10": 0.2, "ndcg@10": 0.1, "users": 3},
               "train_seconds": 12.5}
    ev = {"protocol": PROTOCOL, "models": {"sasrec": metrics, "popularity": metrics},
          "split": {"users": 3, "items": 5, "interactions": 10},
          "references": {"sasrec": {"sampled_hr@10": 0.71, "sampled_ndcg@10": 0.44, "full_hr@10": 0.206,
                                    "full_ndcg@10": 0.104}}}
    open_catalogue(load_dataset()).put_json("evaluation", ev)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert list(table.columns) == ["model", "HR@10 sampled-100", "NDCG@10 sampled-100", "HR@10 full", "NDCG@10 full",
                                   "train s"]
    assert table["model"].tolist() == ["sasrec (CE + BCE nets, side info)",
                                         "  reference sasrec (one BCE net, no side info)", "popularity"]
    assert table.loc[1, "NDCG@10 full"] == 0.104 and table.loc[0, "train s"] == 12.5
    assert any(c.value == "3 users, 5 items, 10 interactions after the 5-core filter" for c in at.caption)


def test_home_labels_the_columns_with_the_records_protocol(csv_env):
    """A local evaluation run with 50 negatives at k = 5 is labelled so, never "sampled-100"."""
    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset

    metrics = {"sampled": {"hr@5": 0.6, "ndcg@5": 0.4}, "full": {"hr@5": 0.1, "ndcg@5": 0.05}, "train_seconds": 1.0}
    ev = {"protocol": {"k": 5, "negatives": 50, "seed": 3}, "models": {"mf": metrics},
          "split": {"users": 3, "items": 5, "interactions": 10}}
    open_catalogue(load_dataset()).put_json("evaluation", ev)
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["lang"] = "ko"
    at.run()
    assert not at.exception
    assert list(at.dataframe[0].value.columns) == ["모델", "HR@5 샘플-50", "NDCG@5 샘플-50", "HR@5 전체", "NDCG@5 전체",
                                                   "학습 초"]


def stages_blob() -> dict:
    """A stored evaluation with stages, in the shape engine.recsys.stages.evaluate_stages writes."""
    cell = {"25": {"hr@10": 0.15, "ndcg@10": 0.08}, "100": {"hr@10": 0.17, "ndcg@10": 0.092},
            "all": {"hr@10": 0.2, "ndcg@10": 0.112}}
    metrics = {"sampled": {"hr@10": 0.7, "ndcg@10": 0.44}, "full": {"hr@10": 0.2, "ndcg@10": 0.1}, "train_seconds": 1.0}
    return {"protocol": PROTOCOL, "models": {"mf": metrics, "sasrec": metrics},
            "split": {"users": 3, "items": 5, "interactions": 10},
            "created": 1_790_000_000, "machine": {"cpus": 2, "cpu": "Test CPU [x](http://evil.example)"},
            "stages": {"protocol": {"k": 10, "candidates": [25, 100, "all"]},
                       "stage1_taste": {"mf:taste": {"space": "mf", "test": {"hr@10": 0.12, "ndcg@10": 0.063}},
                                        "mf:taste_recency": {"space": "mf", "recency_half_life": 3.0,
                                                             "test": {"hr@10": 0.19, "ndcg@10": 0.102},
                                                             "test_ndcg@10_by_half_life": {"off": 0.063, "3": 0.102}}},
                       "stage1_native": {"mf:native": {"space": "mf", "test": {"hr@10": 0.15, "ndcg@10": 0.08}}},
                       "two_stage": {"sasrec": {"ranker_alone": cell["all"], "by_stage1": {"mf:taste": cell}}},
                       "latency_ms": {"stage1": {"mf:taste": {"25": 0.2, "100": 0.3, "all": 0.5}},
                                      "stage2": {"sasrec": {"25": 9.0, "100": 10.0, "all": 12.0}}}}}


def test_home_says_what_the_pages_do_in_plain_words(csv_env):
    """Beside each model's own figures: the taste vector and the two stages, and where they were measured."""
    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset

    blob = stages_blob()
    open_catalogue(load_dataset()).put_json("evaluation", blob)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    table = at.dataframe[0].value
    st = blob["stages"]
    taste = table.loc[table["model"] == "MF taste vector (Live personalization)"]
    assert taste["HR@10 full"].tolist() == [st["stage1_taste"]["mf:taste"]["test"]["hr@10"]]
    assert taste["HR@10 sampled-100"].isna().all()                       # measured on the full ranking only
    two = st["two_stage"]["sasrec"]["by_stage1"]["mf:taste"]["100"]
    assert table.loc[table["model"] == "MF taste vector, 100 candidates -> SASRec (Retrieval + ranking)",
                     "NDCG@10 full"].tolist() == [two["ndcg@10"]]
    plain = next(m.value for m in at.markdown if "In plain words" in m.value)
    for hr in (st["stage1_taste"]["mf:taste"]["test"]["hr@10"], st["stage1_native"]["mf:native"]["test"]["hr@10"],
               two["hr@10"]):
        assert f"**{hr:.0%}**" in plain
    source = next(c.value for c in at.caption if "python -m engine evaluate" in c.value and "cores" in c.value)
    assert f"{blob['machine']['cpus']} cores" in source and "](http" not in source   # file text is escaped, never a link


@pytest.fixture
def ml100k_copy(ml100k_cache, tmp_path, monkeypatch):
    """The session's ml-100k cache copied, so a test may store a record without touching other tests."""
    import shutil

    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    cache = tmp_path / "cache"
    shutil.copytree(ml100k_cache / "ml-100k", cache / "ml-100k", ignore=shutil.ignore_patterns("models", "*.npz"))
    monkeypatch.setenv("MOVIEDNA_CACHE_DIR", str(cache))
    return cache


@pytest.mark.parametrize("bad", [{"models": {"mf": {"sampled": 1}}}, {"models": {"mf": {}}, "split": "x"}])
def test_a_malformed_stored_evaluation_shows_the_published_one(ml100k_copy, bad):
    """A damaged record in the catalogue is refused and Home shows the verified published figures
    (not a table of None and "? users")."""
    import json

    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset
    from engine.published import published_path

    open_catalogue(load_dataset("ml-100k")).put_json("evaluation", bad)
    published = json.loads(published_path("evaluation-ml-100k").read_text())
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    table = at.dataframe[0].value
    mf = table.loc[table["model"] == "mf"]
    assert mf["NDCG@10 full"].tolist() == [round(published["models"]["mf"]["full"]["ndcg@10"], 4)]
    assert not table.loc[table["model"] == "mf"].isna().any(axis=None)
    split = published["split"]
    assert any(c.value.startswith(f"{split['users']} users, {split['items']} items") for c in at.caption)
    assert any("ships with MovieDNA" in c.value for c in at.caption)      # said where it was measured


def test_a_rerun_does_not_read_and_verify_the_evaluation_again(csv_env, monkeypatch):
    """The verified evaluation is cached by its hash at the Streamlit boundary: a rerun reuses it, a
    new record (another hash) is read and verified once more."""
    import ui.evaluation
    from engine.data.catalogue import open_catalogue
    from engine.data.dataset import load_dataset

    calls = []
    real = ui.evaluation.current_evaluation
    monkeypatch.setattr(ui.evaluation, "current_evaluation", lambda *a, **k: calls.append(a[1:]) or real(*a, **k))
    cat = open_catalogue(load_dataset())
    cat.put_json("evaluation", stages_blob())
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.run()
    assert not at.exception and len(calls) == 1
    changed = stages_blob()
    changed["models"]["mf"]["train_seconds"] = 2.0
    cat.put_json("evaluation", changed)
    at.run()
    assert not at.exception and len(calls) == 2
    table = at.dataframe[0].value
    assert table.loc[table["model"] == "mf", "train s"].tolist() == [2.0]
