"""Contract schemas."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from marketplace.bids.schemas import MilestoneProposalSchema
from marketplace.contracts import actions
from marketplace.contracts import terms as contract_terms
from marketplace.contracts.inputs import (
    AmendmentChanges,
    AwardTerms,
    MilestoneChange,
    MilestonePlan,
    PilotTerms,
    ServiceHoursChange,
    SlaTargets,
)
from marketplace.contracts.models import (
    AmendmentStatus,
    ContractStatus,
    MilestoneKind,
    MilestoneStatus,
)
from marketplace.hours import WorkingHoursField
from marketplace.inputs import given
from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.profiles.schemas import CounterpartyField, PartySchema
from marketplace.schemas import (
    AllowedActionsField,
    AmountSchema,
    BaseSchema,
    MoneyField,
    MoneySchema,
    TimezoneField,
    frozen_fields,
    require_some_field,
)
from marketplace.tasks.schemas import TaskSummarySchema, current_reader


class SlaSchema(BaseSchema):
    """Service-level targets (defaults per service model; each may be overridden)."""

    first_response_hours = ma.fields.Float(
        validate=ma.validate.Range(min=0, max=720, min_inclusive=False),
        metadata={"description": "Service hours, more than 0."},
    )
    turnaround_hours = ma.fields.Float(
        validate=ma.validate.Range(min=0, max=8760, min_inclusive=False),
        metadata={"description": "Service hours, more than 0."},
    )
    max_error_rate = ma.fields.Float(validate=ma.validate.Range(min=0, max=1))
    max_rework_rate = ma.fields.Float(validate=ma.validate.Range(min=0, max=1))
    coverage_hours = ma.fields.Float(
        validate=ma.validate.Range(min=0, max=168), metadata={"description": "Hours a week."}
    )
    next_response_hours = ma.fields.Float(
        validate=ma.validate.Range(min=0, max=720, min_inclusive=False),
        metadata={"description": "Service hours, more than 0."},
    )
    learning_speed_hours = ma.fields.Float(
        validate=ma.validate.Range(min=0, max=8760, min_inclusive=False),
        metadata={"description": "Service hours, more than 0."},
    )
    min_response_within_target = ma.fields.Float(
        validate=ma.validate.Range(min=0, max=1),
        metadata={"description": "Share of first and next responses within their target."},
    )
    min_on_time_rate = ma.fields.Float(validate=ma.validate.Range(min=0, max=1))
    min_completion_rate = ma.fields.Float(validate=ma.validate.Range(min=0, max=1))
    min_csat = ma.fields.Float(validate=ma.validate.Range(min=1, max=5))
    min_improvements_per_month = ma.fields.Float(validate=ma.validate.Range(min=0, max=1000))
    min_sop_adherence = ma.fields.Float(validate=ma.validate.Range(min=0, max=1))

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> SlaTargets:
        return SlaTargets(**data)


class ServiceHoursSchema(BaseSchema):
    """The weekly hours the SLA clocks run in, in one IANA zone."""

    zone = TimezoneField(required=True)
    hours = WorkingHoursField(required=True)

    @ma.validates_schema
    def _some_hours(self, data: dict[str, Any], **_: Any) -> None:
        if "hours" in data and not data["hours"]:
            raise ma.ValidationError("Give at least one shift.", "hours")

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> ServiceHoursChange:
        return ServiceHoursChange(**data)


class AwardSchema(BaseSchema):
    """Accepting a bid: optionally edited milestones, deliverables and SLA overrides."""

    milestones = ma.fields.List(
        ma.fields.Nested(MilestoneProposalSchema), validate=ma.validate.Length(min=1, max=20)
    )
    deliverables = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=500)),
        load_default=list,
        validate=ma.validate.Length(max=50),
    )
    sla = ma.fields.Nested(SlaSchema, load_default=SlaTargets)
    weekly_limit_hours = ma.fields.Integer(
        validate=ma.validate.Range(min=1, max=168),
        metadata={
            "description": "Hourly contracts only: the most hours billed a week (default 40); "
            "time logged beyond it is recorded, never billed."
        },
    )

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> Any:  # ExtendSchema's override: PilotTerms
        return AwardTerms(**frozen_fields(data))


class ExtendSchema(AwardSchema):
    """The full contract that follows a pilot: new milestones, terms and scope."""

    class Meta(AwardSchema.Meta):
        exclude = ("weekly_limit_hours",)

    milestones = ma.fields.List(
        ma.fields.Nested(MilestoneProposalSchema),
        required=True,
        validate=ma.validate.Length(min=1, max=50),
    )
    scope_summary = ma.fields.String(validate=ma.validate.Length(min=10, max=5000))

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> Any:
        return PilotTerms(**frozen_fields(data))


class MilestoneSchema(BaseSchema):
    """A milestone of a contract."""

    id = ma.fields.UUID()
    task = ma.fields.Nested(
        TaskSummarySchema,
        attribute="contract.task",
        metadata={"description": "The task of the milestone's contract."},
    )
    counterparty = CounterpartyField(
        client="contract.client_profile", provider="contract.provider_profile"
    )
    position = ma.fields.Integer()
    kind = ma.fields.Enum(
        MilestoneKind,
        by_value=True,
        metadata={
            "description": "`work` (the parties move it), or an hourly contract's `hours` "
            "(an invoice's money) or `bonus`, which the marketplace moves."
        },
    )
    title = ma.fields.String()
    description = ma.fields.String()
    amount = MoneyField(MoneySchema)
    due_date = ma.fields.Date(allow_none=True)
    status = ma.fields.Enum(MilestoneStatus, by_value=True)
    revisions = ma.fields.Integer(metadata={"description": "Times the client asked for changes."})
    funded_at = ma.fields.DateTime(allow_none=True)
    submitted_at = ma.fields.DateTime(allow_none=True)
    auto_release_at = ma.fields.DateTime(
        allow_none=True,
        metadata={"description": "When a submitted milestone is released without an answer."},
    )
    released_amount = MoneyField(metadata={"description": "Released to the provider."})
    refunded_amount = MoneyField(metadata={"description": "Refunded to the client."})
    allowed_actions = AllowedActionsField(actions.MILESTONE_ACTIONS, actions.milestone_actions)


class ContractMilestoneSchema(MilestoneSchema):
    """A milestone within its contract, which names the task and the parties once."""

    class Meta(MilestoneSchema.Meta):
        exclude = ("task", "counterparty")


class ContractAmountsSchema(BaseSchema):
    """What a contract is worth and where its money is, summed from its milestones."""

    total = ma.fields.Nested(
        AmountSchema, metadata={"description": "The milestones' sum, cancelled ones left out."}
    )
    funded = ma.fields.Nested(
        AmountSchema,
        metadata={"description": "Paid into escrow so far (refunded money included)."},
    )
    released = ma.fields.Nested(
        AmountSchema, metadata={"description": "Released to the provider so far, before the fee."}
    )
    refunded = ma.fields.Nested(
        AmountSchema, metadata={"description": "Returned to the client so far."}
    )
    in_escrow = ma.fields.Nested(AmountSchema, metadata={"description": "Held in escrow now."})


class MilestoneListItemSchema(MilestoneSchema):
    """A milestone in the list of the user's milestones: with its contract and task."""

    contract_id = ma.fields.UUID(required=True)
    task_id = ma.fields.UUID(attribute="contract.task_id", required=True)
    task_title = ma.fields.String(attribute="contract.task.title", required=True)


