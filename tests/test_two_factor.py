"""Two-factor sign-in (TOTP, RFC 6238) through HTTP: setup, enable, sign-in with a code or a
recovery code, replays, the clock's window, disable, the per-account limit, and admins, who
may do nothing but set it up until it is on. The clock is moved with time-machine."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from marketplace.accounts.auth import TWO_FACTOR_SETUP_ENDPOINTS
from marketplace.accounts.models import RecoveryCode, User
from marketplace.extensions import db
from marketplace.jobs import outbox
from tests.conftest import Api
from tests.factories import PASSWORD, AdminFactory, ClientFactory, ProviderFactory

#: Two seconds into a 30-second step, so that moving by whole steps stays inside each one.
T0 = datetime(2026, 12, 2, 12, 0, 2, tzinfo=UTC)
STEP = timedelta(seconds=30)


@pytest.fixture
def clock() -> Any:
    """The clock, stopped at T0 for the whole test (CSRF tokens and sessions age with it);
    `clock.move_to(moment)` moves it."""
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def code_at(secret: str, moment: datetime) -> str:
    """The code an authenticator app shows at `moment`."""
    return pyotp.TOTP(secret).at(moment)


def from_address(app: Flask, address: str) -> Any:
    """A test client whose requests come from `address`."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


def login_body(user: User, **extra: Any) -> dict[str, Any]:
    return {"email": user.email, "password": PASSWORD, **extra}


def error_code(response: Any) -> str:
    return response.get_json()["error"]["code"]


def turn_on(api: Api, at: datetime, password: str = PASSWORD) -> tuple[str, list[str]]:
    """Set up and enable two-factor sign-in for the signed-in user at `at`: (secret, codes)."""
    setup = api.post("auth/2fa/setup", json={"password": password})
    assert setup.status_code == 200, setup.get_json()
    secret = setup.get_json()["secret"]
    enabled = api.post("auth/2fa/enable", json={"code": code_at(secret, at)})
    assert enabled.status_code == 200, enabled.get_json()
    return secret, enabled.get_json()["recovery_codes"]


def recovery_rows(user: User) -> list[RecoveryCode]:
    return list(db.session.scalars(sa.select(RecoveryCode).where(RecoveryCode.user_id == user.id)))


# The flows, end to end -------------------------------------------------------------------


