"""Password reset (one answer for every address, a single-use link valid an hour, every
credential revoked) and password change (the current password, this session kept, the
others revoked); Argon2 hashes re-made on login when the parameters change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import time_machine
from argon2 import PasswordHasher

from marketplace.accounts import passwords
from marketplace.accounts.models import User, UserStatus
from marketplace.extensions import db
from tests.factories import PASSWORD, ClientFactory, ProviderFactory
from tests.test_verification import link_token

NEW_PASSWORD = "violet kettle under the stairs"
RESET_MESSAGE = (
    "If an account has this address, we have e-mailed it a link to choose a new password. "
    "The link works once, for an hour."
)
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def reset_mails(sent_mail: list[Any], to: str) -> list[Any]:
    return [m for m in sent_mail if m.to == to and m.subject == "Choose a new password"]


def ask_reset(api: Any, email: str) -> Any:
    return api.post("auth/password-reset", json={"email": email})


def reset_token(api: Any, sent_mail: list[Any], user: User) -> str:
    """Ask for a reset of `user` (the address in capitals) and read the link's token."""
    assert ask_reset(api, user.email.upper()).status_code == 202
    mails = reset_mails(sent_mail, user.email)
    assert mails, [m.subject for m in sent_mail]
    return link_token(mails[-1], "/reset-password")


def confirm(api: Any, token: str, password: str = NEW_PASSWORD) -> Any:
    return api.post("auth/password-reset/confirm", json={"token": token, "password": password})


def can_log_in(api: Any, user: User, password: str) -> bool:
    response = api.post("auth/login", json={"email": user.email, "password": password})
    assert response.status_code in (200, 401), response.get_json()
    return response.status_code == 200


def test_reset_end_to_end_revokes_every_session_and_token(api, login, bearer, sent_mail):
    user = ProviderFactory()
    laptop, phone, integration = login(user), login(user), bearer(user)
    assert all(c.get("auth/me").status_code == 200 for c in (laptop, phone, integration))

    token = reset_token(api, sent_mail, user)
    (mail,) = reset_mails(sent_mail, user.email)
    assert "It works once" in mail.body and "every API token" in mail.body
    response = confirm(api, token)

    assert response.status_code == 200
    assert response.get_json() == {"message": "Your password is changed: sign in with it."}
    for revoked in (laptop, phone, integration):
        answer = revoked.get("auth/me")
        assert answer.status_code == 401
        assert answer.get_json()["error"]["code"] == "unauthorized"
    assert not can_log_in(api, user, PASSWORD)
    assert can_log_in(api, user, NEW_PASSWORD)
    assert api.get("auth/me").status_code == 200
    notices = [m for m in sent_mail if m.subject == "Your password was changed"]
    assert [m.to for m in notices] == [user.email]


def test_reset_answers_an_unknown_address_identically_and_sends_nothing(
    api, sent_mail, count_statements
):
    user = ClientFactory()
    with count_statements() as known_log:
        known = ask_reset(api, user.email)
    with count_statements() as unknown_log:
        unknown = ask_reset(api, "nobody@example.com")

    assert (known.status_code, known.get_json()) == (202, {"message": RESET_MESSAGE})
    assert (unknown.status_code, unknown.get_json()) == (known.status_code, known.get_json())
    skip = {"Date", "Set-Cookie", "X-RateLimit-Remaining", "X-RateLimit-Reset", "Retry-After"}
    assert {k: v for k, v in known.headers if k not in skip} == {
        k: v for k, v in unknown.headers if k not in skip
    }
    # The same work while answering: the address is looked up only after the answer.
    assert known_log.count == unknown_log.count
    assert [m.to for m in sent_mail] == [user.email]


def test_a_suspended_account_gets_no_reset_link(api, sent_mail):
    user = ClientFactory(status=UserStatus.SUSPENDED)
    response = ask_reset(api, user.email)
    assert (response.status_code, response.get_json()) == (202, {"message": RESET_MESSAGE})
    assert sent_mail == []


