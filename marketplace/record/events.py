"""SLA events: the moments a contract's clocks pass their targets, recorded once and told.

Every active contract's clocks (`clocks.contract_clocks`) are evaluated against the targets
of its current terms (`content["sla"]`, in hours): a clock that passes 75 % of its target
in service minutes is `at_risk` from that instant, one that passes the target `breached`,
and a breached clock that stops has `recovered` at its stop. A clock that stopped before
the evaluation saw it still gets the events it went through, at their instants; one stopped
within 75 % of its target gets none.

Each event is inserted against the unique (contract, metric, key, kind) with ON CONFLICT DO
NOTHING, and only the run whose insert took notifies both parties, in the same transaction:
however often the job runs, and on however many workers at once, each event is recorded
and told exactly once. (History the job first sees long after it happened, older than
`SLA_EVENTS_NOTIFY_WITHIN_HOURS`, as on its first run over old contracts, is recorded
without telling anyone: a flood of stale alerts helps nobody.)
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from marketplace.accounts.models import User
from marketplace.contracts import services as contracts
from marketplace.contracts.models import Contract, ContractStatus, Milestone
from marketplace.contracts.states import RUNNING
from marketplace.database import new_id, utcnow
from marketplace.extensions import db
from marketplace.record import clocks, samples
from marketplace.record.clock import ServiceHours, contract_service_hours
from marketplace.record.clocks import Clock
from marketplace.record.models import Change, SlaEvent, SlaEventKind

log = logging.getLogger(__name__)

#: The share of its target at which a running clock is at risk.
AT_RISK_SHARE = 0.75

#: Metric -> the terms' target (hours) that applies, in order of preference: next
#: responses fall back to the first-response target while terms carry none of their own.
TARGETS: dict[str, tuple[str, ...]] = {
    clocks.FIRST_RESPONSE: ("first_response_hours",),
    clocks.NEXT_RESPONSE: ("next_response_hours", "first_response_hours"),
    clocks.TURNAROUND: ("turnaround_hours",),
    clocks.LEARNING_SPEED: ("learning_speed_hours",),
}
METRICS = tuple(TARGETS)

#: How an event's e-mail names the metric, and what stops its clock.
LABELS = {
    clocks.FIRST_RESPONSE: ("First response", "a reply from the provider side"),
    clocks.NEXT_RESPONSE: ("Next response", "a reply from the provider side"),
    clocks.TURNAROUND: ("Turnaround", "the milestone's submission"),
    clocks.LEARNING_SPEED: ("Learning speed", "confirmation that the change is adopted"),
}


@dataclass(frozen=True)
class Due:
    """An event a clock has gone through: what it is about, its kind, instant and details."""

    metric: str
    key: str
    kind: SlaEventKind
    at: datetime
    details: dict[str, Any]


def target_minutes(content: dict[str, Any]) -> dict[str, int]:
    """The SLA targets of a terms version in minutes, by metric (metrics without one left
    out, so their clocks raise no event)."""
    sla = content.get("sla") or {}
    found: dict[str, int] = {}
    for metric, names in TARGETS.items():
        for name in names:
            value = sla.get(name)
            if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                found[metric] = round(value * 60)
                break
    return found


def _about(clock: Clock) -> dict[str, Any]:
    """What a clock is about, as an event's details name it."""
    if clock.metric == clocks.TURNAROUND:
        milestone_id, _, round_ = clock.key.partition(":")
        return {"milestone_id": milestone_id, "round": int(round_ or 1)}
    if clock.metric == clocks.LEARNING_SPEED:
        return {"change_id": clock.key}
    return {"message_id": clock.key}


