"""Pilot, then scale, through the API: a tier-3 workflow priced from the market (exact
quartiles, the return month by month, the pilot within the trial cap), the draft trial
task `POST /workflows/{id}/pilot` makes of it, one pilot at a time, who may make one, and
the workflow following its pilot to the trial contract and the full one that extends it.

Every figure is in USD cents at the platform's 10% fee and the default `WORKFLOW_ROI`
assumptions, worked out by hand in the comments."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace import permissions
from marketplace.catalog.models import Skill
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.extensions import db
from marketplace.payments import delivery, funding, payouts
from marketplace.tasks.models import Task
from marketplace.workflows.models import Workflow
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, make_company
from tests.matching_world import client, hours, provider
from tests.money import usd

SKILL = "customer-support-tier1"
#: Six VAs in Manila (offshore of New York) with the skill. Inclusive quartiles: p25 at
#: rank 1.25 is 2400 + 0.25 x 200 = 2450; the median at rank 2.5 is 2600 + 0.5 x 800 =
#: 3000; p75 at rank 3.75 is 3400 + 0.75 x 600 = 3850.
RATES = (1800, 2400, 2600, 3400, 4000, 5200)
#: Standardised work with a playbook (tier 3, `runs_on_a_playbook`); under 20 hours a week
#: a VA; the time need decides the shoring (coverage: offshore).
TIER3 = {
    "repeatable": "high",
    "error_risk": "low",
    "proprietary_data": False,
    "brand_central": False,
    "has_sop": True,
    "time_need": "coverage",
    "rule_based": False,
}
#: What a VA pilot's summary says of its service levels (SLA_DEFAULTS["va"]).
VA_SLA = (
    "Service levels to start with: first response within 4 business hours; turnaround "
    "within 24 business hours; errors at most 2%; rework at most 10%; 40 hours a week "
    "covered."
)
NOW = datetime(2031, 3, 4, 9, 30, tzinfo=UTC)


def _workflow(api: Any, **overrides: Any) -> dict[str, Any]:
    """A support workflow recorded through the API: 12 h a week at $45, tier 3."""
    body = {
        "name": "Tier-one support tickets",
        "description": "Answering the shop's customers by e-mail and chat.",
        "hours_per_week": 12,
        "in_house_rate": usd(4_500),
        "skills": [SKILL],
        "answers": TIER3,
        **overrides,
    }
    response = api.post("workflows", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _matching(rates: tuple[int, ...] = RATES) -> None:
    """VAs in Manila with the skill (at levels 1 to 5 in turn), one per rate, in usd."""
    for n, rate in enumerate(rates):
        provider(skills={SKILL: (n % 5 + 1, 2)}, hourly_rate_amount=rate)


def _tasks() -> int:
    """How many tasks there are."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(Task))


def _link(workflow: dict[str, Any]) -> uuid.UUID | None:
    """The workflow's `pilot_task_id` as stored."""
    return db.session.scalar(
        sa.select(Workflow.pilot_task_id).where(Workflow.id == uuid.UUID(workflow["id"]))
    )


# The priced recommendation --------------------------------------------------------------


