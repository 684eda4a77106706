"""Coverage windows are weekly hours, validated by the one working-hours validator: a shift
ending before it starts runs into the next day, and shifts that overlap are a 422."""

from __future__ import annotations

import pytest

from tests.factories import ClientFactory, task_payload
from tests.matching_world import client

OVERLAP = (
    "Shift mon 18:00-02:00 (it ends before it starts, so it runs into the next day) overlaps "
    "tue 01:00-03:00; each moment of the week belongs to one shift."
)


def _coverage(window):
    return {"mode": "coverage", "window": window}


def test_a_monday_night_shift_and_a_monday_early_shift_are_ten_hours(login):
    # Monday 01:00-03:00 and Monday 18:00 to Tuesday 02:00 do not overlap: 2 + 8 hours.
    api = login(client("America/New_York", "US"))
    window = {"mon": [["18:00", "02:00"], ["01:00", "03:00"]]}
    task = api.post(
        "tasks",
        json=task_payload(
            timezone_need=_coverage(window), start_date="2027-01-04", deadline="2027-01-29"
        ),
    )
    assert task.status_code == 201, task.get_json()
    api.post(f"tasks/{task.get_json()['id']}/publish", json={})

    plan = api.post(f"tasks/{task.get_json()['id']}/coverage-plan").get_json()

    assert plan["window_hours"] == 10.0
    assert plan["uncovered"] == [
        {"date": "2027-01-04", "day": "mon", "start": "01:00", "end": "03:00"},
        {"date": "2027-01-04", "day": "mon", "start": "18:00", "end": "24:00"},
        {"date": "2027-01-05", "day": "tue", "start": "00:00", "end": "02:00"},
    ]


@pytest.mark.parametrize(
    ("window", "message"),
    [
        ({"mon": [["18:00", "02:00"]], "tue": [["01:00", "03:00"]]}, OVERLAP),
        (
            {"sun": [["20:00", "04:00"]], "mon": [["01:00", "03:00"]]},
            "Shift sun 20:00-04:00 (it ends before it starts, so it runs into the next day) "
            "overlaps mon 01:00-03:00; each moment of the week belongs to one shift.",
        ),
        (
            {"mon": [["09:00", "17:00"], ["12:00", "13:00"]]},
            "Shift mon 09:00-17:00 overlaps mon 12:00-13:00; each moment of the week belongs "
            "to one shift.",
        ),
    ],
)
def test_overlapping_window_shifts_are_refused_and_named(login, window, message):
    api = login(ClientFactory())

    created = api.post("tasks", json=task_payload(timezone_need=_coverage(window)))
    draft = api.post("tasks", json=task_payload()).get_json()
    edited = api.patch(f"tasks/{draft['id']}", json={"timezone_need": _coverage(window)})

    for response in (created, edited):
        assert response.status_code == 422
        assert response.get_json()["error"]["details"] == {"timezone_need": [message]}


def test_working_hours_get_the_same_answer(login):
    api = login(ClientFactory())
    hours = {"mon": [["18:00", "02:00"]], "tue": [["01:00", "03:00"]]}

    response = api.put("clients/me", json={"working_hours": hours})

    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {"working_hours": [OVERLAP]}
