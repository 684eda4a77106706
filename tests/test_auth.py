"""Sign-up, login, logout, sessions, CSRF and rate limits."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts import passwords
from marketplace.accounts.models import Role, User, UserStatus
from marketplace.demo.data import PASSWORD as DEMO_PASSWORD
from marketplace.extensions import db
from marketplace.profiles.models import ClientProfile, ProviderProfile
from tests.conftest import Api
from tests.factories import PASSWORD, ClientFactory, ProviderFactory

SIGNUP_MESSAGE = "Check your e-mail: we have sent this address a message about your sign-up."
SIGNUP = {
    "email": "Ana.Reyes@Example.COM",
    "password": "a-long-enough-password",
    "name": "Ana Reyes",
    "role": "provider",
    "timezone": "Asia/Manila",
    "country": "PH",
}


def test_signup_creates_account_profile_and_welcome_mail_then_the_user_logs_in(api, sent_mail):
    response = api.post("auth/signup", json=SIGNUP)

    assert response.status_code == 202
    assert response.get_json() == {"message": SIGNUP_MESSAGE}
    user = db.session.scalar(sa.select(User).where(User.email == "ana.reyes@example.com"))
    assert user.role == Role.PROVIDER
    assert user.password_hash.startswith("$argon2id$")
    profile = db.session.scalar(
        sa.select(ProviderProfile).where(ProviderProfile.user_id == user.id)
    )
    assert (profile.timezone, profile.country, profile.service_model) == ("Asia/Manila", "PH", "va")
    assert [(m.to, m.subject) for m in sent_mail] == [
        ("ana.reyes@example.com", "Welcome to the marketplace"),
        ("ana.reyes@example.com", "Confirm your e-mail address"),
    ]
    assert user.email_verified_at is None  # until the link is opened (tests/test_verification)
    # The answer cannot differ by a session cookie, so the new user logs in next.
    assert api.get("auth/me").status_code == 401
    login = {"email": SIGNUP["email"], "password": SIGNUP["password"]}
    assert api.post("auth/login", json=login).status_code == 200
    assert api.get("auth/me").get_json()["id"] == str(user.id)


def test_client_signup_creates_client_profile(api):
    response = api.post(
        "auth/signup",
        json={**SIGNUP, "role": "client", "country": "US", "timezone": "America/New_York"},
    )
    assert response.status_code == 202
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClientProfile)) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "ana.reyes@example.com"}, "password"),
        ({"password": "ANA.REYES"}, "password"),
        ({"timezone": "Mars/Olympus_Mons"}, "timezone"),
        ({"timezone": "EST5EDT_nope"}, "timezone"),
        ({"country": "XX"}, "country"),
        ({"country": "ph"}, "country"),
        ({"role": "admin"}, "role"),
        ({"is_admin": True}, "is_admin"),
        ({"name": ""}, "name"),
    ],
)
def test_signup_rejects_each_bad_field(api, change, field):
    response = api.post("auth/signup", json={**SIGNUP, **change})

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("password123", "This password is too easy to guess"),
        ("Password123!", "This password is too easy to guess"),
        ("qwertyuiop", "This password is too easy to guess"),
        (" " * 12, "The password must not be blank."),
        ("\t\n" * 6, "The password must not be blank."),
    ],
)
def test_signup_refuses_blank_and_common_passwords(api, password, message):
    response = api.post("auth/signup", json={**SIGNUP, "password": password})

    assert response.status_code == 422
    problems = response.get_json()["error"]["details"]["password"]
    assert any(problem.startswith(message) for problem in problems), problems
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


@pytest.mark.parametrize("password", [PASSWORD, DEMO_PASSWORD, SIGNUP["password"]])
def test_the_suites_and_the_demos_passwords_are_strong_enough(password):
    passwords.check_password_strength(password, "ana.reyes@example.com")


def test_create_admin_applies_the_same_password_rule(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "root@example.com", "--password", "password123"]
    )

    assert result.exit_code != 0
    assert "too easy to guess" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_signup_answers_a_taken_address_as_a_new_one_and_warns_its_owner(app, sent_mail):
    owner = ClientFactory(email="ana.reyes@example.com")
    fresh, taken = Api(app.test_client()), Api(app.test_client())

    new_answer = fresh.post("auth/signup", json={**SIGNUP, "email": "someone.new@example.com"})
    taken_answer = taken.post("auth/signup", json=SIGNUP)  # the owner's address, in other case

    assert taken_answer.status_code == new_answer.status_code == 202
    assert taken_answer.get_json() == new_answer.get_json() == {"message": SIGNUP_MESSAGE}
    assert set(taken_answer.headers.keys()) == set(new_answer.headers.keys())  # no session
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(User).where(User.email == owner.email)
        )
        == 1
    )
    assert db.session.get(User, owner.id).role == Role.CLIENT  # the sign-up was a provider's
    warnings = [m for m in sent_mail if m.to == owner.email]
    assert [m.subject for m in warnings] == ["Someone tried to sign up with your e-mail address"]
    # The owner's password still works; the one sent in the attempt does not.
    attempt = {"email": owner.email, "password": SIGNUP["password"]}
    assert taken.post("auth/login", json=attempt).status_code == 401
    assert (
        taken.post("auth/login", json={"email": owner.email, "password": PASSWORD}).status_code
        == 200
    )


def test_signup_with_a_taken_address_still_checks_the_password(api, sent_mail):
    ClientFactory(email="ana.reyes@example.com")

    response = api.post("auth/signup", json={**SIGNUP, "password": "password123"})

    assert response.status_code == 422
    assert "password" in response.get_json()["error"]["details"]
    assert sent_mail == []


def test_signup_requires_json_fields(api):
    response = api.post("auth/signup", json={})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]) >= {"email", "password", "name", "role"}


def test_login_me_logout(api):
    user = ClientFactory(email="bo@example.com")

    response = api.post("auth/login", json={"email": "BO@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert response.get_json()["id"] == str(user.id)
    me = api.get("auth/me").get_json()
    assert me["email"] == "bo@example.com"
    assert me["membership"] is None

    assert api.post("auth/logout").status_code == 204
    response = api.get("auth/me")
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("email", "password"),
    [("bo@example.com", "wrong password!"), ("nobody@example.com", PASSWORD)],
)
def test_login_refuses_wrong_credentials_alike(api, email, password):
    ClientFactory(email="bo@example.com")

    response = api.post("auth/login", json={"email": email, "password": password})

    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "Wrong e-mail address or password."


def test_session_cookie_is_httponly_and_lax(api):
    user = ClientFactory()
    response = api.post("auth/login", json={"email": user.email, "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_cookie_session_needs_csrf_token_on_unsafe_methods(client):
    user = ProviderFactory()
    response = client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"

    token = client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
    response = client.post(
        "/api/v1/auth/login",
        json={"email": user.email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 200

    response = client.put("/api/v1/providers/me", json={"headline": "Changed"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "csrf_failed"
    response = client.put(
        "/api/v1/providers/me", json={"headline": "Changed"}, headers={"X-CSRFToken": "forged"}
    )
    assert response.status_code == 400
    assert client.get("/api/v1/providers/me").get_json()["headline"] != "Changed"

    response = client.put(
        "/api/v1/providers/me", json={"headline": "Changed"}, headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200
    assert response.get_json()["headline"] == "Changed"


def test_bearer_requests_need_no_csrf_token(bearer):
    user = ProviderFactory()
    api = bearer(user)
    response = api.client.put(
        "/api/v1/providers/me",
        json={"headline": "Via token"},
        headers={"Authorization": f"Bearer {api.token}"},
    )
    assert response.status_code == 200
    assert response.get_json()["headline"] == "Via token"


def test_suspended_user_cannot_log_in_or_keep_a_session(login, api, app):
    user = ClientFactory()
    session = login(user)
    user.status = UserStatus.SUSPENDED
    db.session.commit()

    assert session.get("auth/me").status_code == 401
    response = api.post("auth/login", json={"email": user.email, "password": PASSWORD})
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "account_suspended"


@pytest.mark.parametrize("path", ["auth/login", "auth/signup"])
def test_login_and_signup_are_rate_limited(app, api, path, monkeypatch):
    monkeypatch.setitem(app.config, "AUTH_RATE_LIMIT", "3 per minute")

    statuses = [api.post(path, json={"email": "x@example.com"}).status_code for _ in range(4)]

    assert statuses == [422, 422, 422, 429]
    response = api.post(path, json={})
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0


def test_logout_revokes_the_session_even_for_a_copied_cookie(app, api):
    user = ClientFactory()
    api.login(user)
    cookie = api.client.get_cookie("marketplace_session")
    thief = app.test_client()
    thief.set_cookie("marketplace_session", cookie.value)
    assert thief.get("/api/v1/auth/me").status_code == 200

    assert api.post("auth/logout").status_code == 204

    assert thief.get("/api/v1/auth/me").status_code == 401
    assert api.get("auth/me").status_code == 401


def test_each_login_is_its_own_session(login):
    user = ClientFactory()
    laptop, phone = login(user), login(user)
    laptop.post("auth/logout")
    assert phone.get("auth/me").status_code == 200


def test_remember_me_makes_the_session_cookie_persistent(api):
    user = ClientFactory()
    response = api.post(
        "auth/login", json={"email": user.email, "password": PASSWORD, "remember": True}
    )
    assert "Expires=" in response.headers["Set-Cookie"]


def test_signing_in_again_ends_the_previous_session(app, api):
    user = ClientFactory()
    api.login(user)
    old = api.client.get_cookie("marketplace_session").value
    api.login(user)
    api.post("auth/logout")
    thief = app.test_client()
    thief.set_cookie("marketplace_session", old)
    assert thief.get("/api/v1/auth/me").status_code == 401