def test_a_tier3_workflow_is_priced_from_the_market(login, app: Flask):
    owner = client("America/New_York", "US")
    api = login(owner)
    workflow = _workflow(api)
    _matching()
    provider(skills={"data-entry": (5, 2)}, hourly_rate_amount=10)  # another skill
    provider(skills={SKILL: (5, 2)}, hourly_rate_amount=20, hourly_rate_currency="eur")

    response = api.get(f"workflows/{workflow['id']}/recommendation")

    body = response.get_json()
    assert response.status_code == 200, body
    assert (body["tier"], body["service_model"], body["shoring"]) == (3, "va", "offshore")
    assert body["market_rate"] == {
        "currency": "usd",
        "providers": {"count": 6, "p25": 2450, "p50": 3000, "p75": 3850},
        "accepted_bids": None,
        "message": None,
    }
    # 12 h a week is 12 x 52/12 = 52 h a month. In house 52 x 4500 = 234_000; at the
    # median 52 x 3000 = 156_000, of which the fee is 10% (PLATFORM_FEE_BPS), 15_600.
    # Months 1-3: management 25% of in house, 58_500; rework 15%, 35_100; saving
    # 234_000 - 156_000 - 58_500 - 35_100 = -15_600. From month 4: management 10%, 23_400,
    # no rework; saving 234_000 - 156_000 - 23_400 = 54_600. Running total -15_600,
    # -31_200, -46_800, then 7_800: paid back in month 4.
    assert app.config["PLATFORM_FEE_BPS"] == 1000
    roi = body["roi"]
    assert (roi["rate"], roi["in_house_monthly"]) == (usd(3000), usd(234_000))
    months = {m["month"]: m for m in roi["months"]}
    assert len(roi["months"]) == 12
    assert months[1] == {
        "month": 1,
        "in_house": usd(234_000),
        "provider": usd(156_000),
        "platform_fee": usd(15_600),
        "management": usd(58_500),
        "rework": usd(35_100),
        "saving": usd(-15_600),
    }
    assert months[4] == {
        "month": 4,
        "in_house": usd(234_000),
        "provider": usd(156_000),
        "platform_fee": usd(15_600),
        "management": usd(23_400),
        "rework": usd(0),
        "saving": usd(54_600),
    }
    assert (roi["monthly_saving"], roi["payback_month"]) == (usd(54_600), 4)
    # Expected (median): 3 x -15_600 + 9 x 54_600 = 444_600.
    # Low (p75, 52 x 3850 = 200_200): months 1-3 234_000 - 200_200 - 93_600 = -59_800,
    # then 234_000 - 200_200 - 23_400 = 10_400: 3 x -59_800 + 9 x 10_400 = -85_800.
    # High (p25, 52 x 2450 = 127_400): 234_000 - 127_400 - 93_600 = 13_000, then
    # 234_000 - 127_400 - 23_400 = 83_200: 3 x 13_000 + 9 x 83_200 = 787_800.
    assert roi["twelve_month"] == {
        "low": usd(-85_800),
        "expected": usd(444_600),
        "high": usd(787_800),
    }
    assert roi["assumptions"] == {
        "management_share": 0.10,
        "onboarding_management_share": 0.25,
        "rework_share": 0.15,
        "onboarding_months": 3,
        "months": 12,
    }
    # Two weeks, 24 h, at the median 3000 is 72_000, over the 50_000 trial cap: the hours
    # are cut to 50_000 // 3000 = 16, for 48_000.
    assert app.config["TRIAL_BUDGET_CAPS"]["usd"] == 50_000
    assert body["pilot"] == {
        "scope": "A 2-week pilot of Tier-one support tickets: about 16 hours of the work, "
        "paid as one milestone on completion. If it goes well, extend it into a full "
        "contract with the same provider.",
        "hours": 16,
        "budget": {"amount": 48_000, "currency": "usd"},
        "days": 14,
    }


@pytest.mark.parametrize(
    ("hours_per_week", "pilot_hours", "budget"),
    [
        (6, 12, 36_000),  # 2 x 6 h at 3000: 36_000, under the cap
        (8.33, 16, 48_000),  # 16.66 h, whole hours: 16 x 3000
        (12, 16, 48_000),  # 24 h would be 72_000: cut to 50_000 // 3000 = 16 h
        (19.99, 16, 48_000),  # still a VA's (under 20 h a week), still cut
    ],
)
def test_the_pilot_is_priced_at_the_median_within_the_trial_cap(
    login, hours_per_week, pilot_hours, budget
):
    api = login(client("America/New_York", "US"))
    workflow = _workflow(api, hours_per_week=hours_per_week)
    _matching()

    body = api.get(f"workflows/{workflow['id']}/recommendation").get_json()

    assert body["market_rate"]["providers"]["p50"] == 3000
    assert (body["pilot"]["hours"], body["pilot"]["budget"]) == (pilot_hours, usd(budget))
    assert body["pilot"]["budget"]["amount"] <= 50_000


# The draft trial task -------------------------------------------------------------------


