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


def test_language_switch_keeps_translated_choices_and_follows_the_example(browser, server):
    """Streamlit sends a radio's choice back as its label: after switching to Korean the translated
    text-space radio must still show a choice, and the untouched English example becomes Korean."""
    import time

    from tests.browser.driver import WAIT_RENDERED

    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    page = context.new_page()
    try:
        page.goto(page_url(server, "mood"), wait_until="domcontentloaded")
        page.wait_for_function(WAIT_RENDERED, timeout=180_000)
        checked = '[data-testid="stMain"] .st-key-mood_space input[type=radio]:checked'  # the text-space radio
        assert page.locator(checked).count() == 1
        page.get_by_text("한국어").click()
        time.sleep(1.0)
        page.wait_for_function(WAIT_RENDERED, timeout=180_000)
        assert page.locator('[data-testid="stMain"] h1').first.inner_text() == "분위기 검색"
        assert page.locator(checked).count() == 1
        assert page.locator('[data-testid="stMain"] input[type=text]').first.input_value() == "가슴이 웅장해지는 우주 영화"
        page.screenshot(path=str(REPO / "screenshots" / "mood-korean.png"), full_page=True)
    finally:
        context.close()
