"""The zone-fit figures tasks keep for discovery: never stricter than the exact filters,
and kept current as tasks, clients and days change.

The properties draw zones with daylight saving in both hemispheres and odd offsets,
weekly hours with shifts that cross midnight or end inside skipped hours, and periods
around changes of clocks (the strategies of test_matching_overlap): the SQL path must keep
every task the exact check keeps.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
import time_machine
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.matching import discovery, task_fit, timezones, zone_bounds
from marketplace.matching.discovery import TaskSearch
from marketplace.matching.overlap import ClientPeriod
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks.models import Task, TaskStatus
from tests.factories import ClientFactory, ProviderFactory, task_payload
from tests.matching_world import hours
from tests.test_matching_overlap import CLOCK_CHANGES, COUNTRIES, PROPERTY_ZONES, weekly_hours

NINE_TO_FIVE = hours("09:00", "17:00")


@st.composite
def task_dates(draw: st.DrawFn) -> tuple[date, date | None, date]:
    """(the day figures are computed, start date or None, deadline) around clock changes."""
    today = draw(st.sampled_from(CLOCK_CHANGES)) + timedelta(days=draw(st.integers(-45, 10)))
    start = draw(st.none() | st.integers(0, 30).map(lambda n: today + timedelta(days=n)))
    deadline = (start or today) + timedelta(days=draw(st.integers(-3, 120)))
    return today, start, deadline


def _weekday_bound(bounds: zone_bounds.ClientBounds, provider: zone_bounds.ProviderBounds):
    """The overlap bound in hours: the best weekday's shared quarter-hours."""
    return max((mask & provider.mask).bit_count() for mask in bounds.weekday_masks) / 4


@settings(max_examples=600, deadline=None)
@given(
    client_zone=st.sampled_from(PROPERTY_ZONES),
    client_hours=weekly_hours(),
    zone=st.sampled_from(PROPERTY_ZONES),
    working=weekly_hours(),
    dates=task_dates(),
    later=st.integers(0, 40),
)
def test_the_figures_bound_the_exact_overlap_and_offsets(
    client_zone, client_hours, zone, working, dates, later
):
    computed_on, start, deadline = dates
    span = zone_bounds.coverage(start, deadline, computed_on)
    search_day = computed_on + timedelta(days=later)
    assume(span.valid_from <= search_day <= span.valid_until)
    client = zone_bounds.client_bounds(
        client_zone, json.dumps(client_hours, sort_keys=True), span.first, span.last
    )
    provider = zone_bounds.provider_bounds(zone, json.dumps(working), search_day)
    first, last = timezones.work_period(start, deadline, search_day)
    for day in timezones.days(first, last):
        client_offset = timezones.utc_offset(client_zone, day) / timedelta(minutes=1)
        assert client.offset_min <= client_offset <= client.offset_max
    for day in timezones.days(first - timedelta(days=3), last + timedelta(days=3)):
        offset = timezones.utc_offset(zone, day) / timedelta(minutes=1)
        assert provider.offset_min <= offset <= provider.offset_max
    if not (client.doubled or provider.doubled):
        period = ClientPeriod(
            zone=client_zone, country=None, hours=client_hours, first=first, last=last
        )
        assert period.overlap_hours(zone, working) <= _weekday_bound(client, provider)


def test_the_bound_is_tight_away_from_clock_changes():
    # New York 09-17 and London 09-17 in January: 3 hours a day, and the bound says 3.
    client = zone_bounds.client_bounds(
        "America/New_York",
        json.dumps(NINE_TO_FIVE, sort_keys=True),
        date(2027, 1, 4),
        date(2027, 1, 29),
    )
    provider = zone_bounds.provider_bounds(
        "Asia/Kolkata", json.dumps(hours("19:30", "03:30")), date(2027, 1, 4)
    )
    assert (client.offset_min, client.offset_max) == (-300, -300)
    assert (provider.offset_min, provider.offset_max) == (330, 330)
    # Kolkata 19:30-03:30 is 14:00-22:00 UTC; New York 09-17 EST is 14:00-22:00 UTC.
    assert _weekday_bound(client, provider) == 8.0
    assert client.weekday_masks[5:] == (0, 0)  # no Saturday or Sunday shifts