def test_setup_enable_then_sign_in_needs_the_code(clock, api, sent_mail):
    user = ClientFactory()
    clock.move_to(T0)
    api.login(user)
    setup = api.post("auth/2fa/setup", json={"password": PASSWORD})

    assert setup.status_code == 200
    body = setup.get_json()
    secret = body["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret)
    parsed = pyotp.parse_uri(body["otpauth_uri"])
    assert body["otpauth_uri"].startswith("otpauth://totp/")
    assert (parsed.secret, parsed.issuer, parsed.name) == (secret, "Marketplace", user.email)
    db.session.refresh(user)
    assert (user.totp_secret, user.two_factor_enabled_at) == (secret, None)
    assert api.get("auth/me").get_json()["two_factor_enabled"] is False

    enabled = api.post("auth/2fa/enable", json={"code": code_at(secret, T0)})

    assert enabled.status_code == 200, enabled.get_json()
    codes = enabled.get_json()["recovery_codes"]
    assert len(codes) == len(set(codes)) == 10
    assert all(re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", c) for c in codes)
    assert enabled.get_json()["enabled_at"] == "2026-12-02T12:00:02+00:00"
    db.session.refresh(user)
    assert user.two_factor_enabled_at == T0
    rows = recovery_rows(user)
    assert len(rows) == 10 and all(r.used_at is None for r in rows)
    assert not {r.code_hash for r in rows} & set(codes)  # stored hashed, never as given
    assert [(m.to, m.subject) for m in sent_mail] == [
        (user.email, "Two-factor sign-in is on for your account")
    ]
    assert "Two-factor sign-in was turned on" in sent_mail[0].body
    me = api.get("auth/me").get_json()
    assert (me["two_factor_enabled"], me["two_factor_setup_required"]) == (True, False)
    assert "secret" not in str(me).lower()  # the secret is never shown again

    assert api.post("auth/logout").status_code == 204
    later = T0 + STEP
    clock.move_to(later)
    without = api.post("auth/login", json=login_body(user))
    assert without.status_code == 401
    assert error_code(without) == "two_factor_required"
    assert "code" in without.get_json()["error"]["message"]
    assert api.get("auth/me").status_code == 401  # no session was started

    wrong = api.post("auth/login", json=login_body(user, code="000000"))
    assert (wrong.status_code, error_code(wrong)) == (401, "invalid_two_factor_code")
    assert api.get("auth/me").status_code == 401

    right = api.post("auth/login", json=login_body(user, code=code_at(secret, later)))
    assert right.status_code == 200, right.get_json()
    assert right.get_json()["two_factor_enabled"] is True
    assert api.get("auth/me").get_json()["id"] == str(user.id)


def test_wrong_password_with_a_right_code_is_still_a_wrong_password(clock, api):
    user = ClientFactory()
    clock.move_to(T0)
    secret, _ = turn_on(api.login(user), T0)
    clock.move_to(T0 + STEP)
    response = Api(api.client.application.test_client()).post(
        "auth/login",
        json={**login_body(user, code=code_at(secret, T0 + STEP)), "password": "wrong-one!"},
    )
    assert (response.status_code, error_code(response)) == (401, "unauthorized")


def test_a_recovery_code_signs_in_once(clock, app, api):
    user = ProviderFactory()
    clock.move_to(T0)
    _, codes = turn_on(api.login(user), T0)
    fresh = Api(app.test_client())

    # As a person types it: upper case, without the dashes, with spaces around.
    typed = f"  {codes[3].replace('-', '').upper()} "
    first = fresh.post("auth/login", json=login_body(user, recovery_code=typed))

    assert first.status_code == 200, first.get_json()
    used = [r for r in recovery_rows(user) if r.used_at is not None]
    assert len(used) == 1
    assert fresh.post("auth/logout").status_code == 204
    again = fresh.post("auth/login", json=login_body(user, recovery_code=codes[3]))
    assert (again.status_code, error_code(again)) == (401, "invalid_two_factor_code")
    unknown = fresh.post("auth/login", json=login_body(user, recovery_code="aaaa-bbbb-cccc"))
    assert (unknown.status_code, error_code(unknown)) == (401, "invalid_two_factor_code")
    # Each of the others still works once.
    assert (
        fresh.post("auth/login", json=login_body(user, recovery_code=codes[4])).status_code == 200
    )


def test_a_code_and_a_recovery_code_together_are_refused(api):
    user = ClientFactory()
    response = api.post("auth/login", json=login_body(user, code="123456", recovery_code="x"))
    assert (response.status_code, error_code(response)) == (422, "validation_error")
    assert "recovery_code" in response.get_json()["error"]["details"]


def test_a_code_cannot_be_replayed_within_its_window(clock, app, api):
    user = ClientFactory()
    clock.move_to(T0)
    secret, _ = turn_on(api.login(user), T0)
    other = Api(app.test_client())

    at = T0 + 2 * STEP
    code = code_at(secret, at)
    clock.move_to(at)
    assert api.post("auth/login", json=login_body(user, code=code)).status_code == 200
    # Ten seconds later the code is still current, but used: someone who saw it gets nothing.
    clock.move_to(at + timedelta(seconds=10))
    replay = other.post("auth/login", json=login_body(user, code=code))
    assert (replay.status_code, error_code(replay)) == (401, "invalid_two_factor_code")
    assert other.get("auth/me").status_code == 401
    # Nor is the step before a used one ever accepted again.
    clock.move_to(at + STEP)
    older = other.post("auth/login", json=login_body(user, code=code_at(secret, at - STEP)))
    assert older.status_code == 401
    newer = other.post("auth/login", json=login_body(user, code=code_at(secret, at + STEP)))
    assert newer.status_code == 200, newer.get_json()
    db.session.refresh(user)
    assert user.totp_last_step == pyotp.TOTP(secret).timecode(at + STEP)


@pytest.mark.parametrize(
    ("shown_at", "accepted"),
    [
        (-2 * STEP, False),  # a minute old: expired
        (-STEP, True),  # the step before: a slow phone, or a code typed as it changed
        (STEP, True),  # the step after: a fast phone
        (2 * STEP, False),  # a code from the future
    ],
)
def test_codes_from_one_step_either_side_are_accepted(clock, app, api, shown_at, accepted):
    user = ClientFactory()
    clock.move_to(T0)
    secret, _ = turn_on(api.login(user), T0)
    now = T0 + 5 * STEP
    clock.move_to(now)
    response = Api(app.test_client()).post(
        "auth/login", json=login_body(user, code=code_at(secret, now + shown_at))
    )
    assert response.status_code == (200 if accepted else 401), response.get_json()


def test_enable_with_a_wrong_code_changes_nothing(clock, api, sent_mail):
    user = ClientFactory()
    clock.move_to(T0)
    api.login(user)
    secret = api.post("auth/2fa/setup", json={"password": PASSWORD}).get_json()["secret"]
    for bad in ("000000", code_at(secret, T0 - 3 * STEP), "12345", "abcdef"):
        response = api.post("auth/2fa/enable", json={"code": bad})
        assert (response.status_code, error_code(response)) == (422, "invalid_two_factor_code")
        assert "code" in response.get_json()["error"]["details"]

    db.session.refresh(user)
    assert (user.totp_secret, user.totp_last_step, user.two_factor_enabled_at) == (
        secret,
        None,
        None,
    )
    assert recovery_rows(user) == []
    assert sent_mail == []
    assert api.get("auth/me").get_json()["two_factor_enabled"] is False
    # Sign-in still needs no code.
    assert api.post("auth/logout").status_code == 204
    assert api.post("auth/login", json=login_body(user)).status_code == 200
    # And the right code still turns it on.
    enabled = api.post("auth/2fa/enable", json={"code": code_at(secret, T0)})
    assert enabled.status_code == 200


def test_setup_again_replaces_the_secret_that_is_not_yet_on(clock, api):
    user = ClientFactory()
    clock.move_to(T0)
    api.login(user)
    first = api.post("auth/2fa/setup", json={"password": PASSWORD}).get_json()["secret"]
    second = api.post("auth/2fa/setup", json={"password": PASSWORD}).get_json()["secret"]
    assert first != second
    stale = api.post("auth/2fa/enable", json={"code": code_at(first, T0)})
    if code_at(first, T0) != code_at(second, T0):  # (one in a million they agree)
        assert stale.status_code == 422
    assert api.post("auth/2fa/enable", json={"code": code_at(second, T0)}).status_code in (
        200,
        409,
    )


def test_setup_needs_the_password_again(clock, api):
    user = ClientFactory()
    clock.move_to(T0)
    api.login(user)

    wrong = api.post("auth/2fa/setup", json={"password": "not the password at all"})
    missing = api.post("auth/2fa/setup", json={})

    assert (wrong.status_code, error_code(wrong)) == (422, "invalid_password")
    assert "password" in wrong.get_json()["error"]["details"]
    assert missing.status_code == 422
    assert "password" in missing.get_json()["error"]["details"]
    db.session.refresh(user)
    assert (user.totp_secret, user.two_factor_enabled_at) == (None, None)


def test_conflicts_setup_or_enable_twice_disable_when_off_enable_before_setup(clock, api):
    user = ClientFactory()
    clock.move_to(T0)
    api.login(user)
    early = api.post("auth/2fa/enable", json={"code": "123456"})
    assert (early.status_code, error_code(early)) == (409, "conflict")
    assert "setup" in early.get_json()["error"]["message"]
    off = api.post("auth/2fa/disable", json={"password": PASSWORD, "code": "123456"})
    assert off.status_code == 409
    secret, _ = turn_on(api, T0)

    clock.move_to(T0 + STEP)
    again = api.post("auth/2fa/setup", json={"password": PASSWORD})
    assert (again.status_code, error_code(again)) == (409, "conflict")
    assert secret not in again.get_data(as_text=True)
    twice = api.post("auth/2fa/enable", json={"code": code_at(secret, T0 + STEP)})
    assert twice.status_code == 409
    db.session.refresh(user)
    assert user.totp_secret == secret  # unchanged by the refused setup


def test_disable_needs_the_password_and_a_code(clock, app, api, sent_mail):
    user = ClientFactory()
    clock.move_to(T0)
    secret, _ = turn_on(api.login(user), T0)
    sent_mail.clear()

    now = T0 + STEP
    clock.move_to(now)
    code = code_at(secret, now)
    wrong_password = api.post("auth/2fa/disable", json={"password": "not-mine-1", "code": code})
    assert (wrong_password.status_code, error_code(wrong_password)) == (422, "invalid_password")
    wrong_code = api.post("auth/2fa/disable", json={"password": PASSWORD, "code": "000000"})
    assert (wrong_code.status_code, error_code(wrong_code)) == (422, "invalid_two_factor_code")
    no_code = api.post("auth/2fa/disable", json={"password": PASSWORD})
    assert (no_code.status_code, error_code(no_code)) == (422, "validation_error")
    db.session.refresh(user)
    assert user.two_factor_enabled and len(recovery_rows(user)) == 10
    assert sent_mail == []

    off = api.post("auth/2fa/disable", json={"password": PASSWORD, "code": code})

    assert off.status_code == 200, off.get_json()
    assert off.get_json()["two_factor_enabled"] is False
    db.session.refresh(user)
    assert (user.totp_secret, user.totp_last_step, user.two_factor_enabled_at) == (None, None, None)
    assert recovery_rows(user) == []
    assert [(m.to, m.subject) for m in sent_mail] == [
        (user.email, "Two-factor sign-in is off for your account")
    ]
    # Signing in needs only the password again.
    assert Api(app.test_client()).post("auth/login", json=login_body(user)).status_code == 200


def test_disable_with_a_recovery_code(clock, api):
    user = ClientFactory()
    clock.move_to(T0)
    _, codes = turn_on(api.login(user), T0)
    body = {"password": PASSWORD, "recovery_code": codes[0]}
    response = api.post("auth/2fa/disable", json=body)
    assert response.status_code == 200, response.get_json()
    db.session.refresh(user)
    assert not user.two_factor_enabled


def test_code_attempts_have_their_own_limit_per_account(clock, app, api, monkeypatch):
    monkeypatch.setitem(app.config, "TWO_FACTOR_RATE_LIMIT", "3 per minute")
    user = ClientFactory()
    clock.move_to(T0 - 2 * STEP)
    secret, _ = turn_on(api.login(user), T0 - 2 * STEP)  # (one attempt, a minute ago)

    clock.move_to(T0)
    # Wrong passwords say nothing about the code, and are not counted against it.
    stranger = Api(app.test_client())
    for _ in range(4):
        body = {**login_body(user, code="000000"), "password": "wrong-one!"}
        assert stranger.post("auth/login", json=body).status_code == 401
    statuses = []
    for n in range(3):  # from three addresses: the limit is the account's
        client = Api(from_address(app, f"203.0.113.{n}"))
        statuses.append(client.post("auth/login", json=login_body(user, code="000000")))
    assert [r.status_code for r in statuses] == [401, 401, 401]
    limited = Api(from_address(app, "198.51.100.7")).post(
        "auth/login", json=login_body(user, code=code_at(secret, T0))
    )
    assert (limited.status_code, error_code(limited)) == (429, "rate_limited")
    # Another account is not affected.
    other = ClientFactory()
    assert Api(app.test_client()).post("auth/login", json=login_body(other)).status_code == 200

    later = T0 + timedelta(minutes=1, seconds=30)
    clock.move_to(later)
    response = Api(app.test_client()).post(
        "auth/login", json=login_body(user, code=code_at(secret, later))
    )
    assert response.status_code == 200, response.get_json()


def test_enable_attempts_count_against_the_limit(clock, app, api, monkeypatch):
    # Three a minute: the setup's password check is one, then two codes.
    monkeypatch.setitem(app.config, "TWO_FACTOR_RATE_LIMIT", "3 per minute")
    user = ClientFactory()
    clock.move_to(T0)
    api.login(user)
    secret = api.post("auth/2fa/setup", json={"password": PASSWORD}).get_json()["secret"]
    assert api.post("auth/2fa/enable", json={"code": "000000"}).status_code == 422
    assert api.post("auth/2fa/enable", json={"code": "000001"}).status_code == 422
    limited = api.post("auth/2fa/enable", json={"code": code_at(secret, T0)})
    assert (limited.status_code, error_code(limited)) == (429, "rate_limited")
    db.session.refresh(user)
    assert not user.two_factor_enabled


def test_an_api_token_made_before_two_factor_keeps_working(clock, api):
    """A token is made from a signed-in session (which passed two-factor sign-in if the
    account had it); turning it on later does not revoke the tokens already made."""
    user = ClientFactory()
    api.login(user)
    raw = api.post("auth/tokens", json={"name": "CI"}).get_json()["token"]
    clock.move_to(T0)
    turn_on(api, T0)
    response = api.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 200
    assert response.get_json()["two_factor_enabled"] is True


# Admins -----------------------------------------------------------------------------------


def admin_only_rules(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) of every endpoint behind `admin_required`."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "admin_only", False)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


def concrete(rule: str) -> str:
    return re.sub(r"<(?:[^:<>]+:)?[^<>]+>", lambda _: str(uuid.uuid4()), rule)


def call(client: Api, method: str, rule: str) -> Any:
    kwargs: dict[str, Any] = {}
    if method in {"POST", "PUT", "PATCH", "DELETE"}:
        kwargs = {"json": {}, "headers": {"Idempotency-Key": str(uuid.uuid4())}}
    return client.request(method, concrete(rule), **kwargs)


def test_every_admin_endpoint_is_marked(app):
    rules = admin_only_rules(app)
    admin_paths = {rule for _, rule in rules}
    every_admin_path = {
        r.rule for r in app.url_map.iter_rules() if r.rule.startswith("/api/v1/admin/")
    }
    assert every_admin_path <= admin_paths
    assert len(rules) >= 14


def test_an_admin_without_two_factor_may_only_set_it_up(clock, app, api, sent_mail):
    admin = AdminFactory(without_two_factor=True)

    response = api.post("auth/login", json=login_body(admin))

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["two_factor_setup_required"] is True
    me = api.get("auth/me")
    assert me.status_code == 200
    assert me.get_json()["two_factor_setup_required"] is True
    refused = []
    for method, rule in admin_only_rules(app):
        answer = call(api, method, rule)
        if (answer.status_code, error_code(answer)) != (403, "two_factor_setup_required"):
            refused.append((method, rule, answer.status_code))
    assert refused == []
    answer = api.get("admin/users")
    assert "set it up" in answer.get_json()["error"]["message"]

    # Nor anything else where a signed-in user (or an admin) sees more.
    for method, path in [
        ("GET", "contracts"),
        ("GET", f"tasks/{uuid.uuid4()}"),
        ("POST", "auth/tokens"),
        ("PATCH", "auth/me"),
        ("GET", "notifications"),
    ]:
        answer = api.request(method, path, json={"name": "x"} if method != "GET" else None)
        assert (answer.status_code, error_code(answer)) == (403, "two_factor_setup_required"), path

    clock.move_to(T0)
    turn_on(api, T0)

    assert api.get("admin/users").status_code == 200
    assert api.get("contracts").status_code == 200
    assert [m.subject for m in sent_mail] == ["Two-factor sign-in is on for your account"]


#: Endpoints that never look at who asks.
ANONYMOUS = {"/api/v1/openapi.json": "the spec", "/api/v1/webhooks/stripe": "Stripe's signature"}


def test_every_endpoint_but_setting_up_refuses_an_admin_without_two_factor(app, api):
    """Across the whole URL map: anything but the setup endpoints and public ones that do
    not look at who asks is a 403 for an admin who has not set two-factor sign-in up."""
    admin = AdminFactory(without_two_factor=True)
    api.login(admin)
    wrong = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if (
            not rule.rule.startswith("/api/v1/")
            or rule.rule in ANONYMOUS
            or rule.endpoint in TWO_FACTOR_SETUP_ENDPOINTS
            or getattr(view, "public", False)
        ):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            answer = call(api, method, rule.rule)
            if answer.status_code != 403 or error_code(answer) != "two_factor_setup_required":
                wrong.append((method, rule.rule, answer.status_code))
    assert wrong == []
    # Still signed in: the setup endpoints and logout answer.
    assert api.get("auth/me").status_code == 200
    assert api.post("auth/logout").status_code == 204
    assert api.get("auth/me").status_code == 401


def test_an_admins_api_token_is_refused_until_two_factor_is_on(bearer, api):
    admin = AdminFactory(without_two_factor=True)
    client = bearer(admin)
    response = client.get("admin/users")
    assert (response.status_code, error_code(response)) == (403, "two_factor_setup_required")
    assert client.get("auth/me").status_code == 200


def test_an_admin_who_turns_two_factor_off_loses_the_admin_endpoints(clock, app, login):
    admin = AdminFactory()
    api = login(admin)
    assert api.get("admin/users").status_code == 200
    now = T0 + 10 * STEP
    clock.move_to(now)
    body = {"password": PASSWORD, "code": code_at(admin.totp_secret, now)}
    assert api.post("auth/2fa/disable", json=body).status_code == 200
    response = api.get("admin/users")
    assert (response.status_code, error_code(response)) == (403, "two_factor_setup_required")


def test_an_admin_with_two_factor_signs_in_with_the_code(clock, app):
    admin = AdminFactory()
    api = Api(app.test_client())
    clock.move_to(T0)
    without = api.post("auth/login", json=login_body(admin))
    assert error_code(without) == "two_factor_required"
    body = login_body(admin, code=code_at(admin.totp_secret, T0))
    assert api.post("auth/login", json=body).status_code == 200
    assert api.get("admin/users").status_code == 200


def test_reset_2fa_command_turns_it_off_for_a_lost_phone(app, sent_mail):
    admin = AdminFactory()
    result = app.test_cli_runner().invoke(args=["reset-2fa", "--email", admin.email])
    assert result.exit_code == 0, result.output
    assert "off" in result.output
    outbox.deliver_due()
    db.session.refresh(admin)
    assert not admin.two_factor_enabled and admin.totp_secret is None
    assert [m.subject for m in sent_mail] == ["Two-factor sign-in is off for your account"]
    unknown = app.test_cli_runner().invoke(args=["reset-2fa", "--email", "nobody@example.com"])
    assert unknown.exit_code != 0


def test_an_admin_made_by_create_admin_sets_up_two_factor_first(clock, app, api):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "ops@example.com", "--password", "a-strong-admin-pw"]
    )
    assert result.exit_code == 0, result.output
    assert "two-factor sign-in" in result.output

    body = {"email": "ops@example.com", "password": "a-strong-admin-pw"}
    signed_in = api.post("auth/login", json=body)
    assert signed_in.status_code == 200
    assert signed_in.get_json()["two_factor_setup_required"] is True
    assert error_code(api.get("admin/users")) == "two_factor_setup_required"
    secret, _ = turn_on(api, T0, password="a-strong-admin-pw")
    assert api.get("admin/users").status_code == 200

    clock.move_to(T0 + STEP)
    assert api.post("auth/logout").status_code == 204
    refused = api.post("auth/login", json=body)
    assert error_code(refused) == "two_factor_required"
    body["code"] = code_at(secret, T0 + STEP)
    assert api.post("auth/login", json=body).status_code == 200
