"""The stopped response clocks of a contract, kept with their service minutes.

A long thread's response clocks are what the KPIs cost: every message must be read and every
wait's service minutes counted. So the stopped ones are stored (`SlaSample`) with a mark
(`SlaSampleMark`) of how far they go: the number of messages seen, the last of them and the
wait they left running. A read brings them up to date from the mark: nothing to count when no
message came (a count of the thread's messages says so), only the new messages otherwise.

They are counted again from the first message when what they were counted on changes (the
`basis`: the contract's service hours, after an amendment for instance; the exchange idle
time; the people who write for the provider side), or when the thread does not simply grow
(a message dated before the mark, or one gone). The answers are those of
`clocks.contract_response_clocks`; the running wait is returned, never stored as a sample.

Writes go in a savepoint: a concurrent read that stored the same samples first makes this
one count without storing. The caller commits (the KPI route does, after answering).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from marketplace.contracts.models import Contract
from marketplace.extensions import db
from marketplace.messaging.models import Message, Thread
from marketplace.record import clocks
from marketplace.record.clock import ServiceHours, as_utc
from marketplace.record.clocks import Clock
from marketplace.record.models import SlaSample, SlaSampleMark

RESPONSES = (clocks.FIRST_RESPONSE, clocks.NEXT_RESPONSE)


@dataclass(frozen=True)
class ResponseSamples:
    """The stopped response clocks `(metric, day, minutes, how many)` (the day they stopped
    in the client's zone; clocks alike are counted together) and the running wait."""

    stopped: list[tuple[str, date, int, int]]
    running: Clock | None


def basis(
    hours: ServiceHours, idle_hours: float, provider_side: set[uuid.UUID], client_zone: str
) -> str:
    """What the samples were counted on, as a hash."""
    senders = sorted(str(sender) for sender in provider_side)
    what = [hours.zone, hours.hours_json, idle_hours, senders, client_zone]
    return hashlib.sha256(json.dumps(what).encode()).hexdigest()


def response_samples(contract: Contract, hours: ServiceHours) -> ResponseSamples:
    """The contract's response samples, brought up to date (five statements when no message
    came since the last read; more, and writes, when some did)."""
    thread_id = db.session.scalar(sa.select(Thread.id).where(Thread.contract_id == contract.id))
    if thread_id is None:
        return ResponseSamples([], None)
    provider_side = clocks.provider_senders(contract.provider_profile_id)
    idle_hours = current_app.config["SLA_EXCHANGE_IDLE_HOURS"]
    zone = contract.client_profile.timezone or "UTC"
    current = basis(hours, idle_hours, provider_side, zone)
    in_thread = Message.thread_id == thread_id
    mark_row = db.session.execute(
        sa.select(
            SlaSampleMark,
            sa.select(sa.func.count()).where(in_thread).scalar_subquery(),
            sa.select(sa.func.count()).where(in_thread, _after(SlaSampleMark)).scalar_subquery(),
        )
        .where(SlaSampleMark.contract_id == contract.id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    mark, total, new = mark_row if mark_row is not None else (None, 0, 0)
    fresh = (
        mark is not None
        and mark.digest is not None
        and mark.basis == current
        and total == mark.messages + new
    )
    if fresh and not new:
        assert mark is not None
        return ResponseSamples(_unpack(mark.digest), _waiting(mark))
    try:
        with db.session.begin_nested():
            mark = _count(
                contract,
                thread_id,
                hours,
                provider_side=provider_side,
                idle=timedelta(hours=idle_hours),
                zone=ZoneInfo(zone),
                mark=mark,
                rebuild=not fresh,
                basis=current,
            )
    except sa.exc.IntegrityError:
        # Another read stored these samples meanwhile: count them here without storing.
        found = clocks.contract_response_clocks(contract, keys=False)
        stopped = [clock for clock in found if not clock.running]
        minutes = hours.minutes_of([(clock.started_at, clock.stopped_at or clock.started_at)
                                    for clock in stopped])  # fmt: skip
        return ResponseSamples(
            [
                (
                    clock.metric,
                    as_utc(clock.stopped_at or clock.started_at).astimezone(ZoneInfo(zone)).date(),
                    counted,
                    1,
                )
                for clock, counted in zip(stopped, minutes, strict=True)
            ],
            next((clock for clock in found if clock.running), None),
        )
    return ResponseSamples(_unpack(mark.digest), _waiting(mark))


def _after(mark: SlaSampleMark | type[SlaSampleMark]) -> sa.ColumnElement[bool]:
    """The messages that sort after the mark's last one (a mark read, or the marks' columns
    in a statement)."""
    return sa.or_(
        Message.created_at > mark.last_message_at,
        sa.and_(Message.created_at == mark.last_message_at, Message.id > mark.last_message_id),
    )


def _waiting(mark: SlaSampleMark) -> Clock | None:
    if mark.waiting_metric is None or mark.waiting_since is None:
        return None
    return Clock(mark.waiting_metric, mark.waiting_key or "", as_utc(mark.waiting_since))


def _unpack(
    digest: dict[str, dict[str, dict[str, int]]] | None,
) -> list[tuple[str, date, int, int]]:
    """The stored samples, grouped: `(metric, day, minutes, how many)`."""
    return [
        (metric, date.fromisoformat(day), int(minutes), count)
        for metric, days in (digest or {}).items()
        for day, counts in days.items()
        for minutes, count in counts.items()
    ]


def _digested(
    digest: dict[str, dict[str, dict[str, int]]] | None,
    samples: list[tuple[str, date, int]],
) -> dict[str, dict[str, dict[str, int]]]:
    """A new digest: `digest` with the samples `(metric, day, minutes)` added."""
    merged = {metric: {day: dict(counts) for day, counts in days.items()}
              for metric, days in (digest or {}).items()}  # fmt: skip
    for metric, day, minutes in samples:
        counts = merged.setdefault(metric, {}).setdefault(day.isoformat(), {})
        counts[str(minutes)] = counts.get(str(minutes), 0) + 1
    return merged


def _count(
    contract: Contract,
    thread_id: uuid.UUID,
    hours: ServiceHours,
    *,
    provider_side: set[uuid.UUID],
    idle: timedelta,
    zone: ZoneInfo,
    mark: SlaSampleMark | None,
    rebuild: bool,
    basis: str,
) -> SlaSampleMark:
    """Count and store the clocks the messages after `mark` stop (all of them to `rebuild`,
    after deleting what was stored); the mark, moved to the last message."""
    if rebuild or mark is None:
        db.session.execute(sa.delete(SlaSample).where(SlaSample.contract_id == contract.id))
        if mark is None:
            mark = SlaSampleMark(contract_id=contract.id, basis=basis)
            db.session.add(mark)
        mark.basis, mark.messages = basis, 0
        mark.last_message_at = mark.last_message_id = None
        mark.waiting_metric = mark.waiting_key = mark.waiting_since = None
        mark.digest = {}
    from_provider = Message.sender_id.in_(provider_side) if provider_side else sa.false()
    rows = db.session.execute(
        sa.select(Message.id, Message.created_at, from_provider)
        .where(
            Message.thread_id == thread_id,
            sa.true() if mark.last_message_at is None else _after(mark),
        )
        .order_by(Message.created_at, Message.id)
    ).all()
    if rows:
        found = clocks.waits(
            ((str(message_id), at, side) for message_id, at, side in rows),
            idle=idle,
            waiting=_waiting(mark),
            last_at=as_utc(mark.last_message_at) if mark.last_message_at else None,
        )
        stopped = [clock for clock in found if not clock.running]
        running = next((clock for clock in found if clock.running), None)
        minutes = hours.minutes_of(
            [(clock.started_at, clock.stopped_at or clock.started_at) for clock in stopped]
        )
        if stopped:
            found_samples = [
                (clock, as_utc(clock.stopped_at or clock.started_at).astimezone(zone).date(), n)
                for clock, n in zip(stopped, minutes, strict=True)
            ]
            # The rows' primary key refuses samples a concurrent read stored first.
            db.session.execute(
                sa.insert(SlaSample),
                [
                    {
                        "contract_id": contract.id,
                        "metric": clock.metric,
                        "key": clock.key,
                        "started_at": clock.started_at,
                        "stopped_at": clock.stopped_at,
                        "day": day,
                        "minutes": counted,
                    }
                    for clock, day, counted in found_samples
                ],
            )
            mark.digest = _digested(
                mark.digest, [(clock.metric, day, counted) for clock, day, counted in found_samples]
            )
        last_id, last_at, _ = rows[-1]
        mark.messages += len(rows)
        mark.last_message_at, mark.last_message_id = as_utc(last_at), last_id
        mark.waiting_metric = running.metric if running else None
        mark.waiting_key = running.key if running else None
        mark.waiting_since = running.started_at if running else None
    mark.basis = basis
    db.session.flush()
    return mark
