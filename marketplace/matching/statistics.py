"""Cheap statistics for choosing a candidate plan: how many providers carry each key.

PostgreSQL's ANALYZE keeps, for array columns, the most common elements and their
frequencies (`pg_stats.most_common_elems`); with the table's row estimate they say
roughly how many providers carry a set of keys (assuming independence), and with its
size in blocks how many blocks hold a given number of rows. They are read at most once a
minute per process. SQLite has none: every plan there is the plain one.
"""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa

from marketplace.database import is_postgresql
from marketplace.extensions import db
from marketplace.matching.index import LEVELS

if TYPE_CHECKING:
    from marketplace.matching.candidates import Needs

CACHE_SECONDS = 60.0
_cache: dict[str, Any] = {}


class KeyStats(NamedTuple):
    """The providers table as ANALYZE last saw it."""

    rows: float
    blocks: int
    freqs: dict[int, float]  # the share of providers carrying each common key
    rare: float  # the share assumed for a key not listed (the least listed one's)


def key_frequencies() -> KeyStats | None:
    """The table's statistics, or None without them."""
    now = time.monotonic()
    if _cache.get("at", -math.inf) + CACHE_SECONDS > now:
        return _cache["value"]
    row = db.session.execute(
        sa.text(
            "SELECT c.reltuples, c.relpages, s.most_common_elems::text AS elems, "
            "s.most_common_elem_freqs AS freqs "
            "FROM pg_class c LEFT JOIN pg_stats s ON s.tablename = c.relname "
            "AND s.attname = 'match_keys' AND s.schemaname = current_schema() "
            "WHERE c.relname = 'provider_profiles' AND c.relnamespace = "
            "(SELECT oid FROM pg_namespace WHERE nspname = current_schema())"
        )
    ).first()
    value = None
    if row is not None and row.elems and row.freqs and row.reltuples > 0:
        keys = [int(k) for k in row.elems.strip("{}").split(",")]
        freqs = list(row.freqs[: len(keys)])
        # The three trailing numbers are the minimum and maximum frequency and nulls.
        freq_by_key = dict(zip(keys, freqs, strict=True))
        value = KeyStats(float(row.reltuples), row.relpages, freq_by_key, min(freqs))
    _cache.update(at=now, value=value)
    return value


def estimate(keys: list[int]) -> float | None:
    """Estimated providers carrying every key, or None when there are no statistics."""
    stats = key_frequencies()
    if stats is None:
        return None
    return stats.rows * math.prod(stats.freqs.get(k, stats.rare) for k in keys)


def split_common(keys: list[int], share: float) -> tuple[list[int], list[int]]:
    """(keys for the index, keys carried by more than `share` of providers). A GIN scan
    reads a key's whole posting list, so a key most providers carry (English, say) costs
    more to intersect than to check on the few rows the other keys leave."""
    stats = key_frequencies() if is_postgresql() else None
    if stats is None or len(keys) < 2:
        return keys, []
    freqs, rare = stats.freqs, stats.rare
    ordered = sorted(keys, key=lambda k: freqs.get(k, rare))
    common = [k for k in ordered[1:] if freqs.get(k, rare) > share]
    return [k for k in ordered if k not in common], common


def levels_to_raise(needs: Needs, threshold: int) -> int | None:
    """How far to raise the skill levels asked for so that at most `threshold` providers
    are expected to pass: 0 without statistics; None if even the top levels are too many."""
    if not is_postgresql():
        return 0
    top = max((LEVELS - level for _, level in needs.skills), default=0)
    for raise_by in range(top + 1):
        expected = estimate(needs.keys(raise_by))
        if expected is None:
            return 0
        if expected <= threshold:
            return raise_by
    return None


def forget() -> None:
    """Drop the cached statistics (after loading data, in tests and benchmarks)."""
    _cache.clear()
