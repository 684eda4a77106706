"""The providers on a page of matches, read as plain rows: one Core query, no entities.

A page shows what `PublicProviderProfileSchema` dumps of each provider, and the
explanation reads the skills, the rate and the stored record's figures (one outer join).
Loading `ProviderProfile` entities with their skill rows, skills and owners for that took
longer than ranking a hundred candidates, so a page reads rows into `ProviderCard`s, which
dump the same (a test compares them). The skills come with their profile, aggregated as
JSON in a grouped subquery (a subquery per profile would run twenty times): one statement
and one round trip fewer than reading them apart, which matters most on a busy machine.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from operator import itemgetter
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
from marketplace.record.models import ProviderRecord

_P, _S, _K = ProviderProfile.__table__, ProviderSkill.__table__, Skill.__table__
_U, _O = User.__table__, Organization.__table__
_R = ProviderRecord.__table__
_PUBLIC = (
    "id", "organization_id", "service_model", "headline", "bio", "hourly_rate_amount",
    "hourly_rate_currency", "languages", "timezone", "country", "working_hours",
    "capacity_hours_per_week", "verification_status", "created_at", "updated_at",
)  # fmt: skip


@lru_cache(maxsize=2)
def _statement(pg: bool) -> sa.Select[Any]:
    """The page's profiles with their owners' names and their skills (unordered: JSON
    aggregates keep no order on SQLite)."""
    array, aggregate = (
        (sa.func.json_build_array, sa.func.json_agg)
        if pg
        else (sa.func.json_array, sa.func.json_group_array)
    )
    skill = array(_S.c.id, _S.c.skill_id, _K.c.slug, _K.c.name, _S.c.level, _S.c.years)
    skills = (
        sa.select(_S.c.profile_id, aggregate(skill).label("skills"))
        .join(_K, _K.c.id == _S.c.skill_id)
        .where(pool.any_of(pg, _S.c.profile_id, "ids", sa.Uuid()))
        .group_by(_S.c.profile_id)
        .subquery()
    )
    return (
        sa.select(
            *(_P.c[name] for name in _PUBLIC),
            # As `ProviderProfile.display_name`: the firm's name, else the individual's.
            sa.func.coalesce(_O.c.name, _U.c.name, "").label("display_name"),
            _R.c.figures.label("record_figures"),
            sa.type_coerce(skills.c.skills, sa.JSON).label("skills"),
        )
        .select_from(
            _P.outerjoin(_U, _U.c.id == _P.c.user_id)
            .outerjoin(_O, _O.c.id == _P.c.organization_id)
            .outerjoin(skills, skills.c.profile_id == _P.c.id)
            .outerjoin(_R, _R.c.provider_profile_id == _P.c.id)
        )
        .where(pool.any_of(pg, _P.c.id, "ids", sa.Uuid()))
    )


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
    #: The measured record's stored figures (None until the record job has measured any).
    record_figures: dict[str, Any] | None = None
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
    found = {}
    for row in db.session.execute(_statement(is_postgresql()), {"ids": ids}).all():
        fields = row._asdict()
        # In the order of `ProviderProfile.skills`: by the skill rows' ids, whose text
        # (fixed-width hexadecimal) sorts as the ids do.
        skills = sorted(fields.pop("skills") or (), key=itemgetter(0))
        found[row.id] = ProviderCard(
            **fields,
            skills=[SkillCard(uuid.UUID(skill_id), *rest) for _, skill_id, *rest in skills],
        )
    return found
