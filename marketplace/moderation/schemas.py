"""Report schemas."""

from __future__ import annotations

import marshmallow as ma

from marketplace.moderation.models import ReportStatus
from marketplace.moderation.services import ACTIONS, TARGETS
from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.schemas import BaseSchema, MoneySchema

TARGET_TYPES = list(TARGETS)


class ReportSchema(BaseSchema):
    """A report: what is flagged and why."""

    id = ma.fields.UUID(dump_only=True)
    target_type = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(TARGET_TYPES),
        metadata={
            "description": "What is reported; you must be able to see it (a bid: its bidder "
            "or the task's client; a message: the people of its thread; an organization: its "
            "members), else the answer is a 404 as for an unknown id."
        },
    )
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
    target_type = ma.fields.String(validate=ma.validate.OneOf(TARGET_TYPES))


AdminReportPageSchema = page_schema(AdminReportSchema, "AdminReportPage")


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


class CloseReportSchema(BaseSchema):
    """Why an admin dismisses a report (kept with it and in the audit log)."""

    note = ma.fields.String(
        required=True, validate=[ma.validate.Length(min=1, max=2000), _not_blank]
    )


class ResolveReportSchema(CloseReportSchema):
    """Why an admin resolves a report, and what else they do about its target."""

    action = ma.fields.String(
        load_default=None,
        allow_none=True,
        validate=ma.validate.OneOf(list(ACTIONS)),
        metadata={
            "description": "Done with the resolution, in the same transaction: "
            "`suspend_user` for a reported user (the note is the reason they are told), "
            "`cancel_task` for a reported task (its bids and offers close; its client is "
            "told the note). Another target type is a 422; a target whose state refuses "
            "it (already suspended, already filled) a 409."
        },
    )


class ReportTargetSchema(BaseSchema):
    """What a report is about, as an admin reads it (fields a target type lacks are null)."""

    type = ma.fields.String(validate=ma.validate.OneOf(TARGET_TYPES))
    id = ma.fields.UUID()
    found = ma.fields.Boolean(metadata={"description": "False once the target is deleted."})
    title = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "A task's title, a user's or organization's name, or what a bid "
            "or message is."
        },
    )
    text = ma.fields.String(
        allow_none=True,
        metadata={
            "description": "The content, cut at 2,000 characters: a task's summary, a bid's "
            "cover letter, a message's body, a user's e-mail, an organization's kind."
        },
    )
    status = ma.fields.String(
        allow_none=True, metadata={"description": "A task's, bid's or user's."}
    )
    price = ma.fields.Nested(MoneySchema, allow_none=True, metadata={"description": "A bid's."})
    by = ma.fields.String(allow_none=True, metadata={"description": "Who wrote it, by name."})
    author_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "The user behind it (to look up or suspend)."}
    )


class AdminReportCaseSchema(AdminReportSchema):
    """A report with what it is about and the other reports on the same target."""

    target = ma.fields.Nested(ReportTargetSchema, dump_only=True)
    earlier_reports = ma.fields.List(
        ma.fields.Nested(AdminReportSchema),
        dump_only=True,
        metadata={
            "description": "The other reports on the same target (any status), newest first, "
            "at most 20."
        },
    )


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
