"""What the contract services and flows take: award and pilot terms, SLA targets and
amendments (conventions in marketplace.inputs)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from marketplace.bids.inputs import MilestoneProposal
from marketplace.inputs import UNSET, Money, Unset, given_values


@dataclass(frozen=True, kw_only=True)
class SlaTargets:
    """Service-level targets that override the service model's defaults; UNSET ones don't."""

    first_response_hours: float | Unset = UNSET
    turnaround_hours: float | Unset = UNSET
    max_error_rate: float | Unset = UNSET
    max_rework_rate: float | Unset = UNSET
    coverage_hours: float | Unset = UNSET  # a week
    next_response_hours: float | Unset = UNSET
    learning_speed_hours: float | Unset = UNSET
    min_response_within_target: float | Unset = UNSET
    min_on_time_rate: float | Unset = UNSET
    min_completion_rate: float | Unset = UNSET
    min_csat: float | Unset = UNSET
    min_improvements_per_month: float | Unset = UNSET
    min_sop_adherence: float | Unset = UNSET

    def as_json(self) -> dict[str, float]:
        """The targets given, as a terms version records them."""
        return given_values(self)


@dataclass(frozen=True, kw_only=True)
class ServiceHoursChange:
    """New service hours for the SLA clocks: a weekly schedule (validated as
    `marketplace.hours` describes it) in an IANA zone."""

    zone: str
    hours: dict[str, list[list[str]]]

    def as_json(self) -> dict[str, Any]:
        """As a terms version records it (`source` says an amendment set them)."""
        return {"zone": self.zone, "hours": self.hours, "source": "amendment"}


@dataclass(frozen=True, kw_only=True)
class AwardTerms:
    """What the client sets when accepting a bid; no milestones means the bid's."""

    milestones: tuple[MilestoneProposal, ...] | None = None
    deliverables: tuple[str, ...] = ()
    sla: SlaTargets = field(default_factory=SlaTargets)
    #: An hourly contract's weekly limit (None: HOURLY_DEFAULT_WEEKLY_LIMIT).
    weekly_limit_hours: int | None = None


@dataclass(frozen=True, kw_only=True)
class PilotTerms:
    """The full contract that follows a completed pilot: new milestones, terms and scope."""

    milestones: tuple[MilestoneProposal, ...]
    deliverables: tuple[str, ...] = ()
    sla: SlaTargets = field(default_factory=SlaTargets)
    scope_summary: str | None = None


@dataclass(frozen=True, kw_only=True)
class MilestoneChange:
    """A change to an unfunded milestone; UNSET fields stay."""

    id: uuid.UUID
    title: str | Unset = UNSET
    description: str | Unset = UNSET
    amount: int | Unset = UNSET
    due_date: date | Unset | None = UNSET
    #: The currency the request named for `amount` (see MilestoneProposal); not stored.
    currency: str | Unset = UNSET

    def as_json(self) -> dict[str, Any]:
        """As an amendment's JSON column stores it (ids and dates as text)."""
        stored = given_values(self)
        stored.pop("currency", None)
        stored["id"] = str(self.id)
        if isinstance(self.due_date, date):
            stored["due_date"] = self.due_date.isoformat()
        return stored

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> MilestoneChange:
        """The change `as_json` stored."""
        fields: dict[str, Any] = {**stored, "id": uuid.UUID(stored["id"])}
        if fields.get("due_date"):
            fields["due_date"] = date.fromisoformat(fields["due_date"])
        return cls(**fields)


@dataclass(frozen=True, kw_only=True)
class MilestonePlan:
    """Milestones to add, change or cancel (only unfunded ones change or go)."""

    add: tuple[MilestoneProposal, ...] = ()
    change: tuple[MilestoneChange, ...] = ()
    cancel: tuple[uuid.UUID, ...] = ()

    def as_json(self) -> dict[str, Any]:
        """As an amendment's JSON column stores it."""
        return {
            "add": [item.as_json() for item in self.add],
            "change": [item.as_json() for item in self.change],
            "cancel": [str(milestone_id) for milestone_id in self.cancel],
        }

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> MilestonePlan:
        """The plan `as_json` stored."""
        return cls(
            add=tuple(MilestoneProposal.from_json(item) for item in stored.get("add", [])),
            change=tuple(MilestoneChange.from_json(item) for item in stored.get("change", [])),
            cancel=tuple(uuid.UUID(milestone_id) for milestone_id in stored.get("cancel", [])),
        )


@dataclass(frozen=True, kw_only=True)
class AmendmentChanges:
    """What an amendment changes; UNSET parts of the terms stay."""

    scope_summary: str | Unset = UNSET
    sla: SlaTargets | Unset = UNSET
    deliverables: tuple[str, ...] | Unset = UNSET
    milestones: MilestonePlan | Unset = UNSET
    service_hours: ServiceHoursChange | Unset = UNSET
    #: An hourly contract's new rate: it prices every week invoiced after the acceptance.
    hourly_rate: Money | Unset = UNSET

    def as_json(self) -> dict[str, Any]:
        """As the amendment's JSON column stores it, and its readers see it."""
        stored: dict[str, Any] = {}
        if self.hourly_rate is not UNSET:
            stored["hourly_rate"] = dataclasses.asdict(self.hourly_rate)
        if self.scope_summary is not UNSET:
            stored["scope_summary"] = self.scope_summary
        if self.sla is not UNSET:
            stored["sla"] = self.sla.as_json()
        if self.deliverables is not UNSET:
            stored["deliverables"] = list(self.deliverables)
        if self.milestones is not UNSET:
            stored["milestones"] = self.milestones.as_json()
        if self.service_hours is not UNSET:
            stored["service_hours"] = {
                "zone": self.service_hours.zone,
                "hours": self.service_hours.hours,
            }
        return stored

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> AmendmentChanges:
        """The changes `as_json` stored."""
        return cls(
            hourly_rate=Money(**stored["hourly_rate"]) if "hourly_rate" in stored else UNSET,
            scope_summary=stored.get("scope_summary", UNSET),
            sla=SlaTargets(**stored["sla"]) if "sla" in stored else UNSET,
            deliverables=tuple(stored["deliverables"]) if "deliverables" in stored else UNSET,
            milestones=(
                MilestonePlan.from_json(stored["milestones"]) if "milestones" in stored else UNSET
            ),
            service_hours=(
                ServiceHoursChange(**stored["service_hours"])
                if "service_hours" in stored
                else UNSET
            ),
        )