def clock_events(clock: Clock, hours: ServiceHours, target: int, *, now: datetime) -> list[Due]:
    """The events `clock` has gone through by `now` against `target` service minutes."""
    base = {"target_minutes": target, "started_at": clock.started_at.isoformat(), **_about(clock)}
    # Service minutes never outrun the wall clock: a clock that ran (or runs) less than 75 %
    # of its target in wall-clock time has nothing to tell, without placing a shift.
    if (clock.stopped_at or now) - clock.started_at < timedelta(minutes=AT_RISK_SHARE * target):
        return []
    at_risk = hours.deadline(clock.started_at, AT_RISK_SHARE * target)
    breach = hours.deadline(clock.started_at, target)

    def passed(at: datetime | None) -> bool:
        # A stopped clock went beyond the instant before it stopped; a running one reached it.
        return at is not None and (at < clock.stopped_at if clock.stopped_at else at <= now)

    found: list[Due] = []
    if passed(at_risk):
        assert at_risk is not None and breach is not None
        details = {**base, "minutes": AT_RISK_SHARE * target, "breaches_at": breach.isoformat()}
        found.append(Due(clock.metric, clock.key, SlaEventKind.AT_RISK, at_risk, details))
        if passed(breach):
            details = {**base, "minutes": target}
            found.append(Due(clock.metric, clock.key, SlaEventKind.BREACHED, breach, details))
            if clock.stopped_at is not None:
                minutes = hours.minutes_between(clock.started_at, clock.stopped_at)
                details = {**base, "minutes": minutes, "stopped_at": clock.stopped_at.isoformat()}
                found.append(
                    Due(clock.metric, clock.key, SlaEventKind.RECOVERED, clock.stopped_at, details)
                )
    return found


def due_events(contract: Contract, *, now: datetime) -> list[Due]:
    """Every event the contract's clocks have gone through by `now`, clock by clock in
    a stable order (so concurrent runs insert in the same order and never deadlock)."""
    targets = target_minutes(contract.current_terms.content)
    if not targets:
        return []
    finished = {
        (metric, key)
        for metric, key in db.session.execute(
            sa.select(SlaEvent.metric, SlaEvent.key).where(
                SlaEvent.contract_id == contract.id, SlaEvent.kind == SlaEventKind.RECOVERED
            )
        )
    }
    hours = contract_service_hours(contract)
    found: list[Due] = []
    for clock in clocks.contract_clocks(contract):
        target = targets.get(clock.metric)
        if target is None or (clock.metric, clock.key) in finished:
            continue
        found.extend(clock_events(clock, hours, target, now=now))
    return found


