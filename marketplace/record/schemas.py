"""The measured record's schemas."""

from __future__ import annotations

import marshmallow as ma

from marketplace.schemas import BaseSchema

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
    series = ma.fields.List(ma.fields.Nested(KpiPeriodSchema))


class KpisSchema(BaseSchema):
    """A contract's KPIs against the targets of its terms."""

    metrics = ma.fields.List(ma.fields.Nested(KpiSchema))


# --- end of KPIs -----------------------------------------------------------------------
