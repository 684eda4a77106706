"""Schemas of the measured record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma

from marketplace.files.schemas import attached_files, file_ids
from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.record import events, reports
from marketplace.record.models import SlaEventKind, WorkReportStatus
from marketplace.schemas import BaseSchema

# Reviews ----------------------------------------------------------------------------------

#: The longest review text.
MAX_REVIEW_TEXT = 5_000
_PROVIDER_SUB_RATINGS = ("quality", "communication", "timeliness", "expertise")
_CLIENT_SUB_RATINGS = ("clarity", "responsiveness", "payment_promptness")


class RatingField(ma.fields.Integer):
    """A whole rating from 1 to 5 (not `true`, `4.5` or `"4"`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=ma.validate.Range(min=1, max=5), **kwargs)

    def _validated(self, value: Any) -> Any:
        if isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return super()._validated(value)


class ReviewInputSchema(BaseSchema):
    """One side's review of the other after the contract ended."""

    rating = RatingField(required=True, metadata={"description": "The overall rating, 1-5."})
    sub_ratings = ma.fields.Dict(
        keys=ma.fields.String(
            validate=ma.validate.OneOf([*_PROVIDER_SUB_RATINGS, *_CLIENT_SUB_RATINGS])
        ),
        values=RatingField(),
        required=True,
        metadata={
            "description": "Each 1-5, all required for your side and only those: the client "
            f"side rates the provider's {', '.join(_PROVIDER_SUB_RATINGS)}; the provider "
            f"side rates the client's {', '.join(_CLIENT_SUB_RATINGS)}."
        },
    )
    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=MAX_REVIEW_TEXT))

    @ma.validates("text")
    def _not_blank(self, value: str, **_: object) -> None:
        if not value.strip():
            raise ma.ValidationError("The review is empty.")


class ReviewSchema(BaseSchema):
    """A review of a contract as its reader sees it."""

    id = ma.fields.UUID(attribute="review.id", required=True)
    contract_id = ma.fields.UUID(attribute="review.contract_id", required=True)
    side = ma.fields.String(
        attribute="review.side",
        required=True,
        metadata={"description": "Who wrote it: `client` (of the provider) or `provider`."},
    )
    rating = ma.fields.Integer(attribute="review.rating", required=True)
    sub_ratings = ma.fields.Dict(
        attribute="review.sub_ratings", keys=ma.fields.String(), values=ma.fields.Integer()
    )
    text = ma.fields.String(attribute="review.text", required=True)
    created_at = ma.fields.DateTime(attribute="review.created_at", required=True)
    published = ma.fields.Boolean(
        required=True,
        metadata={"description": "False while hidden: only your own side's review is shown then."},
    )
    published_at = ma.fields.DateTime(
        allow_none=True,
        required=True,
        metadata={
            "description": "When both reviews were published (the second review's time), or "
            "the review window's close for a side that reviewed alone; null while hidden."
        },
    )


class ContractReviewsSchema(BaseSchema):
    """A contract's reviews: the published ones, and your side's hidden one."""

    items = ma.fields.List(ma.fields.Nested(ReviewSchema), required=True)
    window_closes_at = ma.fields.DateTime(
        allow_none=True,
        required=True,
        metadata={"description": "The end of the review window; null before the contract ends."},
    )


class ProviderReviewSchema(BaseSchema):
    """A published review of a provider by one of its clients."""

    id = ma.fields.UUID(attribute="review.id", required=True)
    rating = ma.fields.Integer(attribute="review.rating", required=True)
    sub_ratings = ma.fields.Dict(
        attribute="review.sub_ratings", keys=ma.fields.String(), values=ma.fields.Integer()
    )
    text = ma.fields.String(attribute="review.text", required=True)
    published_at = ma.fields.DateTime(required=True)
    reviewer_name = ma.fields.String(
        required=True, metadata={"description": "The client's company or name."}
    )
    task_title = ma.fields.String(required=True, metadata={"description": "The contract's task."})


class ReviewSummarySchema(BaseSchema):
    """The average and number of a provider's published reviews."""

    average_rating = ma.fields.Float(allow_none=True, required=True)
    count = ma.fields.Integer(required=True)


class ProviderReviewPageSchema(BaseSchema):
    """A page of a provider's published reviews, newest first, with their summary."""

    items = ma.fields.List(ma.fields.Nested(ProviderReviewSchema), required=True)
    page = ma.fields.Integer(required=True)
    page_size = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
    summary = ma.fields.Nested(
        ReviewSummarySchema,
        required=True,
        metadata={"description": "Over all the provider's published reviews, not this page's."},
    )


