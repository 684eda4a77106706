"""What SQL can know of a task's time-zone fit: offset ranges and weekly shift masks.

The shoring and minimum-overlap filters of task discovery are exact only with the zone
rules, day by day (`overlap.ClientPeriod`), which no SQL can run. So each task keeps a few
figures of its client over its work period (`marketplace.matching.task_fit` stores them),
the search works out the matching figures of the provider, and SQL keeps the tasks that
*may* fit; the exact check runs on those rows alone. Every condition built from these
figures is therefore a necessary one: it never drops a task the exact check keeps.

**Offsets and shoring.** `timezones.utc_offset` samples a zone's offset at noon UTC each
day, and the exact shoring compares those samples day by day. A task keeps the least and
greatest of its client's samples over the period; the provider's are taken over a window
of days (`provider_window`) that holds every period the task's figures serve. Then, for
every day, the offset gap lies between the distance of the two ranges and the largest
difference across them: a gap above 3 hours on every day means offshore, a largest
difference of at most 3 hours means nearshore, anything else is left to the exact check.

**Overlap.** The reference counts, for each client working day d, the time the client's
shifts that start on d meet the provider's shifts that start within three days of d,
both placed in UTC with the zones' real offsets; a task's overlap is the average over
its client's working days. Write C(d) and P(d) for those shifts as sets of instants, and
proj for the map of an instant to its place in the UTC week. Then:

1. C(d) spans less than a week, so proj is one-to-one on it, and
   |C(d) ∩ P(d)| = |proj(C(d) ∩ P(d))| <= |proj C(d) ∩ proj P(d)|.
2. The client mask of weekday k, CM_k, holds every quarter-hour of the UTC week touched
   by proj C(d) for each day d of the period falling on weekday k: on a day whose offset
   is settled (the same noon samples two days either side, so one offset holds from the
   day's midnight to the second midnight after it, which is as far as its shifts reach)
   those are the weekday's shifts moved by that offset; near a change they are the exact
   UTC shifts of that date (`hours.shifts_on`, the reference's own placement).
   The provider mask PM is built the same way over the provider's window, every weekday
   in one mask: PM contains proj P(d) for every d of the period.
3. So each working day of weekday k overlaps at most 15 minutes times |CM_k & PM|, and
   their average is at most the largest of these over the weekdays.

The reference adds the overlaps of each pair of shifts, which is |C(d) ∩ P(d)| only when
each side's shifts of a day are disjoint in UTC. They are, except around a spring-forward
change where a shift ends inside the skipped hour and the next one starts less than an
hour later (the skipped minutes are placed at the earlier offset): there the reference
counts some time twice and the bound may fall short. That is detected, day by day, near
each change: a client's task then stores figures that hold on no day (exact check only),
and a provider's search leaves the minimum overlap to the exact check.

Masks are Python integers, bit n being quarter-hour n of the UTC week (Monday 00:00 UTC
is slot 0), stored as text of 0s and 1s with slot 0 first, like `availability`.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from marketplace.hours import MINUTES_PER_DAY, Interval, WorkingHours, shifts_on, week_intervals
from marketplace.matching import timezones
from marketplace.matching.overlap import offset_changes
from marketplace.matching.timezones import work_period

SLOT_SECONDS = 15 * 60
WEEK_SLOTS = 7 * 24 * 4
FULL_WEEK = (1 << WEEK_SLOTS) - 1
NEARSHORE_MINUTES = timezones.NEARSHORE_MAX_OFFSET // timedelta(minutes=1)
#: A day's offset is settled when the noon samples this many days either side are equal.
SETTLE_DAYS = 2
#: The provider's figures cover this long before and after the day of the search; task
#: dates lie within three years of the day they are set, and a period lasts a year at most.
PROVIDER_PAST = timedelta(days=2 * 366)
PROVIDER_FUTURE = timedelta(days=5 * 366)
#: The reference reads the provider's shifts this many days either side of a client day.
PROVIDER_REACH = timedelta(days=3)
#: A task without a start date works from the day of the search: its figures cover the
#: periods of this many days ahead too, so a late daily refresh loses nothing.
MARGIN_DAYS = 2
ONE_DAY = timedelta(days=1)


def touched(start: int, end: int) -> int:
    """The quarter-hours of the UTC week that seconds start..end (from Monday 00:00 UTC,
    any integers: they wrap around the week) touch."""
    if end <= start:
        return 0
    first, last = start // SLOT_SECONDS, -(-end // SLOT_SECONDS)
    if last - first >= WEEK_SLOTS:
        return FULL_WEEK
    bits = ((1 << (last - first)) - 1) << (first % WEEK_SLOTS)
    return (bits & FULL_WEEK) | (bits >> WEEK_SLOTS)


def _interval_mask(interval: Interval) -> int:
    start, end = interval
    if end <= start:
        return 0
    at = start.weekday() * 86_400 + start.hour * 3600 + start.minute * 60 + start.second
    return touched(at, at + math.ceil((end - start).total_seconds()))


def _shifts_at(shifts: list[tuple[int, int]], offset: int) -> int:
    """Local shifts (minutes from Monday 00:00) placed in the UTC week at `offset` seconds."""
    mask = 0
    for start, end in shifts:
        mask |= touched(start * 60 - offset, end * 60 - offset)
    return mask


def _overlapping(intervals: list[Interval]) -> bool:
    """Whether two of the intervals share some time."""
    ordered = sorted((a, b) for a, b in intervals if b > a)
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ordered))


def _offset(zone: str, day: date) -> int:
    """The zone's noon-UTC offset on `day`, in seconds."""
    return int(timezones.utc_offset(zone, day).total_seconds())


