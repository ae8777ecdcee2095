"""benchmarks/tune.py's selection rule on hand-made runs: among variants with every seed, the best
mean validation NDCG@10 wins unless the default is within one std of it; test only of the chosen one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.fixtures import load_script

TUNE = Path(__file__).resolve().parents[2] / "benchmarks" / "tune.py"


@pytest.fixture(scope="module")
def tune():
    return load_script(TUNE, "bench_tune")


def write_runs(out: Path, valid: dict[str, list[float]], test_ndcg: dict[str, float]) -> None:
    """One run file per (variant, seed): validation NDCG@10 as given, test figures marked per variant."""
    seeds = (42, 142, 242)
    for variant, values in valid.items():
        for seed, v in zip(seeds, values):
            t = test_ndcg[variant]
            run = {"model": "sasrec", "variant": variant, "seed": seed, "train_seconds": 10.0,
                   "valid_full": {"ndcg@10": v, "hr@10": 2 * v},
                   "sampled": {"hr@10": t, "ndcg@10": t}, "full": {"hr@10": t, "ndcg@10": t}}
            (out / f"{variant}-seed{seed}.json").write_text(json.dumps(run))


def test_default_stays_within_one_std(tune, tmp_path, capsys):
    # best other: bce+bce mean 0.105, std 0.01; the default ce+bce is 0.100: within one std -> default
    write_runs(tmp_path, {"ce+bce": [0.10, 0.10, 0.10], "bce+bce": [0.095, 0.105, 0.115], "ce": [0.2, 0.2]},
               {"ce+bce": 0.1111, "bce+bce": 0.2222, "ce": 0.3333})
    rep = tune.report("sasrec", tmp_path)
    assert rep["best_on_validation"] == "bce+bce"            # "ce" has the highest mean but only two seeds
    assert rep["chosen"] == "ce+bce"
    assert rep["test_of_chosen"]["full/ndcg@10"][0] == pytest.approx(0.1111)
    printed = capsys.readouterr().out
    assert "0.1111" in printed and "0.2222" not in printed and "0.3333" not in printed   # test once, chosen only
    assert json.loads((tmp_path / "report.json").read_text())["chosen"] == "ce+bce"


def test_a_clear_winner_replaces_the_default(tune, tmp_path):
    # bce+bce mean 0.12 with std 0.01; the default 0.10 is two stds below -> bce+bce
    write_runs(tmp_path, {"ce+bce": [0.10, 0.10, 0.10], "bce+bce": [0.11, 0.12, 0.13]},
               {"ce+bce": 0.1, "bce+bce": 0.2})
    rep = tune.report("sasrec", tmp_path)
    assert rep["chosen"] == "bce+bce" and rep["summary"]["bce+bce"]["valid_ndcg@10"][0] == pytest.approx(0.12)
    assert rep["summary"]["bce+bce"]["valid_ndcg@10"][1] == pytest.approx(0.01)       # sample std (ddof 1)


def test_no_choice_while_the_default_lacks_a_seed(tune, tmp_path):
    write_runs(tmp_path, {"ce+bce": [0.10, 0.10], "bce+bce": [0.11, 0.12, 0.13]}, {"ce+bce": 0.1, "bce+bce": 0.2})
    assert tune.report("sasrec", tmp_path)["chosen"] is None
