"""The API docs page, loaded in a real headless Chromium against a live server."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="needs Chromium (apt-get install chromium; .ci/run installs it)"
)


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over HTTP on a free local port, in a background thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


def test_api_docs_render_every_area_offline(live_server):
    sync_playwright = pytest.importorskip("playwright.sync_api").sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            page = browser.new_page()
            failed: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))
            page.goto(f"{live_server}/api/docs")
            page.wait_for_selector(".opblock-tag", timeout=15_000)
            tags = {t.strip().lower() for t in page.locator(".opblock-tag").all_inner_texts()}
            title = page.locator(".info .title").inner_text()
        finally:
            browser.close()
    assert "task delegation marketplace" in title.lower()
    for area in ("auth", "tasks", "profiles", "organizations", "catalog", "moderation"):
        assert any(tag.startswith(area) for tag in tags), (area, tags)
    assert failed == [], "every asset is served locally"