def _unsettled(zone: str, first: date, last: date) -> list[date]:
    """The days of first..last whose offset is not settled (see the module docstring)."""
    margin = timedelta(days=SETTLE_DAYS)
    near = {
        change + timedelta(days=n)
        for change in offset_changes(zone, first - margin, last + margin)
        for n in range(-SETTLE_DAYS, SETTLE_DAYS)
    }
    return sorted(day for day in near if first <= day <= last)


def _minutes_range(seconds: list[int]) -> tuple[int, int]:
    """Least and greatest offsets in whole minutes, rounded outwards."""
    return min(seconds) // 60, -(-max(seconds) // 60)


@dataclass(frozen=True)
class ClientBounds:
    """A client's figures over a period: offsets (minutes), one mask per weekday, and
    whether some day's shifts overlap in UTC (then no bound holds)."""

    offset_min: int
    offset_max: int
    weekday_masks: tuple[int, ...]
    doubled: bool


@lru_cache(maxsize=16_384)
def client_bounds(zone: str, hours_json: str, first: date, last: date) -> ClientBounds:
    """The client's figures for the days first..last (hours as sorted JSON text: a
    client's tasks share them)."""
    hours: WorkingHours = json.loads(hours_json)
    shifts = week_intervals(hours)
    by_weekday = [[s for s in shifts if s[0] // MINUTES_PER_DAY == k] for k in range(7)]
    unsettled = set(_unsettled(zone, first, last))
    offsets: list[set[int]] = [set() for _ in range(7)]
    samples = []
    for day in timezones.days(first, last):
        samples.append(_offset(zone, day))
        if day not in unsettled:
            offsets[day.weekday()].add(samples[-1])
    masks = [_mask_of(by_weekday[k], offsets[k]) if by_weekday[k] else 0 for k in range(7)]
    doubled = False
    tz = ZoneInfo(zone)
    for day in unsettled:
        exact = shifts_on(day, hours, tz)
        for interval in exact:
            masks[day.weekday()] |= _interval_mask(interval)
        doubled = doubled or _overlapping(exact)
    low, high = _minutes_range(samples)
    return ClientBounds(low, high, tuple(masks), doubled)


def _mask_of(shifts: list[tuple[int, int]], offsets: set[int]) -> int:
    mask = 0
    for offset in offsets:
        mask |= _shifts_at(shifts, offset)
    return mask


@dataclass(frozen=True)
class ProviderBounds:
    """A provider's figures over its window: offsets (minutes), the weekly mask, and
    whether its own shifts can overlap in UTC (then the mask bounds nothing)."""

    offset_min: int
    offset_max: int
    mask: int
    doubled: bool


def provider_window(today: date) -> tuple[date, date]:
    """The days a provider's figures cover for a search made on `today`."""
    return today - PROVIDER_PAST, today + PROVIDER_FUTURE


@lru_cache(maxsize=1024)
def provider_bounds(zone: str, hours_json: str, today: date) -> ProviderBounds:
    """The provider's figures for a search on `today` (hours as stored JSON text)."""
    hours: WorkingHours = json.loads(hours_json) or {}
    first, last = provider_window(today)
    changes = offset_changes(zone, first, last)
    offsets = {_offset(zone, first), *(_offset(zone, day) for day in changes)}
    mask = _mask_of(week_intervals(hours), offsets)
    tz = ZoneInfo(zone)
    for day in _unsettled(zone, first, last):
        for interval in shifts_on(day, hours, tz):
            mask |= _interval_mask(interval)
    # Shifts of days around a change, and of the days their shifts can reach.
    doubled = any(
        _overlapping(
            [
                interval
                for n in range(-SETTLE_DAYS - 2, SETTLE_DAYS + 2)
                for interval in shifts_on(change + timedelta(days=n), hours, tz)
            ]
        )
        for change in offset_changes(zone, first - ONE_DAY * 4, last + ONE_DAY * 4)
    )
    low, high = _minutes_range(list(offsets))
    return ProviderBounds(low, high, mask, doubled)


@dataclass(frozen=True)
class Coverage:
    """The days a task's figures are computed over (every period the task can have while
    they stand) and the days of search they stand for (`valid_from`..`valid_until`)."""

    first: date
    last: date
    valid_from: date
    valid_until: date


def coverage(start: date | None, deadline: date | None, today: date) -> Coverage:
    """What a task's figures cover, computed on `today`. A task with a start date has one
    period whatever the day; one without works from the day of the search, so its
    figures stand for MARGIN_DAYS more days. Either way they stand only while the
    provider's window holds the whole period and the three days either side of it."""
    if start is not None:
        first, last = work_period(start, deadline, today)
        earliest, latest = date.min, date.max
    else:
        periods = [
            work_period(None, deadline, today + timedelta(days=n)) for n in range(MARGIN_DAYS + 1)
        ]
        first, last = min(p[0] for p in periods), max(p[1] for p in periods)
        earliest, latest = today, today + timedelta(days=MARGIN_DAYS)
    return Coverage(
        first=first,
        last=last,
        valid_from=max(earliest, last + PROVIDER_REACH - PROVIDER_FUTURE),
        valid_until=min(latest, first - PROVIDER_REACH + PROVIDER_PAST),
    )


def slots_needed(hours: float) -> int:
    """Quarter-hours a weekday's bound must reach for an average overlap of `hours`: the
    bound is a multiple of a quarter-hour and the exact figure, rounded to two decimals,
    never exceeds it."""
    return math.ceil(hours * 4)


def mask_text(mask: int) -> str:
    """A mask as stored: 672 characters 0 or 1, slot 0 first."""
    return format(mask, f"0{WEEK_SLOTS}b")[::-1]


def masks_text(masks: tuple[int, ...]) -> str:
    """Seven weekday masks as stored, Monday first."""
    return "".join(mask_text(mask) for mask in masks)
