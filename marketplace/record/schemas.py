"""The measured record's payloads."""

from __future__ import annotations

import marshmallow as ma

from marketplace.schemas import BaseSchema


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
