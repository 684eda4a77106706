"""Exact average overlap of many providers with one client period, fast enough to re-rank.

When neither zone changes its UTC offset within the period (and three days either side),
both weeks repeat unchanged, so a client shift's overlap depends only on its weekday: it
is computed once per weekday and multiplied by the weekday's count in the period. That
gives exactly what `timezones.average_overlap_hours` gives; near a daylight-saving change
that function itself is used, day by day.
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


def _overlap(start: int, end: int, pattern: list[tuple[int, int]]) -> int:
    total = 0
    for week in (-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK):
        for p_start, p_end in pattern:
            latest, earliest = max(start, p_start + week), min(end, p_end + week)
            if earliest > latest:
                total += earliest - latest
    return total


class ClientPeriod:
    """One client's hours (or coverage window) over the dates of one task."""

    def __init__(self, *, zone: str, hours: WorkingHours, first: date, last: date) -> None:
        self.zone, self.hours, self.first, self.last = zone, hours, first, last
        self.offset = stable_offset(zone, first, last)
        self.weekday_counts = [0] * 7
        for day in timezones.days(first, last):
            self.weekday_counts[day.weekday()] += 1
        self.shifts = week_intervals(hours)
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
        key = (zone, json.dumps(hours, sort_keys=True))
        if key not in self._cache:
            self._cache[key] = self._compute(zone, hours)
        return self._cache[key]

    def _compute(self, zone: str, hours: WorkingHours) -> float:
        other = stable_offset(zone, self.first, self.last)
        if self.offset is None or other is None:
            return timezones.average_overlap_hours(
                client_zone=self.zone,
                client_hours=self.hours,
                provider_zone=zone,
                provider_hours=hours,
                first=self.first,
                last=self.last,
            )
        if not self.workdays:
            return 0.0
        delta = self.offset - other  # provider local time + delta = client local time
        pattern = [(start + delta, end + delta) for start, end in week_intervals(hours)]
        total = sum(
            self.weekday_counts[start // MINUTES_PER_DAY] * _overlap(start, end, pattern)
            for start, end in self.shifts
        )
        return round(total / 60 / self.workdays, 2)
