"""Start `streamlit run app.py` headless and drive Debian's Chromium over CDP (Playwright).

A plain `chromium --headless --screenshot` captures a blank page (it does not wait for the
websocket), so pages are opened with Playwright and we wait for real content: the page
title rendered and Streamlit's "running" indicator gone.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"]
PAGES = ["home", "similar", "mood", "personalize", "explorer", "pipeline", "scale"]


def page_url(base: str, name: str, query: str = "") -> str:
    """The default page (Home) lives at "/"; Streamlit answers "/home" with "Page not found"."""
    return f"{base}/{'' if name == 'home' else name}{query}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(env: dict[str, str], port: int | None = None) -> Iterator[str]:
    """Run the app as the README says, on 127.0.0.1; yield its base URL."""
    port = port or free_port()
    cmd = [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
           "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false"]
    proc = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **env}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited: {proc.stdout.read() if proc.stdout else ''}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


# The app root carries the script state; "notRunning" after a run finished.  Skeletons are
# placeholders of elements not yet drawn.
WAIT_RENDERED = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  const h1 = document.querySelector('[data-testid="stMain"] h1');
  return app !== null && app.getAttribute('data-test-script-state') === 'notRunning' && h1 !== null
    && document.querySelector('[data-testid="stSkeleton"]') === null;
}"""


def open_page(browser, url: str, shot: Path | None, timeout_ms: int = 180_000, theme: str = "light") -> dict:
    """Open one page, wait until it rendered, screenshot it; return what the page shows."""
    context = browser.new_context(viewport={"width": 1500, "height": 1100}, color_scheme=theme)
    page = context.new_page()
    try:
        page.goto(url, wait_until="domcontentloaded")
        page.wait_for_function(WAIT_RENDERED, timeout=timeout_ms)
        time.sleep(1.0)  # let plotly finish drawing
        page.wait_for_function(WAIT_RENDERED, timeout=timeout_ms)
        if shot is not None:
            shot.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(shot), full_page=True)
        return {
            "title": page.locator('[data-testid="stMain"] h1').first.inner_text(),
            "exceptions": page.locator('[data-testid="stException"]').all_inner_texts(),
            "errors": page.locator('[data-testid="stAlertContentError"]').all_inner_texts(),
            "plots": page.locator(".js-plotly-plot").count(),
            "tables": page.locator('[data-testid="stDataFrame"]').count(),
            "dialogs": page.locator('[role="dialog"]').all_inner_texts(),
        }
    finally:
        context.close()


if __name__ == "__main__":  # manual use: python tests/browser/driver.py [page ...]
    from playwright.sync_api import sync_playwright

    with streamlit_server({}) as base, sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name in sys.argv[1:] or PAGES:
            for theme in ("light", "dark"):
                info = open_page(b, page_url(base, name), REPO / "screenshots" / f"{name}-{theme}.png", theme=theme)
                print(name, theme, info)
        b.close()
