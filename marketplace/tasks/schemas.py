"""Task schemas: input with per-field and cross-field rules, owner/public views, filters."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from webargs.fields import DelimitedList

from marketplace.hours import validate_working_hours
from marketplace.matching.discovery import TaskSearch
from marketplace.pagination import PageArgsSchema
from marketplace.profiles.models import ServiceModel
from marketplace.schemas import BaseSchema, CurrencyField, require_some_field, validate_language
from marketplace.tasks.models import BudgetType, Confidentiality, Shoring, TaskStatus
from marketplace.tasks.rules import check_task_rules


class TimezoneNeedField(ma.fields.Field):
    """`{"mode": "overlap", "hours": N}` or `{"mode": "coverage", "window": {working hours}}`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "metadata",
            {
                "type": "object",
                "description": 'Overlap with the client\'s working hours: {"mode": "overlap", '
                '"hours": 3}; or coverage of a weekly window in the client\'s zone: '
                '{"mode": "coverage", "window": {"mon": [["18:00", "02:00"]]}}.',
                "example": {"mode": "overlap", "hours": 3},
            },
        )
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, dict) or value.get("mode") not in ("overlap", "coverage"):
            raise ma.ValidationError('Give {"mode": "overlap", ...} or {"mode": "coverage", ...}.')
        if value["mode"] == "overlap":
            hours = value.get("hours")
            if (
                set(value) != {"mode", "hours"}
                or isinstance(hours, bool)
                or not isinstance(hours, int | float)
                or not 0 < hours <= 24
            ):
                raise ma.ValidationError('Overlap needs "hours": a number above 0, at most 24.')
            return {"mode": "overlap", "hours": hours}
        if set(value) != {"mode", "window"}:
            raise ma.ValidationError('Coverage needs a "window" of weekly hours and nothing else.')
        window = validate_working_hours(value["window"])
        if not window:
            raise ma.ValidationError("The coverage window is empty.")
        return {"mode": "coverage", "window": window}

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class TaskSkillSchema(BaseSchema):
    """A required skill and its minimum level."""

    slug = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    min_level = ma.fields.Integer(load_default=1, strict=True, validate=ma.validate.Range(1, 5))


class BudgetSchema(BaseSchema):
    """A fixed price or an hourly rate range, in minor units."""

    type = ma.fields.Enum(BudgetType, by_value=True, required=True)
    min = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=1, max=10**12)
    )
    max = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=1, max=10**12)
    )
    currency = CurrencyField(required=True)

    @ma.validates_schema
    def _min_not_above_max(self, data: dict[str, Any], **_: Any) -> None:
        if "min" in data and "max" in data and data["min"] > data["max"]:
            raise ma.ValidationError("The minimum is above the maximum.", "min")


class AttachmentSchema(BaseSchema):
    """An attachment's metadata (files themselves are stored elsewhere)."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=255))
    size = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=0, max=10**11)
    )
    content_type = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(
            r"^[\w.+-]+/[\w.+-]+$", error="Not a MIME type such as 'application/pdf'."
        ),
    )
    sha256 = ma.fields.String(
        required=True,
        validate=ma.validate.Regexp(r"^[0-9a-f]{64}$", error="64 lower-case hex digits."),
    )


class TaskInputSchema(BaseSchema):
    """What a client writes when posting or editing a task."""

    title = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=200))
    summary = ma.fields.String(required=True, validate=ma.validate.Length(min=10, max=5000))
    confidential_details = ma.fields.String(
        load_default="", validate=ma.validate.Length(max=50_000)
    )
    confidentiality = ma.fields.Enum(
        Confidentiality, by_value=True, load_default=Confidentiality.PUBLIC
    )
    service_model = ma.fields.Enum(ServiceModel, by_value=True, allow_none=True, load_default=None)
    tier = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 4))
    skills = ma.fields.List(
        ma.fields.Nested(TaskSkillSchema), required=True, validate=ma.validate.Length(min=1, max=20)
    )
    budget = ma.fields.Nested(BudgetSchema, required=True)
    start_date = ma.fields.Date(allow_none=True, load_default=None)
    deadline = ma.fields.Date(required=True)
    timezone_need = TimezoneNeedField(allow_none=True, load_default=None)
    shoring = ma.fields.Enum(Shoring, by_value=True, load_default=Shoring.ANY)
    languages = ma.fields.List(
        ma.fields.String(validate=validate_language),
        load_default=list,
        validate=ma.validate.Length(max=10),
    )
    positions = ma.fields.Integer(load_default=1, strict=True, validate=ma.validate.Range(1, 50))
    trial = ma.fields.Boolean(load_default=False)
    attachments = ma.fields.List(
        ma.fields.Nested(AttachmentSchema), load_default=list, validate=ma.validate.Length(max=50)
    )

    @ma.validates_schema
    def _cross_field_rules(self, data: dict[str, Any], partial: Any = None, **_: Any) -> None:
        if partial:
            return  # the service checks the merged task instead
        errors = check_task_rules(data, changed=set(data))
        if errors:
            raise ma.ValidationError(errors)


class TaskUpdateSchema(TaskInputSchema):
    """PATCH: any subset of the task's fields (each one given whole, e.g. the whole budget)."""

    def __init__(self, **kwargs: Any) -> None:
        # Only the top-level fields become optional; a budget or skill still needs all its parts.
        super().__init__(partial=tuple(TaskInputSchema._declared_fields), **kwargs)

    @ma.pre_load
    def _not_empty(self, data: Any, **_: Any) -> Any:
        return require_some_field(data)


class TaskSkillOutSchema(BaseSchema):
    """A skill a task requires, as shown."""

    slug = ma.fields.String()
    min_level = ma.fields.Integer()


class TermsSchema(BaseSchema):
    """The confidentiality terms a provider accepts."""

    version = ma.fields.Integer()
    hash = ma.fields.String()
    text = ma.fields.String()


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


class ConfidentialSchema(BaseSchema):
    """A task's confidential details, for the owner, admins and providers who accepted."""

    task_id = ma.fields.UUID(attribute="id")
    confidential_details = ma.fields.String()
    attachments = ma.fields.List(ma.fields.Nested(AttachmentSchema))
    terms_version = ma.fields.Integer()
    terms_hash = ma.fields.String()


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
    """One read of the confidential details."""

    id = ma.fields.UUID()
    user_id = ma.fields.UUID()
    user_name = ma.fields.String(attribute="user.name")
    provider_profile_id = ma.fields.UUID(allow_none=True)
    terms_version = ma.fields.Integer()
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


class TaskListSchema(BaseSchema):
    """A page of tasks; pass `next_cursor` as `cursor` for the next page."""

    items = ma.fields.List(ma.fields.Nested(TaskSchema), required=True)
    page_size = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)


class AdminTaskQuerySchema(PageArgsSchema):
    """Filters of the admin task queue."""

    status = ma.fields.Enum(TaskStatus, by_value=True, load_default=TaskStatus.PENDING_REVIEW)