def test_a_pilot_is_a_draft_trial_task_of_the_recommendation(login, time_machine):
    time_machine.move_to(NOW, tick=False)
    owner = client("America/New_York", "US")
    api = login(owner)
    workflow = _workflow(api)
    _matching()

    response = api.post(f"workflows/{workflow['id']}/pilot")

    task = response.get_json()
    assert response.status_code == 201, task
    assert (task["status"], task["trial"], task["title"]) == (
        "draft",
        True,
        "Pilot: Tier-one support tickets",
    )
    assert [s["slug"] for s in task["skills"]] == [SKILL]
    assert (task["service_model"], task["shoring"], task["tier"]) == ("va", "offshore", 3)
    assert task["budget"] == {"type": "fixed", "min": 48_000, "max": 48_000, "currency": "usd"}
    assert task["deadline"] == "2031-03-18"  # 14 days from 4 March
    # Coverage: the hours the client (09:00-17:00 on weekdays) does not work, overnight.
    assert task["timezone_need"] == {
        "mode": "coverage",
        "window": hours("17:00", "09:00"),
    }
    assert task["summary"] == (
        "Answering the shop's customers by e-mail and chat.\n\n"
        "A 2-week pilot of Tier-one support tickets: about 16 hours of the work, paid as "
        "one milestone on completion. If it goes well, extend it into a full contract with "
        "the same provider.\n\n" + VA_SLA
    )
    assert "first response within" in task["summary"]
    assert (task["confidentiality"], task["positions"]) == ("public", 1)
    assert "publish" in task["allowed_actions"]
    row = db.session.get(Task, uuid.UUID(task["id"]))
    assert row is not None and row.created_by_id == owner.id
    assert _link(workflow) == row.id
    shown = api.get(f"workflows/{workflow['id']}").get_json()
    assert shown["pilot"] == {
        "task": {"id": task["id"], "status": "draft"},
        "contract": None,
        "extension": None,
    }
    assert shown["updated_at"] == "2031-03-04T09:30:00+00:00"


@pytest.mark.parametrize(
    ("time_need", "shoring", "need"),
    [
        ("overlap", "nearshore", {"mode": "overlap", "hours": 3}),
        ("none", "offshore", None),
        ("coverage", "offshore", {"mode": "coverage", "window": hours("17:00", "09:00")}),
    ],
)
def test_the_pilot_asks_for_the_time_the_work_needs(login, time_need, shoring, need):
    api = login(client("America/New_York", "US"))
    workflow = _workflow(api, answers={**TIER3, "time_need": time_need})

    task = api.post(f"workflows/{workflow['id']}/pilot").get_json()

    assert (task["shoring"], task["timezone_need"]) == (shoring, need)
    # No provider matches (none on the platform): priced at the client's own $45, two
    # weeks of 12 h would be 108_000, so 50_000 // 4500 = 11 h for 49_500.
    assert task["budget"]["max"] == 49_500


def test_coverage_is_the_complement_of_each_working_day(login):
    working = {
        **hours("08:00", "12:00"),
        "mon": [["08:00", "12:00"], ["13:00", "18:30"]],  # a lunch break stays uncovered
        "sat": [["10:00", "14:00"]],
        "sun": [["00:00", "24:00"]],  # worked all day: nothing to cover
    }
    api = login(client("Europe/London", "GB", working))
    workflow = _workflow(api)

    task = api.post(f"workflows/{workflow['id']}/pilot").get_json()

    assert task["timezone_need"] == {
        "mode": "coverage",
        "window": {
            "mon": [["18:30", "08:00"]],
            **{day: [["12:00", "08:00"]] for day in ("tue", "wed", "thu", "fri")},
            "sat": [["14:00", "10:00"]],
        },
    }


def test_without_working_hours_coverage_is_weekday_evenings_and_nights(login):
    owner = client("America/New_York", "US")
    profile = permissions.acting_client_profile(owner)
    profile.working_hours = None
    db.session.commit()
    api = login(owner)
    workflow = _workflow(api)

    task = api.post(f"workflows/{workflow['id']}/pilot").get_json()

    assert task["timezone_need"] == {"mode": "coverage", "window": hours("18:00", "08:00")}


# One pilot at a time --------------------------------------------------------------------


