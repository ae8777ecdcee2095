"""ui.plain.escape: any text survives Streamlit's Markdown as the same characters and nothing active."""

from __future__ import annotations

import html
import re

import pytest
from markdown_it import MarkdownIt

from ui.plain import JOINER, escape, plot_text

_MD = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])

PAYLOADS = [
    "[Log in again](https://evil.example/a)", "![x](http://127.0.0.1:9/p.png)", "<img src=x onerror=alert(1)>",
    "<https://evil.example>", "$x^2$ and $$y$$", "\\[ x \\]", "see https://evil.example or www.evil.example",
    "mail a@evil.example", "# Heading\n- item\n1. one\n> quote\n---\n| a | b |", "**bold** _it_ ~~s~~ `code`",
    ":red[alert] :material/home: &amp; &#x41;", "Star Wars (1977)", "trailing backslash \\", "",
    "[a]: https://evil.example\n[a]", "x" * 300,
]


def visible(markdown: str) -> str:
    """The text a reader sees once the Markdown is rendered (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", _MD.render(markdown))).strip()


@pytest.mark.parametrize("text", PAYLOADS)
def test_escaped_text_renders_as_itself_and_nothing_else(text):
    out = escape(text)
    rendered = _MD.render(out)
    assert "<a " not in rendered and "<img" not in rendered and "<h1" not in rendered and "<li" not in rendered
    assert "<strong" not in rendered and "<em" not in rendered and "<code" not in rendered
    assert visible(out).replace(JOINER, "") == " ".join(text.split("\n")).strip() or \
        visible(out).replace(JOINER, "").split() == text.split()
    assert "$" not in out.replace("\\$", "")  # every dollar escaped: no LaTeX


def test_urls_and_addresses_are_broken_for_autolinks():
    out = escape("https://evil.example www.evil.example a@evil.example")
    assert "://" not in out and "www." not in out and "@e" not in out


def test_plot_text_is_html_escaped():
    assert plot_text('<a href="https://evil.example">x</a> & y') == '&lt;a href="https://evil.example"&gt;x&lt;/a&gt; &amp; y'