ProviderReviewQuerySchema = PageArgsSchema


# Work reports and changes ---------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _not_blank(value: str) -> None:
    """Text that says something: white space alone is refused."""
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


def _distinct(value: list[str]) -> None:
    """No text twice (ignoring case and surrounding white space)."""
    if len({text.strip().casefold() for text in value}) < len(value):
        raise ma.ValidationError("The same text is listed twice.")


def _count(**kwargs: Any) -> ma.fields.Integer:
    """A count of items: a whole number, never negative."""
    return ma.fields.Integer(
        strict=True, validate=ma.validate.Range(min=0, max=10_000_000), **kwargs
    )


class WorkReportInputSchema(BaseSchema):
    """The provider side's figures for one period (dates inclusive, in the client's zone).

    Completed items cannot exceed those received, nor items with errors or reworked those
    completed; `satisfaction_average` (1-5) is given exactly when there are responses."""

    period_start = ma.fields.Date(required=True)
    period_end = ma.fields.Date(
        required=True,
        metadata={"description": f"At most {reports.MAX_PERIOD_DAYS} days after the start."},
    )
    items_received = _count(required=True)
    items_completed = _count(required=True)
    items_with_errors = _count(load_default=0)
    items_reworked = _count(load_default=0)
    escalations = _count(load_default=0)
    satisfaction_responses = _count(load_default=0)
    satisfaction_average = ma.fields.Float(
        load_default=None, allow_none=True, validate=ma.validate.Range(min=1, max=5)
    )
    improvement_suggestions = ma.fields.List(
        ma.fields.String(validate=[ma.validate.Length(min=1, max=2000), _not_blank]),
        load_default=list,
        # Each counts towards the improvements KPI: a repeat would pad it.
        validate=[ma.validate.Length(max=50), _distinct],
        metadata={"description": "Each counts towards the improvements KPI: none twice."},
    )
    sop_adherence = ma.fields.Float(
        load_default=None,
        allow_none=True,
        validate=ma.validate.Range(min=0, max=1),
        metadata={"description": "Share (0-1) of items handled by the SOP; null: unmeasured."},
    )
    notes = ma.fields.String(load_default="", validate=ma.validate.Length(max=10_000))
    files = file_ids(
        "Ids of your uploads (`POST /files` with purpose `work_report`) to attach.",
        load_default=list,
    )

    @ma.post_load
    def _figures(self, data: dict[str, Any], **_: Any) -> reports.ReportFigures:
        data["improvement_suggestions"] = tuple(data["improvement_suggestions"])
        data["files"] = tuple(data["files"])
        return reports.ReportFigures(**data)


class WorkReportSchema(BaseSchema):
    """A work report and how it counts now."""

    id = ma.fields.UUID()
    contract_id = ma.fields.UUID()
    submitted_by_id = ma.fields.UUID()
    period_start = ma.fields.Date()
    period_end = ma.fields.Date()
    items_received = ma.fields.Integer()
    items_completed = ma.fields.Integer()
    items_with_errors = ma.fields.Integer()
    items_reworked = ma.fields.Integer()
    escalations = ma.fields.Integer()
    satisfaction_responses = ma.fields.Integer()
    satisfaction_average = ma.fields.Float(allow_none=True)
    improvement_suggestions = ma.fields.List(ma.fields.String())
    sop_adherence = ma.fields.Float(allow_none=True)
    notes = ma.fields.String()
    files = attached_files("The attached files.")
    status = ma.fields.Function(
        lambda report: reports.status_now(report).value,
        metadata={
            "type": "string",
            "enum": [s.value for s in WorkReportStatus],
            "description": "As it counts now: a report unanswered for "
            f"{reports.ANSWER_DAYS} days counts as confirmed.",
        },
    )
    auto_confirmed = ma.fields.Function(
        lambda report: reports.auto_confirmed(report),
        metadata={"type": "boolean", "description": "Confirmed for want of an answer."},
    )
    answer_due = ma.fields.Function(
        lambda report: _iso(reports.answer_due(report)),
        metadata={"type": "string", "format": "date-time"},
    )
    contest_reason = ma.fields.String(allow_none=True)
    answered_by_id = ma.fields.UUID(allow_none=True)
    answered_at = ma.fields.Function(
        lambda report: _iso(reports.answered_at(report)),
        metadata={"type": "string", "format": "date-time", "nullable": True},
    )
    created_at = ma.fields.DateTime()


