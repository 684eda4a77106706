"""Coverage plans (follow the sun) and the tasks recommended to a provider."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from marketplace.profiles.models import ServiceModel
from marketplace.tasks.inputs import CoverageNeed, RequiredSkill
from marketplace.tasks.models import Shoring
from tests.factories import (
    AdminFactory,
    ClientFactory,
    make_company,
    make_firm,
)
from tests.matching_world import EVERY_DAY, client, hours, open_task, provider

SKILL = "customer-support-tier1"
ROUND_THE_CLOCK = hours("00:00", "24:00", EVERY_DAY)
# Zones without daylight saving, eight hours apart: 09-17 local is 01-09, 09-17 and 17-01 UTC.
SHIFTS = {"Asia/Manila": "PH", "Africa/Abidjan": "CI", "Pacific/Pitcairn": "PN"}


def _coverage_task(owner: Any, window: dict[str, Any] = ROUND_THE_CLOCK) -> Any:
    return open_task(
        owner,
        service_model=ServiceModel.VA,
        skills=(RequiredSkill(SKILL, 3),),
        timezone_need=CoverageNeed(window),
        start_date=date(2027, 1, 4),
        deadline=date(2027, 1, 29),
    )


def _shift_worker(zone: str, level: int = 4) -> Any:
    return provider(
        zone, SHIFTS[zone], working=hours("09:00", "17:00", EVERY_DAY), skills={SKILL: (level, 3)}
    )


def test_three_eight_hour_providers_cover_a_24_7_window(login):
    owner = client("America/New_York", "US")
    workers = [_shift_worker(zone) for zone in SHIFTS]
    provider("Asia/Manila", "PH", working=hours("09:00", "17:00", EVERY_DAY))  # lacks the skill
    task = _coverage_task(owner)
    response = login(owner).post(f"tasks/{task.id}/coverage-plan")
    assert response.status_code == 200, response.get_json()
    plan = response.get_json()
    assert plan["coverage_percent"] == 100.0
    assert plan["uncovered"] == []
    assert plan["window_hours"] == 168.0
    assert plan["week_of"] == "2027-01-04"
    assert sorted(p["provider"]["id"] for p in plan["providers"]) == sorted(
        str(w.id) for w in workers
    )
    assert [p["covered_hours"] for p in plan["providers"]] == [56.0, 56.0, 56.0]


def test_gaps_are_reported_in_the_clients_zone_when_cover_is_impossible(login):
    owner = client("America/New_York", "US")
    _shift_worker("Asia/Manila")
    _shift_worker("Africa/Abidjan")
    task = _coverage_task(owner)
    plan = login(owner).post(f"tasks/{task.id}/coverage-plan").get_json()
    assert len(plan["providers"]) == 2
    # Nobody works 17-01 UTC, which is 12:00-20:00 in New York in January (EST).
    assert plan["coverage_percent"] == round(100 * 112 / 168, 2)
    assert plan["uncovered"] == [
        {"date": f"2027-01-{day:02d}", "day": name, "start": "12:00", "end": "20:00"}
        for day, name in zip(range(4, 11), EVERY_DAY, strict=True)
    ]


def test_the_match_score_breaks_ties(login):
    owner = client("America/New_York", "US")
    _shift_worker("Asia/Manila", level=3)
    better = _shift_worker("Asia/Manila", level=5)
    task = _coverage_task(owner, window=hours("20:00", "04:00"))  # 01-09 UTC on weekdays
    plan = login(owner).post(f"tasks/{task.id}/coverage-plan").get_json()
    assert [p["provider"]["id"] for p in plan["providers"]] == [str(better.id)]
    assert plan["coverage_percent"] == 100.0


@pytest.mark.parametrize(
    ("who", "status"),
    [("owner", 200), ("colleague", 200), ("admin", 200), ("other_client", 404),
     ("provider", 404), ("anonymous", 401)],
)  # fmt: skip
def test_only_the_client_and_admins_get_coverage_plans(api, login, who, status):
    company = make_company(owner=True, agent=True, working_hours=hours("09:00", "17:00"))
    worker = _shift_worker("Asia/Manila")
    task = _coverage_task(company.owner)
    users = {"owner": company.owner, "colleague": company.agent, "admin": AdminFactory(),
             "other_client": ClientFactory(), "provider": worker.user}  # fmt: skip
    caller = login(users[who]) if who in users else api

    response = caller.post(f"tasks/{task.id}/coverage-plan")

    assert response.status_code == status
    if status == 200:
        assert [p["provider"]["id"] for p in response.get_json()["providers"]] == [str(worker.id)]
    else:
        assert "error" in response.get_json() and "providers" not in response.get_json()


def test_coverage_plans_need_a_coverage_task(login):
    owner = client("America/New_York", "US")
    task = open_task(owner, service_model=ServiceModel.VA)  # an overlap need
    response = login(owner).post(f"tasks/{task.id}/coverage-plan")
    assert response.status_code == 422
    other = login(ClientFactory()).post(f"tasks/{task.id}/coverage-plan")
    assert other.status_code == 404


def _tasks_for_bogota(owner: Any) -> dict[str, Any]:
    skill = (RequiredSkill(SKILL, 3),)
    va, bpo = ServiceModel.VA, ServiceModel.BPO
    return {
        "fits": open_task(owner, service_model=va, skills=skill),
        "any_model": open_task(owner, service_model=None, skills=skill, tier=2),
        "other_skill": open_task(owner, service_model=va,
                                 skills=(RequiredSkill("bookkeeping", 1),)),
        "onshore": open_task(owner, service_model=va, skills=skill, shoring=Shoring.ONSHORE),
        "french": open_task(owner, service_model=va, skills=skill, languages=("fr",)),
        "firms_only": open_task(owner, service_model=bpo, skills=skill),
    }  # fmt: skip


def test_recommended_tasks_are_those_the_provider_matches(login):
    owner = client("America/New_York", "US")
    made = _tasks_for_bogota(owner)
    me = provider("America/Bogota", "CO", skills={SKILL: (4, 5)}, languages=["en", "es"])
    assert me.user is not None
    body = login(me.user).get("providers/me/recommended-tasks").get_json()
    assert {item["task"]["id"] for item in body["items"]} == {
        str(made["fits"].id),
        str(made["any_model"].id),
    }
    assert body["total"] == 2
    first = body["items"][0]
    assert first["explanation"]["overlap_hours"] == 8.0
    assert first["explanation"]["shoring"] == "nearshore"
    assert "confidential_details" not in first["task"]
    keys = [(-i["score"], i["task"]["id"]) for i in body["items"]]
    assert keys == sorted(keys)


def test_a_firm_gets_recommendations_for_its_profile(login):
    owner = client("America/New_York", "US")
    made = _tasks_for_bogota(owner)
    firm = make_firm(name="Sun BPO", owner=True, country="CO", timezone="America/Bogota")
    api = login(firm.owner)
    response = api.put(
        "providers/me",
        json={
            "skills": [{"slug": SKILL, "level": 5, "years": 9}],
            "working_hours": hours("09:00", "17:00"),
            "languages": ["en"],
        },
    )
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["organization_id"] == str(firm.organization.id)
    ids = {i["task"]["id"] for i in api.get("providers/me/recommended-tasks").get_json()["items"]}
    assert ids == {str(made["any_model"].id), str(made["firms_only"].id)}


@pytest.mark.parametrize(("who", "status"), [("client", 403), ("anonymous", 401)])
def test_only_providers_get_recommendations(api, login, who, status):
    caller = login(ClientFactory()) if who == "client" else api
    assert caller.get("providers/me/recommended-tasks").status_code == status
