"""Racing hourly requests and billing runs on PostgreSQL: real threads, row locks, one outcome.

A worker's entries never overlap, on one contract or two, however many arrive at once; a
week's entries saved at once are billed up to its limit, in the order the work was done; and
any number of billing runs at once issue, charge and release each week's invoice once. Each
race starts its threads together at a barrier; the overlap races are repeated ROUNDS times.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.contracts.models import Milestone, MilestoneKind
from marketplace.extensions import db
from marketplace.hourly import invoices
from marketplace.hourly.models import Invoice, TimeEntry
from marketplace.jobs import outbox
from marketplace.ledger.models import LedgerTransaction, TransactionKind
from marketplace.payments.models import Dispute, Payment
from tests.hourly_support import WEEK1, WEEK2, WEEK3, HourlyDeal, at, entry, make_hourly_deal
from tests.money import money_post
from tests.races import at_once, count

pytestmark = pytest.mark.postgres
ROUNDS = 20
THREADS = 8
RATE = 3500
LIMIT = 20


def _post(api: Any, deal: HourlyDeal, start: datetime, end: datetime) -> Any:
    return api.post(f"contracts/{deal.contract_id}/time-entries", json=entry(start, end))


def _one_stored(responses: list[Any]) -> str:
    """The id of the one entry a race stored; the loser was told which entry it overlaps."""
    assert Counter(r.status_code for r in responses) == {201: 1, 409: 1}, [
        r.get_json() for r in responses
    ]
    won = next(r for r in responses if r.status_code == 201).get_json()["id"]
    lost = next(r for r in responses if r.status_code == 409).get_json()
    assert lost["error"]["details"]["entry_id"] == won
    return won


def test_two_overlapping_entries_of_a_worker_at_once_store_one(bearer, time_machine):
    time_machine.move_to(at(WEEK1, 0, 7), tick=False)
    deal = make_hourly_deal(rate=RATE, weekly_limit=LIMIT)
    time_machine.move_to(at(WEEK1, 4, 18), tick=False)
    first, second = bearer(deal.provider), bearer(deal.provider)

    for n in range(ROUNDS):
        start = at(WEEK1, 0, 8) + timedelta(hours=3 * n)
        responses = at_once(
            [
                partial(_post, first, deal, start, start + timedelta(hours=2)),
                partial(
                    _post, second, deal, start + timedelta(hours=1), start + timedelta(hours=3)
                ),
            ]
        )

        _one_stored(responses)
        assert count(TimeEntry, TimeEntry.worker_id == deal.provider.id) == n + 1


def test_overlapping_entries_on_two_contracts_at_once_store_one(bearer, time_machine):
    time_machine.move_to(at(WEEK1, 0, 7), tick=False)
    deal = make_hourly_deal(rate=RATE, weekly_limit=LIMIT)
    other = make_hourly_deal(rate=RATE, weekly_limit=LIMIT, provider=deal.provider)
    time_machine.move_to(at(WEEK1, 4, 18), tick=False)
    first, second = bearer(deal.provider), bearer(deal.provider)

    for n in range(ROUNDS):
        start = at(WEEK1, 0, 8) + timedelta(hours=3 * n)
        responses = at_once(
            [
                partial(_post, first, deal, start, start + timedelta(hours=2)),
                partial(
                    _post, second, other, start + timedelta(minutes=30), start + timedelta(hours=1)
                ),
            ]
        )

        won = _one_stored(responses)
        stored = db.session.scalars(
            sa.select(TimeEntry.id).where(TimeEntry.worker_id == deal.provider.id)
        ).all()
        assert len(stored) == n + 1
        assert won in {str(entry_id) for entry_id in stored}


def test_entries_saved_at_once_over_the_limit_bill_exactly_the_limit(bearer, time_machine):
    time_machine.move_to(at(WEEK1, 0, 7), tick=False)
    deal = make_hourly_deal(rate=RATE, weekly_limit=LIMIT)
    time_machine.move_to(at(WEEK1, 4, 18), tick=False)
    # 16 stretches of two hours, Monday to Thursday: 32 h against the limit of 20 h.
    spans = [
        (at(WEEK1, n // 4, 8 + 3 * (n % 4)), at(WEEK1, n // 4, 10 + 3 * (n % 4))) for n in range(16)
    ]
    apis = [bearer(deal.provider) for _ in spans]

    responses = at_once(
        [
            partial(_post, api, deal, start, end)
            for api, (start, end) in zip(apis, spans, strict=True)
        ]
    )

    assert [r.status_code for r in responses] == [201] * len(spans)
    listed = bearer(deal.client).get(
        f"contracts/{deal.contract_id}/time-entries", query_string={"page_size": 50}
    )
    rows = sorted(listed.get_json()["items"], key=lambda row: row["start"])
    # Billed in the order the work was done, whichever request was saved first.
    assert [row["billable_minutes"] for row in rows] == [120] * 10 + [0] * 6
    assert [row["over_limit_minutes"] for row in rows] == [0] * 10 + [120] * 6

    time_machine.move_to(at(WEEK2, 0, 12), tick=False)
    assert invoices.bill()["issued"] == 1
    invoice = db.session.scalars(sa.select(Invoice)).one()
    assert (invoice.logged_minutes, invoice.minutes) == (32 * 60, LIMIT * 60)
    assert invoice.amount == invoices.hours_amount(RATE, LIMIT * 60) == 70_000
    assert count(TimeEntry, TimeEntry.invoice_id == invoice.id) == len(spans)


def _bill(app: Flask) -> dict[str, int]:
    """One billing run, as a job worker makes it: its own app context and session."""
    with app.app_context():
        return invoices.bill()


def _billat_once(app: Flask, time_machine: Any, moment: datetime) -> Counter[str]:
    """THREADS billing runs started together at `moment`; what they moved, summed."""
    time_machine.move_to(moment, tick=False)
    moved: Counter[str] = Counter()
    for result in at_once([partial(_bill, app)] * THREADS):
        moved.update(result)
    outbox.deliver_due()
    db.session.expire_all()
    return moved


def _transactions(deal: HourlyDeal, kind: TransactionKind) -> int:
    return count(
        LedgerTransaction,
        LedgerTransaction.contract_id == deal.contract_id,
        LedgerTransaction.kind == kind,
    )


def test_billing_runs_at_once_issue_charge_and_release_each_week_once(app, bearer, time_machine):
    time_machine.move_to(at(WEEK1, 0, 7), tick=False)
    deals = [make_hourly_deal(rate=RATE, weekly_limit=LIMIT) for _ in range(3)]
    time_machine.move_to(at(WEEK1, 4, 18), tick=False)
    for deal in deals:
        api = bearer(deal.provider)
        for day in range(3):
            assert _post(api, deal, at(WEEK1, day, 9), at(WEEK1, day, 13)).status_code == 201
    tuesday = db.session.scalars(
        sa.select(TimeEntry.id).where(
            TimeEntry.contract_id == deals[0].contract_id,
            TimeEntry.started_at == at(WEEK1, 1, 9),
        )
    ).one()

    # The week closes: one invoice a contract, one milestone of hours each.
    assert _billat_once(app, time_machine, at(WEEK2, 0, 12))["issued"] == len(deals)
    for deal in deals:
        assert count(Invoice, Invoice.contract_id == deal.contract_id) == 1
        assert count(Milestone, Milestone.contract_id == deal.contract_id) == 1
    # The first client disputes Tuesday: its invoice is charged in two parts.
    time_machine.move_to(at(WEEK2, 2, 10), tick=False)
    invoice_id = db.session.scalar(
        sa.select(Invoice.id).where(Invoice.contract_id == deals[0].contract_id)
    )
    disputed = money_post(
        bearer(deals[0].client),
        f"invoices/{invoice_id}/dispute",
        json={"reason": "Tuesday was our own team's.", "entry_ids": [str(tuesday)]},
    )
    assert disputed.status_code == 200, disputed.get_json()

    # The review window ends: each part charged once, each charge funded once.
    assert _billat_once(app, time_machine, at(WEEK2, 5, 0))["charged"] == len(deals)
    hours = db.session.scalars(
        sa.select(Milestone).where(Milestone.kind == MilestoneKind.HOURS)
    ).all()
    assert len(hours) == len(deals) + 1
    for milestone in hours:
        assert count(Payment, Payment.milestone_id == milestone.id) == 1
        assert milestone.funded_at is not None
    for deal, parts in zip(deals, (2, 1, 1), strict=True):
        assert _transactions(deal, TransactionKind.FUNDING) == parts
        invoice = db.session.scalars(
            sa.select(Invoice).where(Invoice.contract_id == deal.contract_id)
        ).one()
        assert (invoice.status.value, invoice.charge_attempts) == ("paid", 1)

    # The security period ends: the undisputed money released once; Tuesday's is held.
    assert _billat_once(app, time_machine, at(WEEK3, 3, 0))["released"] == len(deals)
    for deal in deals:
        assert _transactions(deal, TransactionKind.RELEASE) == 1
        assert _transactions(deal, TransactionKind.PAYOUT) == 1
    assert count(Dispute) == 1
