"""Candidate providers for a task: the hard filters and a pre-score, in SQL, bounded.

Hard filters: every required skill at its minimum level and every language (containment
of `match_keys`, GIN-indexed on PostgreSQL), service model, shoring (country, and the
zones whose offsets stay within 3 hours of the client's all period, worked out in Python
from the zone rules), capacity left, and `matchable` (not suspended, not a firm member's
old profile).

The pre-score is the score with the overlap estimated from the weekly UTC availability
(PostgreSQL only) and without years of experience; the best `MAX_CANDIDATES` by it are
re-ranked exactly in Python. No plan depends on an ordered index walk: the ORDER BY is an
expression over a materialized CTE, so the planner can only bitmap-scan the GIN index,
and one pool reads at most `ROW_CAP` rows. When PostgreSQL's statistics say more than
`SELECTIVE_ROWS` providers pass, the skill levels asked for are raised (better-skilled
providers score higher anyway) until few enough do, and lowered again step by step while
the candidates are fewer than wanted.
"""

from __future__ import annotations

import uuid
import zoneinfo
from dataclasses import dataclass, field, replace
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

MAX_CANDIDATES = 100  # the ranked list: five pages of 20, more than clients page through
SELECTIVE_ROWS = 500  # providers a query may expect to pass before levels are raised
ROW_CAP = 500  # rows one candidate query reads at most (a heap row costs some 4 us)
COMMON_KEY_SHARE = 0.3  # keys more common than this are checked, not intersected


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


def _const(value: float) -> sa.ColumnElement[Any]:
    """A number of our own, written into the SQL: short statements, constants to the planner."""
    return sa.literal_column(repr(value))


def one_of(column: Any, ids: list[uuid.UUID]) -> sa.ColumnElement[bool]:
    """`column IN ids`; on PostgreSQL as one array parameter (`= ANY`), not one per id."""
    if is_postgresql():
        return column == sa.any_(sa.literal(list(ids), postgresql.ARRAY(sa.Uuid())))
    return column.in_(ids)


def _has_keys(keys: list[int], *, indexed: bool = True) -> sa.ColumnElement[bool]:
    if is_postgresql():
        array = "'{" + ",".join(str(int(k)) for k in keys) + "}'::integer[]"
        # `match_keys || '{}'` is the same array, but not the indexed expression: checked
        # on the rows the index found, instead of intersected in the index.
        column = P.match_keys if indexed else P.match_keys.op("||")(sa.literal_column("'{}'"))
        return column.op("@>")(sa.literal_column(array))
    values = sa.func.json_each(P.match_keys).table_valued("value")
    return sa.and_(
        sa.true(),
        *(
            sa.exists(sa.select(1).select_from(values).where(values.c.value == _const(k)))
            for k in keys
        ),
    )


def _shoring(needs: Needs) -> sa.ColumnElement[bool]:
    country = needs.client_country
    if needs.shoring == "any":
        return sa.true()
    if needs.shoring == "onshore":
        return P.country == country if country else sa.false()
    elsewhere = P.country.is_(None) | (P.country != country) if country else sa.true()
    zones = list(nearshore_zones(needs.client_zone, needs.first, needs.last))
    if is_postgresql():  # one array parameter, not hundreds
        near = P.timezone == sa.any_(sa.literal(zones, postgresql.ARRAY(sa.String())))
    else:
        near = P.timezone.in_(zones)
    return sa.and_(elsewhere, near if needs.shoring == "nearshore" else sa.not_(near))


def hard_filters(needs: Needs, raise_by: int = 0) -> list[sa.ColumnElement[bool]]:
    """Every condition a matching provider meets, as SQL."""
    indexed, common = statistics.split_common(needs.keys(raise_by), COMMON_KEY_SHARE)
    filters = [
        _has_keys(indexed),
        *([_has_keys(common, indexed=False)] if common else []),
        P.capacity_left > 0,
        _shoring(needs),
        P.matchable.is_(True),
    ]
    if needs.service_model:
        filters.append(P.service_model == needs.service_model)
    if needs.only:
        filters.append(one_of(P.id, needs.only))
    return filters