class ContestSchema(BaseSchema):
    """Why the client contests a report's figures."""

    reason = ma.fields.String(
        required=True, validate=[ma.validate.Length(min=3, max=2000), _not_blank]
    )


class ChangeInputSchema(BaseSchema):
    """A policy, product or SOP change the client announces."""

    title = ma.fields.String(
        required=True, validate=[ma.validate.Length(min=3, max=200), _not_blank]
    )
    description = ma.fields.String(
        required=True, validate=[ma.validate.Length(min=1, max=10_000), _not_blank]
    )
    to_adopt = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(min=1, max=10_000), _not_blank],
        metadata={"description": "What the provider must adopt for the change to count."},
    )


class ChangeSchema(BaseSchema):
    """An announced change and how fast it was adopted."""

    id = ma.fields.UUID()
    contract_id = ma.fields.UUID()
    announced_by_id = ma.fields.UUID()
    title = ma.fields.String()
    description = ma.fields.String()
    to_adopt = ma.fields.String()
    files = attached_files("The attached files.")
    announced_at = ma.fields.DateTime()
    acknowledged_by_id = ma.fields.UUID(allow_none=True)
    acknowledged_at = ma.fields.DateTime(allow_none=True)
    adopted_by_id = ma.fields.UUID(allow_none=True)
    adopted_at = ma.fields.DateTime(allow_none=True)
    adoption_minutes = ma.fields.Integer(
        allow_none=True,
        metadata={"description": "Service minutes from announcement to adoption."},
    )
    learning_speed_hours = ma.fields.Float(
        metadata={"description": "The contract's target: service hours to adoption."}
    )


WorkReportPageSchema = page_schema(WorkReportSchema, "WorkReportPage")
ChangePageSchema = page_schema(ChangeSchema, "ChangePage")


# --- KPIs (GET /contracts/{id}/kpis) ---------------------------------------------------


class KpiPeriodSchema(BaseSchema):
    """A metric in one period (a week, a month or two weeks starting in the client's zone)."""

    period_start = ma.fields.Date(metadata={"description": "Its first day, in the client's zone."})
    actual = ma.fields.Float(allow_none=True)
    samples = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": ["met", "at_risk", "breached", "no_data"]})
    within_target = ma.fields.Float(
        allow_none=True,
        metadata={"description": "Responses only: the share of answers within the target."},
    )


class KpiSeries(ma.fields.List):
    """A KPI's periods, documented by `KpiPeriodSchema` and dumped without a schema per
    entry: a contract's KPIs hold hundreds of periods, and their values are plain already
    (numbers, strings and a date)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ma.fields.Nested(KpiPeriodSchema), **kwargs)

    def _serialize(
        self, value: list[Any] | None, attr: str | None, obj: Any, **kwargs: Any
    ) -> list[Any] | None:
        if value is None:
            return None
        return [{**entry, "period_start": entry["period_start"].isoformat()} for entry in value]


class KpiSchema(BaseSchema):
    """One KPI: its target from the terms, its actual value in the latest period with
    samples (durations in business minutes of the service hours), and its series."""

    key = ma.fields.String(
        metadata={
            "enum": [
                "first_response", "next_response", "turnaround", "on_time_rate",
                "rework_rate", "completion_rate", "error_rate", "csat", "improvements",
                "sop_adherence", "learning_speed",
            ]
        }
    )  # fmt: skip
    unit = ma.fields.String(metadata={"enum": ["business_minutes", "ratio", "score", "count"]})
    target = ma.fields.Float(allow_none=True)
    actual = ma.fields.Float(allow_none=True)
    samples = ma.fields.Integer()
    status = ma.fields.String(metadata={"enum": ["met", "at_risk", "breached", "no_data"]})
    period = ma.fields.String(metadata={"enum": ["week", "month", "two_weeks"]})
    period_start = ma.fields.Date(
        allow_none=True, metadata={"description": "The period `actual` is of."}
    )
    within_target = ma.fields.Float(allow_none=True)
    min_within_target = ma.fields.Float(allow_none=True)
    series = KpiSeries()


class KpisSchema(BaseSchema):
    """A contract's KPIs against the targets of its terms."""

    metrics = ma.fields.List(ma.fields.Nested(KpiSchema))


# --- end of KPIs -----------------------------------------------------------------------


