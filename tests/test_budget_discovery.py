"""Statement budget of `GET /tasks`: at most 5 statements a page, sign-in included, for
every filter, sort and page, and the same number however many tasks there are.

Signing a request in is to cost one statement; what it costs today is measured on
`GET /auth/me` (which reads nothing else) and the rest must fit in the other four.

The data set grows from 30 to 60 open tasks of six clients in six zones (some coverage
tasks, some without a start date, other currencies and languages); every query must cost
the same on both, so no statement runs per task or per client.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from marketplace.catalog.models import Skill
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.profiles.models import ClientProfile, ServiceModel
from marketplace.tasks.models import Task, TaskLanguage, TaskSkill, TaskStatus
from tests.factories import ClientFactory, ProviderFactory

BUDGET = 5
AUTHENTICATION = 1  # of the budget
ZONES = [
    ("America/New_York", "US"),
    ("Europe/London", "GB"),
    ("Asia/Manila", "PH"),
    ("Australia/Sydney", "AU"),
    ("America/Bogota", "CO"),
    ("Europe/Berlin", None),
]
SKILLS = ("bookkeeping", "data-entry", "customer-support-tier1", "market-research")
SINCE = quote((utcnow() - timedelta(days=3)).isoformat())
OPEN_QUERIES = [
    "",
    "q=reports",
    "q=weekly reports",
    "skills=bookkeeping",
    "skills=bookkeeping,data-entry",
    "skills=bookkeeping,data-entry&skills_match=all",
    "service_model=bpo",
    "currency=usd",
    "currency=usd&budget_min=1000",
    "currency=eur&budget_min=500&budget_max=3000",
    "language=es",
    "trial=true",
    "trial=false",
    f"posted_since={SINCE}",
    "sort=newest",
    "sort=budget_desc",
    "sort=budget_asc",
    "sort=deadline",
    "shoring=onshore",
    "shoring=nearshore",
    "shoring=offshore",
    "min_overlap=0",
    "min_overlap=2",
    "min_overlap=6.5",
    "min_overlap=24",
    "min_overlap=3&shoring=offshore",
    "min_overlap=2&sort=deadline&skills=bookkeeping,data-entry&currency=usd&budget_min=100",
    "shoring=nearshore&q=reports&language=en&trial=false&service_model=va",
    f"min_overlap=1&posted_since={SINCE}&sort=budget_asc",
]
MINE_QUERIES = [
    "mine=true",
    "mine=true&status=open",
    "mine=true&status=draft",
    "mine=true&skills=bookkeeping&q=reports",
    "mine=true&currency=usd&budget_max=4000&sort=deadline",
]


def _add_tasks(clients: list[ClientProfile], count: int, offset: int) -> None:
    """`count` open tasks (and every tenth a draft) spread over the clients."""
    skills = {s.slug: s for s in db.session.scalars(sa.select(Skill).where(Skill.slug.in_(SKILLS)))}
    today, now = date.today(), utcnow()
    for n in range(offset, offset + count):
        client = clients[n % len(clients)]
        coverage = n % 7 == 3
        task = Task(
            client_profile=client,
            created_by=client.user,
            terms_hash="x",
            title=f"Weekly reports {n}",
            summary="Prepare the weekly reports and reconcile the books.",
            tier=3,
            service_model=list(ServiceModel)[n % 4],
            budget_type="hourly",
            budget_min=500 + n,
            budget_max=1000 + 100 * n,
            currency=("usd", "eur", "gbp")[n % 3],
            trial=n % 5 == 0,
            status=TaskStatus.DRAFT if n % 10 == 9 else TaskStatus.OPEN,
            start_date=None if n % 3 == 0 else today + timedelta(days=n % 40),
            deadline=today + timedelta(days=50 + n),
            timezone_need=(
                {"mode": "coverage", "window": {"sat": [["22:00", "06:00"]]}} if coverage else None
            ),
            opened_at=now - timedelta(minutes=n),
            expires_at=now + timedelta(days=30),
        )
        task.skills = [
            TaskSkill(skill=skills[slug], min_level=2)
            for slug in itertools.islice(itertools.cycle(SKILLS), n % 4, n % 4 + 2)
        ]
        task.language_rows = [
            TaskLanguage(code=code) for code in (("en", "es") if n % 4 else ("en",))
        ]
        db.session.add(task)
    db.session.commit()


@pytest.fixture
def world():
    """Six clients in six zones; tasks are added by the test."""
    users = [ClientFactory(timezone=zone, country=country) for zone, country in ZONES]
    clients = [
        db.session.scalar(sa.select(ClientProfile).filter_by(user_id=user.id)) for user in users
    ]
    return users, clients


def _counts(api, count_statements, queries: list[str]) -> dict[str, int]:
    """Statements of the first page and of the page after it, for each query, besides
    signing the request in."""
    with count_statements() as signing_in:
        assert api.get("auth/me").status_code == 200
    counts = {}
    for query in queries:
        for page in ("first", "next"):
            cursor = ""
            if page == "next":
                body = api.get(f"tasks?{query}&page_size=3").get_json()
                if body["next_cursor"] is None:
                    continue
                cursor = f"&cursor={body['next_cursor']}"
            with count_statements() as log:
                response = api.get(f"tasks?{query}&page_size=3{cursor}")
            assert response.status_code == 200, (query, response.get_json())
            spent = log.count - signing_in.count
            assert spent <= BUDGET - AUTHENTICATION, f"{query} ({page} page): {log.report()}"
            counts[f"{query} ({page})"] = spent
    return counts


def test_open_task_pages_cost_the_same_for_30_and_60_tasks(world, login, count_statements):
    _, clients = world
    provider = login(
        ProviderFactory(
            timezone="Asia/Manila",
            country="PH",
            profile__working_hours={d: [["20:00", "04:00"]] for d in ("mon", "tue", "wed")},
        )
    )
    _add_tasks(clients, 30, 0)
    small = _counts(provider, count_statements, OPEN_QUERIES)
    _add_tasks(clients, 30, 30)
    large = _counts(provider, count_statements, OPEN_QUERIES)
    # (A query may have a second page only among 60 tasks.)
    assert {page: large[page] for page in small} == small
    assert len(small) > 1.5 * len(OPEN_QUERIES)  # most queries had a second page to read


def test_own_task_pages_cost_the_same_for_30_and_60_tasks(world, login, count_statements):
    users, clients = world
    client = login(users[0])
    _add_tasks(clients[:1], 30, 0)
    small = _counts(client, count_statements, MINE_QUERIES)
    _add_tasks(clients[:1], 30, 30)
    large = _counts(client, count_statements, MINE_QUERIES)
    assert {page: large[page] for page in small} == small


def test_the_list_loads_nothing_lazily(world, login, count_statements):
    # Every task on the page from another client: a lazy load per client would show.
    _, clients = world
    _add_tasks(clients, 12, 0)
    provider = login(ProviderFactory())
    with count_statements() as signing_in:
        provider.get("auth/me")
    with count_statements() as log:
        body = provider.get("tasks?page_size=12").get_json()
    assert {t["client_timezone"] for t in body["items"]} == {zone for zone, _ in ZONES}
    assert all(t["skills"] and t["languages"] for t in body["items"])
    # The count and the page, after signing in.
    assert log.count - signing_in.count == 2, log.report()
