"""Notification schemas."""

from __future__ import annotations

import marshmallow as ma

from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.schemas import BaseSchema


class NotificationSchema(BaseSchema):
    """A notification."""

    id = ma.fields.UUID(dump_only=True)
    kind = ma.fields.String(dump_only=True)
    subject = ma.fields.String(dump_only=True)
    data = ma.fields.Dict(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    read_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class NotificationQuerySchema(PageArgsSchema):
    """Filters of the notification list."""

    unread = ma.fields.Boolean(metadata={"description": "true: only unread; false: only read."})


class MarkedSchema(BaseSchema):
    """How many notifications were marked read."""

    marked = ma.fields.Integer(required=True)


class UnreadCountSchema(BaseSchema):
    """How many of your notifications are unread."""

    unread = ma.fields.Integer(required=True, metadata={"minimum": 0})


NotificationPageSchema = page_schema(NotificationSchema, "NotificationPage")
