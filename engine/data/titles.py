"""MovieLens titles: "Shawshank Redemption, The (1994)" -> ("The Shawshank Redemption", 1994).

MovieLens moves leading articles to the end ("Matrix, The") in many languages and puts
the year, and sometimes an alternative title, in parentheses:
"City of Lost Children, The (Cité des enfants perdus, La) (1995)".
"""

from __future__ import annotations

import re

_YEAR = re.compile(r"\s*\((\d{4})(?:[-–]\d{0,4})?\)\s*$")
_ARTICLES = (
    "The", "A", "An", "Les", "La", "Le", "L'", "Il", "Lo", "I", "Gli", "Das", "Der", "Die",
    "Den", "Det", "De", "Het", "El", "Los", "Las", "Un", "Une", "Una", "Ein", "Eine", "O", "Os", "As",
)
_TRAILING_ARTICLE = re.compile(r"^(?P<body>.+?),\s*(?P<art>" + "|".join(re.escape(a) for a in _ARTICLES) + r")$")
_ALT = re.compile(r"^(?P<main>.*?)\s*(?P<alts>(?:\s*\([^()]*\))+)$")


def _front_article(text: str) -> str:
    m = _TRAILING_ARTICLE.match(text.strip())
    if not m:
        return text.strip()
    art, body = m.group("art"), m.group("body").strip()
    return f"{art}{body}" if art.endswith("'") else f"{art} {body}"


def parse_title(raw: str) -> tuple[str, int | None]:
    """Return (clean title, year or None) for a MovieLens title string."""
    text = " ".join(str(raw).split())
    year: int | None = None
    m = _YEAR.search(text)
    if m:
        year = int(m.group(1))
        text = text[: m.start()].rstrip()
    alt_match = _ALT.match(text)
    if alt_match and alt_match.group("main"):
        main = _front_article(alt_match.group("main"))
        alts = re.findall(r"\(([^()]*)\)", alt_match.group("alts"))
        fixed = " ".join(f"({_front_article(a)})" for a in alts)
        text = f"{main} {fixed}".strip()
    else:
        text = _front_article(text)
    return text or str(raw).strip(), year


def other_title(title: str, original: str) -> str | None:
    """The original title when it is another name for the movie ("Iron Man" beside "아이언맨"), else None
    (MovieLens keeps the raw "Matrix, The (1999)" there: the same name)."""
    other = parse_title(original)[0] if original and str(original).strip() else ""
    return other if other and other.casefold() != str(title).casefold() else None
