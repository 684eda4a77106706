"""Exact ranking: providers for a task, and tasks for a provider, best first.

Candidates come from SQL (marketplace.matching.candidates); here every part of the score
is computed exactly for each of them (overlap with the zone rules over the task's dates,
years of experience, the price against the budget), and they are sorted by score, then
id, so the order is total and stable from one page to the next.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.matching import candidates, scoring
from marketplace.matching.candidates import Candidate, Needs
from marketplace.matching.explain import period_of, rate_class
from marketplace.matching.index import availability_bits, experience_parts
from marketplace.matching.overlap import ClientPeriod
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks.models import BudgetType, Task


@dataclass(slots=True)
class Ranked:
    """One provider's exact standing against one task."""

    provider_id: uuid.UUID
    score: float
    parts: scoring.Parts
    shoring: str
    overlap_hours: float


@dataclass
class TaskView:
    """A task resolved for matching: SQL needs, the client's period, the hours wanted."""

    task: Task
    needs: Needs
    period: ClientPeriod

    def __post_init__(self) -> None:
        task = self.task
        self.required = [(s.skill.number, s.min_level) for s in task.skills]
        # Read once: ORM attribute reads cost a few microseconds a candidate otherwise.
        hourly = task.budget_type == BudgetType.HOURLY
        self.budget = (task.currency, task.budget_min, task.budget_max) if hourly else None
        self._shorings: dict[tuple[str | None, str], str] = {}

    @classmethod
    def of(cls, task: Task) -> TaskView:
        """Resolve a task's requirements once."""
        client = task.client_profile
        period = period_of(task)
        first, last, window = period.first, period.last, period.hours
        need = task.timezone_need or {}
        wanted = float(need["hours"]) if need.get("mode") == "overlap" else period.wanted_hours()
        needs = Needs(
            skills=[(s.skill.number, s.min_level) for s in task.skills],
            languages=list(task.languages),
            service_model=task.service_model.value if task.service_model else None,
            shoring=task.shoring.value,
            client_country=client.country,
            client_zone=client.timezone,
            first=first,
            last=last,
            currency=task.currency,
            budget=(
                (task.budget_min, task.budget_max)
                if task.budget_type == BudgetType.HOURLY
                else None
            ),
            mask=availability_bits(client.timezone, window, first)[0],
            wanted_hours=wanted,
            workdays_per_week=sum(1 for shifts in window.values() if shifts),
        )
        return cls(task=task, needs=needs, period=period)

    def shoring_of(self, country: str | None, zone: str) -> str:
        """The provider's shoring class relative to this task's client and period."""
        shoring = self._shorings.get((country, zone))
        if shoring is None:
            shoring = self._shorings[country, zone] = self.period.shoring(country, zone)
        return shoring

    @staticmethod
    def skills_of(experience: list[int] | None) -> dict[int, tuple[int, int]]:
        """(level, years) by skill number, from a row's `skill_experience`."""
        skills = {}
        for value in experience or ():
            number, level, years = experience_parts(value)
            skills[number] = (level, years)
        return skills

    def rank(self, row: Candidate, skills: dict[int, tuple[int, int]]) -> Ranked:
        """Score one provider exactly."""
        overlap = self.period.overlap_for(row.timezone, row.hours_json)
        if self.budget is None:
            amount, fit, price = None, "unknown", scoring.PRICE_UNKNOWN
        else:
            currency, low, high = self.budget
            amount = row.hourly_rate_amount
            fit = rate_class(amount, row.hourly_rate_currency, currency, low, high)
            price = round(scoring.price_fit(fit, amount, high), 4)
        parts = scoring.Parts(
            skills=scoring.skill_fit(
                [(level, *skills.get(number, (None, 0))) for number, level in self.required]
            ),
            timezone=round(scoring.timezone_fit(overlap, self.needs.wanted_hours), 4),
            price=price,
            record=row.record_score,
            availability=scoring.availability_fit(row.capacity_left),
        )
        return Ranked(
            provider_id=row.id,
            score=parts.total(),
            parts=parts,
            shoring=self.shoring_of(row.country, row.timezone),
            overlap_hours=overlap,
        )


def rank_providers(view: TaskView) -> list[Ranked]:
    """The task's candidates, scored exactly and sorted best first (ties by id)."""
    ranked = [
        view.rank(row, view.skills_of(row.skill_experience))
        for row in candidates.candidates(view.needs)
    ]
    return sorted(ranked, key=lambda r: (-r.score, r.provider_id))


def rank_tasks(provider: ProviderProfile, tasks: list[Task]) -> list[tuple[Task, Ranked]]:
    """Tasks (already past the SQL filters) that also pass shoring, scored for the provider."""
    row = sa.select(*candidates.LIGHT).where(ProviderProfile.id == provider.id)
    light = Candidate(*db.session.execute(row).one())
    skills = {s.skill.number: (s.level, s.years) for s in provider.skills}
    views: dict[tuple[Any, ...], TaskView] = {}
    result = []
    for task in tasks:
        # Tasks of one client with one window and period share the overlap computations.
        key = (task.client_profile_id, repr(task.timezone_need), task.start_date, task.deadline)
        if key not in views:
            views[key] = TaskView.of(task)
        view = TaskView(task=task, needs=views[key].needs, period=views[key].period)
        ranked = view.rank(light, skills)
        if task.shoring.value in ("any", ranked.shoring):
            result.append((task, ranked))
    return sorted(result, key=lambda pair: (-pair[1].score, pair[0].id))
