"""The stored evaluation is parsed whole before display: a record of another shape is refused (one
named error), never shown as a table of empty cells."""

from __future__ import annotations

import copy
import sqlite3

import pytest

from engine.data.catalogue import Catalogue
from engine.recsys.evaluation import evaluation_rows, parse_evaluation, stored_evaluation
from engine.recsys.figures import Cell, MalformedEvaluationError

GOOD = {"sampled": {"hr@10": 0.70001, "ndcg@10": 0.44}, "full": {"hr@10": 0.2, "ndcg@10": 0.1}, "train_seconds": 12.5}
BLOB = {"protocol": {"k": 10, "negatives": 100, "seed": 0},
        "models": {"sasrec": GOOD, "popularity": GOOD}, "split": {"users": 3, "items": 5, "interactions": 10},
        "references": {"sasrec": {"sampled_hr@10": 0.71, "sampled_ndcg@10": 0.44, "full_hr@10": 0.206,
                                  "full_ndcg@10": 0.104}}}


def test_good_blob_gives_the_home_rows():
    ev = parse_evaluation(BLOB, "local")
    rows = evaluation_rows(ev)
    assert [(r.kind, r.name, r.label) for r in rows] == [
        ("model", "sasrec", "sasrec (CE + BCE nets, side info)"), ("reference", "sasrec", "one BCE net, no side info"),
        ("model", "popularity", "popularity")]
    assert rows[0].sampled == Cell(0.70001, 0.44, 10) and rows[0].train_seconds == 12.5
    assert rows[1].full == Cell(0.206, 0.104, 10) and rows[1].train_seconds is None
    assert (ev.split.users, ev.split.items, ev.split.interactions) == (3, 5, 10)
    assert ev.figures is None and ev.source == "local" and ev.created is None


def _damaged(where: str):
    b = copy.deepcopy(BLOB)
    if where == "sampled is a number":
        b["models"]["sasrec"]["sampled"] = 1
    elif where == "metric is text":
        b["models"]["sasrec"]["sampled"]["hr@10"] = "0.5"
    elif where == "metric is nan":
        b["models"]["sasrec"]["full"]["ndcg@10"] = float("nan")
    elif where == "metric above one":
        b["models"]["sasrec"]["full"]["hr@10"] = 1.2
    elif where == "metric missing":
        del b["models"]["popularity"]["full"]["hr@10"]
    elif where == "train seconds bool":
        b["models"]["sasrec"]["train_seconds"] = True
    elif where == "split text":
        b["split"] = "x"
    elif where == "users missing":
        del b["split"]["users"]
    elif where == "no protocol":
        del b["protocol"]
    elif where == "k text":
        b["protocol"]["k"] = "10"
    elif where == "reference damaged":
        b["references"]["sasrec"]["full_hr@10"] = None
    elif where == "references list":
        b["references"] = ["not", "a", "dict"]
    elif where == "stages damaged":
        b["stages"] = {"protocol": {"k": 10}}
    return b


@pytest.mark.parametrize("blob", [None, [], "x", 3, {}, {"models": []}, {"models": {}}, {"models": {"mf": None}},
                                  {"models": {"mf": [1, 2]}}, {"models": {"mf": {"sampled": 1}}}])
def test_unusable_blobs_are_refused(blob):
    with pytest.raises(MalformedEvaluationError):
        parse_evaluation(blob, "local")


@pytest.mark.parametrize("where", ["sampled is a number", "metric is text", "metric is nan", "metric above one",
                                   "metric missing", "train seconds bool", "split text", "users missing",
                                   "no protocol", "k text", "reference damaged", "references list", "stages damaged"])
def test_one_damaged_part_refuses_the_whole_record(where):
    parse_evaluation(BLOB, "local")                                    # the undamaged record parses
    with pytest.raises(MalformedEvaluationError, match="python -m engine evaluate"):
        parse_evaluation(_damaged(where), "local")


def test_stored_evaluation_refuses_invalid_json_and_other_shapes(tmp_path):
    path = tmp_path / "c.sqlite"
    cat = Catalogue(path)
    cat.put_json("evaluation", BLOB)
    assert stored_evaluation(cat) == parse_evaluation(BLOB, "local")
    con = sqlite3.connect(path)
    con.execute("UPDATE blobs SET value = '{not json' WHERE key = 'evaluation'")
    con.commit()
    con.close()
    assert stored_evaluation(Catalogue(path)) is None
    for blob in ({"models": {"mf": "broken"}}, {"models": {"mf": {"sampled": 1}}}):
        cat.put_json("evaluation", blob)
        assert stored_evaluation(cat) is None


def test_rows_name_what_the_model_is():
    """The default SASRec is two nets with side information; the reference is one BCE net without."""
    one = dict(GOOD, config={"members": ["bce"], "side_info": False})
    blob = dict(BLOB, models={"sasrec": one, "mf": GOOD}, references={"mf": BLOB["references"]["sasrec"]})
    assert [(r.kind, r.label) for r in evaluation_rows(parse_evaluation(blob, "local"))] == [
        ("model", "sasrec (BCE net)"), ("model", "mf"), ("reference", "implicit ALS")]
    blob = dict(BLOB, models={"sasrec": dict(GOOD, config={"members": "ce"})})
    assert evaluation_rows(parse_evaluation(blob, "local"))[0].label == "sasrec (CE net, side info)"


def test_references_only_for_the_records_k():
    """The reference figures are @10; a record measured at another k shows none of them."""
    b = copy.deepcopy(BLOB)
    b["protocol"]["k"] = 5
    for m in b["models"].values():
        m["sampled"] = {"hr@5": 0.5, "ndcg@5": 0.3}
        m["full"] = {"hr@5": 0.1, "ndcg@5": 0.05}
    ev = parse_evaluation(b, "local")
    assert ev.protocol.k == 5 and not ev.references and ev.models[0].full == Cell(0.1, 0.05, 5)
