"""The dashboard's figures (marketplace.reporting.platform), exact from known histories."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from marketplace import permissions
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.inputs import Money
from marketplace.jobs.models import OutboxEntry, OutboxStatus
from marketplace.moderation import services as moderation
from marketplace.payments import delivery, disputes, funding
from marketplace.record.models import SlaEvent, SlaEventKind
from marketplace.reporting import platform
from marketplace.reporting.platform import WeekMoney, WeekRate, WeekWait
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import Budget
from marketplace.tasks.models import BudgetType, Confidentiality, TaskStatus
from tests.factories import ClientFactory, ProviderFactory, task_draft
from tests.money import Deal, make_deal


def at(month: int, day: int, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def fund(deal: Deal, index: int = 0) -> None:
    funding.fund(user=deal.client, milestone_id=deal.milestone_ids[index])


def deliver(deal: Deal, index: int = 0) -> None:
    delivery.submit(
        user=deal.provider, milestone_id=deal.milestone_ids[index], note="Done.", deliverables=[]
    )


def test_the_weeks_run_from_monday_utc_oldest_first(time_machine):
    time_machine.move_to(at(3, 1, 23), tick=False)  # a Sunday
    assert platform.week_starts(weeks=3) == [date(2026, 2, 9), date(2026, 2, 16), date(2026, 2, 23)]
    assert platform.week_of(at(3, 2, 0)) == date(2026, 3, 2)


def test_money_by_week_gross_fees_and_escrow_held(time_machine):
    time_machine.move_to(at(12, 1).replace(year=2025), tick=False)
    old = make_deal((10_000,))
    fund(old)  # before the window: only the escrow it still holds shows
    time_machine.move_to(at(2, 3), tick=False)
    disputed = make_deal((30_000,))
    fund(disputed)
    time_machine.move_to(at(2, 17), tick=False)
    deal = make_deal((40_000, 60_000))
    fund(deal)
    time_machine.move_to(at(2, 24), tick=False)
    deliver(deal)
    delivery.approve(user=deal.client, milestone_id=deal.milestone_ids[0])  # 10 % fee
    time_machine.move_to(at(3, 3), tick=False)
    fund(deal, 1)
    time_machine.move_to(at(3, 4), tick=False)

    series = platform.money_by_week(weeks=8)

    assert list(series) == ["usd"]
    quiet = [WeekMoney(date(2026, 1, day), 0, 0, 10_000) for day in (12, 19, 26)]
    assert series["usd"] == [
        *quiet,
        WeekMoney(date(2026, 2, 2), 30_000, 0, 40_000),
        WeekMoney(date(2026, 2, 9), 0, 0, 40_000),
        WeekMoney(date(2026, 2, 16), 40_000, 0, 80_000),
        WeekMoney(date(2026, 2, 23), 0, 4_000, 40_000),
        WeekMoney(date(2026, 3, 2), 60_000, 0, 100_000),
    ]


def test_dispute_rate_counts_milestones_by_funding_week(time_machine):
    time_machine.move_to(at(2, 3), tick=False)
    disputed, calm = make_deal((30_000,)), make_deal((20_000, 5_000))
    fund(disputed)
    fund(calm)
    time_machine.move_to(at(2, 10), tick=False)
    deliver(disputed)
    disputes.open_dispute(
        user=disputed.client, milestone_id=disputed.milestone_ids[0], reason="Not delivered."
    )
    fund(calm, 1)
    time_machine.move_to(at(2, 12), tick=False)

    rates = platform.dispute_rate_by_week(weeks=3)

    assert rates == [
        WeekRate(date(2026, 1, 26), 0, 0),
        WeekRate(date(2026, 2, 2), 2, 1),
        WeekRate(date(2026, 2, 9), 1, 0),
    ]
    assert [r.rate for r in rates] == [None, 0.5, 0.0]


def _open_task(client: Any, when: datetime, time_machine: Any) -> Any:
    time_machine.move_to(when, tick=False)
    task = tasks.create_task(
        user=client,
        draft=task_draft(
            budget=Budget(BudgetType.FIXED, 1, 50_000, "usd"),
            confidentiality=Confidentiality.PUBLIC,
            positions=1,
            timezone_need=None,
        ),
    )
    permissions.acting_client_profile(client).created_at = utcnow() - timedelta(days=60)
    lifecycle.publish_task(user=client, task_id=task.id, confirm_strategic=False)
    return task


def _bid(task: Any, when: datetime, time_machine: Any) -> None:
    time_machine.move_to(when, tick=False)
    bids.place_bid(
        user=ProviderFactory(),
        task_id=task.id,
        proposal=BidProposal(
            price=Money(20_000, "usd"),
            milestones=(MilestoneProposal(title="All of it", amount=20_000),),
            timeline_days=10,
            cover_letter="We do this every day.",
        ),
    )


def test_time_to_first_bid_and_fill_rate_by_opening_week(time_machine):
    client = ClientFactory()
    time_machine.move_to(at(2, 16, 10), tick=False)
    make_deal((20_000,), client=client)  # opened, bid on at once and filled
    slow = _open_task(client, at(2, 17, 9), time_machine)
    _bid(slow, at(2, 17, 15), time_machine)
    _bid(slow, at(2, 17, 16), time_machine)  # only the first bid counts
    _open_task(client, at(2, 18, 9), time_machine)  # no bids yet
    late = _open_task(client, at(3, 2, 9), time_machine)
    _bid(late, at(3, 4, 9), time_machine)
    time_machine.move_to(at(3, 6), tick=False)

    assert platform.first_bid_by_week(weeks=3) == [
        WeekWait(date(2026, 2, 16), tasks=3, with_bids=2, median_hours=3.0),
        WeekWait(date(2026, 2, 23), tasks=0, with_bids=0, median_hours=None),
        WeekWait(date(2026, 3, 2), tasks=1, with_bids=1, median_hours=48.0),
    ]
    assert platform.fill_rate_by_week(weeks=3) == [
        WeekRate(date(2026, 2, 16), 3, 1),
        WeekRate(date(2026, 2, 23), 0, 0),
        WeekRate(date(2026, 3, 2), 1, 0),
    ]


def test_attention_counts_each_queue(time_machine, app):
    time_machine.move_to(at(1, 1), tick=False)
    aged = make_deal((10_000,))
    fund(aged)  # 62 days in escrow by March 4th: past the 60-day warning
    time_machine.move_to(at(2, 20), tick=False)
    young = make_deal((10_000, 20_000))
    fund(young)
    deliver(young)
    disputes.open_dispute(user=young.client, milestone_id=young.milestone_ids[0], reason="Late.")
    time_machine.move_to(at(3, 4), tick=False)
    newcomer = ClientFactory()
    permissions.acting_client_profile(newcomer).created_at = utcnow()  # new: reviewed first
    draft = task_draft(confidentiality=Confidentiality.PUBLIC, timezone_need=None)
    in_review = tasks.create_task(user=newcomer, draft=draft)
    lifecycle.publish_task(user=newcomer, task_id=in_review.id, confirm_strategic=False)
    assert in_review.status == TaskStatus.PENDING_REVIEW
    moderation.report(
        reporter=young.provider, target_type="user", target_id=young.client.id, reason="Rude."
    )
    db.session.add_all(
        [
            OutboxEntry(kind="email", payload={}, status=OutboxStatus.FAILED, attempts=5),
            OutboxEntry(kind="email", payload={}, status=OutboxStatus.PENDING),
            SlaEvent(
                contract_id=young.contract_id,
                metric="first_response",
                key="m1",
                kind=SlaEventKind.BREACHED,
                at=utcnow(),
            ),
        ]
    )
    db.session.commit()

    assert platform.attention() == platform.Attention(
        tasks_in_review=1,
        open_reports=1,
        open_disputes=1,
        aged_escrow=1,
        failed_outbox=1,
        sla_breaches=1,
    )
    assert platform.pilot_conversion() == {"completed_pilots": 0, "converted": 0}