def test_a_shift_ending_in_the_skipped_hour_next_to_another_bounds_nothing():
    # On 8 March 2026 New York skips 02:00-03:00: a shift to 02:30 and one from 03:00
    # overlap in UTC (02:30 is placed at the earlier offset); the reference counts the
    # half hour twice.
    night = {"sun": [["00:30", "02:30"], ["03:00", "09:00"]]}
    client = zone_bounds.client_bounds(
        "America/New_York", json.dumps(night, sort_keys=True), date(2026, 3, 2), date(2026, 3, 20)
    )
    provider = zone_bounds.provider_bounds("America/New_York", json.dumps(night), date(2026, 3, 2))
    assert client.doubled and provider.doubled
    calm = zone_bounds.client_bounds(
        "America/New_York", json.dumps(night, sort_keys=True), date(2026, 4, 2), date(2026, 4, 20)
    )
    assert not calm.doubled


# --- through the database -------------------------------------------------------------


def _open_task(client: ClientProfile, start, deadline, window=None) -> Task:
    task = Task(
        client_profile=client,
        created_by=client.user,
        terms_hash="x",
        title="Night support",
        summary="Answer tickets.",
        tier=3,
        budget_type="hourly",
        budget_min=500,
        budget_max=900,
        currency="usd",
        status=TaskStatus.OPEN,
        start_date=start,
        deadline=deadline,
        timezone_need={"mode": "coverage", "window": window} if window else None,
        opened_at=datetime.now(UTC),
    )
    db.session.add(task)
    db.session.commit()
    return task


def _profile(model, user: User):
    return db.session.scalar(sa.select(model).filter_by(user_id=user.id))


def _exact(task: Task, provider: ProviderProfile, search: TaskSearch, today: date) -> bool:
    """The day-by-day reference's answer to the fit filters."""
    client = task.client_profile
    first, last = timezones.work_period(task.start_date, task.deadline, today)
    shoring = timezones.shoring(
        client_country=client.country,
        client_zone=client.timezone,
        provider_country=provider.country,
        provider_zone=provider.timezone,
        first=first,
        last=last,
    )
    overlap = timezones.average_overlap_hours(
        client_zone=client.timezone,
        client_hours=task_fit.measured_hours(task, client),
        provider_zone=provider.timezone,
        provider_hours=provider.working_hours,
        first=first,
        last=last,
    )
    return (search.shoring in (None, shoring)) and (
        search.min_overlap is None or overlap >= search.min_overlap
    )


def _forget_everyone() -> None:
    for model in (Task, ClientProfile, ProviderProfile, User):
        db.session.execute(sa.delete(model))
    db.session.commit()


def _at(day: date):
    return time_machine.travel(datetime.combine(day, time(9), tzinfo=UTC), tick=False)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    client_zone=st.sampled_from(PROPERTY_ZONES),
    client_country=st.sampled_from(COUNTRIES),
    client_hours=weekly_hours(),
    window=st.none() | weekly_hours(),
    zone=st.sampled_from(PROPERTY_ZONES),
    country=st.sampled_from(COUNTRIES),
    working=weekly_hours(),
    dates=st.lists(task_dates(), min_size=1, max_size=3),
    later=st.integers(0, 4),
    min_overlap=st.none() | st.floats(0, 10).map(lambda h: round(h, 2)),
    shoring=st.none() | st.sampled_from(["onshore", "nearshore", "offshore"]),
)
def test_the_fast_path_finds_exactly_what_the_reference_finds(
    app,
    client_zone,
    client_country,
    client_hours,
    window,
    zone,
    country,
    working,
    dates,
    later,
    min_overlap,
    shoring,
):
    assume(min_overlap is not None or shoring is not None)
    computed_on = dates[0][0]
    try:
        with _at(computed_on):
            owner = ClientFactory(
                timezone=client_zone, country=client_country, profile__working_hours=client_hours
            )
            user = ProviderFactory(timezone=zone, country=country, profile__working_hours=working)
            client, provider = _profile(ClientProfile, owner), _profile(ProviderProfile, user)
            tasks = [
                _open_task(client, start, deadline, window if n == 0 else None)
                for n, (_, start, deadline) in enumerate(dates)
            ]
        search_day = computed_on + timedelta(days=later)
        search = TaskSearch(shoring=shoring, min_overlap=min_overlap, page_size=100)
        with _at(search_day):
            found = {t.id for t in discovery.search_tasks(user=user, search=search).items}
            expected = {t.id for t in tasks if _exact(t, provider, search, search_day)}
        assert found == expected
    finally:
        db.session.rollback()
        _forget_everyone()