def test_a_second_pilot_waits_until_the_first_is_cancelled(login):
    api = login(client("America/New_York", "US"))
    workflow = _workflow(api)
    first = api.post(f"workflows/{workflow['id']}/pilot").get_json()

    again = api.post(f"workflows/{workflow['id']}/pilot")

    assert again.status_code == 409, again.get_json()
    assert again.get_json()["error"]["details"] == {"pilot_task_id": [first["id"]]}
    assert _tasks() == 1
    cancelled = api.post(f"tasks/{first['id']}/cancel", json={"reason": "Rewriting it."})
    assert cancelled.get_json()["status"] == "cancelled"
    assert api.get(f"workflows/{workflow['id']}").get_json()["pilot"]["task"] == {
        "id": first["id"],
        "status": "cancelled",
    }

    second = api.post(f"workflows/{workflow['id']}/pilot")

    assert second.status_code == 201, second.get_json()
    assert second.get_json()["id"] != first["id"]
    assert _link(workflow) == uuid.UUID(second.get_json()["id"])
    assert api.get(f"workflows/{workflow['id']}").get_json()["pilot"]["task"] == {
        "id": second.get_json()["id"],
        "status": "draft",
    }
    assert _tasks() == 2


def test_an_open_pilot_still_stands(login):
    api = login(client("America/New_York", "US"))
    workflow = _workflow(api)
    first = api.post(f"workflows/{workflow['id']}/pilot").get_json()
    published = api.post(f"tasks/{first['id']}/publish", json={})
    assert published.get_json()["task"]["status"] == "open", published.get_json()

    assert api.post(f"workflows/{workflow['id']}/pilot").status_code == 409


def test_deleting_the_draft_pilot_task_ends_the_pilot(login):
    api = login(client("America/New_York", "US"))
    workflow = _workflow(api)
    first = api.post(f"workflows/{workflow['id']}/pilot").get_json()

    deleted = api.delete(f"tasks/{first['id']}")

    assert deleted.status_code == 204
    assert api.get(f"workflows/{workflow['id']}").get_json()["pilot"] is None
    second = api.post(f"workflows/{workflow['id']}/pilot")
    assert second.status_code == 201, second.get_json()
    assert _link(workflow) == uuid.UUID(second.get_json()["id"])


def test_deleting_the_draft_pilot_task_clears_the_stored_link(login):
    # On SQLite too, which enforces no foreign key here: the ORM clears the column.
    api = login(client("America/New_York", "US"))
    workflow = _workflow(api)
    first = api.post(f"workflows/{workflow['id']}/pilot").get_json()

    assert api.delete(f"tasks/{first['id']}").status_code == 204

    assert _link(workflow) is None


# No pilot -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "tier"),
    [
        ({**TIER3, "brand_central": True}, 1),
        ({**TIER3, "rule_based": True}, 4),  # rule-based, highly repeatable, cheap slips
    ],
)
def test_work_kept_in_house_or_automated_has_no_pilot(login, answers, tier):
    api = login(client("America/New_York", "US"))
    workflow = _workflow(api, answers=answers)
    _matching()

    response = api.post(f"workflows/{workflow['id']}/pilot")

    assert response.status_code == 409, response.get_json()
    assert response.get_json()["error"]["details"] == {"tier": [f"Tier {tier}."]}
    assert _tasks() == 0
    assert _link(workflow) is None


def test_a_pilot_waits_for_the_answers_it_depends_on(login):
    api = login(client("America/New_York", "US"))
    workflow = _workflow(
        api, answers={"repeatable": "high", "has_sop": True, "brand_central": False}
    )

    response = api.post(f"workflows/{workflow['id']}/pilot")

    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]["answers"]) == {
        "error_risk",
        "proprietary_data",
        "rule_based",
        "time_need",
    }
    assert _tasks() == 0
    assert api.get(f"workflows/{workflow['id']}").get_json()["pilot"] is None


# Who may make one -----------------------------------------------------------------------


@pytest.mark.parametrize("stranger", ["client", "provider", "admin", "company_member"])
def test_anyone_but_the_clients_people_is_told_it_does_not_exist(login, stranger):
    workflow = _workflow(login(client("America/New_York", "US")))
    user = {
        "client": ClientFactory,
        "provider": ProviderFactory,
        "admin": AdminFactory,
        "company_member": lambda: make_company(agent=True).agent,
    }[stranger]()

    response = login(user).post(f"workflows/{workflow['id']}/pilot")

    assert response.status_code == 404, response.get_json()
    assert response.get_json()["error"]["message"] == "Workflow not found."
    assert _tasks() == 0
    assert _link(workflow) is None


def test_a_pilot_needs_a_signed_in_user(login, api):
    workflow = _workflow(login(client("America/New_York", "US")))

    response = api.post(f"workflows/{workflow['id']}/pilot")

    assert response.status_code == 401
    assert _tasks() == 0


