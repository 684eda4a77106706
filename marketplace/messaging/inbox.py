"""The user's conversations: their bid and contract threads with the last message and the
number of messages they have not read, one page in two statements.

Read-only, over the threads' subjects (bids, contracts, tasks) and the parties' names; the
rules of who reads and writes a thread stay in `services`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.bids.models import Bid
from marketplace.contracts.models import Contract
from marketplace.extensions import db
from marketplace.messaging.models import Message, ReadMarker, Thread
from marketplace.organizations.models import Organization
from marketplace.pagination import Page, page_size_for
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks.models import Task

#: How much of the last message a conversation list shows.
EXCERPT_LENGTH = 200


@dataclass(frozen=True)
class LastMessage:
    """The latest message of a thread, its body cut to EXCERPT_LENGTH characters."""

    body_excerpt: str
    truncated: bool
    sender_id: uuid.UUID
    sender_name: str
    created_at: datetime


@dataclass(frozen=True)
class ConversationSummary:
    """A thread as the user's list of conversations shows it."""

    thread_id: uuid.UUID
    kind: str
    bid_id: uuid.UUID | None
    contract_id: uuid.UUID | None
    task_id: uuid.UUID
    task_title: str
    counterparty_name: str
    last_message: LastMessage
    unread_count: int


def conversations(*, user: User, page: int, page_size: int | None) -> Page:
    """One page of the user's conversations: their bid and contract threads with at least
    one message (an organization's member: its threads), newest activity first, each with
    its kind and subject, the task, the other side's name, the last message and how many
    messages of others came after the user's read marker. Two statements whatever the page
    size (the count, the page); admins are no party: an empty list."""
    size = page_size_for(page_size)
    threads = _threads_of(user)
    if threads is None:
        return Page(items=[], page=page, page_size=size, total=0)
    # Per thread, an index probe on (thread_id, created_at) finds its newest message...
    newest_id = (
        sa.select(Message.id)
        .where(Message.thread_id == threads.c.thread_id)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
        .correlate(threads)
        .scalar_subquery()
    )
    # ...and a range scan on it counts the others' messages after the user's marker.
    read_up_to = (
        sa.select(ReadMarker.last_read_at)
        .where(ReadMarker.thread_id == threads.c.thread_id, ReadMarker.user_id == user.id)
        .correlate(threads)
        .scalar_subquery()
    )
    unread = (
        sa.select(sa.func.count())
        .select_from(Message)
        .where(
            Message.thread_id == threads.c.thread_id,
            Message.sender_id != user.id,
            sa.or_(read_up_to.is_(None), Message.created_at > read_up_to),
        )
        .correlate(threads)
        .scalar_subquery()
    )
    last, sender = aliased(Message), aliased(User)
    stmt = (
        sa.select(
            threads,
            _other_name(user, threads.c.other_id).label("counterparty_name"),
            sa.func.substr(last.body, _constant("1"), _constant(str(EXCERPT_LENGTH))).label(
                "excerpt"
            ),
            (sa.func.length(last.body) > EXCERPT_LENGTH).label("truncated"),
            last.sender_id,
            sender.name.label("sender_name"),
            last.created_at,
            unread.label("unread"),
        )
        .select_from(threads)
        .join(last, last.id == newest_id)
        .join(sender, sender.id == last.sender_id)
        .order_by(last.created_at.desc(), threads.c.thread_id.desc())
        .limit(size)
        .offset((page - 1) * size)
    )
    total = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(threads)
        .where(sa.exists().where(Message.thread_id == threads.c.thread_id))
    )
    rows = db.session.execute(stmt).all()
    return Page(items=[_summary(row) for row in rows], page=page, page_size=size, total=total or 0)


def _threads_of(user: User) -> sa.CTE | None:
    """The threads of the client or provider the user acts for, about a bid or a contract:
    the thread, its kind and subject, the task, and the other side's profile id. None for
    accounts that are no party (admins)."""
    if user.role == Role.CLIENT:
        mine, side = permissions.acting_client_profile_id(user.id), "client"
    elif user.role == Role.PROVIDER:
        mine, side = permissions.acting_provider_profile_id(user.id), "provider"
    else:
        return None
    other = "provider" if side == "client" else "client"
    bid_sides = {"client": Task.client_profile_id, "provider": Bid.provider_profile_id}
    contract_sides = {
        "client": Contract.client_profile_id,
        "provider": Contract.provider_profile_id,
    }
    no_id = sa.cast(sa.null(), sa.Uuid())
    bid_threads = (
        sa.select(
            Thread.id.label("thread_id"),
            _constant("'bid'", sa.String()).label("kind"),
            Thread.bid_id.label("bid_id"),
            no_id.label("contract_id"),
            Task.id.label("task_id"),
            Task.title.label("task_title"),
            bid_sides[other].label("other_id"),
        )
        .join(Bid, Bid.id == Thread.bid_id)
        .join(Task, Task.id == Bid.task_id)
        .where(bid_sides[side] == mine)
    )
    contract_threads = (
        sa.select(
            Thread.id,
            _constant("'contract'", sa.String()),
            no_id,
            Thread.contract_id,
            Task.id,
            Task.title,
            contract_sides[other],
        )
        .join(Contract, Contract.id == Thread.contract_id)
        .join(Task, Task.id == Contract.task_id)
        .where(contract_sides[side] == mine)
    )
    return sa.union_all(bid_threads, contract_threads).cte("conversation_threads")


def _other_name(user: User, profile_id: Any) -> sa.ScalarSelect[str]:
    """The name of the other side of the user's threads, by its profile id: a provider's
    as `ProviderProfile.display_name` (the firm's name, else the individual's); a client's
    is its company's name, else the individual's company name, else their own name."""
    person = aliased(User)
    if user.role == Role.CLIENT:
        return (
            sa.select(sa.func.coalesce(Organization.name, person.name, ""))
            .select_from(ProviderProfile)
            .outerjoin(Organization, Organization.id == ProviderProfile.organization_id)
            .outerjoin(person, person.id == ProviderProfile.user_id)
            .where(ProviderProfile.id == profile_id)
            .scalar_subquery()
        )
    return (
        sa.select(
            sa.func.coalesce(
                Organization.name, sa.func.nullif(ClientProfile.company_name, ""), person.name, ""
            )
        )
        .select_from(ClientProfile)
        .outerjoin(Organization, Organization.id == ClientProfile.organization_id)
        .outerjoin(person, person.id == ClientProfile.user_id)
        .where(ClientProfile.id == profile_id)
        .scalar_subquery()
    )


def _constant(sql: str, type_: Any = None) -> sa.ColumnElement[Any]:
    """A constant written into the SQL, so that PostgreSQL knows its type in a UNION or a
    function's arguments (a bound parameter's type it would have to guess)."""
    return sa.literal_column(sql, type_ or sa.Integer())


def _summary(row: sa.Row[Any]) -> ConversationSummary:
    return ConversationSummary(
        thread_id=row.thread_id,
        kind=row.kind,
        bid_id=row.bid_id,
        contract_id=row.contract_id,
        task_id=row.task_id,
        task_title=row.task_title,
        counterparty_name=row.counterparty_name,
        last_message=LastMessage(
            body_excerpt=row.excerpt,
            truncated=bool(row.truncated),
            sender_id=row.sender_id,
            sender_name=row.sender_name,
            created_at=row.created_at,
        ),
        unread_count=int(row.unread),
    )
