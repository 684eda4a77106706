"""Matching schemas: explanations, matches, recommendations, coverage plans, invitations."""

from __future__ import annotations

import marshmallow as ma

from marketplace.bids.models import BidStatus
from marketplace.matching.invitations import InvitationStatus
from marketplace.pagination import page_schema
from marketplace.profiles.schemas import CounterpartyField, PublicProviderProfileSchema
from marketplace.schemas import BaseSchema
from marketplace.tasks.schemas import TaskSchema

SHORING_RULE = (
    "onshore: the provider is in the client's country; nearshore: another country whose "
    "UTC offset stays within 3 hours of the client's on every day of the task period; "
    "offshore: otherwise."
)
OVERLAP_RULE = (
    "Average hours per client working day, over the task's dates (start_date to deadline, "
    "or the next 28 days), that the provider's and the client's working hours (or the "
    "coverage window) share, computed with each zone's real daylight-saving rules."
)


class SkillFitSchema(BaseSchema):
    """A required skill, its minimum level and the provider's level (null: lacks it)."""

    slug = ma.fields.String()
    min_level = ma.fields.Integer()
    level = ma.fields.Integer(allow_none=True)


class ExplanationSchema(BaseSchema):
    """Why a provider fits a task."""

    overlap_hours = ma.fields.Float(metadata={"description": OVERLAP_RULE})
    shoring = ma.fields.String(
        metadata={"enum": ["onshore", "nearshore", "offshore"], "description": SHORING_RULE}
    )
    skills = ma.fields.List(ma.fields.Nested(SkillFitSchema))
    rate_fit = ma.fields.String(metadata={"enum": ["within", "below", "above", "unknown"]})


class ScorePartsSchema(BaseSchema):
    """The parts of a match score, each 0 to 1 (weights: see the README)."""

    skills = ma.fields.Float()
    timezone = ma.fields.Float()
    price = ma.fields.Float()
    record = ma.fields.Float()
    availability = ma.fields.Float()


class RecordInputSchema(BaseSchema):
    """One measured figure the record term used: its 0-1 value `x` (null when not shown),
    its samples `n`, and `shrunk`, (n * x + 5 * 0.6) / (n + 5)."""

    x = ma.fields.Float(allow_none=True)
    n = ma.fields.Integer()
    shrunk = ma.fields.Float()


class MatchExplanationSchema(ExplanationSchema):
    """Why a provider fits a task, with the parts of the score."""

    parts = ma.fields.Nested(ScorePartsSchema)
    record = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.Nested(RecordInputSchema),
        metadata={
            "description": "The measured figures the record part used (on_time_rate, "
            "completion_rate, rating, sla_attainment, disputes_lost); in matches only."
        },
    )


class MatchSchema(BaseSchema):
    """A provider ranked for a task."""

    provider = ma.fields.Nested(PublicProviderProfileSchema)
    score = ma.fields.Float(metadata={"description": "0 to 1; higher is a better fit."})
    explanation = ma.fields.Nested(MatchExplanationSchema)


class RecommendationSchema(BaseSchema):
    """An open task ranked for the signed-in provider."""

    task = ma.fields.Nested(TaskSchema)
    score = ma.fields.Float(metadata={"description": "0 to 1; higher is a better fit."})
    explanation = ma.fields.Nested(MatchExplanationSchema)


class PlanEntrySchema(BaseSchema):
    """A provider chosen for a coverage plan."""

    provider = ma.fields.Nested(PublicProviderProfileSchema)
    score = ma.fields.Float()
    covered_hours = ma.fields.Float(metadata={"description": "Window hours a week it adds."})


class IntervalSchema(BaseSchema):
    """A stretch of the window in the client's zone."""

    date = ma.fields.Date()
    day = ma.fields.String()
    start = ma.fields.String(metadata={"example": "17:00"})
    end = ma.fields.String(metadata={"example": "24:00"})


class CoveragePlanSchema(BaseSchema):
    """The providers who together cover the window, the share covered and the gaps."""

    providers = ma.fields.List(ma.fields.Nested(PlanEntrySchema))
    window_hours = ma.fields.Float(metadata={"description": "Hours a week in the window."})
    coverage_percent = ma.fields.Float()
    uncovered = ma.fields.List(ma.fields.Nested(IntervalSchema))
    week_of = ma.fields.Date(metadata={"description": "The Monday of the week planned."})


class TaskInvitationInputSchema(BaseSchema):
    """Providers (ids of provider profiles from the matches) to invite."""

    provider_ids = ma.fields.List(
        ma.fields.UUID(), required=True, validate=ma.validate.Length(min=1, max=20)
    )


class TaskInvitationSchema(BaseSchema):
    """An invitation to bid; the task shows its public fields only."""

    id = ma.fields.UUID()
    task = ma.fields.Nested(TaskSchema)
    provider_profile_id = ma.fields.UUID()
    counterparty = CounterpartyField(client="task.client_profile", provider="provider_profile")
    created_at = ma.fields.DateTime()


class InvitedBidSchema(BaseSchema):
    """The invited provider's latest bid on the task."""

    id = ma.fields.UUID(required=True)
    status = ma.fields.Enum(BidStatus, by_value=True, required=True)


class SentInvitationSchema(BaseSchema):
    """An invitation the task's client sent: whom, when, and what came of it."""

    id = ma.fields.UUID(required=True)
    task_id = ma.fields.UUID(required=True)
    provider_profile_id = ma.fields.UUID(required=True)
    provider_name = ma.fields.String(
        required=True, metadata={"description": "The firm's name, or the individual's."}
    )
    invited_by_id = ma.fields.UUID(required=True)
    created_at = ma.fields.DateTime(required=True)
    status = ma.fields.Enum(
        InvitationStatus,
        by_value=True,
        required=True,
        metadata={
            "description": "`invited`: no bid yet; `bid`: the provider bid on the task "
            "(see `bid`); `lapsed`: no bid, and the task is filled, closed, cancelled or "
            "expired."
        },
    )
    bid = ma.fields.Nested(InvitedBidSchema, allow_none=True, required=True)


class TaskInvitationListSchema(BaseSchema):
    """The invitations a request made or found."""

    items = ma.fields.List(ma.fields.Nested(TaskInvitationSchema), required=True)


MatchPageSchema = page_schema(MatchSchema, "MatchPage")
RecommendationPageSchema = page_schema(RecommendationSchema, "RecommendationPage")
TaskInvitationPageSchema = page_schema(TaskInvitationSchema, "TaskInvitationPage")
SentInvitationPageSchema = page_schema(SentInvitationSchema, "SentInvitationPage")
