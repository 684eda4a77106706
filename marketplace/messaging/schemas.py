"""Message schemas."""

from __future__ import annotations

import marshmallow as ma

from marketplace.pagination import PageArgsSchema
from marketplace.schemas import BaseSchema

MAX_BODY = 10_000


class MessageInputSchema(BaseSchema):
    """A plain-text message."""

    body = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_BODY))

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
