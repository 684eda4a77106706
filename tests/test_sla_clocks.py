"""SLA clocks count business minutes of the contract's service hours, exactly: over weekends,
across the European and the North American daylight-saving changes (different dates), on
shifts that cross midnight, in half-hour zones, and in a coverage window in the client's zone;
and the clocks are read right from a contract's messages and milestone steps."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from marketplace.contracts.models import Contract, MilestoneStatus
from marketplace.extensions import db
from marketplace.record import clocks
from marketplace.record.clock import ServiceHours, contract_service_hours
from tests.factories import ClientFactory, ProviderFactory, task_payload, terms_acceptance
from tests.money import usd

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in WEEKDAYS}
NIGHTS = {day: [["22:00", "06:00"]] for day in WEEKDAYS}


def local(zone: str, *parts: int) -> datetime:
    """A wall-clock time in `zone`, as an aware datetime."""
    return datetime(*parts, tzinfo=ZoneInfo(zone))  # type: ignore[misc]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


BERLIN = ServiceHours.of("Europe/Berlin", NINE_TO_FIVE)
NEW_YORK = ServiceHours.of("America/New_York", NINE_TO_FIVE)


def test_the_issues_example_friday_to_monday_is_thirty_minutes():
    start = local("Europe/Berlin", 2026, 3, 6, 16, 50)  # a Friday
    end = local("Europe/Berlin", 2026, 3, 9, 9, 20)
    assert BERLIN.minutes_between(start, end) == 30


@pytest.mark.parametrize(
    ("friday", "monday", "wall_hours"),
    [
        # Europe moves its clocks forward on Sunday 29 March 2026 and back on 25 October.
        ((2026, 3, 27, 16, 50), (2026, 3, 30, 9, 20), 63.5),
        ((2026, 10, 23, 16, 50), (2026, 10, 26, 9, 20), 65.5),
    ],
)
def test_the_example_is_exact_in_the_weeks_europe_changes_its_clocks(friday, monday, wall_hours):
    start, end = local("Europe/Berlin", *friday), local("Europe/Berlin", *monday)
    # The wall clock moved: the real time between them is an hour shorter or longer.
    assert (end.astimezone(UTC) - start.astimezone(UTC)) / timedelta(hours=1) == wall_hours
    assert BERLIN.minutes_between(start, end) == 30
    assert BERLIN.deadline(start, 30) == end


def test_a_weekend_and_whole_days_in_between():
    start = local("Europe/Berlin", 2026, 1, 8, 12, 0)  # a Thursday noon
    end = local("Europe/Berlin", 2026, 1, 13, 10, 0)  # the next Tuesday 10:00
    assert BERLIN.minutes_between(start, end) == (5 + 8 + 8 + 1) * 60
    # Started on Saturday, nothing counts until Monday 09:00.
    saturday = local("Europe/Berlin", 2026, 1, 10, 11, 0)
    assert BERLIN.minutes_between(saturday, local("Europe/Berlin", 2026, 1, 12, 9, 0)) == 0
    assert BERLIN.deadline(saturday, 90) == local("Europe/Berlin", 2026, 1, 12, 10, 30)
    assert BERLIN.minutes_between(end, start) == 0


def test_new_york_and_berlin_change_on_different_dates_in_march():
    # 8 March 2026: New York springs forward; Berlin waits until 29 March.
    assert (
        NEW_YORK.minutes_between(
            local("America/New_York", 2026, 3, 6, 16, 0),
            local("America/New_York", 2026, 3, 9, 10, 0),
        )
        == 120
    )
    # The same UTC span, 07:00-15:00 Z, on Mondays between and after the two changes.
    between = (utc(2026, 3, 23, 7, 0), utc(2026, 3, 23, 15, 0))
    after = (utc(2026, 3, 30, 7, 0), utc(2026, 3, 30, 15, 0))
    assert BERLIN.minutes_between(*between) == 7 * 60  # 08:00-16:00 Z in CET
    assert BERLIN.minutes_between(*after) == 8 * 60  # 07:00-15:00 Z in CEST
    assert NEW_YORK.minutes_between(*between) == 2 * 60  # 13:00-21:00 Z in EDT
    assert NEW_YORK.minutes_between(*after) == 2 * 60


def test_new_york_and_berlin_change_on_different_dates_in_autumn():
    # Berlin falls back on 25 October 2026, New York on 1 November.
    start = local("America/New_York", 2026, 10, 30, 16, 0)
    end = local("America/New_York", 2026, 11, 2, 10, 0)
    assert NEW_YORK.minutes_between(start, end) == 120
    assert NEW_YORK.deadline(start, 120) == end
    between = (utc(2026, 10, 26, 7, 0), utc(2026, 10, 26, 15, 0))  # Berlin CET, New York EDT
    after = (utc(2026, 11, 2, 7, 0), utc(2026, 11, 2, 15, 0))  # both on standard time
    assert BERLIN.minutes_between(*between) == 7 * 60
    assert NEW_YORK.minutes_between(*between) == 2 * 60  # 13:00-21:00 Z
    assert NEW_YORK.minutes_between(*after) == 1 * 60  # 14:00-22:00 Z


def test_a_shift_that_crosses_midnight_belongs_to_the_day_it_starts():
    manila = ServiceHours.of("Asia/Manila", NIGHTS)
    friday_night = local("Asia/Manila", 2026, 1, 9, 23, 0)
    monday_night = local("Asia/Manila", 2026, 1, 12, 23, 0)
    # Friday's shift runs to Saturday 06:00; none on the weekend; Monday's starts at 22:00.
    assert manila.minutes_between(friday_night, monday_night) == 7 * 60 + 60
    saturday_dawn = local("Asia/Manila", 2026, 1, 10, 5, 0)
    assert manila.minutes_between(saturday_dawn, saturday_dawn + timedelta(hours=2)) == 60
    assert manila.deadline(saturday_dawn, 90) == local("Asia/Manila", 2026, 1, 12, 22, 30)


def test_a_night_shift_across_a_daylight_saving_change_is_an_hour_shorter():
    london = ServiceHours.of("Europe/London", {"sat": [["22:00", "06:00"]]})
    # Saturday 28 March 2026 22:00 GMT to Sunday 06:00 BST: seven real hours.
    start, end = utc(2026, 3, 28, 12, 0), utc(2026, 3, 29, 12, 0)
    assert london.minutes_between(start, end) == 7 * 60
    autumn = (utc(2026, 10, 24, 12, 0), utc(2026, 10, 25, 12, 0))  # back to GMT: nine
    assert london.minutes_between(*autumn) == 9 * 60


def test_half_hour_zones_kolkata_and_adelaide_across_its_change():
    kolkata = ServiceHours.of("Asia/Kolkata", NINE_TO_FIVE)
    # 03:00-04:00 Z is 08:30-09:30 in India (UTC+05:30).
    assert kolkata.minutes_between(utc(2026, 1, 5, 3, 0), utc(2026, 1, 5, 4, 0)) == 30
    adelaide = ServiceHours.of("Australia/Adelaide", NINE_TO_FIVE)
    # Adelaide leaves daylight time (UTC+10:30 -> +09:30) on Sunday 5 April 2026.
    start = local("Australia/Adelaide", 2026, 4, 3, 16, 30)
    end = local("Australia/Adelaide", 2026, 4, 6, 9, 30)
    assert (start.astimezone(UTC), end.astimezone(UTC)) == (
        utc(2026, 4, 3, 6, 0),
        utc(2026, 4, 6, 0, 0),
    )
    assert adelaide.minutes_between(start, end) == 60
    assert adelaide.deadline(start, 60) == end


def test_many_spans_at_once_count_as_one_at_a_time():
    hours = ServiceHours.of("America/New_York", {**NINE_TO_FIVE, "sat": [["22:00", "06:00"]]})
    rng = random.Random(17)
    base = utc(2026, 2, 20)
    spans = []
    for _ in range(300):
        start = base + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
        spans.append((start, start + timedelta(minutes=rng.randrange(-60, 60 * 24 * 9))))
    assert hours.minutes_of(spans) == [hours.minutes_between(a, b) for a, b in spans]


def test_deadline_inside_a_shift_and_without_shifts():
    start = local("Europe/Berlin", 2026, 1, 7, 16, 0)  # a Wednesday
    assert BERLIN.deadline(start, 30) == local("Europe/Berlin", 2026, 1, 7, 16, 30)
    assert BERLIN.deadline(start, 60) == local("Europe/Berlin", 2026, 1, 7, 17, 0)
    assert BERLIN.deadline(start, 61) == local("Europe/Berlin", 2026, 1, 8, 9, 1)
    assert ServiceHours.of("UTC", {}).deadline(start, 10) is None


# --- a real award -------------------------------------------------------------------------


def award(
    login: Any, client: Any, provider: Any, *, sla: dict[str, Any] | None = None, **task: Any
) -> tuple[Contract, Any, Any]:
    """`provider`'s bid on a task of `client` awarded (with `sla` overrides) and accepted:
    the contract and both parties' clients."""
    client_api, provider_api = login(client), login(provider)
    payload = task_payload(
        budget={"type": "fixed", "min": 50_000, "max": 120_000, "currency": "usd"}, **task
    )
    created = client_api.post("tasks", json=payload).get_json()
    client_api.post(f"tasks/{created['id']}/publish", json={})
    provider_api.post(f"tasks/{created['id']}/confidentiality", json=terms_acceptance())
    bid = provider_api.post(
        f"tasks/{created['id']}/bids",
        json={
            "price": {"amount": 100_000, "currency": "usd"},
            "milestones": [
                {"title": "First week", "amount": usd(40_000)},
                {"title": "The rest", "amount": usd(60_000)},
            ],
            "timeline_days": 30,
            "cover_letter": "We run support queues for Shopify stores every day.",
        },
    ).get_json()
    offer = client_api.post(f"bids/{bid['id']}/accept", json={"sla": sla} if sla else {})
    assert offer.status_code in (200, 201), offer.get_json()
    contract_id = uuid.UUID(offer.get_json()["id"])
    assert provider_api.post(f"contracts/{contract_id}/accept").status_code == 200
    return db.session.get(Contract, contract_id), client_api, provider_api


