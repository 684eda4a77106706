"""Task schemas: owner/public views, publishing and reasons, filters (input in input_schemas)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import g, request
from flask_login import current_user
from webargs.fields import DelimitedList

from marketplace.bids.models import BidStatus
from marketplace.files.schemas import attached_files
from marketplace.matching.discovery import TaskSearch
from marketplace.pagination import COUNT_CAP, CursorPageSchema, PageArgsSchema
from marketplace.profiles.models import ServiceModel
from marketplace.schemas import BaseSchema, CurrencyField, validate_language
from marketplace.tasks.confidentiality import Reader
from marketplace.tasks.input_schemas import AttachmentSchema, BudgetSchema, TimezoneNeedField
from marketplace.tasks.models import Confidentiality, Shoring, TaskStatus


class TaskSkillOutSchema(BaseSchema):
    """A skill a task requires, as shown."""

    slug = ma.fields.String()
    min_level = ma.fields.Integer()


class TermsSchema(BaseSchema):
    """The confidentiality terms a provider accepts."""

    version = ma.fields.Integer()
    hash = ma.fields.String()
    text = ma.fields.String()


class TaskSummarySchema(BaseSchema):
    """The task a bid, contract, milestone or dispute belongs to, as a screen names it."""

    id = ma.fields.UUID()
    title = ma.fields.String()
    status = ma.fields.Enum(TaskStatus, by_value=True)


class TaskSchema(BaseSchema):
    """A task as providers and other signed-in users see it: never the confidential details."""

    id = ma.fields.UUID()
    title = ma.fields.String()
    summary = ma.fields.String()
    confidentiality = ma.fields.Enum(Confidentiality, by_value=True)
    service_model = ma.fields.Enum(ServiceModel, by_value=True, allow_none=True)
    tier = ma.fields.Integer()
    skills = ma.fields.List(ma.fields.Nested(TaskSkillOutSchema))
    budget = ma.fields.Nested(BudgetSchema)
    start_date = ma.fields.Date(allow_none=True)
    deadline = ma.fields.Date()
    timezone_need = TimezoneNeedField(allow_none=True)
    shoring = ma.fields.Enum(Shoring, by_value=True)
    languages = ma.fields.List(ma.fields.String())
    positions = ma.fields.Integer()
    trial = ma.fields.Boolean()
    status = ma.fields.Enum(TaskStatus, by_value=True)
    client_timezone = ma.fields.String(attribute="client_profile.timezone")
    client_country = ma.fields.String(attribute="client_profile.country", allow_none=True)
    confidentiality_terms = ma.fields.Nested(TermsSchema, allow_none=True)
    opened_at = ma.fields.DateTime(allow_none=True)
    expires_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class OwnerTaskSchema(TaskSchema):
    """A task as its client (and admins) see it: with review state and history.

    Confidential details are read only through `GET /tasks/{id}/confidential`, which
    logs every read.
    """

    review_reasons = ma.fields.List(ma.fields.String())
    rejection_reason = ma.fields.String(allow_none=True)
    allowed_actions = ma.fields.List(ma.fields.String())
    transitions = ma.fields.List(ma.fields.Nested(lambda: TransitionSchema()))


class MyBidSchema(BaseSchema):
    """The signed-in provider's live bid on a task."""

    id = ma.fields.UUID()
    status = ma.fields.Enum(BidStatus, by_value=True)


class TaskViewSchema(OwnerTaskSchema):
    """A task as `GET /tasks/{id}` shows it: to its client and admins with review state and
    history; to a provider with where it stands on the task (`terms_accepted`, `my_bid`)."""

    terms_accepted = ma.fields.Boolean(
        allow_none=True,
        metadata={
            "description": "Providers only: whether you (or your firm) accepted the task's "
            "current confidentiality terms (its version and the platform's text); null for a "
            "public task, which has none."
        },
    )
    my_bid = ma.fields.Nested(
        MyBidSchema,
        allow_none=True,
        metadata={
            "description": "Providers only: your (or your firm's) live bid on the task "
            "(submitted or shortlisted), or null."
        },
    )