def test_a_malformed_address_is_a_422(api, sent_mail):
    for body in ({"email": "not-an-address"}, {}, {"email": "a@b.c", "x": 1}):
        response = api.post("auth/password-reset", json=body)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["code"] == "validation_error"
    assert sent_mail == []


def test_a_reset_link_works_once(api, sent_mail):
    user = ClientFactory()
    token = reset_token(api, sent_mail, user)
    assert confirm(api, token).status_code == 200

    again = confirm(api, token, password="another fine long passphrase")

    assert again.status_code == 400
    assert again.get_json()["error"]["code"] == "invalid_token"
    assert can_log_in(api, user, NEW_PASSWORD)


def test_every_earlier_link_is_spent_by_a_new_password(api, sent_mail):
    user = ClientFactory()
    with time_machine.travel(START, tick=False) as clock:
        first = reset_token(api, sent_mail, user)
        clock.shift(timedelta(minutes=5))
        second = reset_token(api, sent_mail, user)
        assert first != second

        assert confirm(api, second).status_code == 200

        response = confirm(api, first, password="another fine long passphrase")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_a_password_change_spends_an_outstanding_reset_link(api, login, sent_mail):
    user = ClientFactory()
    token = reset_token(api, sent_mail, user)
    change = login(user).post(
        "auth/password", json={"current_password": PASSWORD, "new_password": NEW_PASSWORD}
    )
    assert change.status_code == 200

    assert confirm(api, token, password="another fine long passphrase").status_code == 400


def test_a_reset_link_expires_after_an_hour(api, sent_mail):
    user = ClientFactory()
    with time_machine.travel(START, tick=False) as clock:
        token = reset_token(api, sent_mail, user)
        clock.shift(timedelta(minutes=60, seconds=1))

        response = confirm(api, token)

        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["code"] == "token_expired"
        assert "ask for a new one" in error["message"]
    assert can_log_in(api, user, PASSWORD)


def test_a_reset_link_works_within_the_hour(api, sent_mail):
    user = ClientFactory()
    with time_machine.travel(START, tick=False) as clock:
        token = reset_token(api, sent_mail, user)
        clock.shift(timedelta(minutes=59))
        assert confirm(api, token).status_code == 200


@pytest.mark.parametrize("token", ["", "garbage", "a" * 2000])
def test_a_malformed_token_is_refused(api, token):
    response = confirm(api, token)
    assert response.status_code in (400, 422)
    code = response.get_json()["error"]["code"]
    assert code == ("invalid_token" if response.status_code == 400 else "validation_error")


def test_a_verification_token_does_not_reset_a_password(api, sent_mail):
    from tests.test_verification import SIGNUP, verification_mails

    api.post("auth/signup", json=SIGNUP)
    (mail,) = verification_mails(sent_mail, "ana.reyes@example.com")
    response = confirm(api, link_token(mail, "/verify-email"))
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_a_weak_new_password_is_refused_like_at_sign_up_and_the_link_stays_usable(api, sent_mail):
    user = ClientFactory(email="ana.reyes@example.com")
    token = reset_token(api, sent_mail, user)
    signup_answer = api.post(
        "auth/signup",
        json={"email": "new@example.com", "password": "password123", "name": "N", "role": "client"},
    )

    response = confirm(api, token, password="password123")

    assert response.status_code == 422
    assert response.get_json()["error"] == signup_answer.get_json()["error"]
    short = confirm(api, token, password="short")
    assert short.status_code == 422
    assert "Use at least 10 characters." in short.get_json()["error"]["details"]["password"]
    assert confirm(api, token, password="ana.reyes").status_code == 422
    assert can_log_in(api, user, PASSWORD)
    assert confirm(api, token).status_code == 200