def test_a_coverage_task_runs_its_clocks_in_the_window_in_the_clients_zone(login):
    window = {day: [["08:00", "12:00"]] for day in WEEKDAYS}
    client = ClientFactory(timezone="America/Chicago")
    provider = ProviderFactory()  # Manila, 08:00-16:00 there
    contract, *_ = award(
        login, client, provider, timezone_need={"mode": "coverage", "window": window}
    )
    fixed = contract.current_terms.content["service_hours"]
    assert fixed == {"zone": "America/Chicago", "hours": window, "source": "coverage_window"}
    hours = contract_service_hours(contract)
    # Chicago moves to daylight time on 8 March 2026: Friday 11:30 CST to Monday 08:30 CDT.
    start = local("America/Chicago", 2026, 3, 6, 11, 30)
    end = local("America/Chicago", 2026, 3, 9, 8, 30)
    assert hours.minutes_between(start, end) == 60
    assert hours.deadline(start, 60) == end


def test_an_overlap_task_runs_its_clocks_in_the_providers_hours(login):
    provider = ProviderFactory()  # Manila, 08:00-16:00 Monday to Friday
    contract, *_ = award(login, ClientFactory(timezone="America/Chicago"), provider)
    assert contract.current_terms.content["service_hours"] == {
        "zone": "Asia/Manila",
        "hours": {day: [["08:00", "16:00"]] for day in WEEKDAYS},
        "source": "provider_working_hours",
    }
    hours = contract_service_hours(contract)
    # 07:00-09:00 Z on a Monday is 15:00-17:00 in Manila: one hour counts.
    assert hours.minutes_between(utc(2026, 1, 5, 7, 0), utc(2026, 1, 5, 9, 0)) == 60


