"""The API docs page, loaded in a real headless Chromium against a live server."""

from __future__ import annotations

import json
from typing import Any

from marketplace.accounts.models import ApiToken
from marketplace.extensions import db
from tests.browser_support import needs_chromium
from tests.factories import PASSWORD, ClientFactory

pytestmark = needs_chromium
TIMEOUT_MS = 15_000


def operation(page: Any, method: str, path: str) -> Any:
    """The docs' block of one operation."""
    return page.locator(
        f".opblock.opblock-{method}", has=page.locator(f'[data-path="{path}"]')
    ).first


def try_it_out(page: Any, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    """Send one operation as a reader does: open it, "Try it out", fill in the body,
    "Execute"; the block's live answer (status and body) is returned."""
    block = operation(page, method, path)
    block.locator(".opblock-summary").click()
    block.locator("button.try-out__btn").click()
    if body is not None:
        block.locator("textarea.body-param__text").fill(json.dumps(body))
    block.locator("button.execute").click()
    answer = block.locator(".live-responses-table .response")
    answer.wait_for(timeout=TIMEOUT_MS)
    return answer


def test_api_docs_render_every_area_offline(live_server, page):
    failed: list[str] = []
    page.on("requestfailed", lambda request: failed.append(request.url))
    page.goto(f"{live_server}/api/docs")
    page.wait_for_selector(".opblock-tag", timeout=TIMEOUT_MS)
    tags = {t.strip().lower() for t in page.locator(".opblock-tag").all_inner_texts()}
    title = page.locator(".info .title").inner_text()
    assert "task delegation marketplace" in title.lower()
    for area in ("auth", "tasks", "profiles", "organizations", "catalog", "moderation"):
        assert any(tag.startswith(area) for tag in tags), (area, tags)
    assert failed == [], "every asset is served locally"


def test_a_reader_signs_in_from_the_docs_and_calls_the_api(live_server, page):
    user = ClientFactory()
    email, user_id = user.email, user.id
    db.session.commit()  # SQLite: the live server's requests need the write lock
    page.goto(f"{live_server}/api/docs")
    # The page authorizes the CSRF scheme with the session's token once the spec is in.
    page.wait_for_selector(".btn.authorize.locked", timeout=TIMEOUT_MS)

    login = try_it_out(page, "post", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
    assert login.locator(".response-col_status").inner_text().strip() == "200"

    me = try_it_out(page, "get", "/api/v1/auth/me")
    assert me.locator(".response-col_status").inner_text().strip() == "200"
    assert email in me.locator(".response-col_description").inner_text()

    # An unsafe request of the signed-in session: the CSRF header goes with it too.
    token = try_it_out(page, "post", "/api/v1/auth/tokens", {"name": "from the docs"})
    assert token.locator(".response-col_status").inner_text().strip() == "201"
    assert db.session.query(ApiToken).filter_by(user_id=user_id, name="from the docs").count() == 1


def test_only_operations_that_need_a_sign_in_show_a_lock(live_server, page):
    page.goto(f"{live_server}/api/docs")
    page.wait_for_selector(".opblock-tag", timeout=TIMEOUT_MS)

    def locked(method: str, path: str) -> bool:
        return operation(page, method, path).locator(".authorization__btn").count() > 0

    assert not locked("get", "/api/v1/skills")
    assert not locked("get", "/api/v1/providers/{profile_id}")
    assert not locked("get", "/api/v1/auth/csrf")
    assert locked("get", "/api/v1/auth/me")
    assert locked("post", "/api/v1/tasks")
