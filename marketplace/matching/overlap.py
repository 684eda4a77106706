"""Exact average overlap of many providers with one client period, fast enough to re-rank.

When neither zone changes its UTC offset within the period (and three days either side),
both weeks repeat unchanged, so a client shift's overlap depends only on its weekday: it
is computed once per weekday and multiplied by the weekday's count in the period. Weeks
are integers with a bit per minute (shifts are whole minutes), so an overlap is an AND
and a bit count. That gives exactly what `timezones.average_overlap_hours` gives; near a
daylight-saving change that function itself is used, day by day.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from functools import lru_cache

from marketplace.hours import DAYS, MINUTES_PER_DAY, MINUTES_PER_WEEK, WorkingHours, week_intervals
from marketplace.matching import timezones

MARGIN_DAYS = 3  # provider shifts up to two local days away can meet a client day


@lru_cache(maxsize=16_384)
def stable_offset(zone: str, first: date, last: date) -> int | None:
    """The zone's UTC offset in minutes if it holds from 3 days before first to 3 after last."""
    start = first - timedelta(days=MARGIN_DAYS)
    offsets = {
        timezones.utc_offset(zone, start + timedelta(days=n))
        for n in range((last - first).days + 2 * MARGIN_DAYS + 1)
    }
    if len(offsets) != 1:
        return None
    return int(offsets.pop().total_seconds() // 60)


FULL_WEEK = (1 << MINUTES_PER_WEEK) - 1


def week_mask(intervals: list[tuple[int, int]], shift: int = 0) -> int:
    """Minutes of the week (from Monday 00:00) inside the intervals moved by `shift`, as
    bits; what runs past Sunday midnight wraps to Monday, as the next week's would."""
    mask = 0
    for start, end in intervals:
        mask |= ((1 << (end - start)) - 1) << ((start + shift) % MINUTES_PER_WEEK)
    return (mask & FULL_WEEK) | (mask >> MINUTES_PER_WEEK)


@lru_cache(maxsize=16_384)
def _week(hours_json: str, shift: int) -> int:
    """`week_mask` of stored hours moved by `shift` (profiles share a few shapes of hours
    and zones a few offsets)."""
    return week_mask(week_intervals(json.loads(hours_json)), shift)


class ClientPeriod:
    """One client's hours (or coverage window) over the dates of one task."""

    def __init__(self, *, zone: str, hours: WorkingHours, first: date, last: date) -> None:
        self.zone, self.hours, self.first, self.last = zone, hours, first, last
        self.offset = stable_offset(zone, first, last)
        self.weekday_counts = [0] * 7
        for day in timezones.days(first, last):
            self.weekday_counts[day.weekday()] += 1
        self.shifts = week_intervals(hours)
        self.day_masks = [
            (count, week_mask([(a, b) for a, b in self.shifts if a // MINUTES_PER_DAY == day]))
            for day, count in enumerate(self.weekday_counts)
            if count and hours.get(DAYS[day])
        ]
        self.workdays = sum(
            count for weekday, count in enumerate(self.weekday_counts) if hours.get(DAYS[weekday])
        )
        self._cache: dict[tuple[str, str], float] = {}

    def wanted_hours(self) -> float:
        """Hours per working day the client works (or wants covered)."""
        worked_days = sum(1 for day in DAYS if self.hours.get(day))
        if not worked_days:
            return 0.0
        return sum(end - start for start, end in self.shifts) / 60 / worked_days

    def overlap_hours(self, zone: str, hours: WorkingHours) -> float:
        """Average overlap per client working day, in hours (two decimals)."""
        return self.overlap_for(zone, json.dumps(hours))

    def overlap_for(self, zone: str, hours_json: str) -> float:
        """`overlap_hours` for hours given as JSON text (as stored): equal texts, one sum."""
        key = (zone, hours_json)
        if key not in self._cache:
            self._cache[key] = self._compute(zone, hours_json or "{}")
        return self._cache[key]

    def _compute(self, zone: str, hours_json: str) -> float:
        other = stable_offset(zone, self.first, self.last)
        if self.offset is None or other is None:
            return timezones.average_overlap_hours(
                client_zone=self.zone,
                client_hours=self.hours,
                provider_zone=zone,
                provider_hours=json.loads(hours_json),
                first=self.first,
                last=self.last,
            )
        if not self.workdays:
            return 0.0
        # Provider local time + delta = client local time.
        provider = _week(hours_json, self.offset - other)
        total = sum(count * (mask & provider).bit_count() for count, mask in self.day_masks)
        return round(total / 60 / self.workdays, 2)
