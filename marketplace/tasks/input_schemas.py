"""Task input schemas: per-field and cross-field rules; they load into TaskDraft and
TaskChanges (marketplace.tasks.inputs)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from marketplace.hours import WORKING_HOURS_SCHEMA, validate_working_hours
from marketplace.profiles.models import ServiceModel
from marketplace.schemas import (
    BaseSchema,
    CurrencyField,
    frozen_fields,
    require_some_field,
    validate_language,
)
from marketplace.tasks.inputs import (
    Attachment,
    Budget,
    CoverageNeed,
    OverlapNeed,
    RequiredSkill,
    TaskChanges,
    TaskDraft,
)
from marketplace.tasks.models import BudgetType, Confidentiality, Shoring
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
                "properties": {
                    "mode": {"type": "string", "enum": ["overlap", "coverage"]},
                    "hours": {
                        "type": "number",
                        "minimum": 0,
                        "exclusiveMinimum": True,
                        "maximum": 24,
                    },
                    "window": WORKING_HOURS_SCHEMA,
                },
                "required": ["mode"],
                "additionalProperties": False,
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
            return OverlapNeed(hours)
        if set(value) != {"mode", "window"}:
            raise ma.ValidationError('Coverage needs a "window" of weekly hours and nothing else.')
        window = validate_working_hours(value["window"])
        if not window:
            raise ma.ValidationError("The coverage window is empty.")
        return CoverageNeed(window)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


class TaskSkillSchema(BaseSchema):
    """A required skill and its minimum level."""

    slug = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    min_level = ma.fields.Integer(load_default=1, strict=True, validate=ma.validate.Range(1, 5))

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> RequiredSkill:
        return RequiredSkill(**data)


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

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> Budget:
        return Budget(**data)


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
    confidential_files = ma.fields.List(
        ma.fields.UUID(),
        load_default=list,
        validate=ma.validate.Length(max=50),
        metadata={
            "description": "Ids of your uploads (`POST /files` with purpose `task`) that belong to "
            "the confidential material: read, like the details, only by those who may read "
            "them, every download logged. On an edit the list replaces the task's; a file "
            "once attached stays the task's. An unknown id or someone else's file is a 422."
        },
    )

    @ma.validates_schema
    def _cross_field_rules(self, data: dict[str, Any], partial: Any = None, **_: Any) -> None:
        if partial:
            return  # the service checks the merged task instead
        errors = check_task_rules(
            start_date=data["start_date"],
            deadline=data["deadline"],
            trial=data["trial"],
            budget=data["budget"],
            changed=set(data),
        )
        if errors:
            raise ma.ValidationError(errors)

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> Any:  # the PATCH override: TaskChanges
        return TaskDraft(**_typed_fields(data))


class TaskUpdateSchema(TaskInputSchema):
    """PATCH: any subset of the task's fields (each one given whole, e.g. the whole budget)."""

    def __init__(self, **kwargs: Any) -> None:
        # Only the top-level fields become optional; a budget or skill still needs all its parts.
        super().__init__(partial=tuple(TaskInputSchema._declared_fields), **kwargs)

    @ma.pre_load
    def _not_empty(self, data: Any, **_: Any) -> Any:
        return require_some_field(data)

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> Any:
        return TaskChanges(**_typed_fields(data))


def _typed_fields(data: dict[str, Any]) -> dict[str, Any]:
    # AttachmentSchema loads plain dicts: payments' DeliverableSchema extends it.
    fields = frozen_fields(data)
    if "attachments" in fields:
        fields["attachments"] = tuple(Attachment(**item) for item in fields["attachments"])
    return fields
