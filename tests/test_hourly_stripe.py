"""Hourly invoices on Stripe, against the real emulator (localstripe): the client's card saved
through a SetupIntent, a week's invoice charged off-session to it, a declined charge that
pauses the contract until a new card pays it.

On Stripe money counts only on the signed webhook: `invoices.bill()` leaves the invoice
`charging`, the test delivers localstripe's `payment_intent.succeeded` (as test_stripe.py
does) and the next `bill()` settles it. Money is asserted on our ledger."""

from __future__ import annotations

import json
import urllib.parse
import urllib.request
from datetime import datetime
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.contracts.models import ContractStatus
from marketplace.extensions import db
from marketplace.hourly import invoices
from marketplace.hourly.models import Invoice, InvoiceStatus
from marketplace.jobs import outbox
from marketplace.notifications.models import Notification
from marketplace.payments.gateways.stripe import StripeGateway
from marketplace.payments.models import (
    EventStatus,
    Payment,
    PaymentStatus,
    SavedPaymentMethod,
    WebhookEvent,
)
from tests.hourly_support import WEEK1, WEEK2, HourlyDeal, at, entry, make_hourly_deal
from tests.money import balances
from tests.stripe_support import (
    LOCALSTRIPE_KEY,
    PATIENCE,
    WEBHOOK_SECRET,
    EventFeed,
    Sent,
    StripeHTTP,
    event,
    signed,
    start_localstripe,
    stop,
)

#: Week 1's time: 12 h 30 min at 35.00 an hour.
WEEK1_AMOUNT = 43_750


@pytest.fixture(scope="module")
def localstripe():
    process, url = start_localstripe()
    yield url
    stop(process)


def _at_localstripe(base: str, path: str, data: dict[str, str] | None = None) -> dict[str, Any]:
    """GET (or, with `data`, POST) `path` at localstripe, outside our gateway: what Stripe
    holds, or what Stripe.js does in the browser."""
    request = urllib.request.Request(
        f"{base}{path}",
        data=urllib.parse.urlencode(data).encode() if data is not None else None,
        headers={"Authorization": f"Bearer {LOCALSTRIPE_KEY}"},
    )
    with urllib.request.urlopen(request, timeout=PATIENCE) as answer:
        return dict(json.load(answer))


@pytest.fixture
def deal(time_machine) -> HourlyDeal:
    """An active hourly contract (35.00 an hour, 20 h a week) made on the sandbox on Monday
    of week 1, the provider's payouts on; the client has saved no card yet."""
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    return make_hourly_deal(rate=3500, weekly_limit=20, card=None)


@pytest.fixture
def stripe_http(deal, app, monkeypatch, localstripe) -> StripeHTTP:
    """From the deal on, payments go to localstripe; the SDK's requests are recorded."""
    http = StripeHTTP(forward=True)
    monkeypatch.setitem(app.config, "PAYMENTS", "stripe")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setitem(
        app.extensions,
        "payment_gateway",
        StripeGateway(
            secret_key=LOCALSTRIPE_KEY,
            api_base=localstripe,
            max_network_retries=0,
            http_client=http,
        ),
    )
    return http


@pytest.fixture
def stripe_events(stripe_http, app, localstripe) -> EventFeed:
    """localstripe's events from now on, delivered when the test says."""
    return EventFeed(localstripe, app.test_client())


@pytest.fixture
def webhook(stripe_http, client):
    """`webhook(kind, obj)` posts a signed Stripe event to the API."""

    def post(kind: str, obj: dict[str, Any]) -> Any:
        body, headers = signed(event(kind, obj))
        return client.post(
            "/api/v1/webhooks/stripe", data=body, headers=headers, content_type="application/json"
        )

    return post


def _save_card(login, deal: HourlyDeal, **body: str) -> Any:
    return login(deal.client).post("clients/me/payment-method", json=body)


def _saved() -> SavedPaymentMethod:
    return db.session.scalars(
        sa.select(SavedPaymentMethod).execution_options(populate_existing=True)
    ).one()


def _bill(time_machine, moment: datetime) -> dict[str, int]:
    """Run the billing job at `moment`, then the outbox."""
    time_machine.move_to(moment, tick=False)
    moved = invoices.bill()
    outbox.deliver_due()
    return moved


def _week1_invoiced(login, deal: HourlyDeal, time_machine) -> Invoice:
    """12 h 30 min logged in week 1, invoiced when its adjustment window closes."""
    time_machine.move_to(at(WEEK1, 4, 18), tick=False)
    provider = login(deal.provider)
    for start, end in [
        (at(WEEK1, 0, 9), at(WEEK1, 0, 13)),
        (at(WEEK1, 1, 9), at(WEEK1, 1, 13, 30)),
        (at(WEEK1, 2, 9), at(WEEK1, 2, 13)),
    ]:
        logged = provider.post(f"contracts/{deal.contract_id}/time-entries", json=entry(start, end))
        assert logged.status_code == 201, logged.get_json()
    assert _bill(time_machine, at(WEEK2, 0, 12))["issued"] == 1
    invoice = db.session.scalars(sa.select(Invoice)).one()
    assert (invoice.amount, invoice.status) == (WEEK1_AMOUNT, InvoiceStatus.IN_REVIEW)
    return invoice


