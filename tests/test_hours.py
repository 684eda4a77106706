"""Working-hours validation: shape, midnight-crossing shifts and overlaps across the week."""

from __future__ import annotations

import marshmallow as ma
import pytest

from marketplace.hours import validate_working_hours, week_intervals


@pytest.mark.parametrize(
    "hours",
    [
        {},
        {"mon": [["09:00", "17:00"]]},
        {"mon": [["22:00", "06:00"]], "tue": [["06:00", "10:00"]]},
        {"sun": [["20:00", "04:00"]], "mon": [["04:00", "08:00"]]},
        {"mon": [["00:00", "24:00"]], "tue": [["00:00", "12:00"]]},
        {"mon": [["09:00", "12:00"], ["13:00", "17:30"]]},
        {day: [["18:00", "02:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
    ],
)
def test_valid_hours(hours):
    assert validate_working_hours(hours) == hours


@pytest.mark.parametrize(
    "hours",
    [
        [],
        {"mon": "09:00-17:00"},
        {"mon": [["09:00"]]},
        {"mon": [["25:00", "26:00"]]},
        {"mon": [["9:00", "17:00"]]},
        {"mon": [["24:00", "02:00"]]},
        {"mon": [["10:00", "10:00"]]},
        {"mon": [["09:00", "17:00"], ["12:00", "13:00"]]},
        {"mon": [["22:00", "06:00"]], "tue": [["05:59", "07:00"]]},
        {"sun": [["20:00", "04:00"]], "mon": [["03:00", "05:00"]]},
        {"mon": [["00:00", "24:00"]], "sun": [["23:00", "01:00"]]},
        {"someday": [["09:00", "10:00"]]},
    ],
)
def test_invalid_hours(hours):
    with pytest.raises(ma.ValidationError):
        validate_working_hours(hours)


def test_week_intervals_place_night_shifts_on_their_start_day():
    assert week_intervals({"tue": [["22:00", "06:00"]]}) == [(1 * 1440 + 22 * 60, 2 * 1440 + 360)]


def test_days_come_back_in_week_order():
    result = validate_working_hours({"fri": [["09:00", "10:00"]], "mon": [["09:00", "10:00"]]})
    assert list(result) == ["mon", "fri"]
