"""The "Add / remove a movie" form exists only when the operator set MOVIEDNA_EDITS=1."""

from __future__ import annotations

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

import engine.models.encoders as enc_mod
from tests.app.conftest import APP


@pytest.fixture
def fake_encoder(monkeypatch):
    monkeypatch.setattr(enc_mod, "_ENCODER", lambda texts: np.stack(
        [np.random.default_rng(len(t)).normal(size=8) for t in texts]).astype(np.float32))


def _submit(at: AppTest, label: str) -> AppTest:
    return next(b for b in at.button if b.label == label).click().run()


def test_no_form_without_the_operator_setting(tiny_catalogue, monkeypatch):
    monkeypatch.delenv("MOVIEDNA_EDITS", raising=False)
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert not [w for w in at.text_input if w.key == "edit_title"]
    assert not [b for b in at.button if b.label == "Add the movie"]


def test_the_form_adds_and_removes_a_movie_shown_as_plain_text(tiny_catalogue, monkeypatch, fake_encoder):
    from engine.data.catalogue import Catalogue

    monkeypatch.setenv("MOVIEDNA_EDITS", "1")
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    at.text_input(key="edit_title").input("**Bold** [x](http://evil.example)")
    at.multiselect(key="edit_genres").select("Drama")
    at = _submit(at, "Add the movie")
    assert not at.exception
    shown = at.success[0].value
    assert "\\*\\*Bold\\*\\*" in shown and "\\[x\\]" in shown  # escaped: never Markdown or a link
    cat = Catalogue.open_existing(tiny_catalogue)
    added = cat.edit_log().added
    assert len(added) == 1 and cat.movie(added[0])["title"] == "**Bold** [x](http://evil.example)"
    assert [int(m) for m in cat.cold_start("mf")] == [added[0]]
    at.number_input(key="edit_remove_id").set_value(added[0])
    at = _submit(at, "Remove the movie")
    assert not at.exception and "Removed movie" in at.success[-1].value
    assert cat.edit_log().added == () and added[0] not in cat.movies()["movie_id"].tolist()
    cat.close()


def test_bad_input_is_one_plain_sentence_and_changes_nothing(tiny_catalogue, monkeypatch, fake_encoder):
    from engine.data.catalogue import Catalogue

    monkeypatch.setenv("MOVIEDNA_EDITS", "1")
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.multiselect(key="edit_genres").select("Drama")
    at = _submit(at, "Add the movie")   # no title
    assert not at.exception and any("title is empty" in w.value for w in at.warning)
    at.number_input(key="edit_remove_id").set_value(999)
    at = _submit(at, "Remove the movie")
    assert any("No movie with id 999" in w.value for w in at.warning)
    cat = Catalogue.open_existing(tiny_catalogue)
    assert not cat.edit_log().edited
    cat.close()


def test_similar_movies_labels_a_cold_start_vector_and_lists_the_new_movie(tiny_catalogue, monkeypatch, fake_encoder):
    from engine.data.catalogue import Catalogue
    from engine.service import Engine

    eng = Engine("ml-25m", catalogue=Catalogue(tiny_catalogue))
    done = eng.add_movie("Quokka Harbor", 2022, "Drama")
    eng.catalogue.close()
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["movie"] = str(done.movie_id)
    at.run()
    at.switch_page("views/similar.py").run()
    assert not at.exception
    assert at.session_state["similar_movie"] == done.movie_id   # the new movie is in the picker
    at.query_params["movie"] = "1"
    at.session_state["similar_movie"] = 1
    at.run()
    titles = [t for df in at.dataframe for t in df.value.iloc[:, 0].tolist()]
    assert "Quokka Harbor · cold start" in titles and "Quokka Harbor" in titles  # MF/SASRec vs text


def test_home_says_the_evaluation_describes_the_catalogue_before_its_edits(tiny_catalogue, fake_encoder):
    from engine.data.catalogue import Catalogue
    from engine.service import Engine
    from tests.app.test_home import PROTOCOL

    metrics = {"sampled": {"hr@10": 0.7, "ndcg@10": 0.44}, "full": {"hr@10": 0.2, "ndcg@10": 0.1}, "train_seconds": 1.0}
    cat = Catalogue(tiny_catalogue)
    cat.put_json("evaluation", {"protocol": PROTOCOL, "models": {"mf": metrics},
                                "split": {"users": 3, "items": 5, "interactions": 10}})
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception and not [i for i in at.info if "before its edits" in i.value]
    eng = Engine("ml-25m", catalogue=cat)
    assert eng.edit_notes() == ()
    eng.add_movie("Quokka Harbor", 2022, "Drama")
    eng.remove_movie(2)
    assert [n.params for n in eng.edit_notes()] == [{"added": 1, "removed": 1}]
    cat.close()
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception
    assert [i for i in at.info if "before its edits: 1 movie(s) added and 1 removed" in i.value]
