"""Working-hours overlap and shoring: the one API of ranking, explanations, coverage plans
and the providers' task search.

`ClientPeriod` is a client's hours (or a coverage task's window) over the dates of one
task. It answers, for any provider, the average daily overlap (`overlap_hours`) and the
shoring class (`shoring`), exactly as the day-by-day reference (`timezones`) does:

- A day is *settled* when neither zone's UTC offset changes from four days before it to
  four days after (offsets are sampled once a day, and the shifts of either side that can
  meet the client's shifts of that day lie within three days of it). A settled day's
  overlap depends only on its weekday and the difference of the offsets, so it is worked
  out once per (weekday, difference) and counted as often as the period holds such days.
  Weeks are integers with a bit per minute (shifts are whole minutes), so that overlap is
  an AND and a bit count.
- The days near a change of offset are left to the reference, day by day.
- Offsets change on a few days a year; those days are found once per zone and month, so
  a period's shoring compares the offsets on them alone.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from marketplace.hours import (
    DAYS,
    MINUTES_PER_DAY,
    MINUTES_PER_WEEK,
    Interval,
    WorkingHours,
    shifts_on,
    week_intervals,
)
from marketplace.matching import timezones
from marketplace.matching.timezones import NEARSHORE_MAX_OFFSET, work_period

__all__ = ["ClientPeriod", "nearshore_zones", "offset_changes", "utc_shifts", "work_period"]

SETTLE_DAYS = 4
FULL_WEEK = (1 << MINUTES_PER_WEEK) - 1
ONE_DAY = timedelta(days=1)
#: Settled days as (weekday, client offset minus provider offset in minutes, how many),
#: and the unsettled days.
SplitDays = tuple[tuple[tuple[int, int, int], ...], tuple[date, ...]]


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


@lru_cache(maxsize=4_096)
def _day_masks(hours_json: str) -> tuple[int, ...]:
    """Per weekday, `week_mask` of the shifts that start on it (0 on a day off)."""
    shifts = week_intervals(json.loads(hours_json))
    return tuple(
        week_mask([(a, b) for a, b in shifts if a // MINUTES_PER_DAY == day]) for day in range(7)
    )


@lru_cache(maxsize=65_536)
def _settled_minutes(client_json: str, weekday: int, hours_json: str, gap: int) -> int:
    """Minutes both work on a settled `weekday` of the client's, the provider's hours moved
    by `gap` (client offset minus provider offset): a bit count of 10,080-bit weeks,
    remembered, as clients share a few shapes of hours and providers a few more."""
    return (_day_masks(client_json)[weekday] & _week(hours_json, gap)).bit_count()


def weekday_counts(first: date, last: date) -> list[int]:
    """How many Mondays, Tuesdays... Sundays first..last holds."""
    full, rest = divmod((last - first).days + 1, 7)
    counts = [full] * 7
    for n in range(rest):
        counts[(first.weekday() + n) % 7] += 1
    return counts


@lru_cache(maxsize=65_536)
def _changes_in_month(zone: str, year: int, month: int) -> tuple[date, ...]:
    """Days of the month whose UTC offset (as `timezones.utc_offset` samples it) differs
    from the day before's."""
    start = date(year, month, 1)
    end = date(year + month // 12, month % 12 + 1, 1)
    days = [start + timedelta(days=n) for n in range(-1, (end - start).days)]
    offsets = [timezones.utc_offset(zone, day) for day in days]
    return tuple(days[n] for n in range(1, len(days)) if offsets[n] != offsets[n - 1])


def offset_changes(zone: str, first: date, last: date) -> list[date]:
    """Days in first..last whose UTC offset (sampled as `timezones.utc_offset` does)
    differs from the day before's."""
    months = range(first.year * 12 + first.month - 1, last.year * 12 + last.month)
    return [
        day
        for index in months
        for day in _changes_in_month(zone, index // 12, index % 12 + 1)
        if first <= day <= last
    ]


def _minutes(offset: timedelta) -> int:
    return int(offset.total_seconds() // 60)


@lru_cache(maxsize=16_384)
def _offset_gap(zone_a: str, zone_b: str, first: date, last: date) -> timedelta:
    """The largest difference between two zones' UTC offsets on any day of first..last."""
    # The difference holds from one change of either zone's offset to the next.
    days = {first, *offset_changes(zone_a, first, last), *offset_changes(zone_b, first, last)}
    return max(abs(timezones.utc_offset(zone_a, d) - timezones.utc_offset(zone_b, d)) for d in days)


@lru_cache(maxsize=16_384)
def _split_days(client_zone: str, zone: str, first: date, last: date) -> SplitDays:
    """How the days of first..last fall for a client in `client_zone` and a provider in
    `zone`: settled days by weekday and offset difference, and the unsettled days."""
    margin = timedelta(days=SETTLE_DAYS)
    changes = {
        *offset_changes(client_zone, first - margin, last + margin),
        *offset_changes(zone, first - margin, last + margin),
    }
    # A change on day t leaves unsettled the days whose samples, four days either side,
    # straddle it: t - 4 to t + 3.
    unsettled = sorted(
        {
            day
            for change in changes
            for n in range(-SETTLE_DAYS, SETTLE_DAYS)
            if first <= (day := change + timedelta(days=n)) <= last
        }
    )
    settled: Counter[tuple[int, int]] = Counter()
    start = first
    for stop in [*unsettled, last + ONE_DAY]:
        if stop > start:  # start..stop - 1 is a run of settled days: one offset difference
            gap = _minutes(
                timezones.utc_offset(client_zone, start) - timezones.utc_offset(zone, start)
            )
            for weekday, count in enumerate(weekday_counts(start, stop - ONE_DAY)):
                settled[weekday, gap] += count
        start = stop + ONE_DAY
    return tuple((w, gap, n) for (w, gap), n in settled.items() if n), tuple(unsettled)


@lru_cache(maxsize=65_536)
def _unsettled_seconds(
    client_zone: str, client_json: str, zone: str, hours_json: str, day: date
) -> int:
    """Seconds both work on the client's date `day`, by the reference (0 on a day off);
    remembered, as the periods of one client's tasks share their days."""
    overlap = timezones.day_overlap(
        day=day,
        client_zone=client_zone,
        client_hours=json.loads(client_json),
        provider_zone=zone,
        provider_hours=json.loads(hours_json),
    )
    return overlap // timedelta(seconds=1) if overlap else 0


class ClientPeriod:
    """One client's hours (or coverage window) over the dates of one task."""

    def __init__(
        self, *, zone: str, country: str | None, hours: WorkingHours, first: date, last: date
    ) -> None:
        self.zone, self.country, self.hours = zone, country, hours
        self.first, self.last = first, last
        self.hours_json = json.dumps(hours, sort_keys=True)
        self.day_masks = _day_masks(self.hours_json)
        self.workdays = sum(
            count
            for count, mask in zip(weekday_counts(first, last), self.day_masks, strict=True)
            if mask
        )
        self._cache: dict[tuple[str, str], float] = {}

    def wanted_hours(self) -> float:
        """Hours per working day the client works (or wants covered)."""
        worked_days = sum(1 for day in DAYS if self.hours.get(day))
        if not worked_days:
            return 0.0
        shifts = week_intervals(self.hours)
        return sum(end - start for start, end in shifts) / 60 / worked_days

    def overlap_hours(self, zone: str, hours: WorkingHours) -> float:
        """Average overlap per client working day with a provider, in hours (two decimals)."""
        return self.overlap_for(zone, json.dumps(hours))

    def overlap_for(self, zone: str, hours_json: str) -> float:
        """`overlap_hours` for hours given as JSON text (as stored): equal texts, one sum."""
        key = (zone, hours_json)
        if key not in self._cache:
            self._cache[key] = self._compute(zone, hours_json or "{}")
        return self._cache[key]

    def shoring(self, country: str | None, zone: str) -> str:
        """`onshore` (same country), `nearshore` (UTC offsets within 3 hours all period) or
        `offshore`: where a provider in `country` and `zone` is to this client."""
        if self.country and self.country == country:
            return "onshore"
        if _offset_gap(self.zone, zone, self.first, self.last) <= NEARSHORE_MAX_OFFSET:
            return "nearshore"
        return "offshore"

    def _compute(self, zone: str, hours_json: str) -> float:
        if not self.workdays:
            return 0.0
        settled, unsettled = _split_days(self.zone, zone, self.first, self.last)
        masks = self.day_masks
        minutes = sum(
            count * _settled_minutes(self.hours_json, weekday, hours_json, gap)
            for weekday, gap, count in settled
            if masks[weekday]
        )
        seconds = 60 * minutes + sum(
            _unsettled_seconds(self.zone, self.hours_json, zone, hours_json, day)
            for day in unsettled
        )
        # As the reference divides: seconds to hours, then by the client's working days.
        return round(seconds / 3600 / self.workdays, 2)


def nearshore_zones(client_zone: str, first: date, last: date) -> tuple[str, ...]:
    """Every zone whose UTC offset stays within 3 hours of the client's all period: the
    zones a nearshore provider can be in, for filters in SQL."""
    return timezones.nearshore_zones(client_zone, first, last)


def utc_shifts(hours: WorkingHours, zone: str, first: date, last: date) -> list[Interval]:
    """The shifts that start on local dates first..last, as UTC intervals, in date order."""
    tz = ZoneInfo(zone)
    return [shift for day in timezones.days(first, last) for shift in shifts_on(day, hours, tz)]
