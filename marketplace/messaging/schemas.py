"""Message schemas."""

from __future__ import annotations

import marshmallow as ma

from marketplace.files.schemas import attached_files, file_ids
from marketplace.messaging.inbox import EXCERPT_LENGTH
from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.schemas import BaseSchema

MAX_BODY = 10_000


class MessageInputSchema(BaseSchema):
    """A plain-text message."""

    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_BODY))
    files = file_ids(
        "Ids of your uploads (`POST /files` with purpose `message`) to attach: the thread's "
        "readers download them. An unknown id or someone else's file is a 422.",
        load_default=list,
    )

    @ma.validates("body")
    def _not_blank(self, value: str, **_: object) -> None:
        if not value.strip():
            raise ma.ValidationError("The message is empty.")


class MessageSchema(BaseSchema):
    """A message in a thread."""

    id = ma.fields.UUID()
    sender_id = ma.fields.UUID()
    sender_name = ma.fields.String(attribute="sender.name")
    body = ma.fields.String()
    files = attached_files("The attached files.")
    created_at = ma.fields.DateTime()


class MessagePageSchema(BaseSchema):
    """A page of a thread, oldest first, with how far each participant has read."""

    items = ma.fields.List(ma.fields.Nested(MessageSchema), required=True)
    page = ma.fields.Integer(required=True)
    page_size = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    read_markers = ma.fields.Dict(
        keys=ma.fields.String(), values=ma.fields.DateTime(), required=True
    )


MessageQuerySchema = PageArgsSchema


class LastMessageSchema(BaseSchema):
    """The latest message of a conversation."""

    body_excerpt = ma.fields.String(
        required=True,
        metadata={"description": f"The body's first {EXCERPT_LENGTH} characters."},
    )
    truncated = ma.fields.Boolean(
        required=True, metadata={"description": "The body is longer than the excerpt."}
    )
    sender_id = ma.fields.UUID(required=True)
    sender_name = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class ConversationSchema(BaseSchema):
    """A bid's or a contract's thread in the user's list of conversations."""

    thread_id = ma.fields.UUID(required=True)
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["bid", "contract"]),
        metadata={
            "description": "`bid`: read it at `/bids/{bid_id}/messages`; `contract`: at "
            "`/contracts/{contract_id}/messages`."
        },
    )
    bid_id = ma.fields.UUID(required=True, allow_none=True)
    contract_id = ma.fields.UUID(required=True, allow_none=True)
    task_id = ma.fields.UUID(required=True)
    task_title = ma.fields.String(required=True)
    counterparty_name = ma.fields.String(
        required=True,
        metadata={
            "description": "The other side: a provider's firm or individual name; a "
            "client's company name, else the individual's."
        },
    )
    last_message = ma.fields.Nested(LastMessageSchema, required=True)
    unread_count = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Messages of others in the thread after your read marker "
            "(reading the thread moves it)."
        },
    )


ConversationPageSchema = page_schema(ConversationSchema, "ConversationPage")