def test_sql_keeps_only_the_tasks_that_may_fit(login):
    with _at(date(2027, 1, 4)):
        tasks = {
            zone: _publish(
                login(ClientFactory(timezone=zone, country=country)),
                start_date="2027-01-11",
                deadline="2027-02-05",
            ).id
            for zone, country in [
                ("Europe/London", "GB"),
                ("America/New_York", "US"),
                ("Asia/Manila", "PH"),
            ]
        }
        manila = zone_bounds.provider_bounds(
            "Asia/Manila", json.dumps(hours("21:00", "05:00")), date.today()
        )

        def kept(**filters) -> set:
            condition = task_fit.may_fit(
                **filters, country="PH", provider=manila, today=date.today()
            )
            return {zone for zone, task_id in tasks.items() if task_id in _ids(condition)}

        # Manila 21-05 (13-21 UTC) meets London 09-17 for 4 hours, New York for 7, and
        # Manila's own 09-17 (01-09 UTC) not at all.
        assert kept(shoring=None, min_overlap=4) == {"Europe/London", "America/New_York"}
        assert kept(shoring=None, min_overlap=4.25) == {"America/New_York"}
        assert kept(shoring="onshore", min_overlap=None) == {"Asia/Manila"}
        assert kept(shoring="nearshore", min_overlap=None) == set()
        assert kept(shoring="offshore", min_overlap=7) == {"America/New_York"}


def _ids(condition) -> set:
    return set(db.session.scalars(sa.select(Task.id).where(condition)))


# --- kept current -----------------------------------------------------------------------


def _publish(api, **overrides) -> Task:
    created = api.post("tasks", json=task_payload(**overrides))
    assert created.status_code == 201, created.get_json()
    task_id = created.get_json()["id"]
    response = api.post(f"tasks/{task_id}/publish", json={"confirm_strategic": True})
    assert response.get_json()["task"]["status"] == "open", response.get_json()
    return db.session.get(Task, uuid.UUID(task_id))


def _figures(task: Task) -> dict:
    db.session.refresh(task)
    return {
        name: getattr(task, name)
        for name in task_fit.figures(task, task.client_profile, date.today())
    }


def _found(api, query: str) -> list[str]:
    response = api.get(f"tasks?{query}")
    assert response.status_code == 200, response.get_json()
    return [t["id"] for t in response.get_json()["items"]]


def _night_provider(login):
    """A provider in Manila working 21:00-05:00 (13:00-21:00 UTC) on weekdays."""
    return login(
        ProviderFactory(
            timezone="Asia/Manila", country="PH", profile__working_hours=hours("21:00", "05:00")
        )
    )


def test_a_published_task_has_figures_of_its_client_over_its_period(login):
    start = date(2027, 1, 11)
    with _at(date(2027, 1, 4)):
        owner = login(ClientFactory(timezone="America/New_York", country="US"))
        task = _publish(owner, start_date=start.isoformat(), deadline="2027-02-05")
        assert (task.fit_country, task.fit_offset_min, task.fit_offset_max) == ("US", -300, -300)
        # Good for any day of search whose provider window holds the period.
        assert task.fit_from <= date(2027, 1, 4) and task.fit_until > date(2028, 1, 1)
        nine_to_five = zone_bounds.touched(14 * 3600, 22 * 3600)  # 09-17 EST in UTC
        assert task.fit_masks[:672] == zone_bounds.mask_text(nine_to_five)
        assert task.fit_masks[5 * 672 :] == "0" * 2 * 672  # no weekend shifts


