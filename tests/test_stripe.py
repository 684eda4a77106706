"""The Stripe gateway against a real emulator (localstripe) where it has the feature, and
at the SDK's HTTP boundary where it does not (Connect accounts, account links,
transfers, reversals, `transfer_group`). Money is asserted on our ledger only.

localstripe's events reach the app through `stripe_events.deliver()` (fetched from its
Event list, posted signed), so no test waits for localstripe's own delivery; one test
checks that delivery end to end, waiting on its outcome with a generous deadline."""

from __future__ import annotations

import itertools
import time
import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.contracts.models import MilestoneStatus
from marketplace.extensions import db
from marketplace.jobs.models import OutboxEntry, OutboxStatus
from marketplace.notifications.models import Notification
from marketplace.payments.gateways.stripe import StripeGateway
from marketplace.payments.models import (
    Dispute,
    EventStatus,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    Transfer,
    TransferStatus,
    WebhookEvent,
)
from marketplace.reporting import ledger_check as checks
from tests.factories import AdminFactory
from tests.money import (
    Deal,
    balances,
    deliver_again,
    make_deal,
    money_post,
    transaction_kinds,
    usd,
)
from tests.stripe_support import (
    LOCALSTRIPE_KEY,
    WEBHOOK_SECRET,
    EventFeed,
    LiveServer,
    Sent,
    StripeHTTP,
    event,
    register_webhook,
    signed,
    start_localstripe,
    stop,
    stripe_error,
    wait_for,
)

_ids = itertools.count(1)


@pytest.fixture(scope="module")
def localstripe():
    process, url = start_localstripe()
    yield url
    stop(process)


def _account(sent: Sent) -> tuple[int, dict[str, Any]]:
    return 200, {
        "id": f"acct_test{next(_ids)}",
        "object": "account",
        "type": "express",
        "payouts_enabled": False,
        "charges_enabled": False,
    }


def _link(sent: Sent) -> tuple[int, dict[str, Any]]:
    account = sent.params["account"]
    return 200, {
        "object": "account_link",
        "url": f"https://connect.stripe.com/setup/e/{account}/{next(_ids)}",
        "expires_at": int(time.time()) + 300,
    }


def _transfer(sent: Sent) -> tuple[int, dict[str, Any]]:
    return 200, {
        "id": f"tr_test{next(_ids)}",
        "object": "transfer",
        "amount": int(sent.params["amount"]),
        "currency": sent.params["currency"],
        "destination": sent.params["destination"],
        "transfer_group": sent.params.get("transfer_group"),
        "amount_reversed": 0,
    }


def _use(app, monkeypatch, gateway: StripeGateway) -> StripeGateway:
    monkeypatch.setitem(app.config, "PAYMENTS", "stripe")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    monkeypatch.setitem(app.extensions, "payment_gateway", gateway)
    return gateway


def _deal_on(http: StripeHTTP, app, monkeypatch, amounts=(40_000,)) -> Deal:
    """An active deal, made on the sandbox; from then on Stripe is `http`'s stub."""
    deal = make_deal(amounts)
    _use(app, monkeypatch, StripeGateway(secret_key="sk_test_x", http_client=http))
    return deal


def _fund_first(login, deal: Deal, **body: Any) -> Any:
    """The client funds the deal's first milestone through the API, with `body`."""
    return money_post(login(deal.client), f"milestones/{deal.milestone_ids[0]}/fund", json=body)


@pytest.fixture
def stripe_http(app, monkeypatch, localstripe) -> StripeHTTP:
    """Stripe through localstripe, with Connect and transfers answered at the boundary."""
    http = StripeHTTP(forward=True)
    http.answer("/v1/accounts", _account)
    http.answer("/v1/account_links", _link)
    http.answer("/v1/transfers", _transfer)
    _use(
        app,
        monkeypatch,
        StripeGateway(
            secret_key=LOCALSTRIPE_KEY,
            api_base=localstripe,
            max_network_retries=0,
            http_client=http,
        ),
    )
    return http


@pytest.fixture
def stripe_events(app, localstripe) -> EventFeed:
    """localstripe's events from now on, delivered when the test says."""
    return EventFeed(localstripe, app.test_client())