class TransitionSchema(BaseSchema):
    """One recorded step of a task's life."""

    from_status = ma.fields.String(allow_none=True)
    to_status = ma.fields.String()
    actor_id = ma.fields.UUID(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    at = ma.fields.DateTime()


class PublishResultSchema(BaseSchema):
    """The published task, and what the client should know (review, strategic advice)."""

    task = ma.fields.Nested(OwnerTaskSchema, required=True)
    notices = ma.fields.List(ma.fields.String(), required=True)


class PublishSchema(BaseSchema):
    """Publishing a tier-1 (strategic) task needs an explicit confirmation."""

    confirm_strategic = ma.fields.Boolean(load_default=False)


class ReasonSchema(BaseSchema):
    """Why (a rejection, a cancellation)."""

    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=2000))


class OptionalReasonSchema(BaseSchema):
    """An optional reason (pausing, cancelling, declining an offer)."""

    reason = ma.fields.String(load_default=None, validate=ma.validate.Length(max=2000))


_RULE_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def current_reader() -> Reader:
    """Who reads confidential material in this request, from where and through which
    endpoint (named as in the API docs), for the access log; one per request."""
    if "confidential_reader" not in g:
        rule = request.url_rule.rule if request.url_rule else request.path
        path = _RULE_VARIABLE.sub(r"{\1}", rule)
        g.confidential_reader = Reader(
            user=current_user._get_current_object(),
            via=f"{request.method} {path}",
            ip_address=request.remote_addr,
        )
    reader: Reader = g.confidential_reader
    return reader


class ConfidentialSchema(BaseSchema):
    """A task's confidential details, for the owner, admins and providers who accepted the
    current terms; a contracted provider who has not accepted a newer version yet reads
    the version its contract holds (`terms_version` says which)."""

    task_id = ma.fields.UUID()
    confidential_details = ma.fields.String()
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema))
    confidential_files = attached_files(
        "Uploaded files of the confidential material: download each from its "
        "`download_path` (every download is in the access log)."
    )
    terms_version = ma.fields.Integer()
    terms_hash = ma.fields.String()


class AcceptTermsSchema(BaseSchema):
    """The terms a provider accepts: the ones `GET /tasks/{id}` showed them."""

    terms_hash = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^[0-9a-f]{64}$", error="Give a SHA-256 in hexadecimal."),
        metadata={
            "description": "The `confidentiality_terms.hash` of the task as you read it. "
            "If the terms changed since, the answer is a 409 whose details give the "
            "current `current_version` and `current_hash`: read them and accept again."
        },
    )
    terms_version = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(min=1),
        metadata={
            "description": "Optional: the `confidentiality_terms.version` you read; a 409 "
            "if the task's confidential material changed since."
        },
    )


class AcceptanceSchema(BaseSchema):
    """A recorded acceptance of a task's confidentiality terms."""

    id = ma.fields.UUID()
    task_id = ma.fields.UUID()
    provider_profile_id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    terms_version = ma.fields.Integer()
    terms_hash = ma.fields.String()
    ip_address = ma.fields.String(allow_none=True)
    accepted_at = ma.fields.DateTime()


class AccessLogEntrySchema(BaseSchema):
    """One read of the confidential material, wherever it was served."""

    id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    user_name = ma.fields.String(attribute="user.name")
    provider_profile_id = ma.fields.UUID(
        allow_none=True, metadata={"description": "Set when a provider (or its firm) read it."}
    )
    terms_version = ma.fields.Integer(metadata={"description": "The version read."})
    via = ma.fields.String(
        metadata={
            "description": "The endpoint that served it, e.g. "
            "`GET /api/v1/contracts/{contract_id}`.",
        }
    )
    ip_address = ma.fields.String(allow_none=True)
    at = ma.fields.DateTime()


