"""Hourly contracts end to end: time entries against the weekly limit, weekly invoices with
their adjustment and review windows, charges to the saved card, the security period, a
disputed entry split by an admin, declined charges, bonuses and firms."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.contracts.models import Milestone, MilestoneKind
from marketplace.extensions import db
from marketplace.hourly import invoices, limits
from marketplace.hourly.models import Invoice, TimeEntry
from marketplace.jobs import outbox
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerTransaction
from marketplace.matching import index as matching_index
from marketplace.notifications.models import Notification
from marketplace.payments.gateways.base import GatewayError
from marketplace.payments.gateways.sandbox import SandboxGateway
from marketplace.payments.models import Dispute, Payment, SavedPaymentMethod
from tests.factories import AdminFactory, ProviderFactory, make_firm
from tests.hourly_support import (
    WEEK1,
    WEEK2,
    WEEK3,
    WEEK4,
    HourlyDeal,
    at,
    entry,
    make_hourly_deal,
)
from tests.money import money_post, usd

WEEK5 = WEEK4 + timedelta(days=7)


def _log(api: Any, deal: HourlyDeal, start: Any, end: Any, memo: str = "Inbox triage") -> Any:
    return api.post(f"contracts/{deal.contract_id}/time-entries", json=entry(start, end, memo))


def _logged(api: Any, deal: HourlyDeal, start: Any, end: Any) -> dict[str, Any]:
    response = _log(api, deal, start, end)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _books(deal: HourlyDeal) -> dict[str, int]:
    contract = deal.contract
    return {
        "escrow": ledger.balance(ledger.escrow(contract.id, "usd")),
        "provider_payable": ledger.balance(
            ledger.provider_payable(contract.provider_profile_id, "usd")
        ),
        "client_payable": ledger.balance(ledger.client_payable(contract.client_profile_id, "usd")),
        "revenue": ledger.balance(ledger.revenue("usd")),
        "external": ledger.balance(ledger.external("sandbox", "usd")),
    }


def _bill(time_machine: Any, moment: Any) -> dict[str, int]:
    """Run the billing job at `moment`, then the outbox (transfers and refunds)."""
    time_machine.move_to(moment, tick=False)
    moved = invoices.bill()
    outbox.deliver_due()
    return moved


def _invoice(api: Any, deal: HourlyDeal, week: Any) -> dict[str, Any]:
    listed = api.get(f"contracts/{deal.contract_id}/invoices").get_json()["items"]
    return next(i for i in listed if i["week"] == week.date().isoformat())


def test_awarding_an_hourly_bid_makes_an_hourly_contract_without_milestones(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal(rate=3500, weekly_limit=20)
    body = login(deal.client).get(f"contracts/{deal.contract_id}").get_json()
    assert body["milestones"] == []
    content = body["current_terms"]["content"]
    assert content["price_type"] == "hourly"
    assert content["hourly"]["rate"] == usd(3500)
    assert content["hourly"]["weekly_limits"] == [{"from_week": "2026-11-02", "hours": 20}]
    assert content["hourly"]["security_days"] == 5
    assert "Friday 23:59:59 UTC" in content["hourly"]["billing"]["review_window"]


def test_three_weeks_under_over_and_disputed_with_exact_amounts_on_the_ledger(
    login, time_machine, sent_mail
):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal(rate=3500, weekly_limit=20)
    # Sessions last two weeks: each step signs in afresh, as people do.
    provider, client = (lambda: login(deal.provider)), (lambda: login(deal.client))

    # Week 1: 12 h 30 min, under the limit of 20 h.
    time_machine.move_to(at(WEEK1, 4, 18), tick=False)
    _logged(provider(), deal, at(WEEK1, 0, 9), at(WEEK1, 0, 13))
    _logged(provider(), deal, at(WEEK1, 1, 9), at(WEEK1, 1, 13, 30))
    _logged(provider(), deal, at(WEEK1, 2, 9), at(WEEK1, 2, 13))

    # Issued when the adjustment window closes, Monday 12:00 UTC, not a minute before.
    assert _bill(time_machine, at(WEEK2, 0, 11, 59))["issued"] == 0
    assert _bill(time_machine, at(WEEK2, 0, 12))["issued"] == 1
    first = _invoice(client(), deal, WEEK1)
    assert first["status"] == "in_review"
    assert (first["billed_minutes"], first["over_limit_minutes"]) == (750, 0)
    assert first["amount"] == usd(43_750)  # 12.5 h x 35.00
    assert first["fee"] == usd(4_375)
    assert first["review_ends_at"] == "2026-11-14T00:00:00+00:00"  # Friday 23:59:59 passed
    assert _books(deal)["escrow"] == 0  # an invoice is not money yet
    assert any("Invoice for the week of 2026-11-02" in m.subject for m in sent_mail)

    # Week 2: 24 h logged against the 20 h limit; the last 4 h are recorded, not billed.
    time_machine.move_to(at(WEEK2, 4, 18), tick=False)
    for day, (start, end) in enumerate([(9, 13), (9, 13), (9, 13), (9, 13), (9, 13)]):
        _logged(provider(), deal, at(WEEK2, day, start), at(WEEK2, day, end))
    late = _logged(provider(), deal, at(WEEK2, 4, 14), at(WEEK2, 4, 18))
    assert (late["billable_minutes"], late["over_limit_minutes"]) == (0, 240)

    # Week 1 is charged when its review window closes, Saturday 00:00 UTC.
    assert _bill(time_machine, at(WEEK2, 4, 23, 59))["charged"] == 0
    assert _bill(time_machine, at(WEEK2, 5, 0))["charged"] == 1
    first = _invoice(client(), deal, WEEK1)
    assert first["status"] == "paid"
    assert first["available_at"] == "2026-11-19T00:00:00+00:00"  # the 5-day security period
    assert _books(deal) == {
        "escrow": 43_750,
        "provider_payable": 0,
        "client_payable": 0,
        "revenue": 0,
        "external": -43_750,
    }

    assert _bill(time_machine, at(WEEK3, 0, 12))["issued"] == 1
    second = _invoice(client(), deal, WEEK2)
    assert (second["logged_minutes"], second["billed_minutes"]) == (1_440, 1_200)
    assert second["amount"] == usd(70_000)  # only the limit's 20 h

    # Week 3: 10 h; the client will dispute Tuesday's 4 h.
    time_machine.move_to(at(WEEK3, 1, 18), tick=False)
    _logged(provider(), deal, at(WEEK3, 0, 9), at(WEEK3, 0, 15))
    tuesday = _logged(provider(), deal, at(WEEK3, 1, 9), at(WEEK3, 1, 13))

    # Week 1's money is released after the security period: 10 % to the platform.
    assert _bill(time_machine, at(WEEK3, 3, 0))["released"] == 1
    assert _books(deal) == {
        "escrow": 0,
        "provider_payable": 0,  # paid out by the transfer
        "client_payable": 0,
        "revenue": 4_375,
        "external": -4_375,
    }
    assert _bill(time_machine, at(WEEK3, 5, 0))["charged"] == 1
    assert _books(deal)["escrow"] == 70_000

    assert _bill(time_machine, at(WEEK4, 0, 12))["issued"] == 1
    third = _invoice(client(), deal, WEEK3)
    assert third["amount"] == usd(35_000)
    time_machine.move_to(at(WEEK4, 2, 10), tick=False)
    disputed = money_post(
        client(),
        f"invoices/{third['id']}/dispute",
        json={
            "reason": "Tuesday's inbox was handled by our own team.",
            "entry_ids": [tuesday["id"]],
        },
    )
    assert disputed.status_code == 200, disputed.get_json()
    assert disputed.get_json()["disputed_amount"] == usd(14_000)
    assert "invoice.disputed" in _kinds_told(deal.provider)

    assert _bill(time_machine, at(WEEK4, 3, 0))["released"] == 1  # week 2
    assert _bill(time_machine, at(WEEK4, 5, 0))["charged"] == 1  # week 3, both parts
    assert _books(deal)["escrow"] == 35_000
    dispute = db.session.scalars(sa.select(Dispute)).one()
    assert (dispute.side, dispute.milestone.amount) == ("client", 14_000)

    # The undisputed 21,000 is released after the security period; the disputed part waits.
    assert _bill(time_machine, at(WEEK5, 3, 0))["released"] == 1
    assert _books(deal)["escrow"] == 14_000

    admin = login(AdminFactory())
    resolved = money_post(
        admin,
        f"admin/disputes/{dispute.id}/resolve",
        json={
            "release_amount": usd(7_000),
            "refund_amount": usd(7_000),
            "note": "Half of Tuesday's hours were worked.",
        },
    )
    assert resolved.status_code == 200, resolved.get_json()
    outbox.deliver_due()
    # Funded 148,750; released 141,750 less 10 % (14,175 to the platform); 7,000 refunded.
    assert _books(deal) == {
        "escrow": 0,
        "provider_payable": 0,
        "client_payable": 0,
        "revenue": 14_175,
        "external": -14_175,
    }
    kinds = db.session.scalars(
        sa.select(LedgerTransaction.kind).where(LedgerTransaction.contract_id == deal.contract_id)
    ).all()
    assert sorted(k.value for k in kinds).count("funding") == 4  # three weeks, one split
    assert deal.contract.status.value == "active"  # hourly contracts run on
    statuses = [i["status"] for i in client().get("invoices").get_json()["items"]]
    assert statuses == ["released", "released", "released"]


def _kinds_told(user: Any) -> list[str]:
    return list(
        db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == user.id))
    )


# The windows ------------------------------------------------------------------------------


def test_entries_change_until_monday_noon_utc_after_their_week(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal()
    time_machine.move_to(at(WEEK1, 6, 23), tick=False)
    logged = _logged(login(deal.provider), deal, at(WEEK1, 6, 20), at(WEEK1, 6, 22))
    assert logged["editable_until"] == "2026-11-09T12:00:00+00:00"

    time_machine.move_to(at(WEEK2, 0, 11, 59), tick=False)  # the last minute of the window
    provider = login(deal.provider)
    edited = provider.patch(
        f"time-entries/{logged['id']}", json={"end": at(WEEK1, 6, 23).isoformat()}
    )
    assert edited.status_code == 200, edited.get_json()
    assert edited.get_json()["minutes"] == 180
    late = _log(provider, deal, at(WEEK1, 5, 9), at(WEEK1, 5, 10))  # last week, still open
    assert late.status_code == 201, late.get_json()

    time_machine.move_to(at(WEEK2, 0, 12), tick=False)  # closed
    provider = login(deal.provider)
    refused = provider.patch(f"time-entries/{logged['id']}", json={"memo": "Other work"})
    assert refused.status_code == 409
    assert provider.delete(f"time-entries/{logged['id']}").status_code == 409
    too_late = _log(provider, deal, at(WEEK1, 4, 9), at(WEEK1, 4, 10))
    assert too_late.status_code == 409
    assert too_late.get_json()["error"]["details"]["week"] == "2026-11-02"
    assert db.session.get(TimeEntry, uuid.UUID(logged["id"])).memo == "Inbox triage"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TimeEntry)) == 2


def test_an_invoice_is_disputed_until_friday_23_59_59_utc_and_not_after(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal()
    time_machine.move_to(at(WEEK1, 1, 18), tick=False)
    _logged(login(deal.provider), deal, at(WEEK1, 1, 9), at(WEEK1, 1, 17))
    _bill(time_machine, at(WEEK2, 0, 12))
    invoice = db.session.scalars(sa.select(Invoice)).one()

    time_machine.move_to(at(WEEK2, 5, 0), tick=False)  # Saturday 00:00: the window closed
    client = login(deal.client)
    late = money_post(client, f"invoices/{invoice.id}/dispute", json={"reason": "Not worked."})
    assert late.status_code == 409
    assert late.get_json()["error"]["details"]["review_ends_at"] == "2026-11-14T00:00:00+00:00"

    time_machine.move_to(at(WEEK2, 4, 23, 59), tick=False)  # Friday 23:59: still open
    client = login(deal.client)
    whole = money_post(client, f"invoices/{invoice.id}/dispute", json={"reason": "Not worked."})
    assert whole.status_code == 200, whole.get_json()
    assert whole.get_json()["disputed_amount"] == usd(28_000)  # all 8 h
    again = money_post(client, f"invoices/{invoice.id}/dispute", json={"reason": "Again."})
    assert again.status_code == 409

    # The whole invoice is charged, then held: nothing is released to the provider.
    _bill(time_machine, at(WEEK2, 5, 0))
    _bill(time_machine, at(WEEK3, 3, 0))
    assert _books(deal)["escrow"] == 28_000
    dispute = db.session.scalars(sa.select(Dispute)).one()
    assert dispute.milestone_id == invoice.milestone_id


# The weekly limit ------------------------------------------------------------------------


def test_a_raise_counts_this_week_and_a_cut_from_the_next(login, time_machine, sent_mail):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal(weekly_limit=10)
    time_machine.move_to(at(WEEK1, 2, 12), tick=False)
    client = login(deal.client)
    raised = client.put(f"contracts/{deal.contract_id}/weekly-limit", json={"hours": 15})
    assert raised.status_code == 200, raised.get_json()
    assert raised.get_json() | {"schedule": None} == {
        "this_week": "2026-11-02",
        "hours_this_week": 15,
        "hours_next_week": 15,
        "schedule": None,
        "terms_version": 2,
    }
    cut = client.put(f"contracts/{deal.contract_id}/weekly-limit", json={"hours": 5})
    assert cut.get_json()["hours_this_week"] == 15
    assert cut.get_json()["hours_next_week"] == 5
    assert cut.get_json()["schedule"] == [
        {"from_week": "2026-11-02", "hours": 15},
        {"from_week": "2026-11-09", "hours": 5},
    ]
    assert any("Weekly limit changed" in m.subject for m in sent_mail)

    # 16 h this week: 15 billed; 8 h next week: 5 billed.
    time_machine.move_to(at(WEEK1, 3, 18), tick=False)
    _logged(login(deal.provider), deal, at(WEEK1, 3, 0), at(WEEK1, 3, 16))
    time_machine.move_to(at(WEEK2, 4, 18), tick=False)
    _logged(login(deal.provider), deal, at(WEEK2, 0, 9), at(WEEK2, 0, 17))
    _bill(time_machine, at(WEEK3, 0, 12))
    billed = {
        i.week.isoformat(): (i.limit_hours, i.minutes, i.amount)
        for i in db.session.scalars(sa.select(Invoice))
    }
    assert billed == {
        "2026-11-02": (15, 900, 52_500),
        "2026-11-09": (5, 300, 17_500),
    }

    provider_put = login(deal.provider).put(
        f"contracts/{deal.contract_id}/weekly-limit", json={"hours": 40}
    )
    assert provider_put.status_code == 403
    for hours in (0, 169, "ten", None):
        bad = client.put(f"contracts/{deal.contract_id}/weekly-limit", json={"hours": hours})
        assert bad.status_code == 422, hours


# Declined charges -------------------------------------------------------------------------


def test_a_declined_charge_pauses_the_contract_and_is_retried_with_backoff(
    login, time_machine, sent_mail
):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal(card="pm_card_chargeCustomerFail")
    time_machine.move_to(at(WEEK1, 1, 18), tick=False)
    _logged(login(deal.provider), deal, at(WEEK1, 1, 9), at(WEEK1, 1, 11))
    _bill(time_machine, at(WEEK2, 0, 12))

    _bill(time_machine, at(WEEK2, 5, 0))
    invoice = db.session.scalars(sa.select(Invoice)).one()
    assert invoice.status.value == "payment_failed"
    assert invoice.next_charge_at == at(WEEK2, 6, 0)  # 24 h later
    assert deal.contract.status.value == "paused"
    assert any("Payment declined, week of 2026-11-02" in m.subject for m in sent_mail)
    assert "invoice.payment" in _kinds_told(deal.client)
    assert "invoice.payment" in _kinds_told(deal.provider)
    assert "payment.failed" not in _kinds_told(deal.client)  # one e-mail, the invoice's
    assert _books(deal)["escrow"] == 0
    # A paused contract takes no time; the hours already logged are still owed.
    blocked = _log(login(deal.provider), deal, at(WEEK2, 5, 1), at(WEEK2, 5, 2))
    assert blocked.status_code == 409

    _bill(time_machine, at(WEEK2, 6, 0))  # declined again: the wait doubles
    db.session.refresh(invoice)
    assert (invoice.charge_attempts, invoice.next_charge_at) == (
        2,
        at(WEEK2, 6, 0) + timedelta(hours=48),
    )

    time_machine.move_to(at(WEEK3, 0, 9), tick=False)
    saved = login(deal.client).post(
        "clients/me/payment-method", json={"payment_method": "pm_card_visa"}
    )
    assert saved.get_json()["status"] == "ready"
    _bill(time_machine, at(WEEK3, 1, 0))  # the next attempt, with the new card
    db.session.refresh(invoice)
    assert invoice.status.value == "paid"
    assert deal.contract.status.value == "active"
    assert _books(deal)["escrow"] == 7_000
    attempts = db.session.scalars(sa.select(Payment.status).order_by(Payment.attempt)).all()
    assert [a.value for a in attempts] == ["failed", "failed", "succeeded"]


def test_a_week_without_a_saved_card_is_declined_too(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal(card=None)
    time_machine.move_to(at(WEEK1, 1, 18), tick=False)
    _logged(login(deal.provider), deal, at(WEEK1, 1, 9), at(WEEK1, 1, 10))
    _bill(time_machine, at(WEEK2, 0, 12))
    _bill(time_machine, at(WEEK2, 5, 0))
    invoice = db.session.scalars(sa.select(Invoice)).one()
    assert invoice.status.value == "payment_failed"
    assert deal.contract.status.value == "paused"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Payment)) == 0


# Firms ----------------------------------------------------------------------------------


def test_two_members_of_a_firm_log_on_one_contract_and_each_week_bills_both(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    firm = make_firm(owner=True, agent=True)
    deal = make_hourly_deal(provider=firm.owner, rate=4000, weekly_limit=40)
    time_machine.move_to(at(WEEK1, 2, 18), tick=False)
    owner, agent = login(firm.owner), login(firm.agent)
    # The same hours by two people: no overlap, each logs their own.
    _logged(owner, deal, at(WEEK1, 1, 9), at(WEEK1, 1, 12))
    mine = _logged(agent, deal, at(WEEK1, 1, 9), at(WEEK1, 1, 13))
    assert mine["worker"]["id"] == str(firm.agent.id)
    # One person cannot overlap themselves.
    clash = _log(agent, deal, at(WEEK1, 1, 12), at(WEEK1, 1, 14))
    assert clash.status_code == 409
    assert clash.get_json()["error"]["details"]["entry_id"] == mine["id"]
    # An agent edits their own entry, not the owner's; the owner (a manager) may edit theirs.
    owners = owner.get(f"contracts/{deal.contract_id}/time-entries?worker_id={firm.owner.id}")
    owner_entry = owners.get_json()["items"][0]["id"]
    assert agent.patch(f"time-entries/{owner_entry}", json={"memo": "x"}).status_code == 403
    assert owner.patch(f"time-entries/{mine['id']}", json={"memo": "Triage"}).status_code == 200

    _bill(time_machine, at(WEEK2, 0, 12))
    invoice = db.session.scalars(sa.select(Invoice)).one()
    assert (invoice.minutes, invoice.amount) == (420, 28_000)  # 7 h x 40.00
    detail = login(deal.client).get(f"invoices/{invoice.id}").get_json()
    assert {e["worker"]["id"] for e in detail["entries"]} == {
        str(firm.owner.id),
        str(firm.agent.id),
    }


# Bad input and permissions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        (at(WEEK1, 1, 10), at(WEEK1, 1, 10), "end"),  # zero minutes
        (at(WEEK1, 1, 11), at(WEEK1, 1, 10), "end"),  # negative
        (at(WEEK1, 2, 10), at(WEEK1, 2, 13), "end"),  # ends in the future
        (at(WEEK1, 0, 6), at(WEEK1, 0, 7), "start"),  # before the contract began
    ],
)
def test_impossible_entries_are_422_and_store_nothing(login, time_machine, start, end, field):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal()
    time_machine.move_to(at(WEEK1, 2, 12), tick=False)
    response = _log(login(deal.provider), deal, start, end)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["details"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TimeEntry)) == 0


def test_an_entry_across_midnight_sunday_utc_must_be_split(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal()
    time_machine.move_to(at(WEEK2, 0, 9), tick=False)
    provider = login(deal.provider)
    across = _log(provider, deal, at(WEEK1, 6, 22), at(WEEK2, 0, 2))
    assert across.status_code == 422
    assert "split" in across.get_json()["error"]["details"]["end"][0]
    # An offset is honoured: 23:00-24:00 in Manila is 15:00-16:00 UTC on Sunday.
    manila = {
        "start": "2026-11-08T23:00:00+08:00",
        "end": "2026-11-09T00:00:00+08:00",
        "memo": "Late tickets",
    }
    logged = provider.post(f"contracts/{deal.contract_id}/time-entries", json=manila)
    assert logged.status_code == 201, logged.get_json()
    assert logged.get_json()["start"] == "2026-11-08T15:00:00+00:00"
    assert logged.get_json()["week"] == "2026-11-02"
    naive = {**manila, "start": "2026-11-08T10:00:00", "end": "2026-11-08T11:00:00"}
    assert (
        provider.post(f"contracts/{deal.contract_id}/time-entries", json=naive).status_code == 422
    )


def test_who_may_log_read_and_change_time(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal()
    time_machine.move_to(at(WEEK1, 1, 18), tick=False)
    logged = _logged(login(deal.provider), deal, at(WEEK1, 1, 9), at(WEEK1, 1, 10))
    stranger = login(ProviderFactory())
    client = login(deal.client)

    assert _log(stranger, deal, at(WEEK1, 1, 11), at(WEEK1, 1, 12)).status_code == 404
    assert _log(client, deal, at(WEEK1, 1, 11), at(WEEK1, 1, 12)).status_code == 403
    assert stranger.get(f"contracts/{deal.contract_id}/time-entries").status_code == 404
    assert stranger.patch(f"time-entries/{logged['id']}", json={"memo": "x"}).status_code == 404
    assert stranger.delete(f"time-entries/{logged['id']}").status_code == 404
    assert client.patch(f"time-entries/{logged['id']}", json={"memo": "x"}).status_code == 403
    assert client.delete(f"time-entries/{logged['id']}").status_code == 403
    listed = client.get(f"contracts/{deal.contract_id}/time-entries").get_json()
    assert [e["id"] for e in listed["items"]] == [logged["id"]]
    assert listed["items"][0]["local"]["client"]["zone"] == deal.contract.client_profile.timezone

    _bill(time_machine, at(WEEK2, 0, 12))
    invoice = db.session.scalars(sa.select(Invoice)).one()
    assert stranger.get(f"invoices/{invoice.id}").status_code == 404
    assert stranger.get("invoices").get_json()["items"] == []
    assert (
        money_post(stranger, f"invoices/{invoice.id}/dispute", json={"reason": "No."}).status_code
        == 404
    )
    provider = login(deal.provider)
    assert (
        money_post(provider, f"invoices/{invoice.id}/dispute", json={"reason": "No."}).status_code
        == 403
    )
    assert [i["id"] for i in provider.get("invoices").get_json()["items"]] == [str(invoice.id)]
    unknown = money_post(
        login(deal.client),
        f"invoices/{invoice.id}/dispute",
        json={"reason": "Not ours.", "entry_ids": [str(invoice.milestone_id)]},
    )
    assert unknown.status_code == 422
    db.session.refresh(invoice)
    assert invoice.disputed_at is None


def test_no_time_on_an_ended_contract_and_none_on_a_fixed_one(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal()
    time_machine.move_to(at(WEEK1, 1, 18), tick=False)
    _logged(login(deal.provider), deal, at(WEEK1, 1, 9), at(WEEK1, 1, 10))
    ended = login(deal.client).post(
        f"contracts/{deal.contract_id}/terminate", json={"reason": "The project is over."}
    )
    assert ended.status_code == 200, ended.get_json()
    refused = _log(login(deal.provider), deal, at(WEEK1, 1, 11), at(WEEK1, 1, 12))
    assert refused.status_code == 409
    # The hours logged before the end are still invoiced and charged.
    _bill(time_machine, at(WEEK2, 0, 12))
    _bill(time_machine, at(WEEK2, 5, 0))
    assert db.session.scalars(sa.select(Invoice)).one().status.value == "paid"
    assert _books(deal)["escrow"] == 3_500


# Bonuses and the saved card ---------------------------------------------------------------


def test_a_bonus_is_charged_and_released_at_once_and_only_once(login, time_machine, sent_mail):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal()
    client = login(deal.client)
    body = {"amount": usd(10_000), "reason": "For the overtime in week two."}
    first = money_post(
        client, f"contracts/{deal.contract_id}/bonuses", idempotency_key="b-1", json=body
    )
    assert first.status_code == 201, first.get_json()
    assert first.get_json()["status"] == "released"
    again = money_post(
        client, f"contracts/{deal.contract_id}/bonuses", idempotency_key="b-1", json=body
    )
    assert again.get_json() == first.get_json()
    outbox.deliver_due()
    assert _books(deal) == {
        "escrow": 0,
        "provider_payable": 0,
        "client_payable": 0,
        "revenue": 1_000,
        "external": -1_000,
    }
    bonuses = db.session.scalars(
        sa.select(Milestone).where(Milestone.kind == MilestoneKind.BONUS)
    ).all()
    assert len(bonuses) == 1
    assert "bonus.paid" in _kinds_told(deal.provider)

    assert (
        money_post(
            login(deal.provider), f"contracts/{deal.contract_id}/bonuses", json=body
        ).status_code
        == 403
    )
    euros = {**body, "amount": {"amount": 100, "currency": "eur"}}
    assert (
        money_post(client, f"contracts/{deal.contract_id}/bonuses", json=euros).status_code == 422
    )
    missing_key = client.post(f"contracts/{deal.contract_id}/bonuses", json=body)
    assert missing_key.status_code == 400


def test_a_declined_bonus_is_a_402_and_moves_no_money(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal(card="pm_card_chargeCustomerFail")
    client = login(deal.client)
    declined = money_post(
        client,
        f"contracts/{deal.contract_id}/bonuses",
        json={"amount": usd(5_000), "reason": "Thanks for Friday."},
    )
    assert declined.status_code == 402, declined.get_json()
    assert _books(deal)["external"] == 0
    bonus = db.session.scalars(
        sa.select(Milestone).where(Milestone.kind == MilestoneKind.BONUS)
    ).one()
    assert bonus.status.value == "cancelled"


def test_the_client_saves_a_card(login):
    deal_client = make_hourly_deal(card=None).client
    client = login(deal_client)
    assert client.get("clients/me/payment-method").status_code == 404
    saved = client.post("clients/me/payment-method", json={})
    assert saved.status_code == 200, saved.get_json()
    assert saved.get_json()["status"] == "ready"
    assert saved.get_json()["payment_method"] == "pm_card_visa"
    assert client.get("clients/me/payment-method").get_json()["status"] == "ready"
    assert db.session.scalars(sa.select(SavedPaymentMethod)).one().payment_method == "pm_card_visa"
    bad = client.post("clients/me/payment-method", json={"payment_method": "4242 4242"})
    assert bad.status_code == 422
    provider = login(ProviderFactory())
    assert provider.post("clients/me/payment-method", json={}).status_code == 403


def test_hours_and_bonus_milestones_are_not_the_parties_to_move(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal()
    time_machine.move_to(at(WEEK1, 1, 18), tick=False)
    _logged(login(deal.provider), deal, at(WEEK1, 1, 9), at(WEEK1, 1, 10))
    _bill(time_machine, at(WEEK2, 0, 12))
    invoice = db.session.scalars(sa.select(Invoice)).one()
    client = login(deal.client)
    early = money_post(client, f"milestones/{invoice.milestone_id}/fund", json={})
    assert early.status_code == 409
    listed = client.get(f"contracts/{deal.contract_id}").get_json()["milestones"]
    assert [(m["kind"], m["allowed_actions"]) for m in listed] == [("hours", [])]


class _Down(SandboxGateway):
    """The sandbox, with payments failing as an outage would while `down`."""

    down = True

    def create_payment(self, **kwargs: Any) -> Any:
        if self.down:
            raise GatewayError("connection reset by the payment provider")
        return super().create_payment(**kwargs)


def test_an_outage_while_charging_is_asked_again_with_the_same_key(
    app, login, time_machine, monkeypatch
):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal()
    time_machine.move_to(at(WEEK1, 1, 18), tick=False)
    _logged(login(deal.provider), deal, at(WEEK1, 1, 9), at(WEEK1, 1, 11))
    _bill(time_machine, at(WEEK2, 0, 12))
    down = _Down()
    monkeypatch.setitem(app.extensions, "payment_gateway", down)

    _bill(time_machine, at(WEEK2, 5, 0))
    invoice = db.session.scalars(sa.select(Invoice)).one()
    assert invoice.status.value == "charging"
    assert invoice.next_charge_at == at(WEEK2, 5, 1)  # asked again in an hour
    assert deal.contract.status.value == "active"  # an outage is not the client's decline
    _bill(time_machine, at(WEEK2, 5, 0, 30))  # not yet
    down.down = False
    _bill(time_machine, at(WEEK2, 5, 1))
    db.session.refresh(invoice)
    assert invoice.status.value == "paid"
    payments = db.session.scalars(sa.select(Payment)).all()
    assert [(p.attempt, p.status.value) for p in payments] == [(1, "succeeded")]
    assert _books(deal)["escrow"] == 7_000


def test_a_bonus_the_gateway_did_not_take_is_a_503_and_cancelled(app, login, monkeypatch):
    deal = make_hourly_deal()
    monkeypatch.setitem(app.extensions, "payment_gateway", _Down())
    refused = money_post(
        login(deal.client),
        f"contracts/{deal.contract_id}/bonuses",
        json={"amount": usd(5_000), "reason": "Thanks for Friday."},
    )
    assert refused.status_code == 503
    bonus = db.session.scalars(
        sa.select(Milestone).where(Milestone.kind == MilestoneKind.BONUS)
    ).one()
    assert bonus.status.value == "cancelled"
    assert _books(deal)["external"] == 0


def test_the_rate_is_amended_like_the_rest_of_the_terms(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal(rate=3500)
    time_machine.move_to(at(WEEK1, 1, 18), tick=False)
    _logged(login(deal.provider), deal, at(WEEK1, 1, 9), at(WEEK1, 1, 13))
    proposed = login(deal.provider).post(
        f"contracts/{deal.contract_id}/amendments",
        json={"changes": {"hourly_rate": usd(4000)}, "note": "My rate for next year."},
    )
    assert proposed.status_code == 201, proposed.get_json()
    accepted = login(deal.client).post(f"amendments/{proposed.get_json()['id']}/accept")
    assert accepted.status_code == 200, accepted.get_json()
    terms = deal.contract.current_terms.content
    assert terms["hourly"]["rate"] == terms["price"] == usd(4000)
    _bill(time_machine, at(WEEK2, 0, 12))
    assert db.session.scalars(sa.select(Invoice)).one().amount == 16_000  # 4 h x 40.00

    euros = login(deal.provider).post(
        f"contracts/{deal.contract_id}/amendments",
        json={"changes": {"hourly_rate": {"amount": 4000, "currency": "eur"}}},
    )
    assert euros.status_code == 422


def test_an_hourly_contract_takes_its_weekly_limit_of_the_providers_capacity(time_machine):
    time_machine.move_to(at(WEEK1, 0, 8), tick=False)
    deal = make_hourly_deal(weekly_limit=15)
    profile_id = deal.contract.provider_profile_id
    hours, statuses = matching_index.committed_hours(profile_id, db.session)
    assert (hours, statuses["active"]) == (15.0, 1)
    limits.set_weekly_limit(user=deal.client, contract_id=deal.contract_id, hours=25)
    assert matching_index.committed_hours(profile_id, db.session)[0] == 25.0


def test_work_logged_late_is_billed_in_the_order_it_was_done(login, time_machine):
    time_machine.move_to(at(WEEK1, 0, 7), tick=False)
    deal = make_hourly_deal(rate=3500, weekly_limit=20)
    time_machine.move_to(at(WEEK1, 5, 10), tick=False)
    provider = login(deal.provider)
    for day in range(1, 5):  # Tuesday to Friday, 5 h each: the limit's 20 h
        assert (
            _logged(provider, deal, at(WEEK1, day, 9), at(WEEK1, day, 14))["over_limit_minutes"]
            == 0
        )

    # Monday's 4 h, logged last, was done first: it is billed, Friday's last 4 h are not.
    monday = _logged(provider, deal, at(WEEK1, 0, 9), at(WEEK1, 0, 13))

    assert (monday["billable_minutes"], monday["over_limit_minutes"]) == (240, 0)
    listed = login(deal.client).get(f"contracts/{deal.contract_id}/time-entries").get_json()
    assert [(e["billable_minutes"], e["over_limit_minutes"]) for e in listed["items"]] == [
        (60, 240),  # Friday (latest work first)
        (300, 0),
        (300, 0),
        (300, 0),
        (240, 0),  # Monday
    ]
    assert _bill(time_machine, at(WEEK2, 0, 12))["issued"] == 1
    invoice = _invoice(login(deal.client), deal, WEEK1)
    assert (invoice["logged_minutes"], invoice["billed_minutes"]) == (1_440, 1_200)
