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
from marketplace.profiles.schemas import CounterpartyField
from marketplace.schemas import (
    AllowedActionsField,
    BaseSchema,
    MoneyField,
    MoneySchema,
    frozen_fields,
    require_some_field,
)
from marketplace.tasks.schemas import TaskSummarySchema
from marketplace.tasks.states import TaskStatus


class MilestoneProposalSchema(BaseSchema):
    """A proposed milestone: what will be delivered, for how much, by when."""

    title = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))
    amount = ma.fields.Nested(
        MoneySchema,
        required=True,
        metadata={"description": "In the currency of the bid's price (or the contract's)."},
    )
    due_date = ma.fields.Date(load_default=None, allow_none=True)

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> MilestoneProposal:
        money = data.pop("amount")
        return MilestoneProposal(**data, amount=money.amount, currency=money.currency)


class StoredMilestoneSchema(BaseSchema):
    """A proposed milestone as stored with the bid (dates are ISO text)."""

    title = ma.fields.String()
    description = ma.fields.String()
    amount = MoneyField(MoneySchema)
    due_date = ma.fields.String(allow_none=True, metadata={"format": "date"})


class StoredMilestonesField(ma.fields.List):
    """The bid's milestones, each amount in the bid's currency (the JSON column keeps
    minor units only)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ma.fields.Nested(StoredMilestoneSchema), **kwargs)

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        """The stored milestones of `obj` (a Bid) with its price's currency."""
        return [{**stored, "currency": obj.price_currency} for stored in obj.milestones]


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
    task = ma.fields.Nested(TaskSummarySchema, metadata={"description": "The task bid on."})
    counterparty = CounterpartyField(client="task.client_profile", provider="provider_profile")
    price = ma.fields.Nested(MoneySchema)
    milestones = StoredMilestonesField()
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


class BidTaskSchema(BaseSchema):
    """The task a bid is on, as a list of bids names it."""

    id = ma.fields.UUID(required=True)
    title = ma.fields.String(required=True)
    status = ma.fields.Enum(TaskStatus, by_value=True, required=True)


class BidListItemSchema(BidSchema):
    """A bid in the provider's list of its bids: the bid with its task's id, title and
    status. The fit (`explanation`) is left to the bid's own page, `GET /bids/{id}`."""

    class Meta(BaseSchema.Meta):
        exclude = ("explanation",)

    task = ma.fields.Nested(BidTaskSchema, required=True)


class MyBidQuerySchema(PageArgsSchema):
    """Filters of the provider's bids."""

    status = ma.fields.List(
        ma.fields.Enum(BidStatus, by_value=True),
        validate=ma.validate.Length(max=len(BidStatus)),
        metadata={"description": "Only bids in these statuses (repeat it: any of them)."},
    )
    task_id = ma.fields.UUID(metadata={"description": "Only your bids on this task."})


BidListPageSchema = page_schema(BidListItemSchema, "BidListPage")
