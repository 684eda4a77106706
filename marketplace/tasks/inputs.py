"""What the task services take: a draft to post, changes to make, and their parts
(conventions in marketplace.inputs)."""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from marketplace.hours import WorkingHours
from marketplace.inputs import UNSET, Unset
from marketplace.profiles.models import ServiceModel
from marketplace.tasks.models import BudgetType, Confidentiality, Shoring


@dataclass(frozen=True)
class RequiredSkill:
    """A skill a task needs (a catalog slug) and the minimum level, 1-5."""

    slug: str
    min_level: int = 1


@dataclass(frozen=True)
class Budget:
    """A fixed price or an hourly rate range, in minor units of `currency`."""

    type: BudgetType
    min: int
    max: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class Attachment:
    """An attachment's metadata (files themselves are stored elsewhere)."""

    name: str
    size: int
    content_type: str
    sha256: str

    def as_json(self) -> dict[str, Any]:
        """As the task's JSON column stores it."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class OverlapNeed:
    """At least `hours` (0-24) a day of overlap with the client's working hours."""

    hours: float

    def as_json(self) -> dict[str, Any]:
        """As the task's JSON column stores it."""
        return {"mode": "overlap", "hours": self.hours}


@dataclass(frozen=True)
class CoverageNeed:
    """Cover a weekly window of hours in the client's zone."""

    window: WorkingHours

    def as_json(self) -> dict[str, Any]:
        """As the task's JSON column stores it."""
        return {"mode": "coverage", "window": self.window}


TimezoneNeed = OverlapNeed | CoverageNeed


@dataclass(frozen=True, kw_only=True)
class TaskDraft:
    """A new task, as a client writes it."""

    title: str
    summary: str
    confidential_details: str = ""
    confidentiality: Confidentiality = Confidentiality.PUBLIC
    service_model: ServiceModel | None = None
    tier: int
    skills: tuple[RequiredSkill, ...]
    budget: Budget
    start_date: date | None = None
    deadline: date
    timezone_need: TimezoneNeed | None = None
    shoring: Shoring = Shoring.ANY
    languages: tuple[str, ...] = ()
    positions: int = 1
    trial: bool = False
    attachments: tuple[Attachment, ...] = ()
    confidential_files: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True, kw_only=True)
class TaskChanges:
    """An edit of a task: the fields given replace the task's (each one whole, e.g. the
    whole budget); UNSET ones stay."""

    title: str | Unset = UNSET
    summary: str | Unset = UNSET
    confidential_details: str | Unset = UNSET
    confidentiality: Confidentiality | Unset = UNSET
    service_model: ServiceModel | Unset | None = UNSET
    tier: int | Unset = UNSET
    skills: tuple[RequiredSkill, ...] | Unset = UNSET
    budget: Budget | Unset = UNSET
    start_date: date | Unset | None = UNSET
    deadline: date | Unset = UNSET
    timezone_need: TimezoneNeed | Unset | None = UNSET
    shoring: Shoring | Unset = UNSET
    languages: tuple[str, ...] | Unset = UNSET
    positions: int | Unset = UNSET
    trial: bool | Unset = UNSET
    attachments: tuple[Attachment, ...] | Unset = UNSET
    confidential_files: tuple[uuid.UUID, ...] | Unset = UNSET
