"""Hostile links in a real browser: the visitor's text is shown as text — no live link, no image
fetched, no LaTeX — exactly as typed."""

from __future__ import annotations

from urllib.parse import quote, urlparse

import pytest

from tests.browser.driver import WAIT_RENDERED, page_url

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = [  # (page, parameter, value)
    ("similar", "movie", "[Log in again](https://evil.example/a)"),
    ("similar", "movie", "![x](http://127.0.0.1:9/p.png)"),
    ("similar", "movie", "$x^2$ <b>bold</b> www.evil.example"),
    ("similar", "movie", "mail support@evil.example"),
    ("home", "ds", "[Download the fix](https://evil.example/fix.exe)"),
]

EVIL_HOSTS = {"evil.example", "www.evil.example", "127.0.0.1:9"}


@pytest.mark.parametrize("name, param, value", HOSTILE)
def test_link_text_is_plain_text_in_the_browser(browser, server, name, param, value):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    fetched: list[str] = []
    page.on("request", lambda r: fetched.append(r.url) if urlparse(r.url).netloc in EVIL_HOSTS else None)
    try:
        page.goto(page_url(server, name, f"?{param}={quote(value)}"), wait_until="domcontentloaded")
        page.wait_for_function(WAIT_RENDERED, timeout=180_000)
        alerts = page.locator('[data-testid="stAlert"]').all_inner_texts()
        main = page.locator('[data-testid="stMain"]')
        assert main.locator('a[href*="evil.example"], a[href^="http://127.0.0.1:9/"]').count() == 0
        assert main.locator('img[src^="http://127.0.0.1:9/"]').count() == 0 and fetched == []
        assert page.locator('[data-testid="stAlert"] .katex, [data-testid="stAlert"] b').count() == 0
        # shown verbatim, every character (word joiners are invisible: they keep URLs from linking)
        assert any(value in a.replace("\u2060", "") for a in alerts), alerts
    finally:
        context.close()