@pytest.fixture
def webhook(client):
    """`webhook(kind, obj)` posts a signed Stripe event to the API."""

    def post(kind: str, obj: dict[str, Any], **kwargs: Any) -> Any:
        sent = event(kind, obj, **kwargs)
        body, headers = signed(sent)
        # Processing is a job, run by the request's outbox pass before `post` returns.
        return client.post(
            "/api/v1/webhooks/stripe", data=body, headers=headers, content_type="application/json"
        )

    return post


def _onboard(deal: Deal, login, webhook) -> str:
    """Payout onboarding through the API, enabled by Stripe's account.updated."""
    answer = login(deal.provider).post("providers/me/payouts/onboarding").get_json()
    assert answer["payouts_enabled"] is False
    updated = webhook("account.updated", {"id": answer["account_id"], "payouts_enabled": True})
    assert updated.status_code == 200 and updated.get_json()["duplicate"] is False
    return str(answer["account_id"])


def _funded(deal: Deal, client_api, events: EventFeed, index: int = 0) -> Payment:
    """Fund through localstripe with a test card; funded only once its webhook arrived."""
    milestone_id = deal.milestone_ids[index]
    answer = money_post(
        client_api, f"milestones/{milestone_id}/fund", json={"payment_method": "pm_card_visa"}
    )
    assert answer.status_code == 200, answer.get_json()
    assert answer.get_json()["payment"]["status"] == "pending"  # not on Stripe's word alone
    assert deal.milestone(index).status == MilestoneStatus.PENDING
    assert "payment_intent.succeeded" in events.deliver()
    assert deal.milestone(index).status == MilestoneStatus.FUNDED
    return db.session.scalars(
        sa.select(Payment).filter_by(milestone_id=milestone_id, status=PaymentStatus.SUCCEEDED)
    ).one()


def _submit_and_approve(deal: Deal, login, index: int = 0) -> Any:
    milestone_id = deal.milestone_ids[index]
    login(deal.provider).post(f"milestones/{milestone_id}/submit", json={"note": "Done."})
    return money_post(login(deal.client), f"milestones/{milestone_id}/approve")


def test_a_whole_contract_paid_through_stripe(stripe_http, stripe_events, login, webhook, app):
    deal = make_deal((40_000, 60_000), payouts_enabled=False)
    client_api = login(deal.client)
    profile_id = deal.contract.provider_profile_id
    refused = money_post(client_api, f"milestones/{deal.milestone_ids[0]}/fund", json={})
    assert refused.status_code == 409  # no payout account yet

    account_id = _onboard(deal, login, webhook)
    (created,) = stripe_http.to("/v1/accounts")
    assert created.headers["Idempotency-Key"] == f"payout-account-{profile_id}"
    assert created.params["type"] == "express"
    assert created.params["capabilities[transfers][requested]"] == "true"
    assert created.params["metadata[provider_profile_id]"] == str(profile_id)
    assert stripe_http.to("/v1/account_links")[0].params["type"] == "account_onboarding"

    for index in (0, 1):
        payment = _funded(deal, client_api, stripe_events, index)
        intent = [s for s in stripe_http.to("/v1/payment_intents") if s.method == "POST"][-1]
        assert intent.headers["Idempotency-Key"] == f"payment-{payment.id}"
        assert intent.params["amount"] == str(payment.amount)
        assert intent.params["metadata[milestone_id]"] == str(deal.milestone_ids[index])
        assert payment.charge_id and payment.charge_id.startswith("ch_")
        assert _submit_and_approve(deal, login, index).status_code == 200

    sent = stripe_http.to("/v1/transfers")
    transfers = db.session.scalars(sa.select(Transfer).order_by(Transfer.amount)).all()
    assert [t.amount for t in transfers] == [36_000, 54_000]
    for transfer in transfers:
        (request,) = [s for s in sent if s.headers["Idempotency-Key"] == f"transfer-{transfer.id}"]
        assert request.params["amount"] == str(transfer.amount)
        assert request.params["currency"] == "usd"
        assert request.params["destination"] == account_id
        assert request.params["source_transaction"] == transfer.payment.charge_id
        assert request.params["transfer_group"] == f"contract_{deal.contract_id}"
        assert request.params["metadata[milestone_id]"] == str(transfer.milestone_id)
        assert transfer.status == TransferStatus.PAID and transfer.gateway_id.startswith("tr_")
    assert deal.contract.status.value == "completed"
    assert balances(deal, gateway="stripe") == {
        "escrow": 0,
        "provider_payable": 0,
        "client_payable": 0,
        "revenue": 10_000,
        "external": -10_000,
    }
    result = app.test_cli_runner().invoke(args=["ledger-check"])
    assert result.exit_code == 0, result.output


