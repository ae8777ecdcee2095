"""Show text from a URL, a query, an exception or a file as plain text, never as Markdown.

Streamlit renders the body of ``st.error``/``st.warning``/``st.info``/``st.success``/
``st.caption``/``st.markdown`` (and labels, help tooltips, progress texts) as Markdown with
GitHub autolinks, LaTeX and Streamlit's own directives, and it has no plain-text switch for
them.  So every value that did not come from this code base goes through :func:`escape`
(or is shown with :func:`say`): ``[Log in again](https://evil.example/a)`` is then shown as
those characters, not as a live link, and ``![x](http://host/p.png)`` fetches nothing.
"""

from __future__ import annotations

import html
import re

import streamlit as st

# Characters that start Markdown/GFM/Streamlit constructs: links and images ([ ] !), HTML and
# autolinks (< >), LaTeX ($), code (`), emphasis (* _ ~), headings and tables (# |), entities (&),
# e-mail autolinks (@), directives and bare-URL autolinks (:), and the escape character itself.
_SPECIAL = re.compile(r"([\\`*_~\[\]()<>$#|&@:!{}])")
_WWW = re.compile(r"(?i)\b(www)\.")  # GFM links a bare "www.host" as well
JOINER = "\u2060"  # WORD JOINER: zero width, no line break
_LINE_START = re.compile(r"(?m)^(\s*)([-+=]|\d+(?=\.))(\.?)")  # lists, setext headings, rules


def escape(value: object) -> str:
    """``str(value)`` with every Markdown construct escaped, so Streamlit shows it verbatim.

    Backslash escapes are CommonMark's own, so the visitor sees the original characters
    (plus invisible word joiners inside URLs and e-mail addresses, so none becomes a link).
    """
    text = _SPECIAL.sub(r"\\\1", str(value))
    # Streamlit links bare URLs, "www." hosts and e-mail addresses in the text *after* escapes are
    # resolved (checked in Chromium: tests/browser/test_hostile_links.py), so a backslash is not
    # enough there: an invisible WORD JOINER breaks "://", "www." and "@" apart.
    text = text.replace("\\:", "\\:" + JOINER).replace("\\@", "\\@" + JOINER)
    text = _WWW.sub(r"\1" + JOINER + r"\\.", text)
    return _LINE_START.sub(_line_start, text)


def _line_start(m: re.Match) -> str:
    """``- x`` -> ``\\- x``; ``1. x`` -> ``1\\. x`` (a backslash before a digit would show)."""
    lead, mark, dot = m.groups()
    return f"{lead}{mark}\\{dot}" if dot else f"{lead}\\{mark}"


def say(kind: str, value: object, icon: str | None = None) -> None:
    """Show ``value`` as plain text in ``st.<kind>`` (error, warning, info, success or caption)."""
    if kind not in {"error", "warning", "info", "success", "caption"}:
        raise ValueError(f"say() shows error/warning/info/success/caption, not {kind!r}")
    if kind == "caption":
        st.caption(escape(value))
    else:
        getattr(st, kind)(escape(value), icon=icon)


def plot_text(value: object) -> str:
    """``str(value)`` for a Plotly label (hover text, legend entry): Plotly renders a subset of HTML
    there (``<a href>`` links in legends, ``<b>``, ``<br>``), so ``&``, ``<`` and ``>`` become entities,
    which Plotly shows as the characters themselves."""
    return html.escape(str(value), quote=False)
