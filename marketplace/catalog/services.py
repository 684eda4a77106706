"""Reading the skill taxonomy."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Protocol, TypeVar

import sqlalchemy as sa

from marketplace.catalog.models import Skill
from marketplace.errors import BusinessRuleViolation
from marketplace.extensions import db


def skills_query(*, category: str | None = None) -> sa.Select[Skill]:
    """Skills ordered by category then name."""
    stmt = sa.select(Skill).order_by(Skill.category, Skill.name, Skill.id)
    if category:
        stmt = stmt.where(Skill.category == category)
    return stmt


def skills_by_slug(slugs: Iterable[str], *, field: str = "skills") -> dict[str, Skill]:
    """Map slugs to skills; any unknown slug is a 422 naming it."""
    wanted = set(slugs)
    found = {s.slug: s for s in db.session.scalars(sa.select(Skill).where(Skill.slug.in_(wanted)))}
    unknown = sorted(wanted - found.keys())
    if unknown:
        raise BusinessRuleViolation(
            "Unknown skills.", details={field: [f"Unknown skill: {slug}" for slug in unknown]}
        )
    return found


class Slugged(Protocol):
    """Anything naming a skill by its slug (a task's required skill, a provider's skill)."""

    @property
    def slug(self) -> str: ...


S = TypeVar("S", bound=Slugged)


def resolve_skill_list(items: Sequence[S], *, field: str = "skills") -> list[tuple[Skill, S]]:
    """Pair each item with the skill its slug names; duplicates and unknown slugs are 422s."""
    slugs = [item.slug for item in items]
    if len(slugs) != len(set(slugs)):
        raise BusinessRuleViolation(
            "A skill is listed twice.", details={field: ["Each skill may appear once."]}
        )
    known = skills_by_slug(slugs, field=field)
    return [(known[item.slug], item) for item in items]
