"""The providers on a page of matches, read as plain rows: two Core queries, no entities.

A page shows what `PublicProviderProfileSchema` dumps of each provider, and the
explanation reads the skills and the rate. Loading `ProviderProfile` entities with their
skill rows, skills and owners for that took longer than ranking a hundred candidates, so
a page reads rows into `ProviderCard`s, which dump the same (a test compares them).
Aggregating the skills as JSON into the first query saved nothing: PostgreSQL then runs a
subquery per profile.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.catalog.models import Skill
from marketplace.database import is_postgresql
from marketplace.extensions import db
from marketplace.matching import pool
from marketplace.organizations.models import Organization
from marketplace.profiles.models import (
    ProviderProfile,
    ProviderSkill,
    ServiceModel,
    VerificationStatus,
)

_P, _S, _K = ProviderProfile.__table__, ProviderSkill.__table__, Skill.__table__
_U, _O = User.__table__, Organization.__table__
_PUBLIC = (
    "id", "organization_id", "service_model", "headline", "bio", "hourly_rate_amount",
    "hourly_rate_currency", "languages", "timezone", "country", "working_hours",
    "capacity_hours_per_week", "verification_status", "created_at", "updated_at",
)  # fmt: skip


@lru_cache(maxsize=2)
def _statements(pg: bool) -> tuple[sa.Select[Any], sa.Select[Any]]:
    """The page's profiles with their owners' names, and their skills."""
    profiles = (
        sa.select(
            *(_P.c[name] for name in _PUBLIC),
            # As `ProviderProfile.display_name`: the firm's name, else the individual's.
            sa.func.coalesce(_O.c.name, _U.c.name, "").label("display_name"),
        )
        .select_from(
            _P.outerjoin(_U, _U.c.id == _P.c.user_id).outerjoin(_O, _O.c.id == _P.c.organization_id)
        )
        .where(pool.any_of(pg, _P.c.id, "ids", sa.Uuid()))
    )
    skills = (
        sa.select(_S.c.profile_id, _S.c.skill_id, _K.c.slug, _K.c.name, _S.c.level, _S.c.years)
        .join(_K, _K.c.id == _S.c.skill_id)
        .where(pool.any_of(pg, _S.c.profile_id, "ids", sa.Uuid()))
        .order_by(_S.c.id)  # as `ProviderProfile.skills`
    )
    return profiles, skills


@dataclass
class SkillCard:
    """A skill as `ProviderSkill` shows it."""

    skill_id: uuid.UUID
    slug: str
    name: str
    level: int
    years: int


@dataclass
class ProviderCard:
    """A provider's public fields, as `ProviderProfile` has them."""

    id: uuid.UUID
    organization_id: uuid.UUID | None
    service_model: ServiceModel
    headline: str
    bio: str
    hourly_rate_amount: int | None
    hourly_rate_currency: str | None
    languages: list[str]
    timezone: str
    country: str | None
    working_hours: dict[str, Any]
    capacity_hours_per_week: int
    verification_status: VerificationStatus
    created_at: datetime
    updated_at: datetime
    display_name: str
    skills: list[SkillCard] = field(default_factory=list)

    @property
    def kind(self) -> str:
        """`individual` or `firm`, as `ProviderProfile.kind`."""
        return "firm" if self.organization_id else "individual"

    @property
    def hourly_rate(self) -> dict[str, Any] | None:
        """The rate as money, or None, as `ProviderProfile.hourly_rate`."""
        if self.hourly_rate_amount is None:
            return None
        return {"amount": self.hourly_rate_amount, "currency": self.hourly_rate_currency}


def cards(ids: list[uuid.UUID]) -> dict[uuid.UUID, ProviderCard]:
    """The cards of these providers, by id."""
    if not ids:
        return {}
    profiles, skills = _statements(is_postgresql())
    found = {
        row.id: ProviderCard(**row._asdict())
        for row in db.session.execute(profiles, {"ids": ids}).all()
    }
    for profile_id, *skill in db.session.execute(skills, {"ids": ids}).all():
        found[profile_id].skills.append(SkillCard(*skill))
    return found
