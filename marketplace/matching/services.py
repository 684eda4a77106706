"""Matching services: ranked matches, recommended tasks, coverage plans, invitations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, lazyload, load_only, selectinload

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.catalog.models import Skill
from marketplace.errors import BusinessRuleViolation, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.matching import cards, coverage, pool, ranking, scoring
from marketplace.matching.cards import ProviderCard
from marketplace.matching.explain import explain
from marketplace.matching.ranking import Ranked, TaskView
from marketplace.pagination import Page, page_size_for
from marketplace.profiles.models import ClientProfile, ProviderProfile, ProviderSkill
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Task, TaskLanguage, TaskSkill
from marketplace.tasks.states import TASK_STATES


@dataclass
class Match:
    """A provider ranked for a task (or a task ranked for a provider), with the reasons."""

    provider: ProviderProfile | ProviderCard
    task: Task
    ranked: Ranked

    @property
    def score(self) -> float:
        """The match score, 0 to 1."""
        return self.ranked.score

    @property
    def explanation(self) -> dict[str, Any]:
        """Overlap, shoring, skill levels, rate fit, the parts of the score, and the record
        figures its record term used (for a page of matches)."""
        fit = (self.ranked.shoring, self.ranked.overlap_hours)
        explained = {**explain(self.task, self.provider, fit=fit)}
        explained["parts"] = self.ranked.parts.as_dict()
        if isinstance(self.provider, ProviderCard):
            explained["record"] = scoring.record_inputs(self.provider.record_figures or {})
        return explained


_USER = sa.bindparam("user_id", type_=sa.Uuid())
#: The client profile the user acts for, in the query that loads the task.
_ACTING_PROFILE = permissions.acting_client_profile_id(_USER)
_TASK_FIELDS = (
    Task.client_profile_id, Task.status, Task.service_model, Task.shoring, Task.budget_type,
    Task.budget_min, Task.budget_max, Task.currency, Task.start_date, Task.deadline,
    Task.timezone_need,
)  # fmt: skip
#: The task with what matching reads of it (the rest loads if asked for), and who may read
#: its matches: one query.
_TASK = (
    sa.select(Task, _ACTING_PROFILE.label("acting_profile_id"))
    .where(Task.id == sa.bindparam("task_id", type_=sa.Uuid()))
    .options(
        load_only(*_TASK_FIELDS),
        joinedload(Task.client_profile).load_only(
            ClientProfile.timezone, ClientProfile.country, ClientProfile.working_hours
        ),
        joinedload(Task.skills)
        .load_only(TaskSkill.skill_id, TaskSkill.min_level)
        .joinedload(TaskSkill.skill)
        .load_only(Skill.number, Skill.slug),
        joinedload(Task.language_rows),
    )
)


def matchable_task(*, user: User, task_id: uuid.UUID) -> Task:
    """A task whose matches the user may read: its client's people and admins only (as
    `tasks.is_owner` says, in the query that loads the task)."""
    row = db.session.execute(_TASK, {"task_id": task_id, "user_id": user.id}).unique().first()
    if row is None:
        raise NotFound("Task not found.")
    task, acting_profile_id = row
    if not (
        user.is_admin or (user.role == Role.CLIENT and acting_profile_id == task.client_profile_id)
    ):
        raise NotFound("Task not found.")
    return task


def _page_of(ranked: list[Any], page: int, page_size: int | None) -> tuple[list[Any], int, int]:
    size = page_size_for(page_size)
    start = (page - 1) * size
    return ranked[start : start + size], size, len(ranked)


def _profiles(ids: list[uuid.UUID]) -> dict[uuid.UUID, ProviderProfile]:
    found = db.session.scalars(
        sa.select(ProviderProfile)
        .where(pool.one_of(ProviderProfile.id, ids))
        .options(
            selectinload(ProviderProfile.skills),
            # The page shows the name; the user's membership is not needed.
            selectinload(ProviderProfile.user).options(
                load_only(User.id, User.name), lazyload(User.membership)
            ),
        )
    )
    return {p.id: p for p in found}


def matches(*, user: User, task_id: uuid.UUID, page: int = 1, page_size: int | None = None) -> Page:
    """Providers who pass every hard filter, best first (at most `MAX_CANDIDATES`)."""
    task = matchable_task(user=user, task_id=task_id)
    ranked = ranking.rank_providers(TaskView.of(task))
    items, size, total = _page_of(ranked, page, page_size)
    found = cards.cards([r.provider_id for r in items])
    return Page(
        items=[Match(provider=found[r.provider_id], task=task, ranked=r) for r in items],
        page=page,
        page_size=size,
        total=total,
    )


def _open_tasks_for(provider: ProviderProfile) -> sa.Select[Task]:
    """Open tasks whose skills, languages and service model the provider meets (SQL)."""
    lacking_skill = sa.select(TaskSkill.id).where(
        TaskSkill.task_id == Task.id,
        ~sa.exists().where(
            ProviderSkill.profile_id == provider.id,
            ProviderSkill.skill_id == TaskSkill.skill_id,
            ProviderSkill.level >= TaskSkill.min_level,
        ),
    )
    lacking_language = sa.select(TaskLanguage.task_id).where(
        TaskLanguage.task_id == Task.id, TaskLanguage.code.not_in(provider.languages or [])
    )
    return sa.select(Task).where(
        Task.status.in_(TASK_STATES.guards["bid"]),  # tasks open to bids
        tasks.poster_is_active_clause(),
        ~sa.exists(lacking_skill),
        ~sa.exists(lacking_language),
        sa.or_(Task.service_model.is_(None), Task.service_model == provider.service_model),
    )


def recommended_tasks(*, user: User, page: int = 1, page_size: int | None = None) -> Page:
    """Open tasks the signed-in provider (or their firm) matches, best first."""
    if user.role != Role.PROVIDER:
        raise Forbidden("Only providers get recommended tasks.")
    provider = permissions.acting_provider_profile(user)
    found: list[Task] = []
    if provider.matchable and provider.capacity_left > 0:
        found = list(db.session.scalars(_open_tasks_for(provider)))
    ranked = ranking.rank_tasks(provider, found)
    items, size, total = _page_of(ranked, page, page_size)
    return Page(
        items=[Match(provider=provider, task=task, ranked=r) for task, r in items],
        page=page,
        page_size=size,
        total=total,
    )


def coverage_plan(*, user: User, task_id: uuid.UUID) -> coverage.Plan:
    """A small set of matching providers who together cover a coverage task's window."""
    task = matchable_task(user=user, task_id=task_id)
    need = task.timezone_need or {}
    if need.get("mode") != "coverage":
        raise BusinessRuleViolation(
            "Coverage plans are for tasks that need a weekly window covered.",
            details={"timezone_need": ['The task\'s time-zone need is not "coverage".']},
        )
    view = TaskView.of(task)
    ranked = ranking.rank_providers(view)
    found = _profiles([r.provider_id for r in ranked])
    return coverage.plan(
        window=need["window"],
        zone=task.client_profile.timezone,
        first=view.period.first,
        ranked=[(found[r.provider_id], r.score) for r in ranked],
    )
