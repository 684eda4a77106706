"""Hourly contracts end to end: time entries against the weekly limit, weekly invoices with
their adjustment and review windows, charges to the saved card, the security period, a
disputed entry split by an admin, declined charges, bonuses and firms."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.hourly import invoices
from marketplace.jobs import outbox
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerTransaction
from marketplace.notifications.models import Notification
from marketplace.payments.models import Dispute
from tests.factories import AdminFactory
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
