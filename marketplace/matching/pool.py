"""The SQL of candidate queries: built once per shape, with the values bound at execution.

Building a statement of this size with SQLAlchemy took longer than PostgreSQL took to run
it, so a statement is built once per *shape* (dialect, tiers and their key counts, which
filters apply, the skills' minimum levels) and kept; a request only binds values, and
SQLAlchemy's compiled cache does the rest. Keys are written into the SQL text at
execution (`literal_execute`), because the planner estimates rows from them (with
`pg_stats.most_common_elems`); the other values are ordinary parameters.

A plan's tiers (see `candidates`) run in one statement: each tier's pool is a materialized
CTE, and a `LIMIT` over the tiers' `UNION ALL` stops reading once the tiers before have
given enough rows. PostgreSQL computes a CTE only as far as its rows are fetched, so a
tier that is not needed is never read (`EXPLAIN ANALYZE` says "never executed").

A pool is the first `row_cap` providers of its tier in storage order. The GIN index finds
them with a bitmap, which holds every provider of the tier before the first row is read:
for a tier most providers are in, that costs far more than reading the table from its
start until `row_cap` pass. Such a tier reads its first blocks in storage order (a TID
range scan, keys checked on each row) and only the blocks after them through the index,
so it reads the same providers in the same order either way.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from marketplace.database import is_postgresql
from marketplace.matching import scoring
from marketplace.matching.index import LEVELS, SLOT_MINUTES, skill_key
from marketplace.matching.overlap import nearshore_zones
from marketplace.profiles.models import ProviderProfile

if TYPE_CHECKING:
    from marketplace.matching.candidates import Needs

#: Core columns: a Core statement skips the ORM's work on every execution.
P = ProviderProfile.__table__.c
KEYS = postgresql.ARRAY(sa.Integer())

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


class Candidate(NamedTuple):
    """A row of LIGHT and the pre-score (None outside candidate queries); a plain tuple,
    since the re-ranking reads each field of a hundred rows per request."""

    id: uuid.UUID
    timezone: str
    hours_json: str
    country: str | None
    hourly_rate_amount: int | None
    hourly_rate_currency: str | None
    capacity_left: int
    record_score: float
    skill_experience: list[int] | None
    pre: float | None = None


Keys = list[int]


class TierKeys(NamedTuple):
    """The keys of one tier: intersected in the index, checked on the rows the index found,
    and those of the tier before it, whose providers it leaves out; and how many blocks at
    the start of the table to read in storage order before using the index (None: none)."""

    indexed: Keys
    common: Keys
    above: Keys
    scan_blocks: int | None = None


class Tier(NamedTuple):
    """How many keys of each kind a tier has, and whether it starts with a scan in storage
    order (what its SQL depends on)."""

    indexed: int
    common: int
    above: int
    scan: bool = False


class _Tid(sa.types.UserDefinedType[str]):
    """PostgreSQL's `tid`: a row's block and position (`ctid`)."""

    cache_ok = True

    def get_col_spec(self, **kw: Any) -> str:
        return "tid"


@dataclass(frozen=True)
class Shape:
    """Everything a candidate statement's SQL depends on, apart from the values."""

    postgresql: bool
    tiers: tuple[Tier, ...]
    min_levels: tuple[int, ...]  # of the required skills, in order
    shoring: str
    country: bool
    service_model: bool
    budget: bool
    mask_bits: int  # the client's window's length, 0 when the pre-score has no overlap
    only: bool


def _const(value: float) -> sa.ColumnElement[Any]:
    """A number of the shape's own (a weight), written into the SQL."""
    return sa.literal_column(repr(value))


def _contains(pg: bool, name: str, count: int, *, indexed: bool = True) -> sa.ColumnElement[bool]:
    """`match_keys` carries every key bound as `name` (see `_key_values`)."""
    if pg:
        # `match_keys || '{}'` is the same array, but not the indexed expression: checked
        # on the rows the index found, instead of intersected in the index.
        column = P.match_keys if indexed else P.match_keys.op("||")(sa.literal_column("'{}'"))
        return column.bool_op("@>")(sa.bindparam(name, type_=KEYS, literal_execute=True))
    values = sa.func.json_each(P.match_keys).table_valued("value")
    return sa.and_(
        sa.true(),
        *(
            sa.exists(sa.select(1).select_from(values).where(values.c.value == sa.bindparam(key)))
            for key in _key_names(name, count)
        ),
    )


def _key_names(name: str, count: int) -> list[str]:
    return [f"{name}_{n}" for n in range(count)]


def _key_values(pg: bool, name: str, keys: Keys) -> dict[str, Any]:
    """The values of `_contains(pg, name, len(keys))`: one array, or one value a key."""
    if not keys:
        return {}
    return {name: keys} if pg else dict(zip(_key_names(name, len(keys)), keys, strict=True))


