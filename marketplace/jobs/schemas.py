"""Schemas of the admins' view of the outbox."""

from __future__ import annotations

import marshmallow as ma

from marketplace.jobs.models import OutboxStatus
from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.schemas import BaseSchema


class OutboxEntrySchema(BaseSchema):
    """A side effect (e-mail, gateway call) and how its delivery went."""

    id = ma.fields.UUID()
    kind = ma.fields.String()
    payload = ma.fields.Dict()
    status = ma.fields.Enum(OutboxStatus, by_value=True)
    attempts = ma.fields.Integer()
    next_attempt_at = ma.fields.DateTime()
    last_error = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    processed_at = ma.fields.DateTime(allow_none=True)


class OutboxQuerySchema(PageArgsSchema):
    """Filters of the outbox list; `status=failed` shows what needs an admin."""

    status = ma.fields.Enum(OutboxStatus, by_value=True, load_default=OutboxStatus.FAILED)
    kind = ma.fields.String(validate=ma.validate.Length(max=50))


OutboxPageSchema = page_schema(OutboxEntrySchema, "OutboxPage")
