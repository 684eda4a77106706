"""Threads between a client and a provider: who may read and write, read markers, alerts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.bids import services as bids
from marketplace.bids.models import Bid
from marketplace.contracts import services as contracts
from marketplace.contracts.models import Contract
from marketplace.database import utcnow
from marketplace.errors import Forbidden
from marketplace.extensions import db
from marketplace.messaging.models import Message, ReadMarker, Thread
from marketplace.notifications import services as notifications
from marketplace.organizations.models import Organization
from marketplace.pagination import Page, page_size_for, paginate
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks.models import Task


@dataclass
class Conversation:
    """A thread with its two sides and a title for alerts."""

    thread: Thread
    client: ClientProfile
    provider: ProviderProfile
    title: str
    #: The bid the thread is about, or that the contract was made from: its author hears
    #: the client's messages too.
    bid: Bid | None = None

    def side_of(self, user: User) -> str | None:
        """`client`, `provider` or None (an admin, reading only)."""
        if permissions.acts_for_client(user, self.client.id):
            return "client"
        if permissions.acts_for_provider(user, self.provider.id):
            return "provider"
        return None

    def people_of(self, side: str) -> notifications.Recipients:
        """Who is told of a message to `side`: the people acting for it, and on the
        provider's side the bid's author."""
        if side == "client":
            return self.client
        return bids.bidder_people(self.bid) if self.bid is not None else self.provider


def _thread(**subject: uuid.UUID) -> Thread:
    thread = db.session.scalar(sa.select(Thread).filter_by(**subject))
    if thread is None:
        thread = Thread(**subject)
        db.session.add(thread)
        try:
            db.session.commit()
        except IntegrityError:  # created by a concurrent request
            db.session.rollback()
            thread = db.session.scalars(sa.select(Thread).filter_by(**subject)).one()
    return thread


def bid_conversation(*, user: User, bid_id: uuid.UUID) -> Conversation:
    """The thread of a bid, for its bidder, the task's client and admins (else NotFound)."""
    bid = bids.get_bid(user=user, bid_id=bid_id)
    return Conversation(
        thread=_thread(bid_id=bid.id),
        client=bid.task.client_profile,
        provider=bid.provider_profile,
        title=bid.task.title,
        bid=bid,
    )


def contract_conversation(*, user: User, contract_id: uuid.UUID) -> Conversation:
    """The thread of a contract, for its parties and admins (else NotFound)."""
    contract = contracts.get_contract(user=user, contract_id=contract_id)
    return Conversation(
        thread=_thread(contract_id=contract.id),
        client=contract.client_profile,
        provider=contract.provider_profile,
        title=contract.task.title,
        bid=contract.bid,
    )


def messages_query(conversation: Conversation) -> sa.Select[Message]:
    """The thread's messages, oldest first."""
    return (
        sa.select(Message)
        .where(Message.thread_id == conversation.thread.id)
        .order_by(Message.created_at, Message.id)
    )


def mark_read(conversation: Conversation, user: User, *, up_to: datetime) -> None:
    """Move the user's read marker forward to `up_to` (never back)."""
    key = (conversation.thread.id, user.id)
    marker = db.session.get(ReadMarker, key)
    if marker is None:
        db.session.add(ReadMarker(thread_id=key[0], user_id=key[1], last_read_at=up_to))
        try:
            db.session.commit()
            return
        except IntegrityError:  # a concurrent read by the same user got there first
            db.session.rollback()
            marker = db.session.get(ReadMarker, key)
    if marker is not None and marker.last_read_at < up_to:
        marker.last_read_at = up_to
    db.session.commit()


def read_page(
    conversation: Conversation, *, user: User, page: int, page_size: int | None
) -> dict[str, Any]:
    """One page of the thread, with read markers; reading it moves a party's marker to
    its last message (admins read without marking)."""
    result = paginate(messages_query(conversation), page=page, page_size=page_size)
    if result.items and conversation.side_of(user) is not None:
        mark_read(conversation, user, up_to=result.items[-1].created_at)
    return {
        "items": result.items,
        "page": result.page,
        "page_size": result.page_size,
        "total": result.total,
        "read_markers": read_markers(conversation),
    }


def read_markers(conversation: Conversation) -> dict[str, datetime]:
    """How far each participant has read: `{user_id: last_read_at}` (admins are not
    participants: markers they left before they read without marking are not shown)."""
    rows = db.session.scalars(
        sa.select(ReadMarker)
        .join(User, User.id == ReadMarker.user_id)
        .where(ReadMarker.thread_id == conversation.thread.id, User.role != Role.ADMIN)
    )
    return {str(m.user_id): m.last_read_at for m in rows}


def post_message(conversation: Conversation, *, user: User, body: str) -> Message:
    """A party writes; the other side is notified. Admins read threads but do not write."""
    side = conversation.side_of(user)
    if side is None:
        raise Forbidden("Only the two parties write in this thread.")
    message = Message(thread_id=conversation.thread.id, sender_id=user.id, body=body)
    db.session.add(message)
    notifications.tell(
        conversation.people_of("provider" if side == "client" else "client"),
        kind="message.new",
        subject=f"New message: {conversation.title}",
        body=f"{user.name} wrote:\n\n{body[:500]}\n",
        thread_id=conversation.thread.id,
        bid_id=conversation.thread.bid_id,
        contract_id=conversation.thread.contract_id,
    )
    db.session.commit()
    mark_read(conversation, user, up_to=message.created_at or utcnow())
    return message


