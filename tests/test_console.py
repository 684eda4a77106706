"""The console's frame: signing in and out, the guard, CSRF, error pages and the audit."""

from __future__ import annotations

import pyotp
import pytest
import sqlalchemy as sa

from marketplace.accounts import twofactor
from marketplace.accounts.models import UserStatus
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from tests.console_support import Console, signed_in
from tests.factories import PASSWORD, AdminFactory, ClientFactory, ProviderFactory, sign_in_code


def actions_of(user) -> list[str]:
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.actor_id == user.id).order_by(AuditEntry.at)
    )
    return [entry.action for entry in entries]


def test_an_admin_signs_in_with_password_and_code_and_lands_on_the_dashboard(client):
    admin = AdminFactory()
    response = Console(client).sign_in(admin)
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/"
    page = client.get("/admin/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Dashboard</h1>" in html
    assert admin.email in html
    assert f"Signed in as {admin.email}." in html
    assert actions_of(admin) == ["console.sign_in"]


def test_a_recovery_code_signs_an_admin_in(client, app):
    admin = AdminFactory()
    codes = twofactor.turn_on(user=admin, secret=pyotp.random_base32())
    assert Console(client).sign_in(admin, code=codes[0]).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_sign_in_goes_back_to_the_page_asked_for_and_nowhere_else(client):
    admin = AdminFactory()
    console = Console(client)
    form = {"email": admin.email, "password": PASSWORD}
    response = console.post(
        "/admin/login", {**form, "code": sign_in_code(admin), "next": "/admin/?x=1"}
    )
    assert response.headers["Location"] == "/admin/?x=1"
    console.post("/admin/logout")
    for elsewhere in ("https://evil.example/admin", "//evil.example/admin", "/api/v1/auth/me"):
        response = console.post(
            "/admin/login", {**form, "code": sign_in_code(admin), "next": elsewhere}
        )
        assert response.headers["Location"] == "/admin/", elsewhere
        console.post("/admin/logout")


def test_anonymous_visitors_are_sent_to_sign_in_with_the_page_they_wanted(client):
    response = client.get("/admin/?tab=1")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login?next=/admin/?tab%3D1"
    login = client.get(response.headers["Location"])
    assert login.status_code == 200
    assert 'name="next" value="/admin/?tab=1"' in login.get_data(as_text=True)


@pytest.mark.parametrize(
    ("password", "code", "status", "message"),
    [
        ("wrong password", None, 401, "Wrong e-mail address or password."),
        (None, "", 401, "Enter the 6-digit code"),
        (None, "000000", 401, "The code is wrong, expired or already used."),
    ],
)
def test_wrong_credentials_are_refused_on_the_form(client, password, code, status, message):
    admin = AdminFactory()
    kwargs = {"password": password} if password else {}
    if code is not None:
        kwargs["code"] = code
    response = Console(client).sign_in(admin, **kwargs)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert message in html
    assert 'role="alert"' in html
    assert client.get("/admin/").status_code == 302
    assert actions_of(admin) == []


@pytest.mark.parametrize("factory", [ClientFactory, ProviderFactory])
def test_a_party_cannot_sign_in_to_the_console(client, factory):
    user = factory()
    response = Console(client).sign_in(user)
    assert response.status_code == 403
    assert "for the marketplace&#39;s admins" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302  # no session was started


def test_a_suspended_admin_cannot_sign_in(client):
    admin = AdminFactory(status=UserStatus.SUSPENDED)
    response = Console(client).sign_in(admin)
    assert response.status_code == 403
    assert "This account is suspended." in response.get_data(as_text=True)


def test_an_admin_without_two_factor_is_told_to_set_it_up(client, api):
    admin = AdminFactory(without_two_factor=True)
    response = Console(client).sign_in(admin, code="")
    assert response.status_code == 403
    assert "Admins must use two-factor sign-in" in response.get_data(as_text=True)
    # One signed in through the API (which lets them set it up) sees the same, as a page.
    api.login(admin)
    page = api.client.get("/admin/")
    assert page.status_code == 403
    assert "two-factor" in page.get_data(as_text=True)
    assert page.mimetype == "text/html"


def test_a_signed_in_party_gets_the_apis_404_on_console_pages(api):
    api.login(ClientFactory())
    for path in ("/admin/", "/admin/login"):
        response = api.client.get(path)
        if path == "/admin/login":
            assert response.status_code == 200  # the public sign-in form
            continue
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
    unknown = api.client.get("/admin/no-such-page")
    assert unknown.status_code == 404 and unknown.is_json


def test_a_console_form_without_its_csrf_token_is_refused_with_a_page(client):
    admin = AdminFactory()
    console = signed_in(client, admin)
    response = console.post("/admin/logout", csrf=False)
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    assert "The form has expired" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 200  # still signed in
    refused = Console(client).post("/admin/login", {"email": admin.email}, csrf=False)
    assert refused.status_code == 400 and "The form has expired" in refused.get_data(as_text=True)


def test_signing_out_ends_the_session_and_is_recorded(client):
    admin = AdminFactory()
    console = signed_in(client, admin)
    cookie = client.get_cookie("marketplace_session")
    response = console.post("/admin/logout")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/login"
    assert client.get("/admin/").status_code == 302
    # The old cookie no longer works either (the session was revoked, not only forgotten).
    client.set_cookie(cookie.key, cookie.value)
    assert client.get("/admin/").status_code == 302
    assert actions_of(admin) == ["console.sign_in", "console.sign_out"]


def test_sign_in_shares_the_apis_rate_limit(app, client, api):
    admin = AdminFactory()
    app.config["AUTH_RATE_LIMIT"] = "2 per minute"
    try:
        console = Console(client)
        assert console.sign_in(admin, password="nope").status_code == 401
        api.post("auth/login", json={"email": admin.email, "password": "nope"})
        refused = console.sign_in(admin)
        assert refused.status_code == 429
        assert refused.mimetype == "text/html"
        assert "Too many attempts" in refused.get_data(as_text=True)
    finally:
        app.config["AUTH_RATE_LIMIT"] = "1000 per minute"


def test_the_stylesheet_is_served_locally_to_anyone(client):
    response = client.get("/admin/static/console.css")
    assert response.status_code == 200
    assert "http" not in response.get_data(as_text=True)
