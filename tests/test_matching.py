"""Ranked matches: hard filters (complete and exact), scores, explanations, permissions."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import UserStatus
from marketplace.extensions import db
from marketplace.matching import candidates, index, ranking, services, timezones
from marketplace.matching import statistics as match_stats
from marketplace.organizations import services as organizations
from marketplace.profiles.models import ProviderProfile, ServiceModel
from marketplace.tasks.inputs import RequiredSkill
from marketplace.tasks.models import Shoring, Task
from tests.factories import (
    AdminFactory,
    ClientFactory,
    MembershipFactory,
    ProviderFactory,
    make_company,
)
from tests.matching_world import client, hours, open_task, provider

SKILL = "customer-support-tier1"
OTHER = "data-entry"
ZONES = [
    ("America/Chicago", "US"),
    ("America/Bogota", "CO"),
    ("America/Mexico_City", "MX"),
    ("Europe/London", "GB"),
    ("Asia/Manila", "PH"),
    ("Asia/Kolkata", "IN"),
    ("America/New_York", "US"),
    ("America/Toronto", "CA"),
]


def _va_task(owner: Any, **overrides: Any) -> Task:
    fields = {"service_model": ServiceModel.VA, "skills": (RequiredSkill(SKILL, 3),)}
    return open_task(owner, **{**fields, **overrides})


def _population(rng: random.Random, count: int) -> list[ProviderProfile]:
    """Providers varied in every way a hard filter looks at."""
    made = []
    for n in range(count):
        zone, country = rng.choice(ZONES)
        skills = {SKILL: (rng.randint(1, 5), rng.randint(0, 12))}
        if rng.random() < 0.5:
            skills[OTHER] = (rng.randint(1, 5), rng.randint(0, 5))
        made.append(
            provider(
                zone,
                country,
                working=hours(f"{rng.randint(6, 12):02d}:00", f"{rng.randint(15, 20):02d}:00"),
                skills=skills,
                languages=rng.choice([["en"], ["en", "es"], ["es"], ["fr", "en"]]),
                capacity_hours_per_week=rng.choice([0, 10, 40, 40]),
                hourly_rate_amount=rng.choice([None, 700, 1000, 1400, 2500]),
            )
        )
        if n % 9 == 0:  # some firms among them
            made[-1].service_model = ServiceModel.BPO
    db.session.commit()
    return made


def _passes(task: Task, profile: ProviderProfile) -> bool:
    """The hard filters, written out plainly over the loaded models."""
    levels = {s.skill_id: s.level for s in profile.skills}
    user = profile.user
    client_profile = task.client_profile
    first, last = timezones.work_period(task.start_date, task.deadline, datetime.now(UTC).date())
    shore = timezones.shoring(
        client_country=client_profile.country,
        client_zone=client_profile.timezone,
        provider_country=profile.country,
        provider_zone=profile.timezone,
        first=first,
        last=last,
    )
    return (
        all(levels.get(s.skill_id, 0) >= s.min_level for s in task.skills)
        and set(task.languages) <= set(profile.languages)
        and (task.service_model is None or task.service_model == profile.service_model)
        and task.shoring.value in ("any", shore)
        and profile.capacity_hours_per_week > 0
        and (user is None or (user.status == UserStatus.ACTIVE and not user_in_firm(user)))
    )


def user_in_firm(user: Any) -> bool:
    return organizations.membership_of(user) is not None


def _all_matches(api: Any, task: Task) -> list[dict[str, Any]]:
    items, page = [], 1
    while True:
        body = api.get(f"tasks/{task.id}/matches?page={page}&page_size=7").get_json()
        items += body["items"]
        if page * 7 >= body["total"]:
            return items
        page += 1


@pytest.mark.parametrize("shoring", ["any", "onshore", "nearshore", "offshore"])
def test_matches_are_exactly_the_providers_passing_every_hard_filter(login, shoring):
    rng = random.Random(shoring)
    population = _population(rng, 28)
    suspended = population[1]
    assert suspended.user is not None
    accounts.suspend_user(admin=AdminFactory(), user=suspended.user, reason="spam")
    joined = population[2]  # now acts for a firm: the personal profile is retired
    MembershipFactory(user=joined.user)
    owner = client("America/New_York", "US")
    task = _va_task(owner, shoring=Shoring(shoring), languages=("en",))
    db.session.expire_all()
    expected = {
        str(p.id) for p in db.session.scalars(sa.select(ProviderProfile)) if _passes(task, p)
    }
    found = _all_matches(login(owner), task)
    assert {m["provider"]["id"] for m in found} == expected
    assert str(suspended.id) not in expected and str(joined.id) not in expected
    assert len(found) == len(expected)  # nobody twice across pages


def test_order_is_by_score_then_id_and_stable_across_pages(login):
    _population(random.Random(7), 24)
    owner = client("America/New_York", "US")
    task = _va_task(owner, languages=("en",))
    api = login(owner)
    first = _all_matches(api, task)
    assert first == _all_matches(api, task)
    keys = [(-m["score"], m["provider"]["id"]) for m in first]
    assert keys == sorted(keys)
    assert all(0 <= m["score"] <= 1 for m in first)


def test_explanation_says_why(login):
    owner = client("America/New_York", "US")
    near = provider(
        "America/Bogota", "CO", skills={SKILL: (5, 8)}, hourly_rate_amount=1200, languages=["en"]
    )
    far = provider("Asia/Manila", "PH", skills={SKILL: (3, 1)}, hourly_rate_amount=2000)
    task = _va_task(owner, start_date=date(2026, 12, 7), deadline=date(2026, 12, 11))
    body = login(owner).get(f"tasks/{task.id}/matches").get_json()
    by_id = {m["provider"]["id"]: m for m in body["items"]}
    best, other = by_id[str(near.id)], by_id[str(far.id)]
    assert body["items"][0]["provider"]["id"] == str(near.id)
    # New York 09-17 EST is 14-22 UTC; Bogota 09-17 is 14-22 UTC; Manila 01-09 UTC.
    assert best["explanation"]["overlap_hours"] == 8.0
    assert other["explanation"]["overlap_hours"] == 0.0
    assert best["explanation"]["shoring"] == "nearshore"
    assert other["explanation"]["shoring"] == "offshore"
    assert best["explanation"]["skills"] == [{"slug": SKILL, "min_level": 3, "level": 5}]
    assert best["explanation"]["rate_fit"] == "within"
    assert other["explanation"]["rate_fit"] == "above"
    assert best["score"] > other["score"]
    assert set(best["explanation"]["parts"]) == {
        "skills",
        "timezone",
        "price",
        "record",
        "availability",
    }


def test_newcomers_get_the_neutral_prior(login):
    owner = client("America/New_York", "US")
    newcomer = provider(skills={SKILL: (4, 2)})
    task = _va_task(owner)
    match = login(owner).get(f"tasks/{task.id}/matches").get_json()["items"][0]
    assert match["provider"]["id"] == str(newcomer.id)
    assert match["explanation"]["parts"]["record"] == 0.6


def test_the_index_follows_profile_edits(login):
    owner = client("America/New_York", "US")
    task = _va_task(owner)
    user = ProviderFactory()
    api = login(user)
    assert login(owner).get(f"tasks/{task.id}/matches").get_json()["total"] == 0
    response = api.put("providers/me", json={"skills": [{"slug": SKILL, "level": 3, "years": 1}]})
    assert response.status_code == 200, response.get_json()
    assert login(owner).get(f"tasks/{task.id}/matches").get_json()["total"] == 1
    api.put("providers/me", json={"capacity_hours_per_week": 0})
    assert login(owner).get(f"tasks/{task.id}/matches").get_json()["total"] == 0


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 200), ("colleague", 200), ("admin", 200), ("other_client", 404),
     ("provider", 404), ("anonymous", 401)],
)  # fmt: skip
def test_only_the_client_and_admins_read_matches(api, login, who, status):
    company = make_company(owner=True, agent=True, working_hours=hours("09:00", "17:00"))
    task = _va_task(company.owner)
    users = {
        "owner": company.owner,
        "colleague": company.agent,
        "admin": AdminFactory(),
        "other_client": ClientFactory(),
        "provider": ProviderFactory(),
    }
    caller = login(users[who]) if who in users else api
    response = caller.get(f"tasks/{task.id}/matches")
    assert response.status_code == status
    if status != 200:
        assert "error" in response.get_json()


def test_matches_of_an_unknown_task_are_a_404(login):
    response = login(ClientFactory()).get(
        "tasks/00000000-0000-0000-0000-000000000000/matches?page=2"
    )
    assert response.status_code == 404


def test_service_ranks_without_http(app):
    owner = client("Europe/London", "GB")
    one = provider("Europe/Lisbon", "PT", skills={SKILL: (5, 10)})
    task = _va_task(owner)
    page = services.matches(user=owner, task_id=task.id)
    assert [m.provider.id for m in page.items] == [one.id]
    assert page.items[0].explanation["shoring"] == "nearshore"


def test_availability_follows_clock_changes(app):
    profile = provider("Europe/London", "GB", skills={SKILL: (4, 1)})
    right = profile.availability
    # As if computed before the clocks changed: another offset, another week.
    db.session.execute(
        sa.update(ProviderProfile)
        .where(ProviderProfile.id == profile.id)
        .values(availability_offset=profile.availability_offset + 60, availability="0" * 672)
    )
    db.session.commit()
    assert index.refresh_availability() == 1
    db.session.expire_all()
    assert profile.availability == right
    assert index.refresh_availability() == 0
    assert app.test_cli_runner().invoke(args=["refresh-availability"]).exit_code == 0


@pytest.mark.postgres
def test_common_pairs_raise_the_levels_asked_for(app, monkeypatch):
    """With statistics saying many qualify, the pool is drawn at higher levels first."""
    owner = client("America/New_York", "US")
    strong = [provider(skills={SKILL: (5, 3)}) for _ in range(3)]
    for _ in range(12):
        provider(skills={SKILL: (3, 3)})
    task = _va_task(owner)
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(
            sa.text("ANALYZE provider_profiles")
        )
    match_stats.forget()
    monkeypatch.setattr(candidates, "SELECTIVE_ROWS", 5)
    view = ranking.TaskView.of(task)
    assert match_stats.levels_to_raise(view.needs, 5) == 1  # 3 of 15 carry level 4
    found = candidates.candidates(view.needs, limit=3)
    assert {row.id for row in found} == {p.id for p in strong}
    # Fewer than asked for at the raised levels: the lower levels fill the rest.
    assert len(candidates.candidates(view.needs, limit=10)) == 10
    match_stats.forget()
