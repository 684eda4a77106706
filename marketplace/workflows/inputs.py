"""What the workflow services take: a workflow to record, and changes to make
(conventions in marketplace.inputs)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from marketplace.inputs import UNSET, Money, Unset
from marketplace.workflows.models import Level, TimeNeed


@dataclass(frozen=True, kw_only=True)
class AnswerChanges:
    """Answers of the decision test to set: a value answers, None clears an answer, UNSET
    (left out) keeps what was answered before. A new workflow takes them over no answers."""

    repeatable: Level | Unset | None = UNSET
    error_risk: Level | Unset | None = UNSET
    proprietary_data: bool | Unset | None = UNSET
    brand_central: bool | Unset | None = UNSET
    has_sop: bool | Unset | None = UNSET
    time_need: TimeNeed | Unset | None = UNSET
    rule_based: bool | Unset | None = UNSET


@dataclass(frozen=True, kw_only=True)
class WorkflowDraft:
    """A new workflow, as a client describes it."""

    name: str
    description: str = ""
    hours_per_week: Decimal
    in_house_rate: Money
    skills: tuple[str, ...] = ()
    answers: AnswerChanges = field(default_factory=AnswerChanges)
    hours_saved_per_week: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class WorkflowChanges:
    """An edit of a workflow: the fields given replace the workflow's (the skills as a
    whole list, the rate as a whole amount); the answers given replace those answers only."""

    name: str | Unset = UNSET
    description: str | Unset = UNSET
    hours_per_week: Decimal | Unset = UNSET
    in_house_rate: Money | Unset = UNSET
    skills: tuple[str, ...] | Unset = UNSET
    answers: AnswerChanges | Unset = UNSET
    hours_saved_per_week: Decimal | Unset | None = UNSET
