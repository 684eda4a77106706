"""Candidate providers for a task: the hard filters and a pre-score, in SQL, bounded.

Hard filters: every required skill at its minimum level and every language (containment
of `match_keys`, GIN-indexed on PostgreSQL), service model, shoring (country, and the
zones whose offsets stay within 3 hours of the client's all period, worked out in Python
from the zone rules), capacity left, and `matchable` (not suspended, not a firm member's
old profile).

The pre-score is the score with the overlap estimated from the weekly UTC availability
(PostgreSQL only) and without years of experience; the best `MAX_CANDIDATES` by it are
re-ranked exactly in Python. The plan is chosen from cheap statistics, never left to an
ordered index walk: the planner can only bitmap-scan the GIN index (the ORDER BY is an
expression, inside a materialized CTE). When the statistics say too many providers pass
for that to be quick, the skill levels asked for are raised (better-skilled providers
score higher anyway) until few enough do; if that still leaves too many, or too few
candidates, the rest come from the providers with the best record and availability.
"""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from marketplace.database import is_postgresql
from marketplace.extensions import db
from marketplace.matching import scoring, statistics, timezones
from marketplace.matching.index import LEVELS, SLOT_MINUTES, language_key, skill_key
from marketplace.profiles.models import ProviderProfile as P

MAX_CANDIDATES = 200  # the ranked list: more than any client pages through
SELECTIVE_ROWS = 8_000  # a bitmap scan and sort of this many rows stays within a few ms
QUALITY_POOL = 600  # rows walked from the record-and-availability index when needed


@dataclass
class Needs:
    """What a task asks of providers, resolved for SQL."""

    skills: list[tuple[int, int]]  # (skill number, minimum level)
    languages: list[str]
    service_model: str | None
    shoring: str
    client_country: str | None
    client_zone: str
    first: date
    last: date
    currency: str
    budget: tuple[int, int] | None  # hourly tasks: (min, max) rate
    mask: str | None = None  # the client's window in the UTC week (PostgreSQL pre-score)
    wanted_hours: float = 0.0
    workdays_per_week: int = 0
    only: list[uuid.UUID] = field(default_factory=list)

    def keys(self, raise_by: int = 0) -> list[int]:
        """The keys a provider must carry, with the skill levels raised by `raise_by`."""
        keys = [skill_key(n, min(LEVELS, lvl + raise_by)) for n, lvl in self.skills]
        return sorted({*keys, *(language_key(code) for code in self.languages)})


@lru_cache(maxsize=512)
def nearshore_zones(client_zone: str, first: date, last: date) -> tuple[str, ...]:
    """Zones whose UTC offset stays within 3 hours of the client's zone all period."""
    return tuple(
        sorted(
            zone
            for zone in zoneinfo.available_timezones() | {"UTC"}
            if timezones.max_offset_difference(client_zone, zone, first, last)
            <= timezones.NEARSHORE_MAX_OFFSET
        )
    )


def _has_key(key: int) -> sa.ColumnElement[bool]:
    if is_postgresql():
        return P.match_keys.op("@>")(sa.literal([key], postgresql.ARRAY(sa.Integer())))
    values = sa.func.json_each(P.match_keys).table_valued("value")
    return sa.exists(sa.select(1).select_from(values).where(values.c.value == key))


def _has_keys(keys: list[int]) -> sa.ColumnElement[bool]:
    if is_postgresql():
        return P.match_keys.op("@>")(sa.literal(keys, postgresql.ARRAY(sa.Integer())))
    return sa.and_(sa.true(), *(_has_key(k) for k in keys))


def _shoring(needs: Needs) -> sa.ColumnElement[bool]:
    country = needs.client_country
    if needs.shoring == "any":
        return sa.true()
    if needs.shoring == "onshore":
        return P.country == country if country else sa.false()
    elsewhere = P.country.is_(None) | (P.country != country) if country else sa.true()
    near = P.timezone.in_(nearshore_zones(needs.client_zone, needs.first, needs.last))
    return sa.and_(elsewhere, near if needs.shoring == "nearshore" else sa.not_(near))


