"""Every note the engine can emit has an English and a Korean text, and the engine never makes one
that is not declared."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from engine.core.notes import NOTES, Note, fields_of, note

ENGINE = Path(__file__).resolve().parents[2] / "engine"


def emitted_codes() -> set[str]:
    """Codes of every ``note("code", ...)`` / ``Note("code", ...)`` call in the engine's sources."""
    codes = set()
    for path in ENGINE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("note", "Note")
                    and node.args and isinstance(node.args[0], ast.Constant)):
                codes.add(node.args[0].value)
    return codes


def test_every_emitted_code_is_declared() -> None:
    codes = emitted_codes()
    assert codes, "the scan found no note at all: it is broken"
    assert codes <= set(NOTES), sorted(codes - set(NOTES))


def test_every_declared_code_is_emitted() -> None:
    """A declared note nothing emits is dead text."""
    assert set(NOTES) <= emitted_codes(), sorted(set(NOTES) - emitted_codes())


def test_every_note_has_korean_text_with_the_same_parameters() -> None:
    from ui.text import NOTES_KO

    assert set(NOTES_KO) == set(NOTES), sorted(set(NOTES) ^ set(NOTES_KO))
    for code, english in NOTES.items():
        assert fields_of(NOTES_KO[code]) == fields_of(english), code


def test_a_note_refuses_an_unknown_code_or_missing_parameters() -> None:
    with pytest.raises(ValueError, match="unknown note code"):
        Note("no_such_note")
    with pytest.raises(ValueError, match="lacks"):
        note("title_fuzzy")
    assert note("hybrid_fused", spaces=["use", "text"]).text() == "Hybrid fuses the use and text spaces."


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_ui_renders_every_note_in_its_language_as_plain_text(lang: str, monkeypatch) -> None:
    import streamlit as st

    from ui.text import note_text

    monkeypatch.setattr(st, "session_state", {"lang": lang})
    for code, english in NOTES.items():
        params = {name: "[x](http://e.example)" for name in fields_of(english)}
        shown = note_text(Note(code, params))
        assert "](http" not in shown, (code, shown)   # a parameter is never a live link
        assert any("가" <= c <= "힣" for c in shown) == (lang == "ko"), (code, shown)
    assert note_text(note("route_multilingual", language="Hangul script", space="use")).startswith(
        "한국어" if lang == "ko" else "Hangul script")


def test_the_catalogue_s_scripts_are_named_in_korean(monkeypatch) -> None:
    import streamlit as st

    from ui.text import note_text

    monkeypatch.setattr(st, "session_state", {"lang": "ko"})
    shown = note_text(note("bm25_no_match_language_plots", language="Cyrillic script",
                           titles=["Hangul script", "Latin script"], overviews=["Hangul script"]))
    assert shown.startswith("키릴 문자 질의") and "제목은 한국어, 로마자" in shown and "Latin" not in shown