def test_a_declined_card_is_a_402_and_the_client_can_try_again(
    stripe_http, stripe_events, login, webhook
):
    deal = make_deal((40_000,), payouts_enabled=False)
    _onboard(deal, login, webhook)
    client_api = login(deal.client)
    path = f"milestones/{deal.milestone_ids[0]}/fund"

    declined = money_post(client_api, path, json={"payment_method": "pm_card_chargeCustomerFail"})

    assert declined.status_code == 402
    error = declined.get_json()["error"]
    assert (error["code"], error["details"]["decline_code"]) == ("payment_failed", "card_declined")
    payment = db.session.scalars(sa.select(Payment)).one()
    assert (payment.status, payment.failure_code) == (PaymentStatus.FAILED, "card_declined")
    assert deal.milestone(0).status == MilestoneStatus.PENDING
    assert (
        "payment.failed"
        in db.session.scalars(sa.select(Notification.kind).filter_by(user_id=deal.client.id)).all()
    )
    # localstripe also sends payment_intent.payment_failed; it changes nothing more.
    assert "payment_intent.payment_failed" in stripe_events.deliver()
    assert (
        db.session.scalar(
            sa.select(WebhookEvent.status).filter_by(type="payment_intent.payment_failed")
        )
        == EventStatus.PROCESSED
    )
    assert balances(deal, gateway="stripe")["escrow"] == 0

    assert _funded(deal, client_api, stripe_events).attempt == 2
    assert balances(deal, gateway="stripe")["escrow"] == 40_000


def test_a_refund_through_stripe(stripe_http, stripe_events, login, webhook, app):
    deal = make_deal((40_000,), payouts_enabled=False)
    _onboard(deal, login, webhook)
    client_api, provider_api = login(deal.client), login(deal.provider)
    payment = _funded(deal, client_api, stripe_events)
    milestone_id = deal.milestone_ids[0]

    client_api.post(f"milestones/{milestone_id}/refund-request", json={"reason": "Not needed."})
    approved = money_post(provider_api, f"milestones/{milestone_id}/refund-request/approve")

    assert approved.status_code == 200
    refund = db.session.scalars(sa.select(Refund)).one()
    (sent,) = stripe_http.to("/v1/refunds")
    assert sent.headers["Idempotency-Key"] == f"refund-{refund.id}"
    assert (sent.params["payment_intent"], sent.params["amount"]) == (payment.gateway_id, "40000")
    assert refund.status == RefundStatus.SUCCEEDED and refund.gateway_id.startswith("re_")
    assert balances(deal, gateway="stripe") == {
        "escrow": 0,
        "provider_payable": 0,
        "client_payable": 0,
        "revenue": 0,
        "external": 0,
    }
    assert app.test_cli_runner().invoke(args=["ledger-check"]).exit_code == 0


def test_a_redelivered_webhook_is_acknowledged_and_ignored(
    stripe_http, stripe_events, login, webhook, client
):
    deal = make_deal((40_000,), payouts_enabled=False)
    _onboard(deal, login, webhook)
    _funded(deal, login(deal.client), stripe_events)
    stored = db.session.scalars(
        sa.select(WebhookEvent).filter_by(type="payment_intent.succeeded")
    ).one()

    body, headers = signed(stored.payload)
    again = client.post(
        "/api/v1/webhooks/stripe", data=body, headers=headers, content_type="application/json"
    )
    # The same object in a new event (Stripe may send one twice) funds nothing more either.
    other = webhook("payment_intent.succeeded", stored.payload["data"]["object"])

    assert again.status_code == 200 and again.get_json() == {"received": True, "duplicate": True}
    assert other.get_json() == {"received": True, "duplicate": False}
    assert transaction_kinds(deal) == ["funding"]
    assert balances(deal, gateway="stripe")["escrow"] == 40_000


