"""The moderation console in a real headless Chromium against a live server: signing in,
the guard on every console URL, CSRF, and every page checked by axe-core and screenshotted
(tests/screenshots/)."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
from flask import Flask

from marketplace.extensions import db
from tests.browser_support import check_page, needs_axe, needs_chromium, screenshot
from tests.factories import PASSWORD, AdminFactory, ClientFactory, ProviderFactory

pytestmark = [needs_chromium, needs_axe]


@dataclass(frozen=True)
class Person:
    """What a browser test needs of a user, read before the test's transaction ends: on
    SQLite any read takes the write lock that the live server's requests wait for."""

    id: uuid.UUID
    email: str
    totp_secret: str | None

    def code(self) -> str:
        return pyotp.TOTP(self.totp_secret).now() if self.totp_secret else ""


def person(factory: Any, **attributes: Any) -> Person:
    """A user made by `factory`, committed, as a Person."""
    user = factory(**attributes)
    found = Person(user.id, user.email, user.totp_secret)
    db.session.commit()
    return found


def sign_in(page: Any, live_server: str, admin: Person, *, code: str | None = None) -> None:
    """Fill in and send the console's sign-in form as an admin does."""
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Two-factor code").fill(code if code is not None else admin.code())
    page.get_by_role("button", name="Sign in").click()


def api_sign_in(page: Any, live_server: str, user: Person) -> None:
    """Sign a party in through the API in this browser (the console will not have them)."""
    token = page.request.get(f"{live_server}/api/v1/auth/csrf").json()["csrf_token"]
    response = page.request.post(
        f"{live_server}/api/v1/auth/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert response.status == 200, response.text()


def console_get_urls(app: Flask) -> list[str]:
    """Every GET URL of the console, from the URL map, with made-up ids in its variables."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint.endswith(".static"):
            continue
        if "GET" not in (rule.methods or ()):
            continue
        values = {name: uuid.uuid4() for name in rule.arguments}
        with app.test_request_context():
            urls.append(app.url_for(rule.endpoint, **values))
    return sorted(set(urls))


def test_an_admin_signs_in_with_the_second_factor_and_out_again(live_server, page):
    admin = person(AdminFactory)
    page.goto(f"{live_server}/admin/")
    assert page.url == f"{live_server}/admin/login?next=/admin/"
    check_page(page, "login")

    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"
    assert page.get_by_role("status").inner_text() == f"Signed in as {admin.email}."
    nav = page.get_by_role("navigation", name="Console")
    assert nav.get_by_role("link", name="Dashboard").get_attribute("aria-current") == "page"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/admin/login")
    assert page.get_by_role("status").inner_text() == "You are signed out."
    page.goto(f"{live_server}/admin/")
    assert "/admin/login" in page.url


def test_a_wrong_password_or_code_is_refused_on_the_form(live_server, page):
    admin = person(AdminFactory)
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong e-mail address or password."
    check_page(page, "login-refused")

    sign_in(page, live_server, admin, code="123456")
    assert "wrong, expired or already used" in page.get_by_role("alert").inner_text()
    page.goto(f"{live_server}/admin/")
    assert "/admin/login" in page.url


@pytest.mark.parametrize("factory", [ClientFactory, ProviderFactory])
def test_a_party_is_refused_on_every_console_url(app, live_server, page, factory):
    user = person(factory)
    api_sign_in(page, live_server, user)
    urls = [url for url in console_get_urls(app) if url != "/admin/login"]
    assert "/admin/" in urls
    for url in urls:
        response = page.goto(f"{live_server}{url}")
        assert response is not None and response.status == 404, url
        assert response.headers["content-type"].startswith("application/json"), url
        assert "console" not in page.content().lower(), url


def test_anonymous_visitors_are_sent_to_sign_in_from_every_console_url(app, live_server, page):
    for url in console_get_urls(app):
        page.goto(f"{live_server}{url}")
        if url == "/admin/login":
            continue
        assert re.search(r"/admin/login\?next=", page.url), url
        assert page.get_by_role("heading", level=1).inner_text() == "Sign in to the console"


def test_a_console_form_without_its_csrf_token_is_refused(live_server, page):
    admin = person(AdminFactory)
    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")
    # A page of another site would post the form without the token it cannot read.
    page.evaluate("() => document.querySelector('form.sign-out input[name=csrf_token]').remove()")
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("heading", level=1).inner_text() == "The form has expired"
    check_page(page, "csrf-refused")
    page.goto(f"{live_server}/admin/")
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"  # still signed in


def test_every_page_of_the_console_passes_axe(app, live_server, page):
    admin = person(AdminFactory)
    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")
    pages = [url for url in console_get_urls(app) if "-" not in url.rsplit("/", 1)[-1]]
    for url in pages:
        response = page.goto(f"{live_server}{url}")
        assert response is not None
        if url == "/admin/login":  # a signed-in admin goes on to the dashboard
            continue
        assert response.status == 200, url
        check_page(page, "page" + url.replace("/", "-"))
    page.goto(f"{live_server}/admin/no-such-page")
    screenshot(page, "unknown-page")
