"""Bid schemas."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from marketplace.bids.inputs import BidChanges, BidProposal, MilestoneProposal
from marketplace.bids.models import BidStatus
from marketplace.contracts import actions
from marketplace.matching.explain import explain
from marketplace.matching.schemas import ExplanationSchema
from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.schemas import (
    AllowedActionsField,
    BaseSchema,
    MoneySchema,
    frozen_fields,
    require_some_field,
)


class MilestoneProposalSchema(BaseSchema):
    """A proposed milestone: what will be delivered, for how much, by when."""

    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))
    amount = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=1, max=10**12)
    )
    due_date = ma.fields.Date(load_default=None, allow_none=True)

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> MilestoneProposal:
        return MilestoneProposal(**data)


class StoredMilestoneSchema(BaseSchema):
    """A proposed milestone as stored with the bid (dates are ISO text)."""

    title = ma.fields.String()
    description = ma.fields.String()
    amount = ma.fields.Integer()
    due_date = ma.fields.String(allow_none=True, metadata={"format": "date"})


class BidInputSchema(BaseSchema):
    """A bid: the price (fixed, or hourly for hourly tasks), milestones, timeline, letter."""

    price = ma.fields.Nested(MoneySchema, required=True)
    milestones = ma.fields.List(
        ma.fields.Nested(MilestoneProposalSchema),
        load_default=list,
        validate=ma.validate.Length(max=20),
    )
    timeline_days = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=1, max=3650)
    )
    cover_letter = ma.fields.String(required=True, validate=ma.validate.Length(min=10, max=10_000))

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> Any:  # the PATCH override: BidChanges
        return BidProposal(**frozen_fields(data))


class BidUpdateSchema(BidInputSchema):
    """PATCH: any of the bid's fields, each given whole."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=tuple(BidInputSchema._declared_fields), **kwargs)

    @ma.pre_load
    def _not_empty(self, data: Any, **_: Any) -> Any:
        return require_some_field(data)

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> Any:
        return BidChanges(**frozen_fields(data))


class BidFitField(ma.fields.Nested):
    """How the bidder fits the task (overlap, shoring, skills, the price against the budget),
    worked out by the matching area when the bid is shown."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ExplanationSchema, **kwargs)

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        """The explanation of `obj` (a Bid), computed rather than read from an attribute."""
        return explain(obj.task, obj.provider_profile, price=obj.price)


class BidSchema(BaseSchema):
    """A bid as its bidder and the task's client see it."""

    id = ma.fields.UUID()
    task_id = ma.fields.UUID()
    provider_profile_id = ma.fields.UUID()
    provider_name = ma.fields.String()
    price = ma.fields.Nested(MoneySchema)
    milestones = ma.fields.List(ma.fields.Nested(StoredMilestoneSchema))
    timeline_days = ma.fields.Integer()
    cover_letter = ma.fields.String()
    status = ma.fields.Enum(BidStatus, by_value=True)
    decline_reason = ma.fields.String(allow_none=True)
    explanation = BidFitField()
    allowed_actions = AllowedActionsField(actions.BID_ACTIONS, actions.bid_actions)
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class BidQuerySchema(PageArgsSchema):
    """Filters of a task's bids."""

    status = ma.fields.Enum(BidStatus, by_value=True)


BidPageSchema = page_schema(BidSchema, "BidPage")
