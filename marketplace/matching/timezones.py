"""Working-hours overlap and shoring computed with real zone rules (zoneinfo + tzdata).

Working hours are local wall-clock shifts (see `marketplace.hours`). Each shift
is placed on its real calendar date in its own zone and converted to UTC, so
daylight-saving changes on either side, shifts crossing midnight, half- and
quarter-hour zones and southern-hemisphere summers all come out right.

This is the reference, plain and day by day; callers use `marketplace.matching.overlap`,
which gives exactly the same figures (the tests hold it to that).
"""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from marketplace.hours import Interval, WorkingHours, shifts_on

DEFAULT_PERIOD_DAYS = 28
MAX_PERIOD_DAYS = 366
NEARSHORE_MAX_OFFSET = timedelta(hours=3)
LATEST_START = date(9000, 1, 1)


def work_period(start: date | None, end: date | None, today: date) -> tuple[date, date]:
    """The dates the work happens: start..end, else today plus 28 days; at most a year."""
    first = min(start or today, LATEST_START)  # stored dates are validated; this is a backstop
    last = end if end and end >= first else first + timedelta(days=DEFAULT_PERIOD_DAYS - 1)
    return first, min(last, first + timedelta(days=MAX_PERIOD_DAYS - 1))


def days(first: date, last: date) -> list[date]:
    """Every date from first to last, inclusive."""
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _overlap(a: list[Interval], b: list[Interval]) -> timedelta:
    total = timedelta()
    for a_start, a_end in a:
        for b_start, b_end in b:
            latest_start, earliest_end = max(a_start, b_start), min(a_end, b_end)
            if earliest_end > latest_start:
                total += earliest_end - latest_start
    return total


def day_overlap(
    *,
    day: date,
    client_zone: str,
    client_hours: WorkingHours,
    provider_zone: str,
    provider_hours: WorkingHours,
) -> timedelta | None:
    """How long both work on the client's local date `day`; None if the client is off."""
    client_shifts = shifts_on(day, client_hours, ZoneInfo(client_zone))
    if not client_shifts:
        return None
    provider_tz = ZoneInfo(provider_zone)
    # A shift lasts at most a day and zones differ by at most 26 hours, so the provider's
    # shifts that can meet this client day start within three local days either side of
    # it (the third only when the zones are more than 24 hours apart).
    provider_shifts = [
        shift
        for offset in range(-3, 4)
        for shift in shifts_on(day + timedelta(days=offset), provider_hours, provider_tz)
    ]
    return _overlap(client_shifts, provider_shifts)


def average_hours(overlaps: list[timedelta | None]) -> float:
    """Average hours per client working day (days the client is off do not count)."""
    worked = [o for o in overlaps if o is not None]
    if not worked:
        return 0.0
    return round(sum(worked, timedelta()).total_seconds() / 3600 / len(worked), 2)


def average_overlap_hours(
    *,
    client_zone: str,
    client_hours: WorkingHours,
    provider_zone: str,
    provider_hours: WorkingHours,
    first: date,
    last: date,
) -> float:
    """Average hours per client working day in first..last that both sides work."""
    return average_hours(
        [
            day_overlap(
                day=day,
                client_zone=client_zone,
                client_hours=client_hours,
                provider_zone=provider_zone,
                provider_hours=provider_hours,
            )
            for day in days(first, last)
        ]
    )


@lru_cache(maxsize=65_536)
def utc_offset(zone: str, day: date) -> timedelta:
    """The zone's UTC offset at noon UTC of `day` (rules change at most a few times a year)."""
    noon = datetime.combine(day, time(12), tzinfo=UTC)
    return noon.astimezone(ZoneInfo(zone)).utcoffset() or timedelta()


def max_offset_difference(zone_a: str, zone_b: str, first: date, last: date) -> timedelta:
    """The largest difference between two zones' UTC offsets on any day of the period."""
    return max(
        (abs(utc_offset(zone_a, day) - utc_offset(zone_b, day)) for day in days(first, last)),
        default=timedelta(),
    )


@lru_cache(maxsize=512)
def nearshore_zones(client_zone: str, first: date, last: date) -> tuple[str, ...]:
    """Zones whose UTC offset stays within 3 hours of the client's zone all period."""
    return tuple(
        sorted(
            zone
            for zone in zoneinfo.available_timezones() | {"UTC"}
            if max_offset_difference(client_zone, zone, first, last) <= NEARSHORE_MAX_OFFSET
        )
    )


def shoring(
    *,
    client_country: str | None,
    client_zone: str,
    provider_country: str | None,
    provider_zone: str,
    first: date,
    last: date,
) -> str:
    """`onshore` (same country), `nearshore` (UTC offsets within 3 hours all period) or
    `offshore`."""
    if client_country and client_country == provider_country:
        return "onshore"
    if max_offset_difference(client_zone, provider_zone, first, last) <= NEARSHORE_MAX_OFFSET:
        return "nearshore"
    return "offshore"
