"""Every UI text the pages and view-models ask for exists in both languages: the literal keys of
``t("...")`` and the families the code builds from a name (``t(f"mode_{m}")``).  A missing key would
show its raw name on the page (``mode_like``), which no other test sees."""

from __future__ import annotations

import re
from pathlib import Path

from engine.data.filters import GENRE_MODES
from engine.lab.results import EXACT_WHERE
from engine.core.registry import SCALE_DISTRIBUTIONS, SPACES, TASTE_STRATEGIES, TEXT_SPACES
from ui.text import TEXT

REPO = Path(__file__).resolve().parents[2]

#: prefix of a key built in an f-string -> every value the code can put after it
FAMILIES = {
    "mode_": ("like", "dislike"),
    "url_": ("clicks", "dislikes"),
    "taste_": ("mean", "native"),
    "strategy_": TASTE_STRATEGIES,
    "colour_": ("genre", "year", "popularity"),
    "space_": SPACES,
    "mood_space_": ("auto", *TEXT_SPACES),
    "filter_mode_": GENRE_MODES,
    "dist_": (*SCALE_DISTRIBUTIONS, *(f"{d}_what" for d in SCALE_DISTRIBUTIONS)),
    "guide_exact_": EXACT_WHERE,
}


def sources() -> list[Path]:
    return [REPO / "app.py", *sorted((REPO / "ui").glob("*.py")), *sorted((REPO / "views").glob("*.py"))]


def test_every_literal_key_exists_in_both_languages():
    used = {k for f in sources() for k in re.findall(r'\bt\("([a-z0-9_]+)"', f.read_text(encoding="utf-8"))}
    assert used, "no t(\"...\") calls found: the scan is wrong"
    missing = sorted(k for k in used if k not in TEXT)
    assert not missing, missing
    assert all(TEXT[k]["en"] and TEXT[k]["ko"] for k in used)


def test_every_key_built_from_a_name_exists():
    built = set(re.findall(r'\bt\(f"([a-z_]+)\{', "".join(f.read_text(encoding="utf-8") for f in sources())))
    assert built <= set(FAMILIES), f"a new family of keys: add it to FAMILIES: {sorted(built - set(FAMILIES))}"
    missing = sorted(p + v for p in built for v in FAMILIES[p] if p + v not in TEXT)
    assert not missing, missing
