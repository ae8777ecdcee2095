"""The stored evaluation is validated before display (issue 11, section 3: a malformed blob
crashed Home)."""

from __future__ import annotations

import sqlite3

import pytest

from engine.data.catalogue import Catalogue
from engine.recsys.evaluate import EVALUATION_COLUMNS, evaluation_caption, evaluation_rows, stored_evaluation

GOOD = {"sampled": {"hr@10": 0.70001, "ndcg@10": 0.44}, "full": {"hr@10": 0.2, "ndcg@10": 0.1}, "train_seconds": 12.5}
BLOB = {"models": {"sasrec": GOOD, "popularity": GOOD}, "split": {"users": 3, "items": 5, "interactions": 10},
        "references": {"sasrec": {"sampled_hr@10": 0.71, "sampled_ndcg@10": 0.44, "full_hr@10": 0.206,
                                  "full_ndcg@10": 0.104}}}


def test_good_blob_formats_like_the_home_table():
    rows = evaluation_rows(BLOB)
    assert [r["model"] for r in rows] == ["sasrec (CE + BCE nets, side info)",
                                         "  reference sasrec (one BCE net, no side info)", "popularity"]
    assert all(tuple(r) == EVALUATION_COLUMNS for r in rows)
    assert rows[0]["HR@10 sampled-100"] == 0.7 and rows[1]["NDCG@10 full"] == 0.104 and rows[1]["train s"] is None
    assert evaluation_caption(BLOB) == "3 users, 5 items, 10 interactions after the 5-core filter"


@pytest.mark.parametrize("blob", [None, [], "x", 3, {}, {"models": []}, {"models": {}}, {"models": {"mf": None}},
                                  {"models": {"mf": [1, 2]}}])
def test_unusable_blobs_give_none(blob):
    assert evaluation_rows(blob) is None


@pytest.mark.parametrize("model", [{}, {"sampled": "x"}, {"sampled": {"hr@10": "0.5"}}, {"full": {"hr@10": None}},
                                   {"sampled": {"hr@10": float("nan")}}, {"train_seconds": True}])
def test_damaged_metrics_show_as_empty_cells(model):
    rows = evaluation_rows({"models": {"mf": model}, "references": ["not", "a", "dict"], "split": "x"})
    assert len(rows) == 1 and rows[0]["model"] == "mf"
    assert all(v is None or isinstance(v, float) for k, v in rows[0].items() if k != "model")
    assert evaluation_caption({"split": "x"}).startswith("? users")


def test_stored_evaluation_survives_invalid_json(tmp_path):
    path = tmp_path / "c.sqlite"
    cat = Catalogue(path)
    cat.put_json("evaluation", BLOB)
    assert stored_evaluation(cat) == BLOB
    con = sqlite3.connect(path)
    con.execute("UPDATE blobs SET value = '{not json' WHERE key = 'evaluation'")
    con.commit()
    con.close()
    assert stored_evaluation(Catalogue(path)) is None
    cat.put_json("evaluation", {"models": {"mf": "broken"}})
    assert stored_evaluation(cat) is None


def test_rows_name_what_the_model_is():
    """The default SASRec is two nets with side information; the reference is one BCE net without."""
    one = dict(GOOD, config={"members": ["bce"], "side_info": False})
    rows = evaluation_rows({"models": {"sasrec": one, "mf": GOOD}, "references": {"mf": BLOB["references"]["sasrec"]}})
    assert [r["model"] for r in rows] == ["sasrec (BCE net)", "mf", "  reference mf (implicit ALS)"]
    rows = evaluation_rows({"models": {"sasrec": dict(GOOD, config={"members": "ce"})}})
    assert rows[0]["model"] == "sasrec (CE net, side info)"
