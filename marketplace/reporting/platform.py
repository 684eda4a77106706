"""The platform's figures for the admins' dashboard: what needs attention now, and the
weekly series behind its charts (money, disputes, bids, fill rate, pilots).

Weeks start on Monday, 00:00 UTC; a series covers the last `weeks` weeks, this one (so far)
included, oldest first. Money stays in minor units, per currency.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from marketplace.bids.models import Bid
from marketplace.contracts import pilots
from marketplace.contracts.models import Milestone
from marketplace.contracts.states import IN_ESCROW
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import OutboxEntry, OutboxStatus
from marketplace.ledger.models import (
    AccountKind,
    LedgerAccount,
    LedgerEntry,
    LedgerTransaction,
    TransactionKind,
)
from marketplace.moderation.models import Report, ReportStatus
from marketplace.payments.models import Dispute, DisputeStatus
from marketplace.record import events as sla_events
from marketplace.tasks.models import Task, TaskStatus

WEEKS = 8
#: Tasks that found their provider (a filled task closes once its contracts end).
FILLED = (TaskStatus.FILLED, TaskStatus.CLOSED)


@dataclass(frozen=True)
class Attention:
    """What needs an admin now: each count is a queue to work through."""

    tasks_in_review: int
    open_reports: int
    open_disputes: int
    aged_escrow: int  # milestones still in escrow, funded ESCROW_WARN_DAYS ago or more
    failed_outbox: int
    sla_breaches: int  # running contracts with an SLA breach not yet recovered


@dataclass(frozen=True)
class WeekMoney:
    """One week of one currency: paid into escrow, earned in fees, held at the week's end."""

    week: date
    gross: int
    fees: int
    escrow: int


@dataclass(frozen=True)
class WeekRate:
    """One week: how many of `total` were `hits` (disputed, filled)."""

    week: date
    total: int
    hits: int

    @property
    def rate(self) -> float | None:
        """hits / total, or None for a week with nothing to count."""
        return self.hits / self.total if self.total else None


@dataclass(frozen=True)
class WeekWait:
    """Tasks opened in one week, and the median hours until their first bid (among those
    that have one)."""

    week: date
    tasks: int
    with_bids: int
    median_hours: float | None


def _count(stmt: sa.Select[Any]) -> int:
    return int(db.session.scalar(stmt) or 0)


def attention(*, now: datetime | None = None) -> Attention:
    """The dashboard's counts of what needs attention now."""
    now = now or utcnow()
    aged_before = now - timedelta(days=current_app.config["ESCROW_WARN_DAYS"])
    count = sa.select(sa.func.count())
    return Attention(
        tasks_in_review=_count(
            count.select_from(Task).where(Task.status == TaskStatus.PENDING_REVIEW)
        ),
        open_reports=_count(count.select_from(Report).where(Report.status == ReportStatus.OPEN)),
        open_disputes=_count(
            count.select_from(Dispute).where(Dispute.status == DisputeStatus.OPEN)
        ),
        aged_escrow=_count(
            count.select_from(Milestone).where(
                Milestone.status.in_(IN_ESCROW), Milestone.funded_at <= aged_before
            )
        ),
        failed_outbox=_count(
            count.select_from(OutboxEntry).where(OutboxEntry.status == OutboxStatus.FAILED)
        ),
        sla_breaches=sla_events.stats(now=now)["contracts_with_unrecovered_breach"],
    )


