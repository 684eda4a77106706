"""Helpers for matching tests: clients and providers placed in zones, tasks that need them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.catalog.models import Skill
from marketplace.extensions import db
from marketplace.profiles.models import ClientProfile, ProviderProfile, ProviderSkill
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Task
from tests.factories import ClientFactory, ProviderFactory, task_draft

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
EVERY_DAY = (*WEEKDAYS, "sat", "sun")


def hours(start: str, end: str, days: tuple[str, ...] = WEEKDAYS) -> dict[str, Any]:
    """The same shift on each of `days`."""
    return {day: [[start, end]] for day in days}


def client(zone: str, country: str | None, working: dict[str, Any] | None = None) -> User:
    """A client in `zone` and `country` working `working` (09-17 weekdays by default)."""
    user = ClientFactory(timezone=zone, country=country)
    profile = db.session.scalar(sa.select(ClientProfile).filter_by(user_id=user.id))
    assert profile is not None
    profile.working_hours = working or hours("09:00", "17:00")
    db.session.commit()
    return user


def provider(
    zone: str = "Asia/Manila",
    country: str | None = "PH",
    working: dict[str, Any] | None = None,
    skills: dict[str, tuple[int, int]] | None = None,
    **fields: Any,
) -> ProviderProfile:
    """A VA's profile; `skills` maps slugs to (level, years); other fields set as given."""
    user = ProviderFactory(timezone=zone, country=country)
    profile = db.session.scalar(sa.select(ProviderProfile).filter_by(user_id=user.id))
    assert profile is not None
    profile.working_hours = working or hours("09:00", "17:00")
    for name, value in fields.items():
        setattr(profile, name, value)
    for slug, (level, years) in (skills or {}).items():
        skill = db.session.scalar(sa.select(Skill).filter_by(slug=slug))
        profile.skills.append(ProviderSkill(skill=skill, level=level, years=years))
    db.session.commit()
    return profile


def open_task(owner: User, **overrides: Any) -> Task:
    """A published, open task of `owner` (the task draft of the factories, overridden)."""
    task = tasks.create_task(user=owner, draft=task_draft(**overrides))
    lifecycle.publish_task(user=owner, task_id=task.id, confirm_strategic=False)
    db.session.refresh(task)
    return task
