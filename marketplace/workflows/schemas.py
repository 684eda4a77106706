"""Request and response bodies of the workflow audit."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma

from marketplace.contracts.models import ContractStatus
from marketplace.contracts.schemas import SlaSchema
from marketplace.pagination import page_schema
from marketplace.profiles.models import ServiceModel
from marketplace.record.schemas import KpiSchema
from marketplace.reporting.roi import MAX_WORKFLOWS
from marketplace.schemas import (
    BaseSchema,
    MoneyField,
    MoneySchema,
    frozen_fields,
    require_some_field,
)
from marketplace.tasks.models import Shoring
from marketplace.workflows.inputs import AnswerChanges, WorkflowChanges, WorkflowDraft
from marketplace.workflows.market import MIN_PROVIDERS
from marketplace.workflows.models import MAX_HOURS_PER_WEEK, Level, TimeNeed
from marketplace.workflows.rules import QUESTIONS, TABLES, VA_MAX_HOURS

MAX_HOURS = Decimal(MAX_HOURS_PER_WEEK)
HUNDREDTH = Decimal("0.01")


class HoursPerWeekField(ma.fields.Field):
    """Hours a week, to the hundredth: above 0 (or from 0 with `zero=True`), at most
    MAX_HOURS_PER_WEEK (a team's work, not one person's)."""

    def __init__(
        self, *, zero: bool = False, about: str = "spent on it in house", **kwargs: Any
    ) -> None:
        self.zero = zero
        least = "0 or more" if zero else "more than 0"
        kwargs.setdefault(
            "metadata",
            {
                "type": "number",
                "minimum": 0,
                "exclusiveMinimum": not zero,
                "maximum": MAX_HOURS_PER_WEEK,
                "example": 12.5,
                "description": f"Hours a week {about}: {least}, at most "
                f"{MAX_HOURS_PER_WEEK:,} (a team's work), to the hundredth at most (12.25).",
            },
        )
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Decimal:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ma.ValidationError("A number of hours.")
        # A float as written (12.1, not its binary neighbour); NaN and infinities are refused.
        hours = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        if (
            not hours.is_finite()
            or hours < 0
            or (hours == 0 and not self.zero)
            or hours > MAX_HOURS
        ):
            least = "From 0" if self.zero else "More than 0"
            raise ma.ValidationError(f"{least} and at most {MAX_HOURS_PER_WEEK:,} hours a week.")
        if hours != hours.quantize(HUNDREDTH):
            raise ma.ValidationError("Give the hours to the hundredth at most (12.25).")
        return hours

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return None if value is None else float(value)


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("Must not be blank.")


def _asks(name: str) -> dict[str, str]:
    return {"description": f"{QUESTIONS[name]} Null: not answered yet."}


class WorkflowAnswersSchema(BaseSchema):
    """The decision test, as far as it is answered (null: not yet). On an edit, the
    answers sent replace those answers only; null clears one."""

    repeatable = ma.fields.Enum(Level, by_value=True, allow_none=True, metadata=_asks("repeatable"))
    error_risk = ma.fields.Enum(Level, by_value=True, allow_none=True, metadata=_asks("error_risk"))
    proprietary_data = ma.fields.Boolean(allow_none=True, metadata=_asks("proprietary_data"))
    brand_central = ma.fields.Boolean(allow_none=True, metadata=_asks("brand_central"))
    has_sop = ma.fields.Boolean(allow_none=True, metadata=_asks("has_sop"))
    time_need = ma.fields.Enum(
        TimeNeed, by_value=True, allow_none=True, metadata=_asks("time_need")
    )
    rule_based = ma.fields.Boolean(allow_none=True, metadata=_asks("rule_based"))

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> AnswerChanges:
        return AnswerChanges(**data)


class WorkflowInputSchema(BaseSchema):
    """A recurring workflow, as a client describes it for the audit."""

    name = ma.fields.String(
        required=True, validate=[ma.validate.Length(min=1, max=200), _not_blank]
    )
    description = ma.fields.String(load_default="", validate=ma.validate.Length(max=5000))
    hours_per_week = HoursPerWeekField(required=True)
    in_house_rate = ma.fields.Nested(
        MoneySchema,
        required=True,
        metadata={"description": "The fully loaded cost of an hour of it in house."},
    )
    skills = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(min=1, max=64)),
        load_default=list,
        validate=ma.validate.Length(max=30),
        metadata={
            "description": "Slugs of the skill catalog (`GET /skills`), at most 30, each "
            "once; an unknown slug is a 422 naming it. On an edit the list replaces the "
            "workflow's."
        },
    )
    answers = ma.fields.Nested(WorkflowAnswersSchema, load_default=AnswerChanges)
    hours_saved_per_week = HoursPerWeekField(
        zero=True,
        about="you have saved since handing it off (what `GET /clients/me/roi` shows next "
        "to the estimate); null: not reported",
        allow_none=True,
        load_default=None,
    )

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> Any:  # the PATCH override: changes
        return WorkflowDraft(**frozen_fields(data))


class WorkflowUpdateSchema(WorkflowInputSchema):
    """PATCH: any of the workflow's fields; the answers given change those answers only."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(partial=tuple(WorkflowInputSchema._declared_fields), **kwargs)

    @ma.pre_load
    def _not_empty(self, data: Any, **_: Any) -> Any:
        return require_some_field(data)

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> Any:
        return WorkflowChanges(**frozen_fields(data))