def test_out_of_order_webhooks(login, webhook, app, monkeypatch):
    http = StripeHTTP(forward=False)
    http.answer(
        "/v1/payment_intents",
        lambda sent: (
            200,
            {
                "id": f"pi_test{next(_ids)}",
                "object": "payment_intent",
                "status": "requires_payment_method",
                "client_secret": "pi_secret_for_stripe_js",
                "amount": int(sent.params["amount"]),
                "currency": sent.params["currency"],
            },
        ),
    )
    deal = _deal_on(http, app, monkeypatch, (40_000, 60_000))
    client_api = login(deal.client)
    first, second = (
        money_post(client_api, f"milestones/{m}/fund", json={}).get_json()["payment"]
        for m in deal.milestone_ids
    )
    assert first["client_secret"] == "pi_secret_for_stripe_js"  # the frontend confirms it
    intents = [db.session.get(Payment, uuid.UUID(p["id"])) for p in (first, second)]

    def intent(payment: Payment) -> dict[str, Any]:
        return {
            "id": payment.gateway_id,
            "latest_charge": f"ch_for_{payment.gateway_id}",
            "metadata": {"payment_id": str(payment.id)},
            "last_payment_error": {"code": "card_declined", "decline_code": "expired_card"},
        }

    # A failure that arrives after the success does not unfund.
    webhook("payment_intent.succeeded", intent(intents[0]))
    webhook("payment_intent.payment_failed", intent(intents[0]))
    # A failure, then a success (the client retried with another card): funded.
    webhook("payment_intent.payment_failed", intent(intents[1]))
    failed = db.session.get(Payment, intents[1].id)
    assert (failed.status, failed.failure_code) == (PaymentStatus.FAILED, "expired_card")
    webhook("payment_intent.succeeded", intent(intents[1]))

    for index, payment in enumerate(intents):
        db.session.refresh(payment)
        assert payment.status == PaymentStatus.SUCCEEDED
        assert deal.milestone(index).status == MilestoneStatus.FUNDED
    assert balances(deal, gateway="stripe")["escrow"] == 100_000
    assert transaction_kinds(deal) == ["funding", "funding"]


def test_payment_intents_carry_the_transfer_group_and_our_ids(login, app, monkeypatch):
    http = StripeHTTP(forward=False)
    http.answer(
        "/v1/payment_intents",
        lambda sent: stripe_error(
            402,
            "card_error",
            "Your card has insufficient funds.",
            code="card_declined",
            decline_code="insufficient_funds",
            payment_intent={"id": "pi_declined1", "object": "payment_intent"},
        ),
    )
    deal = _deal_on(http, app, monkeypatch)

    answer = _fund_first(login, deal, payment_method="pm_card_visa")

    (sent,) = http.to("/v1/payment_intents")
    payment = db.session.scalars(sa.select(Payment)).one()
    assert sent.headers["Idempotency-Key"] == f"payment-{payment.id}"
    assert sent.params["transfer_group"] == f"contract_{deal.contract_id}"
    assert sent.params["description"] == "Milestone 1: Part 1"
    assert sent.params["metadata[contract_id]"] == str(deal.contract_id)
    assert (sent.params["confirm"], sent.params["payment_method"]) == ("true", "pm_card_visa")
    assert answer.status_code == 402
    assert answer.get_json()["error"]["details"]["decline_code"] == "insufficient_funds"
    assert (payment.status, payment.gateway_id) == (PaymentStatus.FAILED, "pi_declined1")


@pytest.mark.parametrize("tamper", ["secret", "body", "stale", "missing"])
def test_a_forged_or_stale_signature_is_refused(tamper, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS", "stripe")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    payload = event("account.updated", {"id": "acct_1", "payouts_enabled": True})
    body, headers = signed(
        payload,
        secret="whsec_someone_else" if tamper == "secret" else WEBHOOK_SECRET,
        at=int(time.time()) - 600 if tamper == "stale" else None,
    )
    if tamper == "body":
        body = body.replace(b"true", b"false")
    if tamper == "missing":
        headers = {}

    answer = client.post(
        "/api/v1/webhooks/stripe", data=body, headers=headers, content_type="application/json"
    )

    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == "bad_request"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(WebhookEvent)) == 0


def test_webhooks_are_off_without_stripe(webhook):
    assert webhook("account.updated", {"id": "acct_1"}).status_code == 404


