"""Exact ranking: providers for a task, and tasks for a provider, best first.

Candidates come from SQL (marketplace.matching.candidates); here every part of the score
is computed exactly for each of them (overlap with the zone rules over the task's dates,
years of experience, the price against the budget), and they are sorted by score, then
id, so the order is total and stable from one page to the next.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.matching import candidates, scoring, timezones
from marketplace.matching.candidates import Needs
from marketplace.matching.explain import rate_fit, window_of
from marketplace.matching.index import availability_bits, experience_parts
from marketplace.matching.overlap import ClientPeriod
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks.models import BudgetType, Task


@dataclass
class Ranked:
    """One provider's exact standing against one task."""

    provider_id: uuid.UUID
    score: float
    parts: scoring.Parts
    shoring: str
    overlap_hours: float


@lru_cache(maxsize=65_536)
def _shoring(
    client_country: str | None, client_zone: str, country: str | None, zone: str, *period: date
) -> str:
    """`timezones.shoring`, remembered: a pure function of zones, countries and dates."""
    return timezones.shoring(
        client_country=client_country,
        client_zone=client_zone,
        provider_country=country,
        provider_zone=zone,
        first=period[0],
        last=period[1],
    )


@dataclass
class TaskView:
    """A task resolved for matching: SQL needs, the client's period, the hours wanted."""

    task: Task
    needs: Needs
    period: ClientPeriod

    def __post_init__(self) -> None:
        self.required = [(s.skill_id, s.min_level) for s in self.task.skills]
        self.numbers = {s.skill.number: s.skill_id for s in self.task.skills}

    @classmethod
    def of(cls, task: Task) -> TaskView:
        """Resolve a task's requirements once."""
        client = task.client_profile
        first, last = timezones.work_period(
            task.start_date, task.deadline, datetime.now(UTC).date()
        )
        window = window_of(task)
        period = ClientPeriod(zone=client.timezone, hours=window, first=first, last=last)
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
        client = self.task.client_profile
        return _shoring(client.country, client.timezone, country, zone, self.period.first,
                        self.period.last)  # fmt: skip

    def rank(self, row: Any, skills: dict[uuid.UUID, tuple[int, int]]) -> Ranked:
        """Score one provider (a row of the columns in `_LIGHT`) exactly."""
        task = self.task
        overlap = self.period.overlap_for(row.timezone, row.hours_json)
        amount = row.hourly_rate_amount if task.budget_type == BudgetType.HOURLY else None
        fit = rate_fit(task, amount, row.hourly_rate_currency)
        parts = scoring.Parts(
            skills=scoring.skill_fit(
                [(level, *skills.get(skill_id, (None, 0))) for skill_id, level in self.required]
            ),
            timezone=round(scoring.timezone_fit(overlap, self.needs.wanted_hours), 4),
            price=round(scoring.price_fit(fit, amount, task.budget_max), 4),
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
    ranked = []
    for row in candidates.candidates(view.needs):
        skills = {}
        for value in row.skill_experience or []:
            number, level, years = experience_parts(value)
            if number in view.numbers:
                skills[view.numbers[number]] = (level, years)
        ranked.append(view.rank(row, skills))
    return sorted(ranked, key=lambda r: (-r.score, r.provider_id))


def rank_tasks(provider: ProviderProfile, tasks: list[Task]) -> list[tuple[Task, Ranked]]:
    """Tasks (already past the SQL filters) that also pass shoring, scored for the provider."""
    row = sa.select(*candidates.LIGHT).where(ProviderProfile.id == provider.id)
    light = db.session.execute(row).one()
    skills = {s.skill_id: (s.level, s.years) for s in provider.skills}
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