def week_of(moment: datetime) -> date:
    """The Monday (UTC) of the week a moment falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def week_starts(*, weeks: int = WEEKS, now: datetime | None = None) -> list[date]:
    """The Mondays of the last `weeks` weeks, this one included, oldest first."""
    last = week_of(now or utcnow())
    return [last - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]


def _start(weeks: list[date]) -> datetime:
    return datetime.combine(weeks[0], time.min, tzinfo=UTC)


def money_by_week(*, weeks: int = WEEKS, now: datetime | None = None) -> dict[str, list[WeekMoney]]:
    """Per currency and week: gross volume (payments into escrow), fees (platform revenue)
    and the escrow held at the end of the week (now, for this one)."""
    mondays = week_starts(weeks=weeks, now=now)
    start = _start(mondays)
    opening = dict(
        db.session.execute(
            sa.select(LedgerEntry.currency, sa.func.sum(LedgerEntry.amount))
            .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
            .join(LedgerTransaction, LedgerTransaction.id == LedgerEntry.transaction_id)
            .where(LedgerAccount.kind == AccountKind.ESCROW, LedgerTransaction.created_at < start)
            .group_by(LedgerEntry.currency)
        ).all()
    )
    rows = db.session.execute(
        sa.select(
            LedgerTransaction.created_at,
            LedgerTransaction.kind,
            LedgerAccount.kind,
            LedgerEntry.currency,
            LedgerEntry.amount,
        )
        .join(LedgerEntry, LedgerEntry.transaction_id == LedgerTransaction.id)
        .join(LedgerAccount, LedgerAccount.id == LedgerEntry.account_id)
        .where(
            LedgerAccount.kind.in_((AccountKind.ESCROW, AccountKind.REVENUE)),
            LedgerTransaction.created_at >= start,
        )
    ).all()
    sums: dict[str, dict[date, dict[str, int]]] = defaultdict(
        lambda: {monday: {"gross": 0, "fees": 0, "escrow": 0} for monday in mondays}
    )
    for at, transaction_kind, account_kind, currency, amount in rows:
        week = sums[currency][week_of(at)]
        if account_kind == AccountKind.REVENUE:
            week["fees"] += amount
            continue
        week["escrow"] += amount
        if transaction_kind == TransactionKind.FUNDING:
            week["gross"] += amount
    series: dict[str, list[WeekMoney]] = {}
    for currency in sorted(set(sums) | set(opening)):  # held but not moved lately: shown too
        held = int(opening.get(currency) or 0)
        weeks_of = []
        for monday in mondays:
            week = sums[currency][monday]
            held += week["escrow"]
            weeks_of.append(WeekMoney(monday, week["gross"], week["fees"], held))
        if any(w.gross or w.fees or w.escrow for w in weeks_of):
            series[currency] = weeks_of
    return series


def dispute_rate_by_week(*, weeks: int = WEEKS, now: datetime | None = None) -> list[WeekRate]:
    """Milestones funded each week, and how many of them a party has disputed since (the
    escrow age guard's own reviews are not disputes)."""
    mondays = week_starts(weeks=weeks, now=now)
    disputed = (
        sa.exists()
        .where(Dispute.milestone_id == Milestone.id, Dispute.side != "system")
        .correlate(Milestone)
    )
    rows = db.session.execute(
        sa.select(Milestone.funded_at, disputed).where(Milestone.funded_at >= _start(mondays))
    ).all()
    return _rates(mondays, rows)


def fill_rate_by_week(*, weeks: int = WEEKS, now: datetime | None = None) -> list[WeekRate]:
    """Tasks opened to bids each week, and how many of them found their provider."""
    mondays = week_starts(weeks=weeks, now=now)
    rows = db.session.execute(
        sa.select(Task.opened_at, Task.status.in_(FILLED)).where(Task.opened_at >= _start(mondays))
    ).all()
    return _rates(mondays, rows)


def _rates(mondays: list[date], rows: Sequence[Any]) -> list[WeekRate]:
    totals = {monday: [0, 0] for monday in mondays}
    for at, hit in rows:
        if at is None or week_of(at) not in totals:
            continue
        totals[week_of(at)][0] += 1
        totals[week_of(at)][1] += bool(hit)
    return [WeekRate(monday, *totals[monday]) for monday in mondays]


def first_bid_by_week(*, weeks: int = WEEKS, now: datetime | None = None) -> list[WeekWait]:
    """Tasks opened each week and the median hours from opening to the first bid."""
    mondays = week_starts(weeks=weeks, now=now)
    first_bid = (
        sa.select(Bid.task_id, sa.func.min(Bid.created_at).label("at"))
        .group_by(Bid.task_id)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(Task.opened_at, first_bid.c.at)
        .join(first_bid, first_bid.c.task_id == Task.id, isouter=True)
        .where(Task.opened_at >= _start(mondays))
    ).all()
    tasks: dict[date, int] = dict.fromkeys(mondays, 0)
    waits: dict[date, list[float]] = {monday: [] for monday in mondays}
    for opened_at, bid_at in rows:
        week = week_of(opened_at)
        if week not in tasks:
            continue
        tasks[week] += 1
        if bid_at is not None:
            bid_at = bid_at if bid_at.tzinfo else bid_at.replace(tzinfo=UTC)
            waits[week].append(max((bid_at - opened_at).total_seconds(), 0) / 3600)
    return [
        WeekWait(
            monday,
            tasks[monday],
            len(waits[monday]),
            statistics.median(waits[monday]) if waits[monday] else None,
        )
        for monday in mondays
    ]


def pilot_conversion() -> dict[str, int]:
    """Completed pilots, and how many became a full contract (as /admin/stats/pilots)."""
    return pilots.pilot_conversion()