def test_a_stripe_outage_during_release_is_retried_to_one_transfer(
    stripe_http, stripe_events, login, webhook
):
    deal = make_deal((40_000,), payouts_enabled=False)
    _onboard(deal, login, webhook)
    _funded(deal, login(deal.client), stripe_events)
    answers = iter([stripe_error(500, "api_error", "Stripe is having trouble")] * 2)
    stripe_http.answer("/v1/transfers", lambda sent: next(answers, None) or _transfer(sent))

    assert _submit_and_approve(deal, login).status_code == 200
    entry = db.session.scalars(sa.select(OutboxEntry).filter_by(kind="payments.transfer")).one()
    assert (entry.attempts, entry.status.value) == (1, "pending")
    deliver_again(entry, times=2)

    assert (entry.attempts, entry.status.value) == (3, "sent")
    transfer = db.session.scalars(sa.select(Transfer)).one()
    keys = {s.headers["Idempotency-Key"] for s in stripe_http.to("/v1/transfers")}
    assert len(stripe_http.to("/v1/transfers")) == 3 and keys == {f"transfer-{transfer.id}"}
    assert transfer.status == TransferStatus.PAID
    assert transaction_kinds(deal) == ["funding", "release", "payout"]
    assert checks.breaches() == []


def test_an_invalid_transfer_request_fails_at_once_for_admins(
    stripe_http, stripe_events, login, webhook
):
    deal = make_deal((40_000,), payouts_enabled=False)
    _onboard(deal, login, webhook)
    _funded(deal, login(deal.client), stripe_events)
    stripe_http.answer(
        "/v1/transfers",
        lambda sent: stripe_error(
            400, "invalid_request_error", "Insufficient funds in Stripe account.", code="x"
        ),
    )

    _submit_and_approve(deal, login)

    entry = db.session.scalars(sa.select(OutboxEntry).filter_by(kind="payments.transfer")).one()
    assert (entry.attempts, entry.status.value) == (1, "failed")
    assert "Stripe refused a transfer (request req_" in entry.last_error
    failed = login(AdminFactory()).get("admin/outbox?status=failed").get_json()["items"]
    assert [e["id"] for e in failed] == [str(entry.id)]
    assert balances(deal, gateway="stripe")["provider_payable"] == 36_000  # owed, not lost
    assert checks.breaches() == []


def test_a_chargeback_freezes_the_milestone_and_alerts_admins(
    stripe_http, stripe_events, login, webhook
):
    admin = AdminFactory()
    deal = make_deal((40_000,), payouts_enabled=False)
    _onboard(deal, login, webhook)
    payment = _funded(deal, login(deal.client), stripe_events)

    webhook(
        "charge.dispute.created",
        {
            "id": "dp_test1",
            "object": "dispute",
            "charge": payment.charge_id,
            "payment_intent": payment.gateway_id,
            "amount": 40_000,
            "currency": "usd",
            "reason": "fraudulent",
        },
    )

    assert deal.milestone(0).status == MilestoneStatus.DISPUTED
    dispute = db.session.scalars(sa.select(Dispute)).one()
    assert (dispute.side, dispute.raised_by_id) == ("system", None)
    assert "fraudulent" in dispute.reason
    kinds = db.session.scalars(sa.select(Notification.kind).filter_by(user_id=admin.id)).all()
    assert "payment.chargeback" in kinds
    assert balances(deal, gateway="stripe")["escrow"] == 40_000  # frozen, not released


def test_a_reversed_transfer_comes_back_to_the_providers_payable(
    stripe_http, stripe_events, login, webhook
):
    deal = make_deal((40_000,), payouts_enabled=False)
    _onboard(deal, login, webhook)
    _funded(deal, login(deal.client), stripe_events)
    _submit_and_approve(deal, login)
    transfer = db.session.scalars(sa.select(Transfer)).one()

    reversal = {"id": transfer.gateway_id, "object": "transfer", "amount_reversed": 36_000}
    webhook("transfer.reversed", reversal)
    webhook("transfer.reversed", reversal)  # a second event for the same reversal

    db.session.refresh(transfer)
    assert (transfer.status, transfer.reversed_amount) == (TransferStatus.REVERSED, 36_000)
    assert transaction_kinds(deal) == ["funding", "release", "payout", "reversal"]
    assert balances(deal, gateway="stripe")["provider_payable"] == 36_000
    assert checks.breaches() == []


def test_account_updated_can_disable_payouts(stripe_http, login, webhook):
    deal = make_deal((40_000,), payouts_enabled=False)
    account_id = _onboard(deal, login, webhook)

    webhook("account.updated", {"id": account_id, "payouts_enabled": False})

    refused = _fund_first(login, deal)
    assert refused.get_json()["error"]["code"] == "payouts_not_enabled"