def test_an_unknown_workflow_has_no_pilot(login):
    response = login(ClientFactory()).post(f"workflows/{uuid.uuid4()}/pilot")

    assert response.status_code == 404


def test_another_member_of_the_company_makes_the_pilot(login):
    company = make_company(owner=True, manager=True, agent=True)
    owner, manager, agent = (login(u) for u in (company.owner, company.manager, company.agent))
    workflow = _workflow(owner)

    response = agent.post(f"workflows/{workflow['id']}/pilot")

    assert response.status_code == 201, response.get_json()
    task = db.session.get(Task, uuid.UUID(response.get_json()["id"]))
    assert task is not None
    assert (task.client_profile_id, task.created_by_id) == (company.profile.id, company.agent.id)
    assert manager.get(f"workflows/{workflow['id']}").get_json()["pilot"]["task"]["id"] == str(
        task.id
    )
    assert manager.post(f"workflows/{workflow['id']}/pilot").status_code == 409
    assert owner.get(f"tasks/{task.id}").get_json()["status"] == "draft"


# From the pilot to the full contract ----------------------------------------------------


def _bid(api: Any, task_id: str, amount: int = 48_000) -> str:
    """A one-milestone bid of `amount` on the pilot task; its id."""
    response = api.post(
        f"tasks/{task_id}/bids",
        json={
            "price": usd(amount),
            "milestones": [{"title": "Two weeks of tickets", "amount": usd(amount)}],
            "timeline_days": 14,
            "cover_letter": "I answer Shopify stores' tickets every day.",
        },
    )
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_the_workflow_follows_its_pilot_to_the_full_contract(login):
    owner = client("America/New_York", "US")
    va = ProviderFactory()
    client_api, va_api = login(owner), login(va)
    workflow = _workflow(client_api)
    _matching()
    path = f"workflows/{workflow['id']}"
    task = client_api.post(f"{path}/pilot").get_json()
    published = client_api.post(f"tasks/{task['id']}/publish", json={}).get_json()
    assert (published["task"]["status"], published["notices"]) == ("open", [])

    award = client_api.post(f"bids/{_bid(va_api, task['id'])}/accept", json={})
    assert award.status_code == 201, award.get_json()
    pilot = award.get_json()
    assert client_api.get(path).get_json()["pilot"] == {
        "task": {"id": task["id"], "status": "open"},
        "contract": {"id": pilot["id"], "status": "offered"},
        "extension": None,
    }
    assert va_api.post(f"contracts/{pilot['id']}/accept").get_json()["status"] == "active"
    assert client_api.get(path).get_json()["pilot"] == {
        "task": {"id": task["id"], "status": "filled"},
        "contract": {"id": pilot["id"], "status": "active"},
        "extension": None,
    }

    row = db.session.get(Contract, uuid.UUID(pilot["id"]))
    assert row is not None
    payouts.start_onboarding(user=va)
    for milestone in row.milestones:
        funding.fund(user=owner, milestone_id=milestone.id)
        delivery.submit(user=va, milestone_id=milestone.id, note="Done.", deliverables=[])
        delivery.approve(user=owner, milestone_id=milestone.id)
    db.session.refresh(row)
    assert row.status == ContractStatus.COMPLETED

    full = client_api.post(
        f"contracts/{pilot['id']}/extend",
        json={
            "milestones": [{"title": "First month", "amount": usd(156_000)}],
            "scope_summary": "Tier-one support tickets for the next month.",
        },
    )
    assert full.status_code == 201, full.get_json()
    extension = full.get_json()
    assert client_api.get(path).get_json()["pilot"] == {
        "task": {"id": task["id"], "status": "filled"},
        "contract": {"id": pilot["id"], "status": "completed"},
        "extension": {"id": extension["id"], "status": "offered"},
    }

    assert va_api.post(f"contracts/{extension['id']}/accept").get_json()["status"] == "active"
    assert client_api.get(path).get_json()["pilot"]["extension"] == {
        "id": extension["id"],
        "status": "active",
    }
    # The pilot is under contract: no other may be made.
    assert client_api.post(f"{path}/pilot").status_code == 409


def test_the_deadline_is_two_weeks_from_today_utc(login, time_machine):
    time_machine.move_to(datetime(2031, 12, 25, 23, 59, tzinfo=UTC), tick=False)
    api = login(client("America/New_York", "US"))
    workflow = _workflow(api)

    task = api.post(f"workflows/{workflow['id']}/pilot").get_json()

    assert date.fromisoformat(task["deadline"]) == date(2032, 1, 8)


