"""Exact overlap across daylight saving, odd zones and midnight; shoring classes.

Each expected figure is worked out by hand from the zones' offsets in 2026 (comments say
how), then checked on the one overlap API (`overlap.ClientPeriod`) and on the reference
day-by-day computation (`timezones.average_overlap_hours`), which must agree. Properties
then check, with hypothesis, that the API gives exactly what the reference gives for any
weekly hours, zones and periods around daylight-saving changes.
"""

from __future__ import annotations

import random
import zoneinfo
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.hours import DAYS, MINUTES_PER_DAY, MINUTES_PER_WEEK, validate_working_hours
from marketplace.matching import timezones
from marketplace.matching.overlap import ClientPeriod, nearshore_zones
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


# Zones with daylight saving in either hemisphere (Lord Howe's moves by 30 minutes),
# without it (Kolkata, Sao Paulo since 2019, Manila), at +12:45/+13:45 (Chatham), around
# Ramadan (Casablanca) and 25 hours apart (Kiritimati +14, Pago Pago -11).
PROPERTY_ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kolkata",
    "Pacific/Chatham",
    "America/Sao_Paulo",
    "Europe/Berlin",
    "Asia/Manila",
    "UTC",
    "America/Santiago",
    "Africa/Casablanca",
    "Pacific/Kiritimati",
    "Pacific/Pago_Pago",
]
# Days the zones above change their clocks in 2026 and 2027; periods start around them.
CLOCK_CHANGES = [
    date.fromisoformat(day)
    for day in (
        "2026-02-15", "2026-03-08", "2026-03-22", "2026-03-29", "2026-04-05", "2026-09-06",
        "2026-09-27", "2026-10-04", "2026-10-25", "2026-11-01", "2027-02-07", "2027-03-14",
        "2027-03-28", "2027-04-04", "2027-09-26", "2027-10-03", "2027-10-31", "2027-11-07",
    )
]  # fmt: skip
COUNTRIES = [None, "US", "GB", "AU"]


def _clock(minutes: int) -> str:
    return "24:00" if minutes == MINUTES_PER_DAY else f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def weekly_hours(draw: st.DrawFn) -> dict[str, list[list[str]]]:
    """Valid weekly hours: up to five shifts anywhere in the week, on a grid of 1 to 60
    minutes, so shifts cross midnight, run from Sunday into Monday, last a whole day, or
    start and end inside the hour clocks skip or repeat."""
    count = draw(st.integers(0, 5))
    step = draw(st.sampled_from([1, 15, 30, 60]))
    points = draw(
        st.lists(
            st.integers(0, MINUTES_PER_WEEK // step - 1), min_size=2 * count,
            max_size=2 * count, unique=True,
        )
    )  # fmt: skip
    turn = draw(st.integers(0, MINUTES_PER_WEEK // step - 1)) * step
    cuts = sorted(point * step for point in points)
    week: dict[str, list[list[str]]] = {}
    # Consecutive cuts bound disjoint arcs of the week; turning the week moves them anywhere.
    for start, end in zip(cuts[::2], cuts[1::2], strict=True):
        length = min(end - start, MINUTES_PER_DAY)
        day, at = divmod((start + turn) % MINUTES_PER_WEEK, MINUTES_PER_DAY)
        if at and length == MINUTES_PER_DAY:
            length -= 1  # only a shift from midnight may last a whole day (00:00-24:00)
        stop = (at + length) % MINUTES_PER_DAY
        week.setdefault(DAYS[day], []).append([_clock(at), _clock(stop or MINUTES_PER_DAY)])
    return validate_working_hours(week)


@st.composite
def periods(draw: st.DrawFn, longest: int = 120) -> tuple[date, date]:
    """A task's dates: from up to 45 days before a change of clocks to 10 after it, for up
    to `longest` days."""
    first = draw(st.sampled_from(CLOCK_CHANGES)) + timedelta(days=draw(st.integers(-45, 10)))
    return first, first + timedelta(days=draw(st.integers(0, longest)))


@settings(max_examples=800, deadline=None)
@given(
    client_zone=st.sampled_from(PROPERTY_ZONES),
    client_hours=weekly_hours(),
    zone=st.sampled_from(PROPERTY_ZONES),
    working=weekly_hours(),
    period=periods(),
)
def test_overlap_is_the_day_by_day_reference(client_zone, client_hours, zone, working, period):
    # Exactly equal, not within a tolerance: both add whole seconds and divide the sum
    # by 3600 and by the client's working days in the same order.
    fast, reference = _both_ways(client_zone, client_hours, zone, working, *period)
    assert fast == reference


@settings(max_examples=300, deadline=None)
@given(
    client_zone=st.sampled_from(PROPERTY_ZONES),
    client_country=st.sampled_from(COUNTRIES),
    zone=st.sampled_from(PROPERTY_ZONES),
    country=st.sampled_from(COUNTRIES),
    period=periods(longest=400),
)
def test_shoring_is_the_reference(client_zone, client_country, zone, country, period):
    first, last = period
    client = ClientPeriod(
        zone=client_zone, country=client_country, hours=NINE_TO_FIVE, first=first, last=last
    )
    assert client.shoring(country, zone) == timezones.shoring(
        client_country=client_country,
        client_zone=client_zone,
        provider_country=country,
        provider_zone=zone,
        first=first,
        last=last,
    )


@pytest.mark.parametrize(
    ("client_zone", "first", "last"),
    [(NY, "2026-12-02", "2026-12-29"), ("Australia/Lord_Howe", "2027-03-01", "2027-05-15")],
)
def test_the_candidate_sql_takes_the_zones_a_client_period_calls_nearshore(
    client_zone, first, last
):
    first_day, last_day = date.fromisoformat(first), date.fromisoformat(last)
    client = ClientPeriod(
        zone=client_zone, country="US", hours=NINE_TO_FIVE, first=first_day, last=last_day
    )
    every_zone = sorted(zoneinfo.available_timezones() | {"UTC"})
    assert nearshore_zones(client_zone, first_day, last_day) == tuple(
        zone for zone in every_zone if client.shoring("CA", zone) == "nearshore"
    )
