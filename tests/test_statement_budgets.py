"""What a request costs in SQL statements (issue 14): authentication 1, a task's page at
most 4 (5 for a provider, who also learns where it stands on the task), its matches at most
7, a new bid at most 10, the skill catalog none once loaded.

Each world has enough rows that a lazy load per row would show: a task with five skills and
three languages, providers with seven skills, an individual and a firm on each side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.bids.models import Bid
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from tests.factories import (
    AdminFactory,
    ClientFactory,
    ProviderFactory,
    make_company,
    make_firm,
    task_payload,
    terms_acceptance,
)
from tests.money import usd

SKILLS = ["customer-support-tier1", "data-entry", "inbox-management", "crm-updates", "web-research"]
LANGUAGES = ["en", "es", "fr"]
AUTHENTICATION = 1
TASK_PAGE = 4
#: A provider's view of a task also says, in one more statement, whether the provider
#: accepted the current terms and which live bid it has on the task.
PROVIDER_TASK_PAGE = TASK_PAGE + 1
MATCHES = 7
NEW_BID = 10


@dataclass
class World:
    """Who asks, and the two tasks they ask about."""

    clients: dict[str, Any]
    providers: dict[str, Any]
    admin: Any
    task: str  # an individual client's
    company_task: str


def _post_task(api: Any) -> str:
    body = task_payload(
        service_model=None,  # VAs and firms alike
        skills=[{"slug": slug, "min_level": 2} for slug in SKILLS],
        languages=LANGUAGES,
        budget={"type": "fixed", "min": 50_000, "max": 120_000, "currency": "usd"},
    )
    task = api.post("tasks", json=body).get_json()
    published = api.post(f"tasks/{task['id']}/publish", json={}).get_json()
    assert published["task"]["status"] == "open", published
    return str(task["id"])


def _offer_skills(api: Any) -> None:
    skills = [{"slug": slug, "level": 4, "years": 3} for slug in [*SKILLS, "payroll", "seo"]]
    response = api.put("providers/me", json={"languages": LANGUAGES, "skills": skills})
    assert response.status_code == 200, response.get_json()


@pytest.fixture
def world(login: Any, bearer: Any) -> World:
    client, va = ClientFactory(), ProviderFactory()
    company = make_company(owner=True, agent=True)
    firm = make_firm(owner=True, agent=True)
    clients = {
        "client (session)": login(client),
        "client (bearer)": bearer(client),
        "company agent": login(company.agent),
    }
    providers = {"va": login(va), "va (bearer)": bearer(va), "firm agent": login(firm.agent)}
    firm_owner = login(firm.owner)
    for api in (providers["va"], login(ProviderFactory()), login(ProviderFactory()), firm_owner):
        _offer_skills(api)
    task = _post_task(clients["client (session)"])
    company_task = _post_task(login(company.owner))
    for api, accepted in ((providers["va"], task), (firm_owner, company_task)):
        response = api.post(f"tasks/{accepted}/confidentiality", json=terms_acceptance())
        assert response.status_code == 201, response.get_json()
    return World(clients, providers, login(AdminFactory()), task, company_task)


def _count(count_statements: Any, call: Any) -> tuple[Any, Any]:
    """The response of `call` and its statements, after one untimed call warms it up (the
    first use of a token or session records it; a cold catalog is read once)."""
    call()
    with count_statements() as log:
        response = call()
    return response, log


@pytest.mark.parametrize(
    ("who", "side"),
    [
        ("client (session)", "clients"),
        ("client (bearer)", "clients"),
        ("company agent", "clients"),
        ("va (bearer)", "providers"),
        ("firm agent", "providers"),
    ],
)
def test_authentication_is_one_statement(world, count_statements, who, side):
    api = getattr(world, side)[who]

    response, log = _count(count_statements, lambda: api.get("auth/me"))

    assert response.status_code == 200
    assert log.count == AUTHENTICATION, log.report()


@pytest.mark.parametrize(
    ("who", "task", "privileged"),
    [
        ("client (session)", "task", True),
        ("client (bearer)", "task", True),
        ("company agent", "company_task", True),
        ("va", "task", False),
        ("va (bearer)", "company_task", False),
        ("firm agent", "task", False),
        ("admin", "task", True),
    ],
)
def test_a_tasks_page_costs_at_most_four_statements(world, count_statements, who, task, privileged):
    api = world.admin if who == "admin" else {**world.clients, **world.providers}[who]
    task_id = getattr(world, task)

    response, log = _count(count_statements, lambda: api.get(f"tasks/{task_id}"))

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [s["slug"] for s in body["skills"]] == SKILLS
    assert body["languages"] == LANGUAGES
    assert body["client_timezone"] == "America/New_York"
    assert ("transitions" in body) is privileged
    assert ("my_bid" in body) is not privileged
    assert log.count <= (TASK_PAGE if privileged else PROVIDER_TASK_PAGE), log.report()


def test_a_foreign_clients_draft_stays_hidden_within_the_budget(world, login, count_statements):
    draft = world.clients["client (session)"].post("tasks", json=task_payload()).get_json()
    api = world.clients["company agent"]

    response, log = _count(count_statements, lambda: api.get(f"tasks/{draft['id']}"))

    assert response.status_code == 404
    assert log.count <= TASK_PAGE, log.report()


def test_matches_cost_at_most_seven_statements(world, count_statements):
    api = world.clients["client (session)"]

    response, log = _count(count_statements, lambda: api.get(f"tasks/{world.task}/matches"))

    assert response.status_code == 200
    body = response.get_json()
    assert body["total"] == 4  # three VAs and the firm
    assert all(len(item["explanation"]["skills"]) == len(SKILLS) for item in body["items"])
    assert log.count <= MATCHES, log.report()


def _bid() -> dict[str, Any]:
    due = (date.today() + timedelta(days=30)).isoformat()
    return {
        "price": {"amount": 100_000, "currency": "usd"},
        "milestones": [
            {"title": "Set-up and first week", "amount": usd(40_000), "due_date": due},
            {"title": "Weeks two to four", "amount": usd(60_000)},
        ],
        "timeline_days": 30,
        "cover_letter": "Our team has run support queues and CRMs for years.",
    }


@pytest.mark.parametrize(
    ("who", "task"), [("va", "task"), ("va (bearer)", "task"), ("firm agent", "company_task")]
)
def test_a_new_bid_costs_at_most_ten_statements(world, count_statements, who, task):
    task_id = getattr(world, task)

    with count_statements() as log:
        response = world.providers[who].post(f"tasks/{task_id}/bids", json=_bid())

    assert response.status_code == 201, response.get_json()
    assert log.count <= NEW_BID, log.report()
    body = response.get_json()
    assert [(s["slug"], s["level"]) for s in body["explanation"]["skills"]] == [
        (slug, 4) for slug in SKILLS
    ]
    assert body["provider_name"]
    bid = db.session.scalar(sa.select(Bid))
    assert (str(bid.id), bid.status.value, str(bid.task_id)) == (body["id"], "submitted", task_id)
    assert body["created_at"].startswith(bid.created_at.isoformat()[:19])
    told = db.session.scalars(sa.select(Notification.kind)).all()
    assert told and set(told) == {"bid.new"}


def test_the_skill_catalog_is_read_once(api, count_statements):
    api.get("skills")

    with count_statements() as log:
        first = api.get("skills?category=finance&page_size=3")
        second = api.get("skills?page=2&page_size=10")

    assert log.count == 0, log.report()
    assert first.get_json()["total"] == 6
    assert [s["category"] for s in first.get_json()["items"]] == ["finance"] * 3
    assert second.get_json()["page"] == 2 and len(second.get_json()["items"]) == 10


def test_the_skill_catalog_may_be_cached_and_revalidated(api):
    first = api.get("skills?category=finance")
    etag = first.headers["ETag"]

    again = api.get("skills?category=finance", headers={"If-None-Match": etag})
    other = api.get("skills?category=finance", headers={"If-None-Match": '"another"'})

    assert first.status_code == 200
    assert "public" in first.headers["Cache-Control"]
    assert "max-age" in first.headers["Cache-Control"]
    assert (again.status_code, again.data, again.headers["ETag"]) == (304, b"", etag)
    assert other.status_code == 200
    assert other.get_json() == first.get_json()
