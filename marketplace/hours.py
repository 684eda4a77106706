"""Weekly working hours in local time: `{"mon": [["09:00", "17:00"]], ...}`.

A shift whose end is earlier than its start crosses midnight and belongs to
the day it starts (`"fri": [["22:00", "06:00"]]` runs into Saturday). Shifts
may not overlap, including a Sunday night shift running into Monday.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 24 * 60
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY
_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")

WorkingHours = dict[str, list[list[str]]]
Interval = tuple[datetime, datetime]


def parse_time(value: Any) -> int:
    """Minutes after midnight of an `HH:MM` string (`24:00` allowed as an end)."""
    if not isinstance(value, str) or not _TIME.match(value):
        raise ValueError(f"{value!r} is not a time of day in HH:MM form")
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def week_intervals(hours: WorkingHours) -> list[tuple[int, int]]:
    """Shifts as `(start, end)` minutes from Monday 00:00 local, sorted; ends may pass the week."""
    intervals = []
    for day_index, day in enumerate(DAYS):
        for start_text, end_text in hours.get(day, []):
            start, end = parse_time(start_text), parse_time(end_text)
            if end <= start:
                end += MINUTES_PER_DAY
            base = day_index * MINUTES_PER_DAY
            intervals.append((base + start, base + end))
    return sorted(intervals)


def validate_working_hours(value: Any) -> WorkingHours:
    """Check shape, times and overlaps; return the hours with days in week order."""
    if not isinstance(value, dict):
        raise ma.ValidationError("Working hours must be an object keyed by day (mon..sun).")
    errors: dict[str, list[str]] = {}
    for day, shifts in value.items():
        if day not in DAYS:
            errors[str(day)] = ["Unknown day; use mon, tue, wed, thu, fri, sat or sun."]
            continue
        if not isinstance(shifts, list) or len(shifts) > 6:
            errors[day] = ["A day is a list of at most 6 [start, end] shifts."]
            continue
        for shift in shifts:
            if not (isinstance(shift, list) and len(shift) == 2):
                errors.setdefault(day, []).append("Each shift is a [start, end] pair.")
                continue
            try:
                start, end = parse_time(shift[0]), parse_time(shift[1])
            except ValueError as exc:
                errors.setdefault(day, []).append(str(exc))
                continue
            if start in (end, MINUTES_PER_DAY):
                errors.setdefault(day, []).append(
                    f"Shift {shift[0]}-{shift[1]} is empty or starts at 24:00."
                )
    if errors:
        raise ma.ValidationError(errors)
    ordered = {day: [list(s) for s in value[day]] for day in DAYS if value.get(day)}
    # Each shift placed on the week, with its name as given, to say which ones clash.
    shifts = sorted(
        (*week_intervals({day: [shift]})[0], f"{day} {shift[0]}-{shift[1]}")
        for day, day_shifts in ordered.items()
        for shift in day_shifts
    )
    # Compare each shift with the next, and the last with the first one a week later.
    pairs = list(itertools.pairwise(shifts))
    if len(shifts) > 1:
        first, last = shifts[0], shifts[-1]
        pairs.append((last, (first[0] + MINUTES_PER_WEEK, first[1] + MINUTES_PER_WEEK, first[2])))
    for (start_a, end_a, name_a), (start_b, _, name_b) in pairs:
        if start_b < end_a:
            crosses = (end_a - 1) // MINUTES_PER_DAY > start_a // MINUTES_PER_DAY
            why = " (it ends before it starts, so it runs into the next day)" if crosses else ""
            raise ma.ValidationError(
                f"Shift {name_a}{why} overlaps {name_b}; each moment of the week belongs "
                "to one shift."
            )
    return ordered


_SHIFT_SCHEMA = {
    "type": "array",
    "minItems": 2,
    "maxItems": 2,
    "items": {"type": "string", "pattern": r"^(([01]\d|2[0-3]):[0-5]\d|24:00)$"},
}
#: Weekly hours as the OpenAPI spec documents them.
WORKING_HOURS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {day: {"type": "array", "maxItems": 6, "items": _SHIFT_SCHEMA} for day in DAYS},
    "additionalProperties": False,
}


class WorkingHoursField(ma.fields.Field):
    """Weekly hours in local time, validated and returned in week order."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "metadata",
            {
                **WORKING_HOURS_SCHEMA,
                "description": "Local times per day; a shift ending before it starts "
                "crosses midnight and belongs to the day it starts. Shifts may not overlap.",
                "example": {"mon": [["09:00", "17:00"]], "fri": [["22:00", "06:00"]]},
            },
        )
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> WorkingHours:
        return validate_working_hours(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return value


def _to_utc(day: date, minutes: int, zone: ZoneInfo) -> datetime:
    wall = datetime.combine(day, time()) + timedelta(minutes=minutes)
    return wall.replace(tzinfo=zone).astimezone(UTC)


def shifts_on(day: date, hours: WorkingHours, zone: ZoneInfo) -> list[Interval]:
    """The shifts that start on local date `day`, as UTC intervals: each shift is placed on
    its real calendar date in its zone, so daylight-saving changes, shifts crossing
    midnight and half-hour zones come out right (the placement matching and the SLA
    clocks share)."""
    intervals = []
    for start_text, end_text in hours.get(DAYS[day.weekday()], []):
        start, end = parse_time(start_text), parse_time(end_text)
        if end <= start:
            end += MINUTES_PER_DAY
        intervals.append((_to_utc(day, start, zone), _to_utc(day, end, zone)))
    return intervals


# Billing weeks of hourly contracts: Monday 00:00 to Sunday 24:00, UTC, as Upwork bills.


def billing_week(moment: datetime) -> date:
    """The Monday (UTC) of the billing week `moment` falls in."""
    day = moment.astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def week_bounds(monday: date) -> Interval:
    """The billing week that starts on `monday`: [Monday 00:00, next Monday 00:00) UTC."""
    start = datetime.combine(monday, time(), tzinfo=UTC)
    return start, start + timedelta(days=7)