def _invoice(login, deal: HourlyDeal) -> dict[str, Any]:
    """Week 1's invoice, as the client reads it."""
    listed = login(deal.client).get(f"contracts/{deal.contract_id}/invoices").get_json()
    (found,) = listed["items"]
    return dict(found)


def _intents(http: StripeHTTP) -> list[Sent]:
    return [s for s in http.to("/v1/payment_intents") if s.method == "POST"]


def _told(user: Any) -> list[str]:
    """The subjects of the user's notifications, oldest first."""
    return list(
        db.session.scalars(
            sa.select(Notification.subject)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at, Notification.id)
        )
    )


def _told_of_week1(user: Any, what: str) -> bool:
    """Whether the user was told `what` of week 1's invoice (`invoice.paid` and
    `invoice.payment_failed` are both of the `invoice.payment` kind: the subject tells)."""
    return any(s.startswith(f"{what}, week of 2026-11-02:") for s in _told(user))


def test_a_card_saved_with_a_payment_method_is_set_up_at_stripe_at_once(
    deal, stripe_http, login, localstripe
):
    answer = _save_card(login, deal, payment_method="pm_card_visa")

    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert (body["status"], body["gateway"], body["client_secret"]) == ("ready", "stripe", None)
    method = _saved()
    assert method.customer_id.startswith("cus_")
    assert method.payment_method and method.payment_method.startswith("pm_")
    assert body["payment_method"] == method.payment_method
    assert method.ready_at is not None

    # At Stripe: a Customer of the client, and a SetupIntent for off-session use, confirmed.
    customer = _at_localstripe(localstripe, f"/v1/customers/{method.customer_id}")
    assert customer["email"] == deal.client.email
    assert customer["metadata"]["client_profile_id"] == str(method.client_profile_id)
    setup = _at_localstripe(localstripe, f"/v1/setup_intents/{method.setup_id}")
    assert (setup["status"], setup["usage"]) == ("succeeded", "off_session")
    assert (setup["customer"], setup["payment_method"]) == (
        method.customer_id,
        method.payment_method,
    )
    # Both made with idempotency keys of this one set-up.
    (made_customer,) = stripe_http.to("/v1/customers")
    (made_setup,) = [s for s in stripe_http.to("/v1/setup_intents") if s.path.endswith("intents")]
    key = made_setup.headers["Idempotency-Key"]
    assert key.startswith("setup-")
    assert made_customer.headers["Idempotency-Key"] == f"{key}-customer"


def test_a_card_confirmed_by_stripe_js_is_saved_by_the_setup_intent_webhook(
    deal, stripe_http, login, localstripe, webhook
):
    answer = _save_card(login, deal)

    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    method = _saved()
    setup = _at_localstripe(localstripe, f"/v1/setup_intents/{method.setup_id}")
    assert (body["status"], body["payment_method"]) == ("requires_confirmation", None)
    assert body["client_secret"] == setup["client_secret"]
    assert setup["status"] == "requires_payment_method"
    assert method.customer_id.startswith("cus_") and not method.ready

    # Stripe.js confirms the SetupIntent in the browser; Stripe then sends the webhook.
    confirmed = _at_localstripe(
        localstripe,
        f"/v1/setup_intents/{method.setup_id}/confirm",
        {"client_secret": body["client_secret"], "payment_method": "pm_card_visa"},
    )
    assert confirmed["status"] == "succeeded"
    delivered = webhook("setup_intent.succeeded", confirmed)

    assert delivered.status_code == 200, delivered.get_json()
    mine = login(deal.client).get("clients/me/payment-method").get_json()
    assert (mine["status"], mine["client_secret"]) == ("ready", None)
    assert mine["payment_method"] == confirmed["payment_method"] == _saved().payment_method
    stored = db.session.scalars(sa.select(WebhookEvent)).one()
    assert (stored.type, stored.status) == ("setup_intent.succeeded", EventStatus.PROCESSED)


