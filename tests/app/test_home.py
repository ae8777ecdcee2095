"""AppTest of the home page (through app.py, as a user lands on it)."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[2] / "app.py")


@pytest.fixture
def csv_env(monkeypatch, dir_csv):
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
