"""Threads between a client and a provider: who may read and write, read markers, alerts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.bids import services as bids
from marketplace.bids.models import Bid
from marketplace.contracts import services as contracts
from marketplace.database import new_id, utcnow
from marketplace.errors import Forbidden, NotFound
from marketplace.extensions import db
from marketplace.files import services as file_services
from marketplace.files.models import FilePurpose
from marketplace.messaging.models import Message, ReadMarker, Thread
from marketplace.notifications import services as notifications
from marketplace.pagination import paginate
from marketplace.profiles.models import ClientProfile, ProviderProfile


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


def get_message(*, user: User, message_id: uuid.UUID) -> Message:
    """A message for whoever may read its thread (the bid's or the contract's parties, and
    admins); anyone else gets NotFound."""
    message = db.session.get(Message, message_id)
    thread = db.session.get(Thread, message.thread_id) if message is not None else None
    if message is None or thread is None:
        raise NotFound("Message not found.")
    try:
        if thread.bid_id is not None:
            bids.get_bid(user=user, bid_id=thread.bid_id)
        elif thread.contract_id is not None:
            contracts.get_contract(user=user, contract_id=thread.contract_id)
    except NotFound:
        raise NotFound("Message not found.") from None
    return message


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


def post_message(
    conversation: Conversation, *, user: User, body: str, files: Sequence[uuid.UUID] = ()
) -> Message:
    """A party writes; the other side is notified. Admins read threads but do not write."""
    side = conversation.side_of(user)
    if side is None:
        raise Forbidden("Only the two parties write in this thread.")
    message = Message(id=new_id(), thread_id=conversation.thread.id, sender_id=user.id, body=body)
    message.files = file_services.attach(
        user=user, file_ids=files, purpose=FilePurpose.MESSAGE, object_id=message.id
    )
    db.session.add(message)
    notifications.tell(
        conversation.people_of("provider" if side == "client" else "client"),
        email="message.new",
        context={"conversation": conversation.title, "sender": user.name, "excerpt": body[:500]},
        thread_id=conversation.thread.id,
        bid_id=conversation.thread.bid_id,
        contract_id=conversation.thread.contract_id,
    )
    db.session.commit()
    mark_read(conversation, user, up_to=message.created_at or utcnow())
    return message