# --- reading the clocks -------------------------------------------------------------------

CLIENT, AGENT, OWNER = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
T0 = utc(2026, 1, 5, 9, 0)


def _messages(*steps: tuple[int, uuid.UUID]) -> list[tuple[uuid.UUID, datetime, uuid.UUID]]:
    return [(uuid.uuid4(), T0 + timedelta(minutes=minute), who) for minute, who in steps]


def _read(found: list[clocks.Clock]) -> list[tuple[str, int, int | None]]:
    def minute(at: datetime | None) -> int | None:
        return None if at is None else int((at - T0) / timedelta(minutes=1))

    return [(c.metric, minute(c.started_at) or 0, minute(c.stopped_at)) for c in found]


def test_first_and_next_responses_and_several_messages_joining_one_wait():
    messages = _messages(
        (0, CLIENT), (5, CLIENT), (20, AGENT),  # first response, two messages waiting
        (30, AGENT),  # nothing waits: no clock
        (60, CLIENT), (90, OWNER),  # a next response, answered by the firm's owner
        (60 * 30, CLIENT), (60 * 30 + 15, AGENT),  # after 24 quiet hours: a new exchange
        (60 * 31, CLIENT),  # still waiting
    )  # fmt: skip
    found = clocks.response_clocks(messages, {AGENT, OWNER}, idle=timedelta(hours=24))
    assert _read(found) == [
        ("first_response", 0, 20),
        ("next_response", 60, 90),
        ("first_response", 1800, 1815),
        ("next_response", 1860, None),
    ]
    assert found[0].key == str(messages[0][0])
    assert found[-1].running