def test_a_task_added_with_only_its_clients_id_gets_figures():
    user = ClientFactory(timezone="Europe/London", country="GB")
    client = db.session.scalars(sa.select(ClientProfile).filter_by(user_id=user.id)).one()
    task = Task(
        client_profile_id=client.id,
        created_by_id=client.user_id,
        terms_hash="x",
        title="Monthly bookkeeping",
        summary="Reconcile the accounts.",
        tier=3,
        budget_type="hourly",
        budget_min=500,
        budget_max=900,
        currency="gbp",
        deadline=date(2027, 3, 1),
    )
    db.session.add(task)
    db.session.commit()

    assert (task.fit_country, task.fit_offset_min) == ("GB", 0)


def test_revising_the_dates_or_the_need_recomputes_the_figures(login):
    with _at(date(2027, 1, 4)):
        owner = login(ClientFactory(timezone="America/New_York", country="US"))
        task = _publish(owner, start_date="2027-01-11", deadline="2027-02-05")
        winter = _figures(task)
        # Into summer time: the period now holds both offsets.
        changed = owner.patch(f"tasks/{task.id}", json={"deadline": "2027-04-30"})
        assert changed.status_code == 200, changed.get_json()
        assert (task.fit_offset_min, task.fit_offset_max) == (-300, -240)
        assert _figures(task) != winter
        window = {"sat": [["22:00", "06:00"]]}
        owner.patch(
            f"tasks/{task.id}", json={"timezone_need": {"mode": "coverage", "window": window}}
        )
        db.session.refresh(task)
        assert task.fit_masks[: 5 * 672] == "0" * 5 * 672  # only the Saturday night now
        assert "1" in task.fit_masks[5 * 672 : 6 * 672]


def test_a_client_moving_zone_or_changing_hours_moves_its_open_tasks(login):
    with _at(date(2027, 1, 4)):
        owner = login(ClientFactory(timezone="Europe/London", country="GB"))
        provider = _night_provider(login)
        task = _publish(owner, start_date="2027-01-11", deadline="2027-02-05")
        # London 09-17 GMT meets Manila 21-05 (13-21 UTC) for 4 hours.
        assert _found(provider, "min_overlap=5") == []
        moved = owner.put("clients/me", json={"timezone": "America/New_York", "country": "US"})
        assert moved.status_code == 200, moved.get_json()
        # New York 09-17 EST (14-22 UTC) meets it for 7 hours.
        assert _found(provider, "min_overlap=5") == [str(task.id)]
        assert _figures(task)["fit_country"] == "US"
        owner.put("clients/me", json={"working_hours": hours("06:00", "10:00")})
        assert _found(provider, "min_overlap=5") == []
        assert _figures(task) == task_fit.figures(task, task.client_profile, date.today())


def test_the_daily_refresh_moves_tasks_without_a_start_date_across_a_clock_change(app, login):
    # A New York task without a start date, read from Manila 21-05 (13-21 UTC): before
    # 8 March 2027 New York works 14-22 UTC (7 hours), after it 13-21 UTC (8 hours).
    with _at(date(2027, 2, 20)):
        owner = login(ClientFactory(timezone="America/New_York", country="US"))
        task = _publish(owner, start_date=None, deadline="2027-03-31")
        assert (task.fit_offset_min, task.fit_offset_max) == (-300, -240)
        assert task.fit_until == date(2027, 2, 22)
    with _at(date(2027, 3, 20)):
        provider = _night_provider(login)
        # The figures have lapsed: the exact check decides alone, and finds the task.
        assert _found(provider, "min_overlap=7.5") == [str(task.id)]
        assert task_fit.refresh_open_tasks() == 1
        db.session.refresh(task)
        assert (task.fit_offset_min, task.fit_offset_max) == (-240, -240)
        assert (task.fit_from, task.fit_until) == (date(2027, 3, 20), date(2027, 3, 22))
        assert _found(provider, "min_overlap=7.5") == [str(task.id)]
        assert _found(provider, "min_overlap=8.5") == []
        assert task_fit.refresh_open_tasks() == 0  # renewed for two more days
    with _at(date(2027, 3, 21)):
        result = app.test_cli_runner().invoke(args=["refresh-task-fit"])
        assert "refreshed the zone-fit figures of 1 open tasks" in result.output