def test_a_reset_confirms_an_unverified_address(api, sent_mail):
    user = ProviderFactory(unverified=True)
    assert confirm(api, reset_token(api, sent_mail, user)).status_code == 200
    db.session.expire_all()
    assert db.session.get(User, user.id).email_verified_at is not None


# Password change -------------------------------------------------------------------------


def change(client: Any, current: str = PASSWORD, new: str = NEW_PASSWORD) -> Any:
    return client.post("auth/password", json={"current_password": current, "new_password": new})


def test_change_keeps_this_session_and_signs_out_the_others(api, login, bearer, sent_mail):
    user = ClientFactory()
    here, elsewhere, integration = login(user), login(user), bearer(user)

    response = change(here)

    assert response.status_code == 200
    assert response.get_json()["id"] == str(user.id)
    assert here.get("auth/me").status_code == 200
    assert elsewhere.get("auth/me").status_code == 401
    assert integration.get("auth/me").status_code == 200  # API tokens are kept
    assert not can_log_in(api, user, PASSWORD)
    assert can_log_in(api, user, NEW_PASSWORD)
    assert [m.subject for m in sent_mail] == ["Your password was changed"]


def test_change_with_a_token_signs_out_every_session(login, bearer):
    user = ClientFactory()
    browser, integration = login(user), bearer(user)

    assert change(integration).status_code == 200

    assert browser.get("auth/me").status_code == 401
    assert integration.get("auth/me").status_code == 200


def test_a_wrong_current_password_is_a_clear_422_and_changes_nothing(api, login, sent_mail):
    user = ClientFactory()
    here, elsewhere = login(user), login(user)

    response = change(here, current="not my password at all")

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"] == {"current_password": ["This is not your current password."]}
    assert elsewhere.get("auth/me").status_code == 200
    assert can_log_in(api, user, PASSWORD)
    assert sent_mail == []


def test_a_weak_new_password_is_a_422_on_new_password(api, login):
    user = ClientFactory()
    here = login(user)

    response = change(here, new="password123")

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["new_password"]
    assert error["details"]["new_password"][0].startswith("This password is too easy to guess.")
    assert can_log_in(api, user, PASSWORD)


def test_change_needs_a_signed_in_user_and_a_full_body(api, login):
    assert change(api).status_code == 401
    here = login(ClientFactory())
    for body in ({}, {"current_password": PASSWORD}, {"new_password": NEW_PASSWORD, "x": 1}):
        response = here.post("auth/password", json=body)
        assert response.status_code == 422, body


def test_change_is_rate_limited_per_user(app, login, monkeypatch):
    monkeypatch.setitem(app.config, "PASSWORD_CHANGE_RATE_LIMIT", "2 per minute")
    here = login(ClientFactory())
    statuses = [change(here, current="wrong guess number one").status_code for _ in range(3)]
    assert statuses == [422, 422, 429]


# Re-hashing on login ------------------------------------------------------------------------


def test_login_rehashes_a_hash_made_with_older_parameters(api):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    user = ClientFactory(password_hash=weak.hash(PASSWORD))
    old_hash = user.password_hash
    assert passwords.needs_rehash(old_hash)

    assert can_log_in(api, user, PASSWORD)

    db.session.expire_all()
    rehashed = db.session.get(User, user.id).password_hash
    assert rehashed != old_hash
    assert not passwords.needs_rehash(rehashed)
    assert "m=8192" in old_hash and "m=8192" not in rehashed
    assert passwords.verify_password(rehashed, PASSWORD)
    # Once current, a login leaves the hash alone; a failed login never rehashes.
    assert can_log_in(api, user, PASSWORD)
    assert not can_log_in(api, user, "not the password")
    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == rehashed


def test_a_failed_login_does_not_rehash(api):
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1)
    user = ClientFactory(password_hash=weak.hash(PASSWORD))
    old_hash = user.password_hash

    assert not can_log_in(api, user, "not the password")

    db.session.expire_all()
    assert db.session.get(User, user.id).password_hash == old_hash