#: How much of the last message a conversation list shows.
EXCERPT_LENGTH = 200


def _constant(sql: str, type_: Any) -> sa.ColumnElement[Any]:
    """A constant written into the SQL, so PostgreSQL knows its type in a UNION and a
    function call (a bound parameter's type it would have to guess)."""
    return sa.literal_column(sql, type_)


def _other_name(user: User, profile_id: Any) -> sa.ScalarSelect[str]:
    """The name of the other side of the user's threads, by its profile id: a provider's
    is `ProviderProfile.display_name` (the firm's name, else the individual's); a
    client's is its company's name, else the individual's company name, else theirs."""
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


def _threads_of(user: User) -> sa.CTE | None:
    """The user's bid and contract threads (as the client or provider they act for): the
    thread, its kind and subject, the task, and the profile of the other side."""
    if user.role == Role.CLIENT:
        mine, side = permissions.acting_client_profile_id(user.id), "client"
    elif user.role == Role.PROVIDER:
        mine, side = permissions.acting_provider_profile_id(user.id), "provider"
    else:
        return None
    bid_side = {"client": Task.client_profile_id, "provider": Bid.provider_profile_id}
    contract_side = {
        "client": Contract.client_profile_id,
        "provider": Contract.provider_profile_id,
    }
    other = "provider" if side == "client" else "client"
    bid_threads = (
        sa.select(
            Thread.id.label("thread_id"),
            _constant("'bid'", sa.String()).label("kind"),
            Thread.bid_id.label("bid_id"),
            sa.cast(sa.null(), sa.Uuid()).label("contract_id"),
            Task.id.label("task_id"),
            Task.title.label("task_title"),
            bid_side[other].label("other_id"),
        )
        .join(Bid, Bid.id == Thread.bid_id)
        .join(Task, Task.id == Bid.task_id)
        .where(bid_side[side] == mine)
    )
    contract_threads = (
        sa.select(
            Thread.id,
            _constant("'contract'", sa.String()),
            sa.cast(sa.null(), sa.Uuid()),
            Thread.contract_id,
            Task.id,
            Task.title,
            contract_side[other],
        )
        .join(Contract, Contract.id == Thread.contract_id)
        .join(Task, Task.id == Contract.task_id)
        .where(contract_side[side] == mine)
    )
    return sa.union_all(bid_threads, contract_threads).cte("conversation_threads")


def conversations(*, user: User, page: int, page_size: int | None) -> Page:
    """One page of the user's conversations (bid and contract threads with at least one
    message), newest activity first: each with its kind and subject, the task's title,
    the other side's name, the last message and how many messages in it the user has not
    read (others' messages after the user's read marker). Two statements, the count and
    the page, whatever the page size; admins are no party: an empty list."""
    threads = _threads_of(user)
    size = page_size_for(page_size)
    if threads is None:
        return Page(items=[], page=page, page_size=size, total=0)
    ranked = (
        sa.select(
            Message.thread_id,
            Message.sender_id,
            Message.created_at,
            sa.func.substr(Message.body, 1, _constant(str(EXCERPT_LENGTH), sa.Integer())).label(
                "excerpt"
            ),
            (sa.func.length(Message.body) > EXCERPT_LENGTH).label("truncated"),
            sa.func.row_number()
            .over(
                partition_by=Message.thread_id,
                order_by=(Message.created_at.desc(), Message.id.desc()),
            )
            .label("rank"),
        )
        .where(Message.thread_id.in_(sa.select(threads.c.thread_id)))
        .subquery("ranked")
    )
    marker = aliased(ReadMarker)
    unread = (
        sa.select(Message.thread_id, sa.func.count().label("unread"))
        .outerjoin(
            marker, sa.and_(marker.thread_id == Message.thread_id, marker.user_id == user.id)
        )
        .where(
            Message.thread_id.in_(sa.select(threads.c.thread_id)),
            Message.sender_id != user.id,
            sa.or_(marker.last_read_at.is_(None), Message.created_at > marker.last_read_at),
        )
        .group_by(Message.thread_id)
        .subquery("unread")
    )
    sender = aliased(User)
    stmt = (
        sa.select(
            threads.c.thread_id,
            threads.c.kind,
            threads.c.bid_id,
            threads.c.contract_id,
            threads.c.task_id,
            threads.c.task_title,
            _other_name(user, threads.c.other_id).label("counterparty_name"),
            ranked.c.excerpt,
            ranked.c.truncated,
            ranked.c.sender_id,
            sender.name.label("sender_name"),
            ranked.c.created_at,
            sa.func.coalesce(unread.c.unread, 0).label("unread"),
        )
        .join(ranked, sa.and_(ranked.c.thread_id == threads.c.thread_id, ranked.c.rank == 1))
        .join(sender, sender.id == ranked.c.sender_id)
        .outerjoin(unread, unread.c.thread_id == threads.c.thread_id)
        .order_by(ranked.c.created_at.desc(), threads.c.thread_id.desc())
    )
    total = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(threads)
        .where(sa.exists().where(Message.thread_id == threads.c.thread_id))
    )
    rows = db.session.execute(stmt.limit(size).offset((page - 1) * size)).all()
    return Page(
        items=[_conversation(row) for row in rows], page=page, page_size=size, total=total or 0
    )


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


def _conversation(row: sa.Row[Any]) -> ConversationSummary:
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
