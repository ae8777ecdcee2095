"""Every page in headless Chromium against `streamlit run app.py`, as a user opens it.

Screenshots (light and dark theme) go to the git-ignored ``screenshots/`` folder.
"""

from __future__ import annotations

import pytest

from tests.browser.driver import PAGES, REPO, open_page, page_url

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EXPECT = {  # page -> (title, minimum plots, minimum tables) once rendered with a demo state
    "home": ("🧬 MovieDNA", 2, 0),
    "similar": ("Similar movies", 0, 3),
    "mood": ("Mood search", 0, 2),
    "personalize": ("Live personalization", 1, 1),
    "explorer": ("Embedding explorer", 3, 1),
    "pipeline": ("Retrieval + ranking", 1, 1),
    "scale": ("Scale lab", 2, 1),
}
QUERY = {  # URL state, shared as a link: the same page state for every visitor
    "similar": "?movie=50",
    "mood": "?q=a+heartwarming+space+adventure",
    "personalize": "?clicks=50,1,100",
    "pipeline": "?clicks=50,181,172",
}


@pytest.mark.parametrize("name", PAGES)
def test_page_renders_without_exception(browser, server, name):
    shots = REPO / "screenshots"
    url = page_url(server, name, QUERY.get(name, ""))
    info = open_page(browser, url, shots / f"{name}-light.png")
    title, plots, tables = EXPECT[name]
    assert info["exceptions"] == [], info["exceptions"]
    assert info["errors"] == [], info["errors"]
    assert info["dialogs"] == [], info["dialogs"]  # e.g. "Page not found"
    assert info["title"] == title
    assert info["plots"] >= plots and info["tables"] >= tables, info
    dark = open_page(browser, url, shots / f"{name}-dark.png", theme="dark")
    assert dark["exceptions"] == [] and dark["title"] == title
