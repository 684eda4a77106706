"""PATCH /auth/me: a user's name, time zone and e-mail preferences."""

from __future__ import annotations

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.jobs import emails
from tests.factories import PASSWORD, ClientFactory, ProviderFactory


def test_me_shows_every_kind_and_which_can_be_turned_off(login):
    user = ClientFactory()
    body = login(user).get("auth/me").get_json()
    assert body["email_opt_out"] == []
    kinds = {k["kind"]: k for k in body["email_kinds"]}
    assert set(kinds) == set(emails.KINDS)
    assert all(k["emailed"] for k in kinds.values())
    assert kinds["message.new"]["can_turn_off"] is True
    for always in ("milestone.funded", "payment.failed", "milestone.disputed", "account.security"):
        assert kinds[always]["can_turn_off"] is False


def test_a_user_changes_name_zone_and_preferences(login):
    user = ProviderFactory()
    api = login(user)
    response = api.patch(
        "auth/me",
        json={
            "name": "  Ana Reyes ",
            "timezone": "Europe/Berlin",
            "email_opt_out": ["message.new", "bid.shortlisted", "message.new"],
        },
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["name"], body["timezone"]) == ("Ana Reyes", "Europe/Berlin")
    assert body["email_opt_out"] == ["bid.shortlisted", "message.new"]
    emailed = {k["kind"]: k["emailed"] for k in body["email_kinds"]}
    assert emailed["message.new"] is False and emailed["bid.declined"] is True
    assert api.get("auth/me").get_json() == body
    db.session.expire_all()
    stored = db.session.get(User, user.id)
    assert stored.email_opt_out == ["bid.shortlisted", "message.new"]
    assert stored.timezone == "Europe/Berlin"
    # A partial change leaves the rest; an empty list turns every e-mail back on.
    body = api.patch("auth/me", json={"email_opt_out": []}).get_json()
    assert (body["name"], body["email_opt_out"]) == ("Ana Reyes", [])


def test_unknown_or_fixed_kinds_are_refused(login):
    user = ClientFactory()
    api = login(user)
    response = api.patch("auth/me", json={"email_opt_out": ["message.new", "spam.daily"]})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["details"]["email_opt_out"] == ["Unknown notification kind: spam.daily."]
    response = api.patch("auth/me", json={"email_opt_out": ["payment.failed"]})
    assert response.status_code == 400
    assert "always e-mailed" in response.get_json()["error"]["details"]["email_opt_out"][0]
    db.session.expire_all()
    assert db.session.get(User, user.id).email_opt_out == []


def test_bad_fields_are_validation_errors(login):
    api = login(ClientFactory())
    for body in (
        {"timezone": "Mars/Olympus"},
        {"name": ""},
        {"email_opt_out": "message.new"},
        {"role": "admin"},
        {},
    ):
        response = api.patch("auth/me", json=body)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["code"] == "validation_error"
    assert api.get("auth/me").get_json()["role"] == "client"


def test_changing_the_account_needs_a_signed_in_user(api):
    response = api.patch("auth/me", json={"name": "Nobody"})
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


def test_a_cookie_session_needs_the_csrf_token(client):
    user = ClientFactory()
    token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    client.post(
        "/api/v1/auth/login",
        json={"email": user.email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    response = client.patch("/api/v1/auth/me", json={"timezone": "Asia/Tokyo"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    assert client.get("/api/v1/auth/me").get_json()["timezone"] == user.timezone
    response = client.patch(
        "/api/v1/auth/me", json={"timezone": "Asia/Tokyo"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200
    assert response.get_json()["timezone"] == "Asia/Tokyo"


def test_bearer_tokens_change_the_account_without_csrf(bearer):
    user = ClientFactory()
    response = bearer(user).patch("auth/me", json={"email_opt_out": ["bid.new"]})
    assert response.status_code == 200
    assert response.get_json()["email_opt_out"] == ["bid.new"]
