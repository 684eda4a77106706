"""Exact overlap across daylight saving, odd zones and midnight; shoring classes.

Each expected figure is worked out by hand from the zones' offsets in 2026 (comments say
how), then checked on the fast re-ranking path (`ClientPeriod`) and on the reference
day-by-day computation (`timezones.average_overlap_hours`), which must agree.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from marketplace.matching import timezones
from marketplace.matching.overlap import ClientPeriod
from tests.matching_world import EVERY_DAY, WEEKDAYS, hours

NINE_TO_FIVE = hours("09:00", "17:00")
NY, LONDON = "America/New_York", "Europe/London"

CASES = [
    # New York 09-17 vs London 09-17. Winter: EST -5 -> 14-22 UTC, GMT -> 09-17 UTC: 3 h.
    (NY, NINE_TO_FIVE, LONDON, NINE_TO_FIVE, "2026-03-02", "2026-03-06", 3.0),
    # US clocks go forward on 8 March, the UK's on 29 March: EDT -4 -> 13-21 UTC against
    # GMT 09-17 UTC: 4 h for the weeks in between.
    (NY, NINE_TO_FIVE, LONDON, NINE_TO_FIVE, "2026-03-09", "2026-03-13", 4.0),
    (NY, NINE_TO_FIVE, LONDON, NINE_TO_FIVE, "2026-03-23", "2026-03-27", 4.0),
    # Both on summer time: EDT 13-21 UTC, BST 08-16 UTC: 3 h again.
    (NY, NINE_TO_FIVE, LONDON, NINE_TO_FIVE, "2026-03-30", "2026-04-03", 3.0),
    # The UK goes back on 25 October, the US on 1 November: GMT 09-17 vs EDT 13-21: 4 h.
    (NY, NINE_TO_FIVE, LONDON, NINE_TO_FIVE, "2026-10-26", "2026-10-30", 4.0),
    (NY, NINE_TO_FIVE, LONDON, NINE_TO_FIVE, "2026-11-02", "2026-11-06", 3.0),
    # Two weeks straddling 8 March: five days of 3 h and five of 4 h: 3.5 h a day.
    (NY, NINE_TO_FIVE, LONDON, NINE_TO_FIVE, "2026-03-02", "2026-03-13", 3.5),
    # Kolkata +5:30 (09-17 = 03:30-11:30 UTC) vs Kathmandu +5:45 (03:15-11:15 UTC): 7.75 h.
    ("Asia/Kolkata", NINE_TO_FIVE, "Asia/Kathmandu", NINE_TO_FIVE, "2026-01-05", "2026-01-30",
     7.75),
    # London 09-17 vs Kolkata 03:30-11:30 UTC: GMT 09-17 gives 2.5 h, BST 08-16 gives 3.5 h.
    (LONDON, NINE_TO_FIVE, "Asia/Kolkata", NINE_TO_FIVE, "2026-01-05", "2026-01-09", 2.5),
    (LONDON, NINE_TO_FIVE, "Asia/Kolkata", NINE_TO_FIVE, "2026-06-01", "2026-06-05", 3.5),
    # Sydney 09-17 vs Santiago evenings 18-02 (Sun-Thu, so they meet Sydney's Mon-Fri).
    # January, both on summer time: AEDT 09-17 = 22-06 UTC, CLST 18-02 = 21-05 UTC: 7 h.
    ("Australia/Sydney", NINE_TO_FIVE, "America/Santiago",
     hours("18:00", "02:00", ("sun", "mon", "tue", "wed", "thu")), "2026-01-05", "2026-01-09", 7.0),
    # June, both on standard time: AEST 23-07 UTC, CLT 22-06 UTC: 7 h.
    ("Australia/Sydney", NINE_TO_FIVE, "America/Santiago",
     hours("18:00", "02:00", ("sun", "mon", "tue", "wed", "thu")), "2026-06-01", "2026-06-05", 7.0),
    # Chile goes forward on 6 September, Sydney on 4 October: AEST 23-07 vs CLST 21-05: 6 h.
    ("Australia/Sydney", NINE_TO_FIVE, "America/Santiago",
     hours("18:00", "02:00", ("sun", "mon", "tue", "wed", "thu")), "2026-09-14", "2026-09-18", 6.0),
    # A New York night shift 22-06 (EST: 03-11 UTC next day) vs Manila 09-17 (01-09 UTC):
    # Monday to Thursday nights meet Manila's next morning for 6 h; Friday night meets
    # Manila's Saturday, a day off: 24 h over 5 nights = 4.8 h.
    ("America/New_York", hours("22:00", "06:00"), "Asia/Manila", NINE_TO_FIVE,
     "2026-01-05", "2026-01-09", 4.8),
    # The same in summer (EDT: 02-10 UTC): 7 h on four nights, 28 / 5 = 5.6 h.
    ("America/New_York", hours("22:00", "06:00"), "Asia/Manila", NINE_TO_FIVE,
     "2026-07-06", "2026-07-10", 5.6),
    # Zones 26 hours apart: a Monday shift at UTC-12 from 23:00 to 22:59 the next day (Tue
    # 11:00 to Wed 10:59 UTC) meets Kiritimati's (+14) Thursday 00:00-04:00 (Wed 10:00-14:00
    # UTC), three local days later, for 59 minutes: 0.98 h on the one working day.
    ("Etc/GMT+12", {"mon": [["23:00", "22:59"]]}, "Pacific/Kiritimati",
     {"thu": [["00:00", "04:00"]]}, "2026-01-05", "2026-01-11", 0.98),
    ("Pacific/Kiritimati", {"thu": [["00:00", "04:00"]]}, "Etc/GMT+12",
     {"mon": [["23:00", "22:59"]]}, "2026-01-05", "2026-01-11", 0.98),
]  # fmt: skip


def _both_ways(client_zone, client_hours, zone, working, first, last) -> tuple[float, float]:
    """(fast path, day-by-day reference) for one pair over first..last."""
    period = ClientPeriod(
        zone=client_zone, country=None, hours=client_hours, first=first, last=last
    )
    reference = timezones.average_overlap_hours(
        client_zone=client_zone,
        client_hours=client_hours,
        provider_zone=zone,
        provider_hours=working,
        first=first,
        last=last,
    )
    return period.overlap_hours(zone, working), reference


@pytest.mark.parametrize(
    ("client_zone", "client_hours", "zone", "working", "first", "last", "expected"), CASES
)
def test_overlap_is_exact(client_zone, client_hours, zone, working, first, last, expected):
    first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
    assert _both_ways(client_zone, client_hours, zone, working, first_day, last_day) == (
        expected,
        expected,
    )


ZONES = [
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Sydney",
    "America/Santiago",
    "Asia/Manila",
    "UTC",
    "Pacific/Chatham",
]


def _random_hours(rng: random.Random) -> dict[str, list[list[str]]]:
    start = rng.randrange(0, 96) * 15
    length = rng.choice([240, 480, 510, 600])
    end = (start + length) % 1440
    days = tuple(d for d in EVERY_DAY if rng.random() < 0.7) or WEEKDAYS
    return hours(f"{start // 60:02d}:{start % 60:02d}", f"{end // 60:02d}:{end % 60:02d}", days)


def test_fast_path_agrees_with_the_day_by_day_reference():
    rng = random.Random(5)
    for _ in range(150):
        first = date(2026, 1, 1) + timedelta(days=rng.randrange(365))
        last = first + timedelta(days=rng.choice([6, 27, 60]))
        client_zone, zone = rng.choice(ZONES), rng.choice(ZONES)
        client_hours, working = _random_hours(rng), _random_hours(rng)
        fast, reference = _both_ways(client_zone, client_hours, zone, working, first, last)
        assert fast == reference


@pytest.mark.parametrize(
    ("client_country", "client_zone", "country", "zone", "first", "last", "expected"),
    [
        ("US", NY, "US", "America/Los_Angeles", "2026-01-05", "2026-02-01", "onshore"),
        # Bogota -5 all year vs New York -5/-4: within 3 h.
        ("US", "America/New_York", "CO", "America/Bogota", "2026-01-05", "2026-08-01", "nearshore"),
        ("US", "America/New_York", "PH", "Asia/Manila", "2026-01-05", "2026-02-01", "offshore"),
        # Lisbon 0/+1 vs Dubai +4: 3 h in summer (nearshore), 4 h in winter (offshore), and a
        # period that reaches winter is offshore.
        ("PT", "Europe/Lisbon", "AE", "Asia/Dubai", "2026-06-01", "2026-06-30", "nearshore"),
        ("PT", "Europe/Lisbon", "AE", "Asia/Dubai", "2026-01-05", "2026-01-30", "offshore"),
        ("PT", "Europe/Lisbon", "AE", "Asia/Dubai", "2026-03-20", "2026-04-10", "offshore"),
        # Another country in the same zone is nearshore, not onshore.
        ("US", NY, "CA", "America/Toronto", "2026-01-05", "2026-02-01", "nearshore"),
    ],
)  # fmt: skip
def test_shoring_classes(client_country, client_zone, country, zone, first, last, expected):
    assert (
        timezones.shoring(
            client_country=client_country,
            client_zone=client_zone,
            provider_country=country,
            provider_zone=zone,
            first=date.fromisoformat(first),
            last=date.fromisoformat(last),
        )
        == expected
    )
