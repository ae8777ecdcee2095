"""The filter flags similar, search and recommend share: parsed like a link's parameters, bad ones exit 2."""

from __future__ import annotations

import pytest

from engine.cli.main import build_parser, main
from engine.cli.search import filter_of
from engine.data.filters import Filter


@pytest.mark.parametrize("command", [["similar", "Star Wars"], ["search", "space"], ["recommend", "--clicks", "1"]])
def test_every_search_command_parses_the_same_filter(command):
    args = build_parser().parse_args([*command, "--genre", "Comedy", "--genre", "Romance", "--genre-mode", "all",
                                      "--year", "1990:1999", "--min-ratings", "50", "--exclude", "50,181"])
    link = Filter.parse("Comedy,Romance", "all", "1990:1999", "50", "50,181")
    assert filter_of(args) == link
    assert filter_of(build_parser().parse_args(command)) is None  # no flag, no filter


@pytest.mark.parametrize("flags,words", [
    (["--year", "1999:1990"], "earlier year first"), (["--min-ratings", "lots"], "whole number"),
    (["--exclude", "5,x"], "comma-separated"), (["--genre-mode", "some"], "invalid choice"),
])
def test_bad_filter_flags_exit_2_with_one_sentence_before_loading_data(flags, words, capsys):
    assert main(["similar", "--id", "1", *flags]) == 2
    err = capsys.readouterr().err
    assert words in err and err.count("\n") == 1