class WorkflowSchema(BaseSchema):
    """A workflow of the audit, as its client's people see it."""

    id = ma.fields.UUID()
    name = ma.fields.String()
    description = ma.fields.String()
    hours_per_week = HoursPerWeekField()
    in_house_rate = MoneyField(attribute="in_house_rate_amount", currency="in_house_rate_currency")
    skills = ma.fields.List(ma.fields.String(), metadata={"description": "Skill slugs."})
    answers = ma.fields.Nested(WorkflowAnswersSchema)
    hours_saved_per_week = HoursPerWeekField(zero=True, about="you report saving", allow_none=True)
    pilot = ma.fields.Nested(
        lambda: WorkflowPilotSchema(),
        allow_none=True,
        metadata={
            "description": "The pilot made from the recommendation "
            "(`POST /workflows/{id}/pilot`) and what followed: its task, the trial contract "
            "and the full contract that extends it; null before a pilot."
        },
    )
    created_at = ma.fields.DateTime()
    updated_at = ma.fields.DateTime()


class WorkflowStepSchema(BaseSchema):
    """A task or contract the workflow's pilot led to."""

    id = ma.fields.UUID()
    status = ma.fields.String()


class WorkflowPilotSchema(BaseSchema):
    """A workflow's pilot: its task, then the trial contract, then the extension."""

    task = ma.fields.Nested(WorkflowStepSchema)
    contract = ma.fields.Nested(WorkflowStepSchema, allow_none=True)
    extension = ma.fields.Nested(WorkflowStepSchema, allow_none=True)


WorkflowPageSchema = page_schema(WorkflowSchema, "WorkflowPage")


class WorkflowReasonSchema(BaseSchema):
    """One reason of a recommendation: what it decided, by which rule, in words."""

    about = ma.fields.String(
        metadata={"enum": [about for about, _ in TABLES], "description": "What it decided."}
    )
    rule = ma.fields.String(
        metadata={"description": "The rule's name (stable, for tests and analytics)."}
    )
    text = ma.fields.String()


class PercentilesSchema(BaseSchema):
    """Hourly rates in minor units: the 25th, 50th and 75th percentiles, and how many
    rates are behind them."""

    count = ma.fields.Integer()
    p25 = ma.fields.Integer()
    p50 = ma.fields.Integer()
    p75 = ma.fields.Integer()


class MarketRateSchema(BaseSchema):
    """What the platform's own data says the work costs an hour."""

    currency = ma.fields.String(metadata={"description": "The workflow's currency."})
    providers = ma.fields.Nested(
        PercentilesSchema,
        allow_none=True,
        metadata={
            "description": "The hourly rates of the providers the matching engine selects "
            "for it (skills, service model, shoring; at most 100); null with too few "
            f"(fewer than {MIN_PROVIDERS}), and `message` says so."
        },
    )
    accepted_bids = ma.fields.Nested(
        PercentilesSchema,
        allow_none=True,
        metadata={
            "description": "Rates of accepted hourly bids on past tasks that need one of "
            "its skills (and its service model or none); null without any."
        },
    )
    message = ma.fields.String(
        allow_none=True, metadata={"description": "Why there is no figure, if there is none."}
    )


def _money(description: str, **kwargs: Any) -> MoneyField:
    """An amount of the workflow's currency (read from the object's `currency`)."""
    return MoneyField(currency="currency", metadata={"description": description}, **kwargs)