def _insert(contract_id: uuid.UUID, due: Due) -> bool:
    """Record one event unless it is recorded already (by this run, an earlier one, or a
    concurrent one, whose insert this waits for); True when this insert took."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(SlaEvent)
        .values(
            id=new_id(),
            contract_id=contract_id,
            metric=due.metric,
            key=due.key,
            kind=due.kind,
            at=due.at,
            details=due.details,
            created_at=utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["contract_id", "metric", "key", "kind"])
        .returning(SlaEvent.id)
    )
    return db.session.execute(stmt).scalar_one_or_none() is not None


def _subject(contract: Contract, due: Due) -> str:
    """What the clock is about, in words for the e-mail."""
    if due.metric == clocks.TURNAROUND:
        milestone = db.session.get(Milestone, uuid.UUID(due.details["milestone_id"]))
        return f"the milestone “{milestone.title}”" if milestone else "a milestone"
    if due.metric == clocks.LEARNING_SPEED:
        change = db.session.get(Change, uuid.UUID(due.details["change_id"]))
        return f"the change “{change.title}”" if change else "an announced change"
    return "a message from the client"


def duration(minutes: float) -> str:
    """Service minutes as people read them: `4 h`, `1 h 30 min`, `45 min`."""
    whole = round(minutes)
    hours, rest = divmod(whole, 60)
    parts = ([f"{hours} h"] if hours else []) + ([f"{rest} min"] if rest or not hours else [])
    return " ".join(parts)


def _tell(contract: Contract, due: Due) -> None:
    """Notify both parties of a new event, in-app and by e-mail (through the outbox)."""
    label, stop = LABELS[due.metric]
    breaches_at = due.details.get("breaches_at")
    context = {
        "metric": label,
        "stop": stop,
        "breaches_at": datetime.fromisoformat(breaches_at) if breaches_at else None,
        "about": _subject(contract, due),
        "target": duration(due.details["target_minutes"]),
        "started_at": datetime.fromisoformat(due.details["started_at"]),
        "at": due.at,
        "taken": duration(due.details["minutes"]),
    }
    for side in (contract.client_profile, contract.provider_profile):
        contracts.tell(side, contract, f"sla.{due.kind.value}", **context)


def evaluate_contract(contract_id: uuid.UUID, *, now: datetime | None = None) -> int:
    """Record (and tell) the events an active contract's clocks have gone through by `now`;
    returns how many this run recorded. Commits with the caller."""
    contract = db.session.get(Contract, contract_id)
    if contract is None or contract.status != ContractStatus.ACTIVE:
        return 0
    now = now or utcnow()
    stale = now - timedelta(hours=current_app.config["SLA_EVENTS_NOTIFY_WITHIN_HOURS"])
    recorded = 0
    for due in due_events(contract, now=now):
        if _insert(contract.id, due):
            if due.at >= stale:
                _tell(contract, due)
            recorded += 1
    # The KPIs' stored response samples, brought up to date while the thread is warm.
    samples.response_samples(contract, contract_service_hours(contract))
    return recorded


def evaluate_all(*, now: datetime | None = None) -> int:
    """Evaluate every active contract, each in its own transaction; returns how many events
    were recorded. A contract that fails is logged and left for the next run."""
    recorded = 0
    ids = db.session.scalars(
        sa.select(Contract.id).where(Contract.status == ContractStatus.ACTIVE).order_by(Contract.id)
    ).all()
    for contract_id in ids:
        try:
            recorded += evaluate_contract(contract_id, now=now)
            db.session.commit()
        except Exception:
            db.session.rollback()
            log.exception("Could not evaluate the SLAs of contract %s", contract_id)
    return recorded


def events_query(
    *,
    user: User,
    contract_id: uuid.UUID,
    metric: str | None = None,
    kind: SlaEventKind | None = None,
) -> sa.Select[SlaEvent]:
    """A contract's SLA events for its parties and admins, newest first."""
    contract = contracts.get_contract(user=user, contract_id=contract_id)
    stmt = (
        sa.select(SlaEvent)
        .where(SlaEvent.contract_id == contract.id)
        .order_by(SlaEvent.at.desc(), SlaEvent.id.desc())
    )
    if metric is not None:
        stmt = stmt.where(SlaEvent.metric == metric)
    if kind is not None:
        stmt = stmt.where(SlaEvent.kind == kind)
    return stmt


def _count(kind: SlaEventKind, since: datetime) -> int:
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(SlaEvent)
            .where(SlaEvent.kind == kind, SlaEvent.at >= since)
        )
        or 0
    )


def stats(*, now: datetime | None = None) -> dict[str, int]:
    """The admins' SLA figures: breaches and at-risk events of the last 7 and 30 days, and
    the running (active or paused) contracts with a breach not yet recovered."""
    now = now or utcnow()
    week, month = now - timedelta(days=7), now - timedelta(days=30)
    recovered = sa.orm.aliased(SlaEvent)
    unrecovered = (
        sa.select(sa.func.count(sa.distinct(SlaEvent.contract_id)))
        .join(Contract, Contract.id == SlaEvent.contract_id)
        .where(
            SlaEvent.kind == SlaEventKind.BREACHED,
            Contract.status.in_(RUNNING),
            ~sa.exists().where(
                recovered.contract_id == SlaEvent.contract_id,
                recovered.metric == SlaEvent.metric,
                recovered.key == SlaEvent.key,
                recovered.kind == SlaEventKind.RECOVERED,
            ),
        )
    )
    return {
        "breaches_last_7_days": _count(SlaEventKind.BREACHED, week),
        "breaches_last_30_days": _count(SlaEventKind.BREACHED, month),
        "at_risk_last_7_days": _count(SlaEventKind.AT_RISK, week),
        "recoveries_last_30_days": _count(SlaEventKind.RECOVERED, month),
        "contracts_with_unrecovered_breach": int(db.session.scalar(unrecovered) or 0),
    }
