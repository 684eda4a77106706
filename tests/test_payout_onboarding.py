"""Payout onboarding on Stripe: its trouble is answered as funding's is (503 when Stripe does
not answer, 502 when it refuses), nothing half-done is stored, and Stripe is never asked
while a row lock is held; concurrent calls still open one account for a provider."""

from __future__ import annotations

import itertools
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError

from marketplace.extensions import db
from marketplace.payments.gateways.stripe import StripeGateway
from marketplace.profiles.models import ProviderProfile
from tests.factories import ProviderFactory
from tests.stripe_support import WEBHOOK_SECRET, Sent, StripeHTTP, free_port, stripe_error

PATH = "providers/me/payouts/onboarding"
_ids = itertools.count(1)


def _use_stripe(app, monkeypatch, http: StripeHTTP | None = None, **config: Any) -> None:
    settings = {"PAYMENTS": "stripe", "STRIPE_SECRET_KEY": "sk_test_x", **config}
    settings["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    for name, value in settings.items():
        monkeypatch.setitem(app.config, name, value)
    if http is None:
        gateway = StripeGateway.from_config(app.config)
    else:
        gateway = StripeGateway(secret_key="sk_test_x", http_client=http, max_network_retries=0)
    monkeypatch.setitem(app.extensions, "payment_gateway", gateway)


def _account(sent: Sent) -> tuple[int, dict[str, Any]]:
    return 200, {"id": f"acct_onb{next(_ids)}", "object": "account", "payouts_enabled": False}


def _link(sent: Sent) -> tuple[int, dict[str, Any]]:
    url = f"https://connect.stripe.com/setup/e/{sent.params['account']}/{next(_ids)}"
    return 200, {"object": "account_link", "url": url, "expires_at": 2_000_000_000}


def _stored_account(user) -> str | None:
    db.session.expire_all()
    return db.session.scalar(
        sa.select(ProviderProfile.stripe_account_id).where(ProviderProfile.user_id == user.id)
    )


def _assert_error(answer: Any, status: int, code: str) -> None:
    assert answer.status_code == status, answer.get_json()
    error = answer.get_json()["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code


def test_stripe_unreachable_is_a_503_and_stores_nothing(login, app, monkeypatch):
    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    _use_stripe(app, monkeypatch, STRIPE_API_BASE=dead, STRIPE_MAX_NETWORK_RETRIES=0)
    provider = ProviderFactory()

    answer = login(provider).post(PATH)

    _assert_error(answer, 503, "gateway_unavailable")
    assert "not answering" in answer.get_json()["error"]["message"]
    assert _stored_account(provider) is None


@pytest.mark.parametrize(
    ("stripe_answer", "status", "code"),
    [
        (stripe_error(500, "api_error", "Something went wrong on Stripe's end."), 503, None),
        (stripe_error(429, "rate_limit_error", "Too many requests."), 503, None),
        (stripe_error(400, "invalid_request_error", "Unknown country."), 502, "gateway_error"),
    ],
)
def test_stripe_trouble_opening_the_account_is_answered_as_funding_does(
    stripe_answer, status, code, login, app, monkeypatch, caplog
):
    http = StripeHTTP(forward=False)
    http.answer("/v1/accounts", lambda sent: stripe_answer)
    _use_stripe(app, monkeypatch, http)
    provider = ProviderFactory()

    with caplog.at_level(logging.WARNING):
        answer = login(provider).post(PATH)

    _assert_error(answer, status, code or "gateway_unavailable")
    assert "(request req_" in caplog.text  # Stripe's request id, for the team
    assert http.to("/v1/account_links") == []
    assert _stored_account(provider) is None


def test_a_refused_link_keeps_the_opened_account_and_a_retry_reuses_it(login, app, monkeypatch):
    http = StripeHTTP(forward=False)
    http.answer("/v1/accounts", _account)
    http.answer(
        "/v1/account_links",
        lambda sent: stripe_error(400, "invalid_request_error", "Invalid return_url."),
    )
    _use_stripe(app, monkeypatch, http)
    provider = ProviderFactory()
    api = login(provider)

    refused = api.post(PATH)

    _assert_error(refused, 502, "gateway_error")
    account_id = _stored_account(provider)  # it exists at Stripe: recorded, not lost
    assert account_id is not None and account_id.startswith("acct_onb")
    http.answer("/v1/account_links", _link)
    again = api.post(PATH)
    assert again.status_code == 200
    assert again.get_json()["account_id"] == account_id
    assert len(http.to("/v1/accounts")) == 1


@pytest.mark.postgres
def test_stripe_is_asked_while_no_row_lock_is_held(login, app, monkeypatch):
    provider = ProviderFactory()
    profile_id = db.session.scalar(
        sa.select(ProviderProfile.id).where(ProviderProfile.user_id == provider.id)
    )
    engine = db.engine
    locked_during: list[str] = []

    def lockable(path: str) -> None:
        """Take the profile's row lock from another connection, without waiting."""
        with engine.connect() as other:
            try:
                other.execute(
                    sa.select(ProviderProfile.id)
                    .where(ProviderProfile.id == profile_id)
                    .with_for_update(nowait=True)
                )
            except OperationalError:
                locked_during.append(path)
            other.rollback()

    def checked(respond):
        def answer(sent: Sent) -> tuple[int, dict[str, Any]]:
            lockable(sent.path)
            return respond(sent)

        return answer

    http = StripeHTTP(forward=False)
    http.answer("/v1/accounts", checked(_account))
    http.answer("/v1/account_links", checked(_link))
    _use_stripe(app, monkeypatch, http)

    answer = login(provider).post(PATH)

    assert answer.status_code == 200, answer.get_json()
    assert locked_during == []


@pytest.mark.postgres
@pytest.mark.parametrize("stripe_honours_the_key", [True, False])
def test_concurrent_onboarding_opens_one_account(stripe_honours_the_key, login, app, monkeypatch):
    """Both calls are at Stripe at once (neither waits on a lock of the other): Stripe's
    idempotency key gives them one account; were it forgotten (keys expire after 24 hours),
    the re-check under the lock still stores one and both answers name it."""
    provider = ProviderFactory()
    profile_id = db.session.scalar(
        sa.select(ProviderProfile.id).where(ProviderProfile.user_id == provider.id)
    )
    both_at_stripe = threading.Barrier(2, timeout=120)  # generous: fails only if one is stuck
    by_key: dict[str, str] = {}
    created: list[str] = []
    guard = threading.Lock()

    def account(sent: Sent) -> tuple[int, dict[str, Any]]:
        both_at_stripe.wait()
        with guard:
            key = sent.headers["Idempotency-Key"]
            if stripe_honours_the_key and key in by_key:
                return 200, {"id": by_key[key], "object": "account", "payouts_enabled": False}
            status, body = _account(sent)
            by_key[key] = body["id"]
            created.append(body["id"])
            return status, body

    http = StripeHTTP(forward=False)
    http.answer("/v1/accounts", account)
    http.answer("/v1/account_links", _link)
    _use_stripe(app, monkeypatch, http)
    api = login(provider)

    with ThreadPoolExecutor(max_workers=2) as pool:
        answers = [f.result() for f in [pool.submit(api.post, PATH) for _ in range(2)]]

    assert [a.status_code for a in answers] == [200, 200], [a.get_json() for a in answers]
    keys = {s.headers["Idempotency-Key"] for s in http.to("/v1/accounts")}
    assert keys == {f"payout-account-{profile_id}"}
    stored = _stored_account(provider)
    assert stored in created
    assert {a.get_json()["account_id"] for a in answers} == {stored}
    assert len(created) == (1 if stripe_honours_the_key else 2)