class MilestoneQuerySchema(PageArgsSchema):
    """Filters of the user's milestones."""

    status = ma.fields.List(
        ma.fields.Enum(MilestoneStatus, by_value=True),
        validate=ma.validate.Length(max=len(MilestoneStatus)),
        metadata={"description": "Only milestones in these statuses (repeat it: any of them)."},
    )
    due_after = ma.fields.Date(
        metadata={"description": "Only milestones due on or after this date (YYYY-MM-DD)."}
    )
    due_before = ma.fields.Date(
        metadata={"description": "Only milestones due on or before this date (YYYY-MM-DD)."}
    )
    contract_id = ma.fields.UUID(metadata={"description": "Only this contract's milestones."})

    @ma.validates_schema
    def _dates_in_order(self, data: dict[str, Any], **_: Any) -> None:
        after, before = data.get("due_after"), data.get("due_before")
        if after is not None and before is not None and after > before:
            raise ma.ValidationError("due_after is after due_before.", "due_after")


class TermsContentField(ma.fields.Dict):
    """A terms version's content. Its scope carries the task's confidential material, so
    the content is dumped only through the contract terms service: disclosed (the read is
    logged in the task's access log) or, with `withhold=True`, without that material."""

    def __init__(self, *, withhold: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.withhold = withhold

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        if obj is None:
            return None
        if self.withhold:
            return contract_terms.withheld_content(obj)
        return contract_terms.disclosed_content(obj, reader=current_reader())


class TermsVersionSchema(BaseSchema):
    """One version of the agreed terms, with the hash that proves it unchanged."""

    version = ma.fields.Integer()
    content = TermsContentField(
        metadata={
            "description": "What was agreed. `scope.confidential_details` and "
            "`scope.attachments` are the task's confidential material as of this version: "
            "every answer that carries them is a read in the task's access log."
        }
    )
    content_hash = ma.fields.String()
    created_by_id = ma.fields.UUID()
    created_at = ma.fields.DateTime()


class ContractSchema(BaseSchema):
    """A contract as its parties see it, with the terms in force."""

    id = ma.fields.UUID()
    task_id = ma.fields.UUID()
    bid_id = ma.fields.UUID(allow_none=True)
    client_profile_id = ma.fields.UUID()
    provider_profile_id = ma.fields.UUID()
    task = ma.fields.Nested(TaskSummarySchema, metadata={"description": "The contract's task."})
    client = ma.fields.Nested(
        PartySchema, attribute="client_profile", metadata={"description": "The client side."}
    )
    provider = ma.fields.Nested(
        PartySchema, attribute="provider_profile", metadata={"description": "The provider side."}
    )
    counterparty = CounterpartyField(client="client_profile", provider="provider_profile")
    amounts = ma.fields.Nested(
        ContractAmountsSchema,
        metadata={"description": "What the contract is worth and where its money is now."},
    )
    pilot_of_id = ma.fields.UUID(allow_none=True)
    status = ma.fields.Enum(ContractStatus, by_value=True)
    terms_version = ma.fields.Integer()
    current_terms = ma.fields.Nested(TermsVersionSchema)
    milestones = ma.fields.List(ma.fields.Nested(ContractMilestoneSchema))
    offer_expires_at = ma.fields.DateTime(allow_none=True)
    accepted_at = ma.fields.DateTime(allow_none=True)
    ended_at = ma.fields.DateTime(allow_none=True)
    end_reason = ma.fields.String(allow_none=True)
    allowed_actions = AllowedActionsField(actions.CONTRACT_ACTIONS, actions.contract_actions)
    created_at = ma.fields.DateTime()


class ListedTermsVersionSchema(TermsVersionSchema):
    """A terms version in a list: its confidential material withheld (null)."""

    content = TermsContentField(
        withhold=True,
        metadata={
            "description": "What was agreed, with `scope.confidential_details` and "
            "`scope.attachments` withheld (null): read the contract to see them."
        },
    )


class ListedContractSchema(ContractSchema):
    """A contract in a list: the confidential material of its terms is withheld, so that
    listing contracts is no read of it."""

    current_terms = ma.fields.Nested(ListedTermsVersionSchema)


class ContractQuerySchema(PageArgsSchema):
    """Filters of the contract list."""

    status = ma.fields.Enum(ContractStatus, by_value=True)


class MilestoneChangeSchema(BaseSchema):
    """A change to an unfunded milestone."""

    id = ma.fields.UUID(required=True)
    title = ma.fields.String(validate=ma.validate.Length(min=1, max=200))
    description = ma.fields.String(validate=ma.validate.Length(max=5000))
    amount = ma.fields.Nested(MoneySchema, metadata={"description": "In the contract's currency."})
    due_date = ma.fields.Date(allow_none=True)

    @ma.validates_schema
    def _changes_something(self, data: dict[str, Any], **_: Any) -> None:
        if set(data) <= {"id"}:
            raise ma.ValidationError("Say what changes in the milestone.")

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> MilestoneChange:
        if "amount" in data:
            money = data.pop("amount")
            data.update(amount=money.amount, currency=money.currency)
        return MilestoneChange(**data)


class MilestonePlanSchema(BaseSchema):
    """Milestones to add, change or cancel (only unfunded ones change or go)."""

    add = ma.fields.List(
        ma.fields.Nested(MilestoneProposalSchema),
        load_default=list,
        validate=ma.validate.Length(max=20),
    )
    change = ma.fields.List(
        ma.fields.Nested(MilestoneChangeSchema),
        load_default=list,
        validate=ma.validate.Length(max=50),
    )
    cancel = ma.fields.List(
        ma.fields.UUID(), load_default=list, validate=ma.validate.Length(max=50)
    )

    @ma.validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not (data.get("add") or data.get("change") or data.get("cancel")):
            raise ma.ValidationError("Add, change or cancel at least one milestone.")

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> MilestonePlan:
        return MilestonePlan(**frozen_fields(data))


class AmendmentChangesSchema(BaseSchema):
    """What an amendment changes."""

    scope_summary = ma.fields.String(validate=ma.validate.Length(min=10, max=5000))
    sla = ma.fields.Nested(SlaSchema)
    deliverables = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=500)),
        validate=ma.validate.Length(max=50),
    )
    milestones = ma.fields.Nested(MilestonePlanSchema)
    service_hours = ma.fields.Nested(ServiceHoursSchema)
    hourly_rate = ma.fields.Nested(
        MoneySchema,
        metadata={
            "description": "An hourly contract's new rate, in its currency: it prices every "
            "week invoiced after the amendment is accepted."
        },
    )

    @ma.pre_load
    def _not_empty(self, data: Any, **_: Any) -> Any:
        return require_some_field(data)

    @ma.validates_schema
    def _sla_not_empty(self, data: dict[str, Any], **_: Any) -> None:
        if "sla" in data and not given(data["sla"]):
            raise ma.ValidationError("Give at least one SLA target to change.", "sla")

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> AmendmentChanges:
        return AmendmentChanges(**frozen_fields(data))