def test_the_workflow_shows_the_contract_that_was_accepted_not_a_declined_offer(login):
    client_api = login(client("America/New_York", "US"))
    ana, bo = login(ProviderFactory()), login(ProviderFactory())
    workflow = _workflow(client_api)
    path = f"workflows/{workflow['id']}"
    task = client_api.post(f"{path}/pilot").get_json()
    client_api.post(f"tasks/{task['id']}/publish", json={})
    ana_bid, bo_bid = _bid(ana, task["id"], 49_500), _bid(bo, task["id"], 45_000)
    first = client_api.post(f"bids/{ana_bid}/accept", json={}).get_json()
    declined = ana.post(f"contracts/{first['id']}/decline", json={"reason": "Fully booked"})
    assert declined.get_json()["status"] == "declined"

    second = client_api.post(f"bids/{bo_bid}/accept", json={})
    assert second.status_code == 201, second.get_json()
    assert bo.post(f"contracts/{second.get_json()['id']}/accept").status_code == 200

    assert client_api.get(path).get_json()["pilot"] == {
        "task": {"id": task["id"], "status": "filled"},
        "contract": {"id": second.get_json()["id"], "status": "active"},
        "extension": None,
    }


# What it costs ---------------------------------------------------------------------------


def test_a_recommendation_and_a_page_of_piloted_workflows_cost_a_fixed_number_of_statements(
    login, count_statements
):
    """The recommendation reads the workflow, the candidates and the accepted bids (one
    statement each, whatever the market's size); a page of workflows reads each
    relation once for the whole page, however many pilots it shows."""
    api = login(client("America/New_York", "US"))
    _matching()
    workflows = [_workflow(api, name=f"Support {n}") for n in range(3)]
    for workflow in workflows:
        assert api.post(f"workflows/{workflow['id']}/pilot").status_code == 201
    path = f"workflows/{workflows[0]['id']}/recommendation"

    def count(call: Any) -> Any:
        call()  # warm: the session's first use is recorded
        with count_statements() as log:
            response = call()
        assert response.status_code == 200, response.get_json()
        return log

    one = count(lambda: api.get(path))
    page = count(lambda: api.get("workflows"))
    _matching((2_000, 2_100, 2_200, 2_300))
    assert count(lambda: api.get(path)).count == one.count <= 7, one.report()
    assert page.count <= 7, page.report()


def test_a_pilot_that_reached_a_contract_is_never_replaced(login):
    """Its contract and its money stay the workflow's, even once the task is cancelled."""
    api, va = login(client("America/New_York", "US")), ProviderFactory()
    va_api = login(va)
    workflow = _workflow(api)
    task = api.post(f"workflows/{workflow['id']}/pilot").get_json()
    api.post(f"tasks/{task['id']}/publish", json={})
    offer = api.post(f"bids/{_bid(va_api, task['id'])}/accept", json={}).get_json()
    cancelled = api.post(f"tasks/{task['id']}/cancel", json={"reason": "Not now."})
    assert cancelled.get_json()["status"] == "cancelled"

    again = api.post(f"workflows/{workflow['id']}/pilot")

    assert again.status_code == 409, again.get_json()
    pilot = api.get(f"workflows/{workflow['id']}").get_json()["pilot"]
    assert pilot["contract"]["id"] == offer["id"]
    assert _link(workflow) == uuid.UUID(task["id"])


@pytest.mark.parametrize("count", [0, 21])
def test_a_pilot_task_needs_one_to_twenty_skills(login, count):
    api = login(client("America/New_York", "US"))
    workflow = _workflow(api)
    slugs = list(db.session.scalars(sa.select(Skill.slug).order_by(Skill.slug).limit(count)))
    changed = api.patch(f"workflows/{workflow['id']}", json={"skills": slugs})
    assert changed.status_code == 200, changed.get_json()  # a workflow may name up to 30

    response = api.post(f"workflows/{workflow['id']}/pilot")

    assert response.status_code == 422, response.get_json()
    assert response.get_json()["error"]["details"]["skills"] == [
        f"A pilot task needs 1 to 20 skills: name the skills it needs (it has {count})."
    ]
    assert _tasks() == 0