# SLA events ---------------------------------------------------------------------------


class SlaEventQuerySchema(PageArgsSchema):
    """Filters of a contract's SLA events."""

    metric = ma.fields.String(validate=ma.validate.OneOf(events.METRICS))
    kind = ma.fields.Enum(SlaEventKind, by_value=True)


class SlaEventSchema(BaseSchema):
    """One SLA event: a clock of the contract passed 75 % of its target, passed it, or
    stopped after passing it."""

    id = ma.fields.UUID()
    contract_id = ma.fields.UUID()
    metric = ma.fields.String(
        metadata={
            "description": "`first_response`, `next_response`, `turnaround` or `learning_speed`."
        }
    )
    key = ma.fields.String(
        metadata={
            "description": "What the clock is about: a message id, `<milestone id>:"
            "<round>`, or a change id; with `metric`, one clock."
        }
    )
    kind = ma.fields.Enum(SlaEventKind, by_value=True)
    at = ma.fields.DateTime(
        metadata={
            "description": "When it happened (the clock passed the threshold, or "
            "stopped), not when it was seen."
        }
    )
    details = ma.fields.Dict(
        metadata={
            "description": "`target_minutes` and `started_at` of the clock; `minutes`: service "
            "minutes on the clock at `at`; what it is about (`message_id`, `milestone_id` and "
            "`round`, or `change_id`); `breaches_at` (at risk) or `stopped_at` (recovered)."
        }
    )
    created_at = ma.fields.DateTime(metadata={"description": "When it was recorded."})


SlaEventPageSchema = page_schema(SlaEventSchema, "SlaEventPage")


class SlaStatsSchema(BaseSchema):
    """SLA events across the marketplace, for the admins."""

    breaches_last_7_days = ma.fields.Integer(required=True)
    breaches_last_30_days = ma.fields.Integer(required=True)
    at_risk_last_7_days = ma.fields.Integer(required=True)
    recoveries_last_30_days = ma.fields.Integer(required=True)
    contracts_with_unrecovered_breach = ma.fields.Integer(
        required=True,
        metadata={"description": "Active or paused contracts with a breached clock still running."},
    )


# end of SLA events ---------------------------------------------------------------------


# --- The provider's record ------------------------------------------------------------
class RecordFigureSchema(BaseSchema):
    """One measured figure: `value` is null (and `shown` false) below 3 samples."""

    value = ma.fields.Float(allow_none=True)
    samples = ma.fields.Integer()
    shown = ma.fields.Boolean()


class RecordWindowSchema(BaseSchema):
    """The figures of one window (see `marketplace.record.standing` for each rule)."""

    on_time_rate = ma.fields.Nested(RecordFigureSchema, metadata={"description": "0-1"})
    rework_rate = ma.fields.Nested(
        RecordFigureSchema, metadata={"description": "Changes requested per submission."}
    )
    first_response_hours = ma.fields.Nested(
        RecordFigureSchema, metadata={"description": "Median, in the contracts' service hours."}
    )
    sla_attainment = ma.fields.Nested(
        RecordFigureSchema, metadata={"description": "Share of contract-weeks with no breach."}
    )
    completion_rate = ma.fields.Nested(RecordFigureSchema)
    disputes_opened = ma.fields.Nested(
        RecordFigureSchema, metadata={"description": "A count; samples are contracts started."}
    )
    disputes_lost = ma.fields.Nested(
        RecordFigureSchema,
        metadata={"description": "Resolved with more than half refunded to the client."},
    )
    rating = ma.fields.Nested(RecordFigureSchema, metadata={"description": "1-5"})
    pilots_converted = ma.fields.Nested(RecordFigureSchema)


class RecordWindowsSchema(BaseSchema):
    last_12_months = ma.fields.Nested(RecordWindowSchema, data_key="12m")
    all_time = ma.fields.Nested(RecordWindowSchema, data_key="all")


class ProviderRecordSchema(BaseSchema):
    """A provider's measured record, across its contracts."""

    provider_id = ma.fields.UUID()
    computed_at = ma.fields.DateTime(
        metadata={"description": "When the periodic job measured it (or now, if it has not)."}
    )
    min_samples = ma.fields.Integer(metadata={"description": "Figures show from this many."})
    windows = ma.fields.Nested(RecordWindowsSchema)
    score = ma.fields.Float(
        metadata={"description": "The record term of the match score, 0-1 (shrunk to a prior)."}
    )
