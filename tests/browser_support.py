"""Browser tests' fixtures (a pytest plugin, loaded by conftest): the app served on a free
port, Debian's Chromium driven by Playwright (one browser per test module, a fresh context
per test), axe-core injected into pages, and screenshots into tests/screenshots/."""

from __future__ import annotations

import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Chromium (apt-get install chromium; .ci/run installs it)"
)
TESTS = Path(__file__).resolve().parent
AXE = TESTS / "browser" / "node_modules" / "axe-core" / "axe.min.js"
needs_axe = pytest.mark.skipif(
    not AXE.is_file(), reason="needs axe-core (npm ci --prefix tests/browser)"
)
SCREENSHOTS = TESTS / "screenshots"
TIMEOUT_MS = 15_000
#: axe-core's impacts that fail a page.
BLOCKING_IMPACTS = frozenset({"serious", "critical"})


@pytest.fixture(scope="module")
def live_server(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free local port, in a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, for every test of the module."""
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in a fresh browser context (no cookies yet)."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """axe-core's serious and critical violations on the page as it is now."""
    page.add_script_tag(path=str(AXE))
    results = page.evaluate("async () => await axe.run(document)")
    return [
        {
            "id": violation["id"],
            "impact": violation["impact"],
            "help": violation["help"],
            "nodes": [node["target"] for node in violation["nodes"]][:5],
        }
        for violation in results["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot as tests/screenshots/<name>.png (gitignored)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-") + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path


def check_page(page: Any, name: str) -> None:
    """Screenshot the page, then assert axe-core finds nothing serious or critical on it."""
    screenshot(page, name)
    violations = axe_violations(page)
    assert violations == [], f"{name}: {violations}"
