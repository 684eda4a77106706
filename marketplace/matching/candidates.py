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
providers score higher anyway) until few enough do; the tiers below, each read only when
the tiers above gave fewer candidates than wanted, fill the rest. The tiers the statistics
expect to be needed run as one statement, built once per shape (`pool`). A tier so common
that the index would hand over far more providers than a pool takes starts with a scan of
the table in storage order (`pool`), which finds the same providers.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import date

from marketplace.database import is_postgresql
from marketplace.extensions import db
from marketplace.matching import pool, statistics
from marketplace.matching.index import LEVELS, language_key, skill_key
from marketplace.matching.pool import LIGHT, Candidate

__all__ = ["LIGHT", "MAX_CANDIDATES", "Candidate", "Needs", "candidates", "eligible"]

MAX_CANDIDATES = 100  # the ranked list: five pages of 20, more than clients page through
SELECTIVE_ROWS = 500  # providers a query may expect to pass before levels are raised
ROW_CAP = 500  # rows one candidate query reads at most: reading rows is its main cost
COMMON_KEY_SHARE = 0.3  # keys more common than this are checked, not intersected
# How many times more providers than wanted the tiers of one query should be expected to
# hold (from the keys alone): the other filters let a half to three quarters through, and
# planning a tier that is never read costs far less than a second query.
TIER_MARGIN = 2
# A tier's first blocks are read in storage order when that is cheaper than the index:
# SCAN_MARGIN times the blocks expected to hold ROW_CAP of its providers are read (the
# other filters let a third or more through), and checking a row read so costs about
# SCAN_ROW_COST times what one provider in the index's bitmap costs.
SCAN_MARGIN = 3
SCAN_ROW_COST = 2


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

    def keys(self, raise_by: int = 0) -> list[int]:
        """The keys a provider must carry, with the skill levels raised by `raise_by`."""
        keys = [skill_key(n, min(LEVELS, lvl + raise_by)) for n, lvl in self.skills]
        return sorted({*keys, *(language_key(code) for code in self.languages)})


def _tiers(needs: Needs) -> list[pool.TierKeys]:
    """The plan, best-skilled tier first: per tier the keys intersected in the index, those
    checked on the rows found, and those of the tier before (whose providers it leaves
    out: it is read only when that tier gave fewer than wanted, so all of them)."""
    top = max((LEVELS - level for _, level in needs.skills), default=0)
    raise_by = statistics.levels_to_raise(needs, SELECTIVE_ROWS)
    tiers, above = [], list[int]()
    for level in range(top if raise_by is None else raise_by, -1, -1):
        keys = needs.keys(level)
        indexed, common = statistics.split_common(keys, COMMON_KEY_SHARE)
        tiers.append(pool.TierKeys(indexed, common, above, _scan_blocks(keys)))
        above = keys
    return tiers


def _scan_blocks(keys: list[int]) -> int | None:
    """How many blocks at the start of the table a tier with these keys reads in storage
    order before using the index, or None to use the index alone: a bitmap holds every
    provider with the keys, a scan only those before the first `ROW_CAP` found."""
    stats = statistics.key_frequencies() if is_postgresql() else None
    expected = statistics.estimate(keys) if stats else None
    if stats is None or not expected:
        return None
    rows = SCAN_MARGIN * ROW_CAP * stats.rows / expected
    if SCAN_ROW_COST * rows >= expected:
        return None
    return math.ceil(stats.blocks * rows / stats.rows)


def _expected(tiers: list[pool.TierKeys], limit: int) -> int:
    """How many of the tiers a query should hold: up to the first that the statistics
    expect to bring, with those above it, `TIER_MARGIN` times `limit` providers (only
    keys are estimated, not the other filters). Each tier costs planning time."""
    if len(tiers) == 1:  # always so without statistics (and on SQLite)
        return 1
    for count, tier in enumerate(tiers, 1):
        expected = statistics.estimate([*tier.indexed, *tier.common])
        if expected is None or expected >= TIER_MARGIN * limit:
            return count
    return len(tiers)


def candidates(needs: Needs, limit: int = MAX_CANDIDATES) -> list[Candidate]:
    """Up to `limit` providers passing every hard filter, best pre-score first within each
    tier."""
    if limit > ROW_CAP:
        # A tier leaves out every provider of the tier above, which is right only when a
        # tier cut short at ROW_CAP rows gives `limit` by itself.
        raise ValueError(f"At most {ROW_CAP} candidates at a time.")
    tiers, found = _tiers(needs), list[Candidate]()
    while tiers and len(found) < limit:  # a second query only when fewer than expected pass
        count = _expected(tiers, limit - len(found))
        shape, values = pool.query(needs, tiers[:count], pg=is_postgresql())
        values |= {"limit": limit - len(found), "row_cap": ROW_CAP}
        rows = db.session.execute(pool.statement(shape), values).all()  # one fetch, not 100
        found += map(Candidate._make, rows)
        tiers = tiers[count:]
    return found


def eligible(needs: Needs, provider_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these providers pass every hard filter."""
    tiers = [pool.TierKeys(*statistics.split_common(needs.keys(), COMMON_KEY_SHARE), [])]
    shape, values = pool.query(needs, tiers, pg=is_postgresql(), only=list(provider_ids))
    return set(db.session.scalars(pool.eligible_statement(shape), values))