def test_the_idle_gap_is_measured_from_the_last_message_of_either_side():
    messages = _messages((0, CLIENT), (10, AGENT), (60 * 24 - 1, CLIENT), (60 * 24, AGENT))
    found = clocks.response_clocks(messages, {AGENT}, idle=timedelta(hours=24))
    assert [c.metric for c in found] == ["first_response", "next_response"]
    found = clocks.response_clocks(messages, {AGENT}, idle=timedelta(hours=23))
    assert [c.metric for c in found] == ["first_response", "first_response"]


def test_turnaround_restarts_on_a_changes_request_and_is_abandoned_by_refund_or_dispute():
    first, second, third, fourth = (uuid.uuid4() for _ in range(4))
    steps = [
        (first, MilestoneStatus.FUNDED, T0),
        (second, MilestoneStatus.FUNDED, T0 + timedelta(minutes=1)),
        (third, MilestoneStatus.FUNDED, T0 + timedelta(minutes=2)),
        (fourth, MilestoneStatus.FUNDED, T0 + timedelta(minutes=3)),
        (first, MilestoneStatus.SUBMITTED, T0 + timedelta(minutes=100)),
        (second, MilestoneStatus.REFUNDED, T0 + timedelta(minutes=110)),
        (third, MilestoneStatus.DISPUTED, T0 + timedelta(minutes=120)),
        (first, MilestoneStatus.CHANGES_REQUESTED, T0 + timedelta(minutes=200)),
        (first, MilestoneStatus.SUBMITTED, T0 + timedelta(minutes=260)),
    ]
    found = clocks.turnaround_clocks(steps)
    assert [(c.key, *_read([c])[0][1:]) for c in found] == [
        (f"{first}:1", 0, 100),
        (f"{first}:2", 200, 260),
        (f"{fourth}:1", 3, None),
    ]


def test_the_award_overrides_targets_and_an_amendment_changes_the_service_hours(login):
    client, provider = ClientFactory(timezone="America/Chicago"), ProviderFactory()
    contract, client_api, provider_api = award(
        login, client, provider, sla={"min_csat": 4.5, "next_response_hours": 2}
    )
    sla = contract.current_terms.content["sla"]
    assert (sla["min_csat"], sla["next_response_hours"], sla["min_completion_rate"]) == (
        4.5, 2, 0.95
    )  # fmt: skip
    path = f"contracts/{contract.id}/amendments"
    for wrong in (
        {"zone": "Mars/Olympus", "hours": NINE_TO_FIVE},
        {"zone": "Europe/Berlin", "hours": {"mon": [["09:00", "17:00"], ["16:00", "18:00"]]}},
        {"zone": "Europe/Berlin", "hours": {}},
    ):
        response = client_api.post(path, json={"changes": {"service_hours": wrong}})
        assert response.status_code == 422, response.get_json()
    new_hours = {"sat": [["22:00", "06:00"]]}
    proposed = client_api.post(
        path,
        json={"changes": {"service_hours": {"zone": "Europe/Berlin", "hours": new_hours},
                          "sla": {"min_sop_adherence": 0.98}}},
    )  # fmt: skip
    assert proposed.status_code == 201, proposed.get_json()
    accepted = provider_api.post(f"amendments/{proposed.get_json()['id']}/accept")
    assert accepted.status_code == 200, accepted.get_json()
    db.session.expire_all()
    contract = db.session.get(Contract, contract.id)
    content = contract.current_terms.content
    assert content["service_hours"] == {
        "zone": "Europe/Berlin", "hours": new_hours, "source": "amendment"
    }  # fmt: skip
    assert (content["sla"]["min_sop_adherence"], content["sla"]["min_csat"]) == (0.98, 4.5)
    hours = contract_service_hours(contract)
    assert hours.minutes_between(utc(2026, 1, 10, 12), utc(2026, 1, 11, 12)) == 8 * 60