def one_of(column: Any, ids: list[uuid.UUID]) -> sa.ColumnElement[bool]:
    """`column IN ids` with the ids as values; on PostgreSQL one array parameter."""
    if is_postgresql():
        return column == sa.any_(sa.literal(list(ids), postgresql.ARRAY(sa.Uuid())))
    return column.in_(ids)


def any_of(
    pg: bool, column: Any, name: str, type_: Any, *, literal: bool = False
) -> sa.ColumnElement[bool]:
    """`column IN :name`; on PostgreSQL one array (`= ANY`), not one parameter per value,
    written into the SQL text at execution if `literal`."""
    if pg:
        values = sa.bindparam(name, type_=postgresql.ARRAY(type_), literal_execute=literal)
        return column == sa.any_(values)
    return column.in_(sa.bindparam(name, type_=type_, expanding=True))


def _shoring(shape: Shape) -> list[sa.ColumnElement[bool]]:
    if shape.shoring == "any":
        return []
    country: sa.BindParameter[str] = sa.bindparam("country")
    if shape.shoring == "onshore":
        return [P.country == country if shape.country else sa.false()]
    elsewhere = [P.country.is_(None) | (P.country != country)] if shape.country else []
    zone: sa.ColumnElement[str] = P.timezone
    if shape.postgresql:
        # The same text, but not the column: the planner does not weigh each of a hundred
        # zones against the column's statistics, which took a third of the planning time.
        zone = zone.op("||", return_type=sa.String)(sa.literal_column("''"))
    # Written into the SQL: a constant list is looked up in a hash table, a parameter is
    # compared value by value on every row, which PostgreSQL does in the generic plan it
    # turns to once psycopg prepares a statement run often (some 200 zones, each row).
    near = any_of(shape.postgresql, zone, "zones", sa.String(), literal=True)
    return [*elsewhere, near if shape.shoring == "nearshore" else sa.not_(near)]


def _filters(shape: Shape, tier: int, *, indexed: bool = True) -> list[sa.ColumnElement[bool]]:
    """Every condition a provider of this tier meets (the hard filters), as SQL; with
    `indexed` false, none that the index could answer."""
    pg, counts = shape.postgresql, shape.tiers[tier]
    filters = []
    if counts.indexed:
        filters.append(_contains(pg, f"t{tier}_indexed", counts.indexed, indexed=indexed))
    if counts.common:
        filters.append(_contains(pg, f"t{tier}_common", counts.common, indexed=False))
    if counts.above:
        filters.append(sa.not_(_contains(pg, f"t{tier}_above", counts.above, indexed=False)))
    filters += [P.capacity_left > 0, *_shoring(shape), P.matchable.is_(True)]
    if shape.service_model:
        filters.append(P.service_model == sa.bindparam("service_model"))
    if shape.only:
        filters.append(any_of(pg, P.id, "only", sa.Uuid()))
    return filters


def _skill_part(pg: bool, skill: int, min_level: int) -> sa.ColumnElement[float]:
    """Levels above the minimum over the levels possible above it (keys are cumulative, so
    the first level found from the top is the provider's)."""
    room = LEVELS - min_level
    if room <= 0:
        return _const(1.0)
    whens = [
        (_contains(pg, f"s{skill}_{level}", 1), _const(round((level - min_level) / room, 6)))
        for level in range(LEVELS, min_level, -1)
    ]
    return sa.case(*whens, else_=_const(0.0))


def _pre_score(shape: Shape) -> sa.ColumnElement[float]:
    """The score as SQL can estimate it (see `candidates`)."""
    weights = scoring.WEIGHTS
    score: sa.ColumnElement[float] = P.match_quality
    for skill, min_level in enumerate(shape.min_levels):
        share = weights["skills"] * scoring.LEVEL_SHARE / len(shape.min_levels)
        score = score + _const(share) * _skill_part(shape.postgresql, skill, min_level)
    if shape.budget:
        amount, high = P.hourly_rate_amount, sa.bindparam("high", type_=sa.BigInteger)
        price = sa.case(
            (
                sa.or_(amount.is_(None), P.hourly_rate_currency != sa.bindparam("currency")),
                _const(scoring.PRICE_UNKNOWN),
            ),
            (amount < sa.bindparam("low", type_=sa.BigInteger), _const(scoring.PRICE_BELOW)),
            (amount <= high, _const(1.0)),
            (amount >= sa.bindparam("twice_high", type_=sa.BigInteger), _const(0.0)),
            else_=_const(1.0)
            - sa.cast(amount - high, sa.Float) / sa.bindparam("high_float", type_=sa.Float),
        )
        score = score + _const(weights["price"]) * price
    if shape.mask_bits:
        bits = postgresql.BIT(shape.mask_bits)
        mask = sa.cast(sa.bindparam("mask", type_=bits), bits)
        shared = sa.cast(sa.func.bit_count(P.availability.op("&")(mask)), sa.Float)
        fit = sa.func.least(_const(1.0), shared / sa.bindparam("slots", type_=sa.Float))
        score = score + _const(weights["timezone"]) * fit
    return score