def hard_filters(needs: Needs, raise_by: int = 0) -> list[sa.ColumnElement[bool]]:
    """Every condition a matching provider meets, as SQL."""
    filters = [
        _has_keys(needs.keys(raise_by)),
        P.capacity_left > 0,
        _shoring(needs),
        P.matchable.is_(True),
    ]
    if needs.service_model:
        filters.append(P.service_model == needs.service_model)
    if needs.only:
        filters.append(P.id.in_(needs.only))
    return filters


def _least_one(value: sa.ColumnElement[Any]) -> sa.ColumnElement[float]:
    return sa.case((value > 1.0, 1.0), else_=value)


def pre_score(needs: Needs) -> sa.ColumnElement[float]:
    """The score as SQL can estimate it (see the module docstring)."""
    weights = scoring.WEIGHTS
    skill: sa.ColumnElement[float] = sa.literal(0.0)
    for number, min_level in needs.skills:
        room = LEVELS - min_level
        for level in range(min_level + 1, LEVELS + 1):
            skill = skill + sa.case((_has_key(skill_key(number, level)), 1.0 / room), else_=0.0)
    score = weights["skills"] * scoring.LEVEL_SHARE * skill / max(1, len(needs.skills))
    score = score + P.match_quality
    if needs.budget is not None:
        low, high = needs.budget
        amount = P.hourly_rate_amount
        price = sa.case(
            (sa.or_(amount.is_(None), P.hourly_rate_currency != needs.currency), 0.5),
            (amount < low, scoring.PRICE_BELOW),
            (amount <= high, 1.0),
            (amount >= 2 * high, 0.0),
            else_=1.0 - sa.cast(amount - high, sa.Float) / high,
        )
        score = score + weights["price"] * price
    if needs.mask and is_postgresql() and needs.workdays_per_week and needs.wanted_hours:
        shared = sa.func.bit_count(
            P.availability.op("&")(sa.cast(needs.mask, postgresql.BIT(len(needs.mask))))
        )
        per_day = sa.cast(shared, sa.Float) * (SLOT_MINUTES / 60) / needs.workdays_per_week
        score = score + weights["timezone"] * _least_one(per_day / needs.wanted_hours)
    return score


def _ranked(filters: list[Any], needs: Needs, limit: int) -> list[tuple[uuid.UUID, float]]:
    inner = sa.select(P.id, pre_score(needs).label("pre")).where(*filters).cte("eligible")
    if is_postgresql():
        inner = inner.prefix_with("MATERIALIZED")
    stmt = sa.select(inner.c.id, inner.c.pre).order_by(inner.c.pre.desc(), inner.c.id).limit(limit)
    return [(row.id, row.pre) for row in db.session.execute(stmt)]


def _by_quality(needs: Needs, limit: int, exclude: set[uuid.UUID]) -> list[tuple[uuid.UUID, float]]:
    pool = (
        sa.select(P.id, pre_score(needs).label("pre"))
        .where(*hard_filters(needs))
        .order_by(P.match_quality.desc(), P.id.desc())
        .limit(QUALITY_POOL + len(exclude))
        .subquery()
    )
    stmt = sa.select(pool.c.id, pool.c.pre).order_by(pool.c.pre.desc(), pool.c.id)
    rows = [(row.id, row.pre) for row in db.session.execute(stmt) if row.id not in exclude]
    return rows[:limit]


def candidates(needs: Needs, limit: int = MAX_CANDIDATES) -> list[tuple[uuid.UUID, float]]:
    """Up to `limit` (provider id, pre-score) pairs passing every hard filter, best first."""
    raise_by = statistics.levels_to_raise(needs, SELECTIVE_ROWS)
    if raise_by is None:  # too many even at the top levels: the quality index decides
        return _by_quality(needs, limit, set())
    found = _ranked(hard_filters(needs, raise_by), needs, limit)
    if raise_by and len(found) < limit:
        found += _by_quality(needs, limit - len(found), {pid for pid, _ in found})
    return found


def eligible(needs: Needs, provider_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these providers pass every hard filter."""
    needs.only = list(provider_ids)
    stmt = sa.select(P.id).where(*hard_filters(needs))
    return set(db.session.scalars(stmt))
