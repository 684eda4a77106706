"""Schemas of the measured record's endpoints."""

from __future__ import annotations

import marshmallow as ma

from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.record import events
from marketplace.record.models import SlaEventKind
from marketplace.schemas import BaseSchema

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
