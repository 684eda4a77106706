"""Reading the skill taxonomy."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

import sqlalchemy as sa
from flask import current_app

from marketplace.catalog.models import Skill
from marketplace.errors import BusinessRuleViolation
from marketplace.extensions import db
from marketplace.pagination import Page, page_size_for

#: Where an app keeps its catalog (`app.extensions`).
CATALOG = "marketplace.catalog"


@dataclass(frozen=True, slots=True)
class CatalogSkill:
    """A skill of the taxonomy as the catalog lists it."""

    id: uuid.UUID
    slug: str
    name: str
    category: str


@dataclass(frozen=True)
class Catalog:
    """The taxonomy as a process read it: its skills by category then name, and a version
    that names their content (it changes whenever any skill does)."""

    skills: tuple[CatalogSkill, ...]
    version: str

    @classmethod
    def of(cls, skills: tuple[CatalogSkill, ...]) -> Catalog:
        """The catalog of these skills."""
        content = "\n".join(f"{s.id} {s.slug} {s.category} {s.name}" for s in skills)
        return cls(skills, hashlib.sha256(content.encode()).hexdigest()[:32])


def catalog() -> Catalog:
    """The skill catalog, read from the database once per app.

    The taxonomy is reference data that only a data migration changes, and a release's
    migrations run before its processes start, so what a process read stays true for its
    whole life: a new taxonomy arrives with the processes of the release that brings it.
    """
    found: Catalog | None = current_app.extensions.get(CATALOG)
    if found is None:
        rows = db.session.execute(
            sa.select(Skill.id, Skill.slug, Skill.name, Skill.category).order_by(
                Skill.category, Skill.name, Skill.id
            )
        )
        found = current_app.extensions[CATALOG] = Catalog.of(tuple(CatalogSkill(*r) for r in rows))
    return found


def skill_page(*, category: str | None = None, page: int = 1, page_size: int | None = None) -> Page:
    """One page of the catalog, of one category if given."""
    skills = catalog().skills
    if category:
        skills = tuple(skill for skill in skills if skill.category == category)
    size = page_size_for(page_size)
    start = (page - 1) * size
    return Page(
        items=list(skills[start : start + size]), page=page, page_size=size, total=len(skills)
    )


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
