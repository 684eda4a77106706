"""Message endpoints: the thread of a bid (and, with contracts, of a contract)."""

from __future__ import annotations

import uuid
from typing import Any

from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.extensions import per_user_limit
from marketplace.messaging import inbox, services
from marketplace.messaging.models import Message
from marketplace.messaging.schemas import (
    ConversationPageSchema,
    MessageInputSchema,
    MessagePageSchema,
    MessageQuerySchema,
    MessageSchema,
)
from marketplace.pagination import Page, PageArgsSchema

blp = Blueprint("messages", __name__, url_prefix="/api/v1", description="Messages")


@blp.get("/conversations")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ConversationPageSchema)
@blp.errors(401, 422)
def list_conversations(page: int, page_size: int | None) -> Page:
    """Your bid and contract threads, newest activity first, with their unread counts.

    The threads with at least one message of the client or provider you act for (an
    organization's members: its threads). Each has its kind and subject, the task, the
    other side's name, the last message (an excerpt, its sender and time) and
    `unread_count`: messages of others after your read marker, which reading or writing in
    the thread moves. Admins, no party, get an empty list.
    """
    return inbox.conversations(user=current_user, page=page, page_size=page_size)


@blp.get("/bids/<uuid:bid_id>/messages")
@login_required
@blp.arguments(MessageQuerySchema, location="query", as_kwargs=True)
@blp.response(200, MessagePageSchema)
@blp.errors(401, 404, 422)
def bid_messages(bid_id: uuid.UUID, page: int, page_size: int | None) -> dict[str, Any]:
    """The conversation about a bid (its bidder, the task's client, admins)."""
    conversation = services.bid_conversation(user=current_user, bid_id=bid_id)
    return services.read_page(conversation, user=current_user, page=page, page_size=page_size)


@blp.post("/bids/<uuid:bid_id>/messages")
@login_required
@per_user_limit("MESSAGE_RATE_LIMIT")
@blp.arguments(MessageInputSchema, as_kwargs=True)
@blp.response(201, MessageSchema)
@blp.errors(400, 401, 403, 404, 422, 429)
def post_bid_message(bid_id: uuid.UUID, body: str, files: list[uuid.UUID]) -> Message:
    """Write in the conversation about a bid; the other side is notified."""
    conversation = services.bid_conversation(user=current_user, bid_id=bid_id)
    return services.post_message(conversation, user=current_user, body=body, files=files)


@blp.get("/contracts/<uuid:contract_id>/messages")
@login_required
@blp.arguments(MessageQuerySchema, location="query", as_kwargs=True)
@blp.response(200, MessagePageSchema)
@blp.errors(401, 404, 422)
def contract_messages(contract_id: uuid.UUID, page: int, page_size: int | None) -> dict[str, Any]:
    """The contract's conversation (its parties and admins)."""
    conversation = services.contract_conversation(user=current_user, contract_id=contract_id)
    return services.read_page(conversation, user=current_user, page=page, page_size=page_size)


@blp.post("/contracts/<uuid:contract_id>/messages")
@login_required
@per_user_limit("MESSAGE_RATE_LIMIT")
@blp.arguments(MessageInputSchema, as_kwargs=True)
@blp.response(201, MessageSchema)
@blp.errors(400, 401, 403, 404, 422, 429)
def post_contract_message(contract_id: uuid.UUID, body: str, files: list[uuid.UUID]) -> Message:
    """Write in the contract's conversation; the other side is notified."""
    conversation = services.contract_conversation(user=current_user, contract_id=contract_id)
    return services.post_message(conversation, user=current_user, body=body, files=files)