class RoiMonthSchema(BaseSchema):
    """One month after the hand-off (at the median market rate)."""

    month = ma.fields.Integer(metadata={"description": "1 is the first month."})
    in_house = _money("The work's cost in house.")
    provider = _money("What the provider costs (the platform's fee included).")
    platform_fee = _money("The platform's fee, part of `provider` (not added).")
    management = _money("Your time handing work off and reviewing it, at the in-house rate.")
    rework = _money("Work redone in house: the quality dip of the first months.")
    saving = _money("in_house - (provider + management + rework).")


class SavingRangeSchema(BaseSchema):
    """A saving as a range: at the 75th percentile rate (low), the median, the 25th."""

    low = _money("At the 75th percentile of the market's rates.")
    expected = _money("At the median rate.")
    high = _money("At the 25th percentile.")


class RoiAssumptionsSchema(BaseSchema):
    """What the estimate assumes beyond the workflow's own figures."""

    management_share = ma.fields.Float(
        metadata={"description": "Share of the work's hours you spend managing it, later."}
    )
    onboarding_management_share = ma.fields.Float(
        metadata={"description": "The same share in the first months."}
    )
    rework_share = ma.fields.Float(
        metadata={"description": "Share of the work redone in house in the first months."}
    )
    onboarding_months = ma.fields.Integer(
        metadata={"description": "The first months (90 days: 3)."}
    )
    months = ma.fields.Integer()


class RoiSchema(BaseSchema):
    """The return of handing it off: in-house cost against the provider's, per month."""

    rate = _money("The hourly rate priced (the median).")
    in_house_monthly = _money("What it costs in house a month.")
    monthly_saving = _money("A month's saving once the first months are over.")
    payback_month = ma.fields.Integer(
        allow_none=True,
        metadata={
            "description": "The first month from which the savings so far are no longer "
            "negative; null when that never happens in the months shown."
        },
    )
    twelve_month = ma.fields.Nested(
        SavingRangeSchema,
        attribute="saving_range",
        metadata={"description": "The saving over the months shown."},
    )
    months = ma.fields.List(ma.fields.Nested(RoiMonthSchema), attribute="month_lines")
    assumptions = ma.fields.Nested(RoiAssumptionsSchema)


class PilotPlanSchema(BaseSchema):
    """The small first piece to hand off: one milestone, within the trial cap."""

    scope = ma.fields.String()
    hours = ma.fields.Integer(metadata={"description": "About how many hours of the work."})
    budget = MoneyField(attribute="budget", currency="currency")
    days = ma.fields.Integer(metadata={"description": "How long it runs."})


class WorkflowRecommendationSchema(BaseSchema):
    """Where the workflow belongs and why, from the audit's rule tables."""

    tier = ma.fields.Integer(
        metadata={
            "minimum": 1,
            "maximum": 4,
            "description": "1 strategic: keep it in house; 2 complex but not strategic: a "
            "specialist firm (KPO, or ITO for IT work); 3 standardised: a VA or a BPO; "
            "4 automate it.",
        }
    )
    reasons = ma.fields.List(
        ma.fields.Nested(WorkflowReasonSchema),
        metadata={
            "description": "Every rule that led to the tier, then to the service "
            "model and the shoring, in that order."
        },
    )
    service_model = ma.fields.Enum(
        ServiceModel,
        by_value=True,
        allow_none=True,
        metadata={
            "description": "Tier 2: `ito` when at least half of its skills are in the "
            "catalog's `it` category, else `kpo`; tier 3: `va` "
            f"under {VA_MAX_HOURS} hours a week, else `bpo`; null for tiers 1 and 4."
        },
    )
    shoring = ma.fields.String(
        allow_none=True,
        metadata={
            "enum": [Shoring.ONSHORE, Shoring.NEARSHORE, Shoring.OFFSHORE, None],
            "description": "Onshore for proprietary data or sensitive customer "
            "information, nearshore for live overlap, offshore for coverage of off-hours "
            "or for cost; null for tiers 1 and 4.",
        },
    )
    sla = ma.fields.Nested(
        SlaSchema,
        allow_none=True,
        metadata={
            "description": "The service levels to start with: the measured record's "
            "defaults for the service model; null without one."
        },
    )
    market_rate = ma.fields.Nested(
        MarketRateSchema,
        allow_none=True,
        metadata={"description": "Tiers 2 and 3: the market's hourly rates; else null."},
    )
    roi = ma.fields.Nested(
        RoiSchema,
        allow_none=True,
        metadata={
            "description": "Tiers 2 and 3 with enough providers to price it: the return "
            "of handing it off; else null."
        },
    )
    pilot = ma.fields.Nested(
        PilotPlanSchema,
        allow_none=True,
        metadata={
            "description": "Tiers 2 and 3: the pilot to begin with "
            "(`POST /workflows/{id}/pilot` makes its draft trial task); else null."
        },
    )