def test_a_second_paid_intent_for_one_milestone_is_refunded(login, webhook, app, monkeypatch):
    http = StripeHTTP(forward=False)
    intents: dict[str, str] = {}

    def create_intent(sent: Sent) -> tuple[int, dict[str, Any]]:
        key = sent.headers["Idempotency-Key"]  # Stripe returns the same object for a key
        intents.setdefault(key, f"pi_test{next(_ids)}")
        return 200, {
            "id": intents[key],
            "object": "payment_intent",
            "status": "requires_payment_method" if "confirm" not in sent.params else "processing",
            "client_secret": f"{intents[key]}_secret",
        }

    http.answer("/v1/payment_intents", create_intent)
    http.answer("/v1/refunds", lambda sent: (200, {"id": "re_test1", "status": "succeeded"}))
    deal = _deal_on(http, app, monkeypatch)
    client_api = login(deal.client)
    path = f"milestones/{deal.milestone_ids[0]}/fund"

    first = money_post(client_api, path, json={}).get_json()["payment"]
    again = money_post(client_api, path, json={}).get_json()["payment"]
    saved_card = money_post(client_api, path, json={"payment_method": "pm_card_visa"})
    second = saved_card.get_json()["payment"]

    assert again["id"] == first["id"] and second["attempt"] == 2
    assert len(intents) == 2  # the retry asked Stripe again with the same key
    # While a payment is in flight its milestone's amount cannot change.
    amendment = client_api.post(
        f"contracts/{deal.contract_id}/amendments",
        json={
            "changes": {
                "milestones": {"change": [{"id": str(deal.milestone_ids[0]), "amount": usd(1)}]}
            }
        },
    )
    assert amendment.status_code == 422
    assert "payment in progress" in str(amendment.get_json()["error"]["details"])

    payments = [db.session.get(Payment, uuid.UUID(p["id"])) for p in (second, first)]
    for payment in payments:  # both get paid: the saved card, then Stripe.js on the first
        webhook(
            "payment_intent.succeeded",
            {
                "id": payment.gateway_id,
                "latest_charge": f"ch_{payment.gateway_id}",
                "metadata": {"payment_id": str(payment.id)},
            },
        )

    assert deal.milestone(0).status == MilestoneStatus.FUNDED
    assert transaction_kinds(deal) == ["funding", "unmatched_payment", "refund_payout"]
    refund = db.session.scalars(sa.select(Refund)).one()
    assert refund.payment_id == payments[1].id and refund.status == RefundStatus.SUCCEEDED
    assert balances(deal, gateway="stripe")["escrow"] == 40_000


def test_a_webhook_that_beats_stripes_answer_still_funds(login, webhook, app, monkeypatch):
    """Stripe may deliver `payment_intent.succeeded` before it answers the request that
    created the intent, so before we know the intent's id: our id in its metadata finds it."""
    http = StripeHTTP(forward=False)
    delivered = []

    def create_and_deliver(sent: Sent) -> tuple[int, dict[str, Any]]:
        intent = {
            "id": "pi_early1",
            "object": "payment_intent",
            "status": "succeeded",
            "latest_charge": "ch_early1",
            "metadata": {"payment_id": sent.params["metadata[payment_id]"]},
        }
        delivered.append(webhook("payment_intent.succeeded", intent).status_code)
        return 200, intent

    http.answer("/v1/payment_intents", create_and_deliver)
    deal = _deal_on(http, app, monkeypatch)

    answer = _fund_first(login, deal, payment_method="pm_card_visa")

    assert delivered == [200] and answer.status_code == 200
    payment = db.session.scalars(sa.select(Payment)).one()
    db.session.refresh(payment)
    assert (payment.status, payment.gateway_id, payment.charge_id) == (
        PaymentStatus.SUCCEEDED,
        "pi_early1",
        "ch_early1",
    )
    assert deal.milestone(0).status == MilestoneStatus.FUNDED
    assert transaction_kinds(deal) == ["funding"]
    assert balances(deal, gateway="stripe")["escrow"] == 40_000


