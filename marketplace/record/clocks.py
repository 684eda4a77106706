"""The SLA clocks of a contract, read from what happened on it.

A clock starts when the provider side owes something and stops when it is done; it counts
service minutes (`clock.ServiceHours`). Four kinds:

- **first_response**: a client message that opens a new exchange (the first message of the
  thread, or one after the thread was quiet for `SLA_EXCHANGE_IDLE_HOURS` wall-clock
  hours), until the provider side's next message in the contract thread;
- **next_response**: any other client message that starts a wait (nothing from the client
  was already waiting), until the provider side's next message; client messages sent while
  one waits join that wait;
- **turnaround**: a milestone's funding, or a changes request on it, until its submission
  (a milestone refunded, cancelled or disputed before it is submitted stops its clock
  without a sample);
- **learning_speed**: an announced change, until the provider side confirms it adopted.

Clocks are recomputed from the rows (messages, milestone transitions, changes); `key`
names what a clock is about, so an SLA event about it is recorded once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from marketplace.contracts.models import (
    Contract,
    Milestone,
    MilestoneStatus,
    MilestoneTransition,
)
from marketplace.extensions import db
from marketplace.messaging.models import Message, Thread
from marketplace.organizations.models import Membership
from marketplace.profiles.models import ProviderProfile
from marketplace.record.clock import ServiceHours, as_utc
from marketplace.record.models import Change

FIRST_RESPONSE = "first_response"
NEXT_RESPONSE = "next_response"
TURNAROUND = "turnaround"
LEARNING_SPEED = "learning_speed"

#: What starts a milestone's turnaround clock, and what stops it without a sample.
_STARTS = {MilestoneStatus.FUNDED, MilestoneStatus.CHANGES_REQUESTED}
_ABANDONS = {
    MilestoneStatus.REFUNDED,
    MilestoneStatus.CANCELLED,
    MilestoneStatus.DISPUTED,
    MilestoneStatus.RELEASED,
}


@dataclass(frozen=True)
class Clock:
    """One clock: what it measures, when it started and, once done, when it stopped."""

    metric: str
    key: str
    started_at: datetime
    stopped_at: datetime | None = None

    @property
    def running(self) -> bool:
        return self.stopped_at is None

    def minutes(self, hours: ServiceHours, now: datetime) -> int:
        """Service minutes counted: to its stop, or to `now` while it runs."""
        return hours.minutes_between(self.started_at, self.stopped_at or now)


def provider_senders(provider_profile_id: uuid.UUID) -> set[uuid.UUID]:
    """The people who write for the provider side: a firm's members, or the individual
    provider (one small statement; the thread's messages are not read)."""
    profile = sa.select(ProviderProfile).where(ProviderProfile.id == provider_profile_id).subquery()
    members = sa.select(Membership.user_id).join(
        profile, Membership.organization_id == profile.c.organization_id
    )
    individual = sa.select(profile.c.user_id).where(profile.c.organization_id.is_(None))
    return set(db.session.scalars(members.union(individual)))


def response_clocks(
    messages: list[tuple[uuid.UUID, datetime, uuid.UUID]],
    provider_side: set[uuid.UUID],
    *,
    idle: timedelta,
) -> list[Clock]:
    """The response clocks of a thread's messages `(id, at, sender_id)`, oldest first."""
    return waits(
        (
            (str(message_id), at, sender_id in provider_side)
            for message_id, at, sender_id in messages
        ),
        idle=idle,
    )


def waits(
    messages: Iterable[tuple[str, datetime, bool]],
    *,
    idle: timedelta,
    waiting: Clock | None = None,
    last_at: datetime | None = None,
) -> list[Clock]:
    """The response clocks of messages `(key, at, from_provider_side)`, oldest first; to go
    on after earlier messages, `waiting` is the wait they left running and `last_at` the
    time of the last of them."""
    clocks: list[Clock] = []
    for key, at, from_provider in messages:
        at = as_utc(at)
        if from_provider:
            if waiting is not None:
                clocks.append(Clock(waiting.metric, waiting.key, waiting.started_at, stopped_at=at))
                waiting = None
        elif waiting is None:
            opens = last_at is None or at - last_at >= idle
            waiting = Clock(FIRST_RESPONSE if opens else NEXT_RESPONSE, key, at)
        last_at = at
    if waiting is not None:
        clocks.append(waiting)
    return clocks


def contract_response_clocks(contract: Contract, *, keys: bool = True) -> list[Clock]:
    """The response clocks of the contract's thread (three statements); without `keys` the
    clocks' keys are empty, and the message ids are not read (for the KPIs)."""
    thread_id = db.session.scalar(sa.select(Thread.id).where(Thread.contract_id == contract.id))
    if thread_id is None:
        return []
    provider_side = provider_senders(contract.provider_profile_id)
    from_provider = Message.sender_id.in_(provider_side) if provider_side else sa.false()
    rows = db.session.execute(
        sa.select(Message.id if keys else sa.null(), Message.created_at, from_provider)
        .where(Message.thread_id == thread_id)
        .order_by(Message.created_at, Message.id)
    ).all()
    idle = timedelta(hours=current_app.config["SLA_EXCHANGE_IDLE_HOURS"])
    if keys:
        return waits(((str(key), at, side) for key, at, side in rows), idle=idle)
    return waits((("", at, side) for _, at, side in rows), idle=idle)


def turnaround_clocks(
    steps: list[tuple[uuid.UUID, MilestoneStatus, datetime]],
) -> list[Clock]:
    """The turnaround clocks of milestone steps `(milestone_id, to_status, at)`, in order."""
    clocks: list[Clock] = []
    running: dict[uuid.UUID, Clock] = {}
    rounds: dict[uuid.UUID, int] = {}
    for milestone_id, status, at in steps:
        at = as_utc(at)
        if status in _STARTS and milestone_id not in running:
            rounds[milestone_id] = rounds.get(milestone_id, 0) + 1
            key = f"{milestone_id}:{rounds[milestone_id]}"
            running[milestone_id] = Clock(TURNAROUND, key, at)
        elif status == MilestoneStatus.SUBMITTED and milestone_id in running:
            clock = running.pop(milestone_id)
            clocks.append(Clock(clock.metric, clock.key, clock.started_at, stopped_at=at))
        elif status in _ABANDONS:
            running.pop(milestone_id, None)
    return clocks + list(running.values())


def milestone_steps(contract: Contract) -> list[tuple[uuid.UUID, MilestoneStatus, datetime]]:
    """The contract's milestone steps `(milestone_id, to_status, at)`, oldest first (one
    statement)."""
    step = sa.inspect(MilestoneTransition).columns
    rows = db.session.execute(
        sa.select(step.milestone_id, step.to_status, step.at)
        .join(Milestone, Milestone.id == step.milestone_id)
        .where(Milestone.contract_id == contract.id)
        .order_by(step.at, step.id)
    ).all()
    return [(row[0], row[1], as_utc(row[2])) for row in rows]


def contract_turnaround_clocks(contract: Contract) -> list[Clock]:
    """The turnaround clocks of the contract's milestones (one statement)."""
    return turnaround_clocks(milestone_steps(contract))


def contract_learning_clocks(contract: Contract) -> list[Clock]:
    """The learning-speed clocks of the contract's announced changes (one statement)."""
    rows = db.session.execute(
        sa.select(Change.id, Change.announced_at, Change.adopted_at)
        .where(Change.contract_id == contract.id)
        .order_by(Change.announced_at, Change.id)
    ).all()
    return [
        Clock(
            LEARNING_SPEED,
            str(change_id),
            as_utc(announced),
            as_utc(adopted) if adopted else None,
        )
        for change_id, announced, adopted in rows
    ]


def contract_clocks(contract: Contract) -> list[Clock]:
    """Every SLA clock of the contract, running or stopped."""
    return (
        contract_response_clocks(contract)
        + contract_turnaround_clocks(contract)
        + contract_learning_clocks(contract)
    )