def _skill_part(number: int, min_level: int) -> sa.ColumnElement[float]:
    """Levels above the minimum over the levels possible above it (keys are cumulative, so
    the first level found from the top is the provider's)."""
    room = LEVELS - min_level
    if room <= 0:
        return _const(1.0)
    whens = [
        (_has_keys([skill_key(number, level)]), _const(round((level - min_level) / room, 6)))
        for level in range(LEVELS, min_level, -1)
    ]
    return sa.case(*whens, else_=_const(0.0))


def pre_score(needs: Needs) -> sa.ColumnElement[float]:
    """The score as SQL can estimate it (see the module docstring)."""
    weights = scoring.WEIGHTS
    score: sa.ColumnElement[float] = P.match_quality.expression
    if needs.skills:
        share = weights["skills"] * scoring.LEVEL_SHARE / len(needs.skills)
        for number, min_level in needs.skills:
            score = score + _const(share) * _skill_part(number, min_level)
    if needs.budget is not None:
        low, high = needs.budget
        amount = P.hourly_rate_amount
        price = sa.case(
            (sa.or_(amount.is_(None), P.hourly_rate_currency != needs.currency), _const(0.5)),
            (amount < _const(low), _const(scoring.PRICE_BELOW)),
            (amount <= _const(high), _const(1.0)),
            (amount >= _const(2 * high), _const(0.0)),
            else_=_const(1.0) - sa.cast(amount - _const(high), sa.Float) / _const(float(high)),
        )
        score = score + _const(weights["price"]) * price
    if needs.mask and is_postgresql() and needs.workdays_per_week and needs.wanted_hours:
        shared = sa.func.bit_count(
            P.availability.op("&")(sa.cast(needs.mask, postgresql.BIT(len(needs.mask))))
        )
        hours = needs.wanted_hours * needs.workdays_per_week * 60 / SLOT_MINUTES  # in slots
        fit = sa.func.least(_const(1.0), sa.cast(shared, sa.Float) / _const(float(hours)))
        score = score + _const(weights["timezone"]) * fit
    return score


#: What the exact re-ranking reads of each candidate, fetched with it.
LIGHT = (
    P.id,
    P.timezone,
    sa.cast(P.working_hours, sa.Text).label("hours_json"),
    P.country,
    P.hourly_rate_amount,
    P.hourly_rate_currency,
    P.capacity_left,
    P.record_score,
    P.skill_experience,
)


def _ranked(filters: list[Any], needs: Needs, limit: int, exclude: list[uuid.UUID]) -> list[Any]:
    """The best `limit` by pre-score among at most ROW_CAP providers passing `filters`."""
    if exclude:
        filters = [*filters, sa.not_(one_of(P.id, exclude))]
    pool = sa.select(*LIGHT, pre_score(needs).label("pre")).where(*filters).limit(ROW_CAP)
    inner = pool.cte("pool")
    if is_postgresql():
        inner = inner.prefix_with("MATERIALIZED")
    stmt = sa.select(*inner.c).order_by(inner.c.pre.desc(), inner.c.id).limit(limit)
    return list(db.session.execute(stmt))


def candidates(needs: Needs, limit: int = MAX_CANDIDATES) -> list[Any]:
    """Up to `limit` providers passing every hard filter, best pre-score first: rows of
    LIGHT and `pre`."""
    top = max((LEVELS - level for _, level in needs.skills), default=0)
    raise_by = statistics.levels_to_raise(needs, SELECTIVE_ROWS)
    found: list[Any] = []
    for level in range(top if raise_by is None else raise_by, -1, -1):
        found += _ranked(
            hard_filters(needs, level), needs, limit - len(found), [row.id for row in found]
        )
        if len(found) >= limit:
            break
    return found


def eligible(needs: Needs, provider_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these providers pass every hard filter."""
    stmt = sa.select(P.id).where(*hard_filters(replace(needs, only=list(provider_ids))))
    return set(db.session.scalars(stmt))
