"""Report schemas."""

from __future__ import annotations

import marshmallow as ma

from marketplace.moderation.models import ReportStatus
from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.schemas import BaseSchema


class ReportSchema(BaseSchema):
    """A report: what is flagged and why."""

    id = ma.fields.UUID(dump_only=True)
    target_type = ma.fields.String(required=True, validate=ma.validate.OneOf(["task", "user"]))
    target_id = ma.fields.UUID(required=True)
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=2000))
    status = ma.fields.Enum(ReportStatus, by_value=True, dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class AdminReportSchema(ReportSchema):
    """A report as the admin panel sees it."""

    reporter_id = ma.fields.UUID(dump_only=True)
    resolved_by_id = ma.fields.UUID(dump_only=True, allow_none=True)
    resolved_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    resolution_note = ma.fields.String(dump_only=True, allow_none=True)


class ReportQuerySchema(PageArgsSchema):
    """Filters of the admin report queue."""

    status = ma.fields.Enum(ReportStatus, by_value=True, load_default=ReportStatus.OPEN)
    target_type = ma.fields.String(validate=ma.validate.OneOf(["task", "user"]))


AdminReportPageSchema = page_schema(AdminReportSchema, "AdminReportPage")


class AuditEntrySchema(BaseSchema):
    """One recorded admin action."""

    id = ma.fields.UUID(dump_only=True)
    actor_id = ma.fields.UUID(dump_only=True, allow_none=True)
    action = ma.fields.String(dump_only=True)
    target_type = ma.fields.String(dump_only=True)
    target_id = ma.fields.UUID(dump_only=True)
    details = ma.fields.Dict(dump_only=True)
    at = ma.fields.DateTime(dump_only=True)


class AuditQuerySchema(PageArgsSchema):
    """Filters of the audit log."""

    target_type = ma.fields.String(validate=ma.validate.Length(max=20))
    target_id = ma.fields.UUID()
    actor_id = ma.fields.UUID()


AuditPageSchema = page_schema(AuditEntrySchema, "AuditPage")