@pytest.mark.parametrize(
    ("answer", "status", "code"),
    [
        (stripe_error(500, "api_error", "Something went wrong on Stripe's end."), 503, None),
        (stripe_error(429, "rate_limit_error", "Too many requests."), 503, None),
        (stripe_error(400, "invalid_request_error", "Unknown currency."), 502, "gateway_error"),
    ],
)
def test_stripe_trouble_while_funding_charges_nothing(
    answer, status, code, login, app, monkeypatch
):
    http = StripeHTTP(forward=False)
    http.answer("/v1/payment_intents", lambda sent: answer)
    deal = _deal_on(http, app, monkeypatch)

    response = _fund_first(login, deal)

    assert response.status_code == status
    assert response.get_json()["error"]["code"] == (code or "gateway_unavailable")
    assert deal.milestone(0).status == MilestoneStatus.PENDING
    assert balances(deal, gateway="stripe")["escrow"] == 0


def test_events_about_unknown_charges_touch_no_payment(login, webhook, app, monkeypatch):
    """A payment Stripe has not answered for yet has no intent or charge id: an event about
    a charge we do not know (and naming no intent) must not be taken for it."""
    http = StripeHTTP(forward=False)
    http.answer("/v1/payment_intents", lambda sent: stripe_error(500, "api_error", "Oops."))
    deal = _deal_on(http, app, monkeypatch)
    _fund_first(login, deal)
    waiting = db.session.scalars(sa.select(Payment)).one()
    assert (waiting.gateway_id, waiting.charge_id) == (None, None)
    admin = AdminFactory()

    dispute = {"id": "dp_other", "object": "dispute", "charge": "ch_other", "amount": 100}
    webhook("charge.dispute.created", dispute)
    webhook("charge.refunded", {"id": "ch_other", "object": "charge", "amount_refunded": 100})

    assert db.session.scalars(sa.select(Notification).filter_by(user_id=admin.id)).all() == []
    assert db.session.scalars(sa.select(Dispute)).all() == []
    statuses = db.session.scalars(sa.select(WebhookEvent.status)).all()
    assert statuses == [EventStatus.PROCESSED, EventStatus.PROCESSED]
    assert deal.milestone(0).status == MilestoneStatus.PENDING


@pytest.mark.parametrize(
    "data", [{}, {"object": None}, {"object": {"amount": 1}}, {"object": {"id": 7}}]
)
def test_a_signed_event_without_an_object_is_ignored_not_retried(data, client, app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENTS", "stripe")
    monkeypatch.setitem(app.config, "STRIPE_WEBHOOK_SECRET", WEBHOOK_SECRET)
    body, headers = signed({**event("payment_intent.succeeded", {}), "data": data})

    answer = client.post(
        "/api/v1/webhooks/stripe", data=body, headers=headers, content_type="application/json"
    )

    assert answer.status_code == 200
    stored = db.session.scalars(sa.select(WebhookEvent)).one()
    assert stored.status == EventStatus.IGNORED
    entry = db.session.scalars(sa.select(OutboxEntry).filter_by(kind="stripe.event")).one()
    assert (entry.status.value, entry.attempts) == ("sent", 1)


@pytest.fixture
def own_localstripe():
    """A localstripe of the test's own: its webhook registration must reach no other test."""
    process, url = start_localstripe()
    yield url
    stop(process)


def test_localstripe_delivers_its_signed_webhook_to_the_live_app(
    own_localstripe, login, app, monkeypatch
):
    """localstripe's own delivery, end to end over HTTP (its signature, its payload): the
    one test that waits for it, on the outcome, as long as a busy machine needs."""
    deal = make_deal((40_000,))  # payouts set up on the sandbox
    _use(
        app,
        monkeypatch,
        StripeGateway(secret_key=LOCALSTRIPE_KEY, api_base=own_localstripe, max_network_retries=0),
    )
    server = LiveServer(app)
    try:
        register_webhook(own_localstripe, f"{server.url}/api/v1/webhooks/stripe")
        answer = _fund_first(login, deal, payment_method="pm_card_visa")
        assert answer.status_code == 200, answer.get_json()

        # Funded, and the request that processed the event has delivered its side effects.
        wait_for(
            lambda: (
                deal.milestone(0).status == MilestoneStatus.FUNDED
                and not db.session.scalar(
                    sa.select(OutboxEntry.id).filter_by(status=OutboxStatus.PENDING).limit(1)
                )
            ),
            what="localstripe's payment_intent.succeeded, processed by the live app",
        )
    finally:
        server.stop()
    stored = db.session.scalars(
        sa.select(WebhookEvent).filter_by(type="payment_intent.succeeded")
    ).one()
    assert stored.status == EventStatus.PROCESSED
    assert balances(deal, gateway="stripe")["escrow"] == 40_000
