"""Milestone escrow through the API, with exact ledger balances after every step."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.contracts.models import MilestoneStatus, MilestoneTransition
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.jobs import outbox
from marketplace.notifications.models import Notification
from marketplace.payments import delivery, funding, refunds
from marketplace.payments.models import (
    Dispute,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    Transfer,
    TransferStatus,
)
from tests.factories import AdminFactory, ProviderFactory
from tests.money import (
    FlakyGateway,
    balances,
    deliver_again,
    make_deal,
    money_post,
    transaction_kinds,
    usd,
)

ZERO = {"escrow": 0, "provider_payable": 0, "client_payable": 0, "revenue": 0, "external": 0}


def _kinds_of(user) -> set[str]:
    return set(db.session.scalars(sa.select(Notification.kind).filter_by(user_id=user.id)))


@pytest.fixture
def deal():
    return make_deal((40_000, 60_000))


@pytest.fixture
def apis(deal, login):
    return login(deal.client), login(deal.provider)


def _fund(client_api, milestone_id):
    response = money_post(client_api, f"milestones/{milestone_id}/fund", json={})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _submit(provider_api, milestone_id, note="All tickets answered; report attached."):
    response = provider_api.post(
        f"milestones/{milestone_id}/submit",
        json={
            "note": note,
            "deliverables": [
                {
                    "name": "week-1-report.pdf",
                    "size": 52_000,
                    "content_type": "application/pdf",
                    "sha256": "b" * 64,
                    "url": "https://files.example.com/week-1-report.pdf",
                }
            ],
        },
    )
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_fund_submit_approve_pays_the_provider_less_the_fee(deal, apis, sent_mail):
    client_api, provider_api = apis
    first, second = deal.milestone_ids
    assert balances(deal) == ZERO

    body = _fund(client_api, first)
    assert body["payment"]["status"] == "succeeded"
    assert body["milestone"]["status"] == "funded"
    assert balances(deal) == {**ZERO, "escrow": 40_000, "external": -40_000}
    assert "milestone.funded" in _kinds_of(deal.provider)

    submitted = _submit(provider_api, first)
    assert submitted["status"] == "submitted"
    assert submitted["auto_release_at"] is not None
    assert "milestone.submitted" in _kinds_of(deal.client)
    assert balances(deal)["escrow"] == 40_000  # submitting moves no money

    approved = money_post(client_api, f"milestones/{first}/approve")
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "released"
    assert approved.get_json()["released_amount"] == usd(40_000)
    # Released: 36,000 to the provider, 4,000 (10 %) to the platform; the transfer ran
    # from the outbox after the response, emptying the provider's payable.
    assert balances(deal) == {**ZERO, "revenue": 4_000, "external": -4_000}
    transfer = db.session.scalars(sa.select(Transfer)).one()
    assert (transfer.amount, transfer.status) == (36_000, TransferStatus.PAID)
    assert transfer.gateway_id.startswith("tr_sbx_")
    assert transaction_kinds(deal) == ["funding", "release", "payout"]
    assert deal.contract.status.value == "active"  # the second milestone is still open

    _fund(client_api, second)
    _submit(provider_api, second)
    assert money_post(client_api, f"milestones/{second}/approve").status_code == 200
    assert balances(deal) == {**ZERO, "revenue": 10_000, "external": -10_000}
    assert deal.contract.status.value == "completed"
    steps = db.session.scalars(
        sa.select(MilestoneTransition.to_status)
        .filter_by(milestone_id=first)
        .order_by(MilestoneTransition.at)
    ).all()
    assert [s.value for s in steps] == ["funded", "submitted", "released"]
    assert any("Milestone approved" in mail.subject for mail in sent_mail)


def test_the_ledger_endpoint_shows_each_movement_to_the_parties(deal, apis, login):
    client_api, provider_api = apis
    first = deal.milestone_ids[0]
    _fund(client_api, first)
    _submit(provider_api, first)
    money_post(client_api, f"milestones/{first}/approve")

    for api in (client_api, provider_api, login(AdminFactory())):
        body = api.get(f"contracts/{deal.contract_id}/ledger").get_json()
        assert [t["kind"] for t in body["items"]] == ["funding", "release", "payout"]
        assert body["escrow"] == [{"amount": 0, "currency": "usd"}]
        for transaction in body["items"]:
            assert sum(e["amount"]["amount"] for e in transaction["entries"]) == 0
        release = body["items"][1]["entries"]
        assert sorted(e["amount"]["amount"] for e in release) == [-40_000, 4_000, 36_000]
        assert {e["amount"]["currency"] for e in release} == {"usd"}
    outsider = login(ProviderFactory())
    assert outsider.get(f"contracts/{deal.contract_id}/ledger").status_code == 404


def test_changes_requested_then_submitted_again(deal, apis):
    client_api, provider_api = apis
    first = deal.milestone_ids[0]
    _fund(client_api, first)
    _submit(provider_api, first)

    sent_back = client_api.post(
        f"milestones/{first}/request-changes", json={"reason": "Three tickets got no reply."}
    )
    assert sent_back.status_code == 200
    assert sent_back.get_json()["status"] == "changes_requested"
    assert sent_back.get_json()["revisions"] == 1
    assert sent_back.get_json()["auto_release_at"] is None
    assert "milestone.changes_requested" in _kinds_of(deal.provider)
    assert balances(deal)["escrow"] == 40_000

    _submit(provider_api, first, note="Replied to the three tickets.")
    detail = client_api.get(f"milestones/{first}").get_json()
    assert [s["revision"] for s in detail["submissions"]] == [1, 2]
    assert detail["transitions"][-2]["reason"] == "Three tickets got no reply."
    assert money_post(client_api, f"milestones/{first}/approve").status_code == 200
    assert balances(deal)["revenue"] == 4_000


def test_auto_release_after_the_configured_days(deal, apis, app):
    client_api, provider_api = apis
    first = deal.milestone_ids[0]
    _fund(client_api, first)
    submitted = _submit(provider_api, first)
    assert submitted["auto_release_at"].startswith(
        (utcnow() + timedelta(days=14)).date().isoformat()
    )

    assert delivery.auto_release_due() == 0  # not yet
    deal.milestone(0).auto_release_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["auto-release"])
    assert result.exit_code == 0 and "released 1 milestones" in result.output
    outbox.deliver_due()

    milestone = deal.milestone(0)
    assert milestone.status == MilestoneStatus.RELEASED
    assert milestone.transitions[-1].actor_id is None
    assert balances(deal) == {**ZERO, "revenue": 4_000, "external": -4_000}
    assert "milestone.released" in _kinds_of(deal.client)


def test_refund_request_approved_by_the_provider(deal, apis):
    client_api, provider_api = apis
    first = deal.milestone_ids[0]
    _fund(client_api, first)

    requested = client_api.post(
        f"milestones/{first}/refund-request", json={"reason": "We hired in house after all."}
    )
    assert requested.status_code == 201, requested.get_json()
    assert requested.get_json()["status"] == "open"
    assert deal.milestone(0).status == MilestoneStatus.REFUND_REQUESTED
    assert "milestone.refund_requested" in _kinds_of(deal.provider)
    # The provider cannot deliver against a milestone the client wants back.
    assert provider_api.post(f"milestones/{first}/submit", json={"note": "x"}).status_code == 409

    approved = money_post(provider_api, f"milestones/{first}/refund-request/approve")
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["status"] == "refunded"
    assert approved.get_json()["refunded_amount"] == usd(40_000)
    # Escrow back to the client's payable, then out through the gateway's refund.
    assert balances(deal) == ZERO
    refund = db.session.scalars(sa.select(Refund)).one()
    assert (refund.amount, refund.status) == (40_000, RefundStatus.SUCCEEDED)
    assert transaction_kinds(deal) == ["funding", "refund", "refund_payout"]
    assert "milestone.refunded" in _kinds_of(deal.client)


def test_an_unanswered_refund_request_goes_ahead_after_seven_days(deal, apis, app):
    client_api, _ = apis
    first = deal.milestone_ids[0]
    _fund(client_api, first)
    body = client_api.post(
        f"milestones/{first}/refund-request", json={"reason": "Project cancelled."}
    ).get_json()
    assert body["expires_at"].startswith((utcnow() + timedelta(days=7)).date().isoformat())

    assert refunds.lapse_due() == 0
    request = refunds.open_request(first)
    request.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["lapse-refund-requests"])
    assert "refunded 1 milestones" in result.output
    outbox.deliver_due()

    assert deal.milestone(0).status == MilestoneStatus.REFUNDED
    assert refunds.open_request(first) is None
    assert balances(deal) == ZERO


def test_a_disputed_refund_request_stops_the_refund(deal, apis):
    client_api, provider_api = apis
    first = deal.milestone_ids[0]
    _fund(client_api, first)
    client_api.post(f"milestones/{first}/refund-request", json={"reason": "Changed our mind."})

    disputed = provider_api.post(
        f"milestones/{first}/dispute",
        json={"reason": "Half the work is done and was agreed in the thread."},
    )
    assert disputed.status_code == 201, disputed.get_json()
    assert disputed.get_json()["milestone_status"] == "refund_requested"
    request = db.session.scalars(sa.select(refunds.RefundRequest)).one()
    assert request.status.value == "disputed"
    request.expires_at = utcnow() - timedelta(days=1)
    db.session.commit()
    assert refunds.lapse_due() == 0
    assert deal.milestone(0).status == MilestoneStatus.DISPUTED
    assert balances(deal)["escrow"] == 40_000


def test_dispute_freezes_auto_release_and_an_admin_splits_it(deal, apis, login):
    client_api, provider_api = apis
    admin = AdminFactory()
    admin_api = login(admin)
    first = deal.milestone_ids[0]
    _fund(client_api, first)
    _submit(provider_api, first)

    opened = client_api.post(
        f"milestones/{first}/dispute", json={"reason": "Only a third of the tickets answered."}
    )
    assert opened.status_code == 201
    dispute = opened.get_json()
    assert (dispute["side"], dispute["status"]) == ("client", "open")
    assert "milestone.disputed" in _kinds_of(deal.provider) and "milestone.disputed" in (
        _kinds_of(admin)
    )
    deal.milestone(0).auto_release_at = utcnow() - timedelta(days=1)  # would be due
    db.session.commit()
    assert delivery.auto_release_due() == 0

    queue = admin_api.get("admin/disputes?status=open").get_json()
    assert [d["id"] for d in queue["items"]] == [dispute["id"]]
    path = f"admin/disputes/{dispute['id']}/resolve"
    uneven = money_post(
        admin_api,
        path,
        json={"release_amount": usd(30_000), "refund_amount": usd(5_000), "note": "Split"},
    )
    assert uneven.status_code == 422
    assert money_post(
        client_api,
        path,
        json={"release_amount": usd(30_000), "refund_amount": usd(10_000), "note": "Me"},
    ).status_code in (401, 403)

    resolved = money_post(
        admin_api,
        path,
        json={
            "release_amount": usd(30_000),
            "refund_amount": usd(10_000),
            "note": "Three quarters done.",
        },
    )
    assert resolved.status_code == 200, resolved.get_json()
    assert resolved.get_json()["status"] == "resolved"
    assert deal.milestone(0).status == MilestoneStatus.RESOLVED
    # 30,000 released: 27,000 to the provider, 3,000 fee; 10,000 back to the client.
    assert balances(deal) == {**ZERO, "revenue": 3_000, "external": -3_000}
    assert transaction_kinds(deal) == ["funding", "resolution", "payout", "refund_payout"]
    assert db.session.scalars(sa.select(Transfer.amount)).one() == 27_000
    assert db.session.scalars(sa.select(Refund.amount)).one() == 10_000
    audit = admin_api.get("admin/audit-log?target_type=dispute").get_json()["items"]
    assert audit[0]["action"] == "dispute.resolve"
    again = money_post(
        admin_api,
        path,
        json={"release_amount": usd(40_000), "refund_amount": usd(0), "note": "Again"},
    )
    assert again.status_code == 409


def test_terminating_a_contract_asks_for_funded_milestones_back(deal, apis):
    client_api, _ = apis
    first, second = deal.milestone_ids
    _fund(client_api, first)

    ended = client_api.post(
        f"contracts/{deal.contract_id}/terminate", json={"reason": "Budget was cut."}
    )
    assert ended.status_code == 200, ended.get_json()
    assert deal.milestone(0).status == MilestoneStatus.REFUND_REQUESTED
    assert deal.milestone(1).status == MilestoneStatus.CANCELLED
    assert deal.milestone(1).transitions[-1].reason == "the contract was terminated"
    assert refunds.open_request(first).reason.startswith("The contract was terminated")
    assert balances(deal)["escrow"] == 40_000
    assert second not in {r.milestone_id for r in db.session.scalars(sa.select(Refund))}


def test_funding_waits_for_the_providers_payout_account(login):
    deal = make_deal((5_000,), payouts_enabled=False)
    client_api, provider_api = login(deal.client), login(deal.provider)
    first = deal.milestone_ids[0]

    refused = money_post(client_api, f"milestones/{first}/fund", json={})
    assert refused.status_code == 409
    assert refused.get_json()["error"]["code"] == "payouts_not_enabled"
    assert balances(deal) == ZERO

    onboarding = provider_api.post("providers/me/payouts/onboarding")
    assert onboarding.status_code == 200
    assert onboarding.get_json()["payouts_enabled"] is True
    again = provider_api.post("providers/me/payouts/onboarding").get_json()
    assert again["account_id"] == onboarding.get_json()["account_id"]  # created once
    assert _fund(client_api, first)["milestone"]["status"] == "funded"


def test_a_payment_that_arrives_for_a_cancelled_milestone_is_refunded(deal, apis):
    client_api, _ = apis
    first = deal.milestone_ids[0]
    _fund(client_api, first)
    stray = Payment(
        milestone_id=first,
        contract_id=deal.contract_id,
        attempt=2,
        gateway="sandbox",
        gateway_id="pi_sbx_stray",
        amount=40_000,
        currency="usd",
        created_by_id=deal.client.id,
    )
    db.session.add(stray)
    db.session.commit()

    funding.payment_succeeded(gateway_id="pi_sbx_stray", charge_id="ch_sbx_stray")
    db.session.commit()
    outbox.deliver_due()

    assert db.session.get(Payment, stray.id).status == PaymentStatus.SUCCEEDED
    assert deal.milestone(0).status == MilestoneStatus.FUNDED  # funded once, not twice
    assert balances(deal) == {**ZERO, "escrow": 40_000, "external": -40_000}
    refund = db.session.scalars(sa.select(Refund)).one()
    assert (refund.payment_id, refund.status) == (stray.id, RefundStatus.SUCCEEDED)


def test_a_failure_reported_after_success_changes_nothing(deal, apis):
    client_api, _ = apis
    _fund(client_api, deal.milestone_ids[0])
    payment = db.session.scalars(sa.select(Payment)).one()

    funding.payment_failed(gateway_id=payment.gateway_id, code="card_declined", message="late")
    funding.payment_succeeded(gateway_id=payment.gateway_id, charge_id=None)  # a redelivery
    db.session.commit()

    db.session.refresh(payment)
    assert payment.status == PaymentStatus.SUCCEEDED
    assert deal.milestone(0).status == MilestoneStatus.FUNDED
    assert balances(deal)["escrow"] == 40_000
    assert transaction_kinds(deal) == ["funding"]


def test_a_gateway_outage_during_release_is_retried_to_one_transfer(deal, apis, app, monkeypatch):
    client_api, provider_api = apis
    first = deal.milestone_ids[0]
    _fund(client_api, first)
    _submit(provider_api, first)
    flaky = FlakyGateway(failures=2)
    monkeypatch.setitem(app.extensions, "payment_gateway", flaky)

    assert money_post(client_api, f"milestones/{first}/approve").status_code == 200
    # The release is booked; the transfer failed after the response and waits to retry.
    assert balances(deal) == {
        **ZERO,
        "provider_payable": 36_000,
        "revenue": 4_000,
        "external": -40_000,
    }
    entry = db.session.scalars(
        sa.select(outbox.OutboxEntry).filter_by(kind="payments.transfer")
    ).one()
    assert (entry.attempts, entry.status.value) == (1, "pending")
    assert "connection reset" in entry.last_error
    deliver_again(entry, times=2)

    assert (entry.attempts, entry.status.value) == (3, "sent")
    transfer_id = db.session.scalars(sa.select(Transfer.id)).one()
    assert flaky.calls == [("transfer", f"transfer-{transfer_id}")] * 3  # one key, every try
    assert db.session.scalars(sa.select(Transfer.status)).all() == [TransferStatus.PAID]
    assert transaction_kinds(deal) == ["funding", "release", "payout"]
    assert balances(deal) == {**ZERO, "revenue": 4_000, "external": -4_000}


def test_a_transfer_failing_for_good_is_shown_to_admins_and_can_be_retried(
    deal, apis, app, login, monkeypatch
):
    client_api, provider_api = apis
    first = deal.milestone_ids[0]
    _fund(client_api, first)
    _submit(provider_api, first)
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 2)
    monkeypatch.setitem(app.extensions, "payment_gateway", FlakyGateway(failures=2))
    money_post(client_api, f"milestones/{first}/approve")
    entry = db.session.scalars(
        sa.select(outbox.OutboxEntry).filter_by(kind="payments.transfer")
    ).one()
    deliver_again(entry)

    admin_api = login(AdminFactory())
    failed = admin_api.get("admin/outbox?status=failed&kind=payments.transfer").get_json()
    assert [e["id"] for e in failed["items"]] == [str(entry.id)]
    assert provider_api.get("admin/outbox").status_code == 403
    retried = admin_api.post(f"admin/outbox/{entry.id}/retry")
    assert retried.status_code == 200
    # Delivered right after the admin's request: the gateway is healthy again.
    assert db.session.scalars(sa.select(Transfer.status)).one() == TransferStatus.PAID
    assert balances(deal)["provider_payable"] == 0
    assert admin_api.post(f"admin/outbox/{entry.id}/retry").status_code == 409


def test_money_held_for_long_warns_at_60_days_and_goes_to_review_at_75(deal, apis, app):
    client_api, _ = apis
    admin = AdminFactory()
    first, second = deal.milestone_ids
    _fund(client_api, first)
    _fund(client_api, second)
    deal.milestone(0).funded_at = utcnow() - timedelta(days=61)
    deal.milestone(1).funded_at = utcnow() - timedelta(days=76)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["escrow-age-guard"])

    assert "warned about 1, sent 1 to review" in result.output
    assert deal.milestone(0).status == MilestoneStatus.FUNDED
    assert deal.milestone(0).escrow_warned_at is not None
    assert "milestone.escrow_aging" in _kinds_of(deal.client) & _kinds_of(admin)
    assert deal.milestone(1).status == MilestoneStatus.DISPUTED
    review = db.session.scalars(sa.select(refunds.RefundRequest)).all()
    assert review == []  # a review, not a refund
    queue = db.session.scalars(sa.select(Dispute)).one()
    assert (queue.side, queue.milestone_id) == ("system", second)
    assert (
        app.test_cli_runner()
        .invoke(args=["escrow-age-guard"])
        .output.startswith("warned about 0, sent 0")
    )  # each warning once