def test_a_weeks_invoice_is_charged_off_session_and_paid_on_the_webhook(
    deal, stripe_http, stripe_events, login, time_machine, localstripe
):
    assert _save_card(login, deal, payment_method="pm_card_visa").status_code == 200
    method = _saved()
    invoice = _week1_invoiced(login, deal, time_machine)

    # Charged when the review window closes, Saturday 00:00 UTC, not a minute before.
    assert _bill(time_machine, at(WEEK2, 4, 23, 59))["charged"] == 0
    assert _intents(stripe_http) == []
    assert _bill(time_machine, at(WEEK2, 5, 0))["charged"] == 1

    payment = db.session.scalars(sa.select(Payment)).one()
    (sent,) = _intents(stripe_http)
    assert sent.headers["Idempotency-Key"] == f"payment-{payment.id}"
    assert (sent.params["off_session"], sent.params["confirm"]) == ("true", "true")
    assert (sent.params["customer"], sent.params["payment_method"]) == (
        method.customer_id,
        method.payment_method,
    )
    assert (sent.params["amount"], sent.params["currency"]) == (str(WEEK1_AMOUNT), "usd")
    assert sent.params["metadata[payment_id]"] == str(payment.id)
    assert sent.params["metadata[milestone_id]"] == str(invoice.milestone_id)
    # Stripe's answer is not proof of payment: the invoice waits for the webhook.
    assert payment.status == PaymentStatus.PENDING and payment.gateway_id.startswith("pi_")
    assert _invoice(login, deal)["status"] == "charging"
    assert balances(deal, gateway="stripe")["escrow"] == 0
    assert _bill(time_machine, at(WEEK2, 5, 0, 5))["settled"] == 0

    assert "payment_intent.succeeded" in stripe_events.deliver()
    assert _bill(time_machine, at(WEEK2, 5, 0, 10))["settled"] == 1

    paid = _invoice(login, deal)
    assert (paid["status"], paid["next_charge_at"]) == ("paid", None)
    assert paid["paid_at"] == "2026-11-14T00:10:00+00:00"
    db.session.refresh(payment)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert payment.charge_id and payment.charge_id.startswith("ch_")
    intent = _at_localstripe(localstripe, f"/v1/payment_intents/{payment.gateway_id}")
    assert (intent["status"], intent["customer"]) == ("succeeded", method.customer_id)
    assert balances(deal, gateway="stripe") == {
        "escrow": WEEK1_AMOUNT,
        "provider_payable": 0,
        "client_payable": 0,
        "revenue": 0,
        "external": -WEEK1_AMOUNT,
    }
    assert _told_of_week1(deal.client, "Invoice paid")


def test_a_declined_charge_pauses_the_contract_until_a_new_card_pays(
    deal, stripe_http, stripe_events, login, time_machine
):
    assert _save_card(login, deal, payment_method="pm_card_chargeCustomerFail").status_code == 200
    customer_id, declining_card = _saved().customer_id, _saved().payment_method
    _week1_invoiced(login, deal, time_machine)

    assert _bill(time_machine, at(WEEK2, 5, 0))["charged"] == 1

    declined = _invoice(login, deal)
    assert (declined["status"], declined["charge_attempts"]) == ("payment_failed", 1)
    assert declined["next_charge_at"] == "2026-11-15T00:00:00+00:00"  # 24 h later
    assert deal.contract.status == ContractStatus.PAUSED
    for person in (deal.client, deal.provider):  # the e-mail invoice.payment_failed
        assert _told_of_week1(person, "Payment declined")
    failed = db.session.scalars(sa.select(Payment)).one()
    assert (failed.status, failed.failure_code) == (PaymentStatus.FAILED, "card_declined")
    # localstripe's payment_intent.payment_failed follows; it changes nothing more.
    assert "payment_intent.payment_failed" in stripe_events.deliver()
    assert _invoice(login, deal)["status"] == "payment_failed"
    assert balances(deal, gateway="stripe")["escrow"] == 0

    time_machine.move_to(at(WEEK2, 5, 9), tick=False)
    assert _save_card(login, deal, payment_method="pm_card_visa").status_code == 200
    card = _saved()
    assert card.customer_id == customer_id  # the same customer, another card
    assert _bill(time_machine, at(WEEK2, 5, 23, 59))["charged"] == 0  # not due yet
    assert _bill(time_machine, at(WEEK2, 6, 0))["charged"] == 1
    assert _invoice(login, deal)["status"] == "charging"
    assert deal.contract.status == ContractStatus.PAUSED  # until the money is confirmed

    assert "payment_intent.succeeded" in stripe_events.deliver()
    assert _bill(time_machine, at(WEEK2, 6, 0, 5))["settled"] == 1

    paid = _invoice(login, deal)
    assert (paid["status"], paid["charge_attempts"]) == ("paid", 2)
    assert deal.contract.status == ContractStatus.ACTIVE
    first, second = _intents(stripe_http)
    assert first.params["payment_method"] == declining_card
    assert second.params["payment_method"] == card.payment_method != declining_card
    for sent in (first, second):
        assert (sent.params["off_session"], sent.params["customer"]) == ("true", customer_id)
    payments = db.session.scalars(sa.select(Payment).order_by(Payment.attempt)).all()
    assert [(p.attempt, p.status) for p in payments] == [
        (1, PaymentStatus.FAILED),
        (2, PaymentStatus.SUCCEEDED),
    ]
    assert second.headers["Idempotency-Key"] == f"payment-{payments[1].id}"
    assert balances(deal, gateway="stripe")["escrow"] == WEEK1_AMOUNT
    for person in (deal.client, deal.provider):
        assert _told_of_week1(person, "Invoice paid")
        assert any(s.startswith("Contract resumed:") for s in _told(person))
