"""Browser fixtures: one headless Chromium and one `streamlit run app.py` over the built cache per session."""

from __future__ import annotations

import shutil

import pytest

from tests.browser.driver import CHROMIUM, CHROMIUM_ARGS, streamlit_server


@pytest.fixture(scope="session")
def browser():
    if not shutil.which("chromium"):
        pytest.skip("Debian's chromium is not installed (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="session")
def server(built_cache):
    with streamlit_server({"MOVIEDNA_CACHE_DIR": str(built_cache)}) as url:
        yield url