def _within_reason(value: datetime) -> None:
    # Checked on the year alone: converting far-off times to UTC would overflow.
    if not 2000 <= value.year <= 2100:
        raise ma.ValidationError("Give a date-time between the years 2000 and 2100.")


class TaskQuerySchema(BaseSchema):
    """Filters, search, sorting and cursor pagination of `GET /tasks`."""

    q = ma.fields.String(
        validate=ma.validate.Length(min=1, max=200),
        metadata={"description": "Full-text search over title and summary."},
    )
    skills = DelimitedList(
        ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        validate=ma.validate.Length(max=20),
        metadata={"description": "Comma-separated skill slugs."},
    )
    skills_match = ma.fields.String(load_default="any", validate=ma.validate.OneOf(["any", "all"]))
    service_model = ma.fields.Enum(ServiceModel, by_value=True)
    budget_min = ma.fields.Integer(validate=ma.validate.Range(min=0, max=10**12))
    budget_max = ma.fields.Integer(validate=ma.validate.Range(min=0, max=10**12))
    currency = CurrencyField()
    language = ma.fields.String(validate=validate_language)
    trial = ma.fields.Boolean()
    shoring = ma.fields.String(
        validate=ma.validate.OneOf(["onshore", "nearshore", "offshore"]),
        metadata={"description": "Where you (a provider) are relative to the task's client."},
    )
    min_overlap = ma.fields.Float(
        validate=ma.validate.Range(min=0, max=24),
        metadata={
            "description": "Minimum average daily overlap (hours) between your working "
            "hours and the client's."
        },
    )
    posted_since = ma.fields.AwareDateTime(
        default_timezone=UTC,
        validate=_within_reason,
        metadata={"description": "ISO 8601 date-time; tasks opened at or after it."},
    )
    sort = ma.fields.String(
        load_default="newest",
        validate=ma.validate.OneOf(["newest", "budget_desc", "budget_asc", "deadline"]),
    )
    mine = ma.fields.Boolean(
        load_default=False, metadata={"description": "Clients: your own tasks, any status."}
    )
    status = ma.fields.Enum(
        TaskStatus, by_value=True, metadata={"description": "With mine=true: only this status."}
    )
    cursor = ma.fields.String(validate=ma.validate.Length(max=500))
    page_size = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=100))

    @ma.validates_schema
    def _budget_needs_currency(self, data: dict[str, Any], **_: Any) -> None:
        if ("budget_min" in data or "budget_max" in data) and "currency" not in data:
            raise ma.ValidationError("A budget filter needs a currency.", "currency")
        if data.get("budget_min", 0) > data.get("budget_max", 10**12):
            raise ma.ValidationError("budget_min is above budget_max.", "budget_min")

    @ma.post_load
    def _search(self, data: dict[str, Any], **_: Any) -> TaskSearch:
        """The loaded query, as the search service takes it."""
        if "skills" in data:
            data["skills"] = tuple(data["skills"])
        return TaskSearch(**data)


class TaskListItemSchema(TaskSchema):
    """A task in a list."""

    bid_count = ma.fields.Integer(
        metadata={"description": "Live bids on the task (submitted or shortlisted)."}
    )


class TaskListSchema(CursorPageSchema):
    """A page of tasks; pass `next_cursor` as `cursor` for the next page."""

    items = ma.fields.List(ma.fields.Nested(TaskListItemSchema), required=True)
    total = ma.fields.Integer(
        required=True,
        metadata={
            "description": f"How many tasks match, counted up to {COUNT_CAP} "
            "(`total_is_capped`: more do). With `shoring` or `min_overlap` it is an estimate "
            "from above: it counts the tasks that may pass those filters, by figures kept "
            "for each task, while the pages hold only the tasks that do."
        },
    )


class AdminTaskQuerySchema(PageArgsSchema):
    """Filters of the admin task queue."""

    status = ma.fields.Enum(TaskStatus, by_value=True, load_default=TaskStatus.PENDING_REVIEW)