class AmendmentInputSchema(BaseSchema):
    """A proposed amendment."""

    changes = ma.fields.Nested(AmendmentChangesSchema, required=True)
    note = ma.fields.String(load_default="", validate=ma.validate.Length(max=2000))


class AmendmentChangesField(ma.fields.Dict):
    """An amendment's stored changes, each milestone amount as money in the contract's
    currency (the JSON column keeps minor units only)."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        """The changes of `obj` (an Amendment) with `{"amount", "currency"}` amounts."""
        changes = obj.changes
        plan = changes.get("milestones")
        if not plan:
            return changes
        currency = obj.contract.task.currency

        def money(item: dict[str, Any]) -> dict[str, Any]:
            if "amount" not in item:
                return item
            return {**item, "amount": {"amount": item["amount"], "currency": currency}}

        plan = {
            **plan,
            "add": [money(item) for item in plan.get("add", [])],
            "change": [money(item) for item in plan.get("change", [])],
        }
        return {**changes, "milestones": plan}


class AmendmentSchema(BaseSchema):
    """An amendment and what became of it."""

    id = ma.fields.UUID()
    contract_id = ma.fields.UUID()
    proposed_by_id = ma.fields.UUID()
    proposer_side = ma.fields.String()
    base_version = ma.fields.Integer()
    changes = AmendmentChangesField(
        metadata={"description": "As proposed; milestone amounts in the contract's currency."}
    )
    note = ma.fields.String()
    status = ma.fields.Enum(AmendmentStatus, by_value=True)
    expires_at = ma.fields.DateTime()
    new_version = ma.fields.Integer(allow_none=True)
    end_reason = ma.fields.String(
        allow_none=True, metadata={"description": "Why it was declined or withdrawn."}
    )
    created_at = ma.fields.DateTime()


class EndSchema(BaseSchema):
    """Why a contract ends."""

    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=2000))


ContractPageSchema = page_schema(ListedContractSchema, "ContractPage")
AmendmentPageSchema = page_schema(AmendmentSchema, "AmendmentPage")
MilestoneListPageSchema = page_schema(MilestoneListItemSchema, "MilestoneListPage")
TermsPageSchema = page_schema(TermsVersionSchema, "TermsPage")


class PilotStatsSchema(BaseSchema):
    """How pilots convert into full contracts."""

    completed_pilots = ma.fields.Integer(required=True)
    converted = ma.fields.Integer(required=True)