@lru_cache(maxsize=256)
def statement(shape: Shape) -> sa.Select[Any] | sa.CompoundSelect:
    """The best `limit` by pre-score among at most `row_cap` providers of each tier, the
    tiers in order: rows of LIGHT and `pre`."""
    columns = (*LIGHT, _pre_score(shape).label("pre"))
    limit, row_cap = (sa.bindparam(n, type_=sa.Integer, literal_execute=True)
                      for n in ("limit", "row_cap"))  # fmt: skip
    parts = []
    for tier in range(len(shape.tiers)):
        name = "pool" if len(shape.tiers) == 1 else f"pool{tier}"
        pool = _pool(shape, tier, columns, row_cap).cte(name)
        if shape.postgresql:
            pool = pool.prefix_with("MATERIALIZED")
        parts.append(sa.select(*pool.c).order_by(pool.c.pre.desc(), pool.c.id).limit(limit))
    if len(parts) == 1:
        return parts[0]
    tiers = [sa.select(*sub.c) for sub in (part.subquery() for part in parts)]
    # No ORDER BY over the tiers: a sort would read every tier. A plain Append returns its
    # parts in order, and the materialized CTEs keep the plan from going parallel.
    return sa.union_all(*tiers).limit(limit)


def _pool(
    shape: Shape, tier: int, columns: tuple[Any, ...], row_cap: Any
) -> sa.Select[Any] | sa.CompoundSelect:
    """The first `row_cap` providers of the tier in storage order, with `columns`."""
    if not shape.tiers[tier].scan:
        return sa.select(*columns).where(*_filters(shape, tier)).limit(row_cap)
    ctid: sa.ColumnElement[str] = sa.literal_column("ctid")
    block = sa.cast(sa.bindparam(f"t{tier}_block"), _Tid())
    scanned = sa.select(*columns).where(ctid < block, *_filters(shape, tier, indexed=False))
    indexed = sa.select(*columns).where(ctid >= block, *_filters(shape, tier))
    # The scanned blocks come first: a plain Append returns its parts in order.
    return sa.union_all(scanned.limit(row_cap), indexed.limit(row_cap)).limit(row_cap)


@lru_cache(maxsize=64)
def eligible_statement(shape: Shape) -> sa.Select[Any]:
    """The ids of the providers of `only` passing the hard filters of the first tier."""
    return sa.select(P.id).where(*_filters(shape, 0))


def query(
    needs: Needs, tiers: list[TierKeys], *, pg: bool, only: list[uuid.UUID] | None = None
) -> tuple[Shape, dict[str, Any]]:
    """The shape of the statement for `needs` and `tiers`, and its values (but `limit` and
    `row_cap`, the caller's)."""
    overlap = bool(pg and needs.mask and needs.workdays_per_week and needs.wanted_hours)
    shape = Shape(
        postgresql=pg,
        tiers=tuple(Tier(len(a), len(b), len(c), d is not None) for a, b, c, d in tiers),
        min_levels=tuple(level for _, level in needs.skills),
        shoring=needs.shoring,
        country=bool(needs.client_country),
        service_model=bool(needs.service_model),
        budget=needs.budget is not None,
        mask_bits=len(needs.mask or "") if overlap else 0,
        only=only is not None,
    )
    values: dict[str, Any] = {}
    for tier, (indexed, common, above, scan_blocks) in enumerate(tiers):
        values |= _key_values(pg, f"t{tier}_indexed", indexed)
        values |= _key_values(pg, f"t{tier}_common", common)
        values |= _key_values(pg, f"t{tier}_above", above)
        if scan_blocks is not None:
            values[f"t{tier}_block"] = f"({scan_blocks},0)"  # the first row past them
    for skill, (number, min_level) in enumerate(needs.skills):
        for level in range(LEVELS, min_level, -1):
            values |= _key_values(pg, f"s{skill}_{level}", [skill_key(number, level)])
    if needs.shoring != "any" and needs.client_country:
        values["country"] = needs.client_country
    if needs.shoring in ("nearshore", "offshore"):
        zones = nearshore_zones(needs.client_zone, needs.first, needs.last)
        values["zones"] = list(zones)
    if needs.service_model:
        values["service_model"] = needs.service_model
    if only is not None:
        values["only"] = only
    if needs.budget is not None:
        low, high = needs.budget
        values |= {"currency": needs.currency, "low": low, "high": high}
        values |= {"twice_high": 2 * high, "high_float": float(high)}
    if shape.mask_bits:
        slots = needs.wanted_hours * needs.workdays_per_week * 60 / SLOT_MINUTES
        values |= {"mask": needs.mask, "slots": float(slots)}
    return shape, values