# The realised return (`GET /clients/me/roi`) -------------------------------------------


class RealisedKpiSchema(KpiSchema):
    """One KPI of a contract as the measured record serves it, without its series (the
    periods are at `GET /contracts/{id}/kpis`)."""

    class Meta(BaseSchema.Meta):
        exclude = ("series",)


class RealisedKpisSchema(BaseSchema):
    """A contract's KPIs against the targets of its terms, their current figures."""

    metrics = ma.fields.List(ma.fields.Nested(RealisedKpiSchema), required=True)


class RealisedContractSchema(BaseSchema):
    """A contract of the workflow's pilot task: what the client spent on it and how it
    measures up."""

    id = ma.fields.UUID(required=True)
    status = ma.fields.Enum(ContractStatus, by_value=True, required=True)
    pilot = ma.fields.Boolean(
        required=True,
        metadata={"description": "True for the pilot, false for the full contract extending it."},
    )
    spend = _money(
        "From the ledger: paid into the contract's escrow, less what was returned to the "
        "client (refunds, the client's share of a dispute's resolution).",
        required=True,
    )
    kpis = ma.fields.Nested(
        RealisedKpisSchema,
        allow_none=True,
        required=True,
        metadata={
            "description": "The measured record's KPIs of the contract (as "
            "`GET /contracts/{id}/kpis`, without the series); null for a contract never "
            "accepted."
        },
    )


class RealisedEstimateSchema(BaseSchema):
    """What the audit's recommendation expected the workflow to save."""

    monthly_saving = _money("The expected saving a month, once steady.", required=True)
    twelve_month = ma.fields.Nested(
        SavingRangeSchema,
        required=True,
        metadata={"description": "The saving over the first twelve months."},
    )


class RealisedWorkflowSchema(BaseSchema):
    """One workflow: the estimate next to what happened (money in minor units of
    `currency`, the currency of its in-house rate)."""

    workflow_id = ma.fields.UUID(required=True)
    name = ma.fields.String(required=True)
    currency = ma.fields.String(
        required=True,
        metadata={"description": "The currency of the in-house rate, and of every figure."},
    )
    in_house_monthly = _money(
        "What it costs in house a month: hours_per_week x in_house_rate x 52 / 12, "
        "rounded half up.",
        required=True,
    )
    hours_saved_per_week = HoursPerWeekField(
        zero=True, about="you report saving", allow_none=True, required=True
    )
    estimate = ma.fields.Nested(
        RealisedEstimateSchema,
        allow_none=True,
        required=True,
        metadata={"description": "What the audit expected; null while it is not computed."},
    )
    contracts = ma.fields.List(
        ma.fields.Nested(RealisedContractSchema),
        required=True,
        metadata={
            "description": "The contracts of its pilot task, oldest first: the pilot, then "
            "the full contract; empty without a pilot or before its first contract."
        },
    )
    spend = _money("The sum of its contracts' spend.", required=True)
    realised_monthly_saving = _money(
        "What the saved hours (the hours you report saving, else hours_per_week) cost in "
        "house a month, less the average monthly spend over the months its work was with "
        "a provider (from its first funding to the month its last contract ended, or to "
        "now while one runs), rounded half up; null without spend. Negative: it costs more "
        "than it saves so far.",
        allow_none=True,
        required=True,
    )


class RealisedMonthSchema(BaseSchema):
    """One month of one currency, across the workflows with spend in it."""

    month = ma.fields.String(
        required=True, metadata={"example": "2027-01", "description": "A UTC month."}
    )
    currency = ma.fields.String(required=True)
    baseline = _money(
        "What the saved hours of the workflows handed off this month cost in house a "
        "month (each rounded half up).",
        required=True,
    )
    spend = _money("The month's spend of their contracts.", required=True)
    saving = _money("baseline - spend (negative: a net cost).", required=True)


class ClientRoiSchema(BaseSchema):
    """The realised return of your workflows: per workflow, and month by month."""

    workflows = ma.fields.List(
        ma.fields.Nested(RealisedWorkflowSchema),
        required=True,
        metadata={"description": f"Your workflows, newest first, at most {MAX_WORKFLOWS}."},
    )
    series = ma.fields.List(
        ma.fields.Nested(RealisedMonthSchema),
        required=True,
        metadata={
            "description": "Per currency, every month from the earliest with spend to the "
            "current one, sorted by currency and month: a chart's data."
        },
    )
