"""Finding tasks: every filter, search, sorting and pages that neither skip nor repeat."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.matching.discovery import TaskSearch
from marketplace.tasks.models import Task
from marketplace.tasks.schemas import TaskQuerySchema
from tests.factories import ClientFactory, ProviderFactory, task_payload

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _open(api, **overrides) -> str:
    task = api.post("tasks", json=task_payload(**overrides))
    assert task.status_code == 201, task.get_json()
    task_id = task.get_json()["id"]
    response = api.post(f"tasks/{task_id}/publish", json={"confirm_strategic": True})
    assert response.get_json()["task"]["status"] == "open", response.get_json()
    return task_id


def _ids(api, query: str) -> list[str]:
    response = api.get(f"tasks?{query}")
    assert response.status_code == 200, response.get_json()
    return [t["id"] for t in response.get_json()["items"]]


@pytest.fixture
def market(login):
    """Open tasks from a New York and a London client, and a Manila provider to browse them."""
    ny = login(ClientFactory(timezone="America/New_York", country="US"))
    london = login(
        ClientFactory(
            timezone="Europe/London",
            country="GB",
            profile__working_hours={d: [["09:00", "17:00"]] for d in WEEKDAYS},
        )
    )
    tasks = {
        "support": _open(
            ny,
            title="Tier-one support desk",
            trial=False,
            summary="Answer tickets about orders and returns every weekday.",
            skills=[{"slug": "customer-support-tier1", "min_level": 2}],
            service_model="bpo",
            languages=["en", "es"],
            budget={"type": "hourly", "min": 800, "max": 1200, "currency": "usd"},
            deadline=(date.today() + timedelta(days=60)).isoformat(),
        ),
        "books": _open(
            ny,
            title="Monthly bookkeeping",
            service_model="va",
            trial=True,
            summary="Reconcile invoices and bank feeds in Xero each month.",
            skills=[
                {"slug": "bookkeeping", "min_level": 3},
                {"slug": "accounts-payable", "min_level": 2},
            ],
            languages=["en"],
            budget={"type": "fixed", "min": 20000, "max": 40000, "currency": "usd"},
            deadline=(date.today() + timedelta(days=20)).isoformat(),
        ),
        "analysis": _open(
            london,
            title="Competitor pricing analysis",
            service_model="kpo",
            summary="Research and compare competitor pricing for our agency.",
            skills=[{"slug": "market-research", "min_level": 4}],
            languages=["en"],
            budget={"type": "fixed", "min": 150000, "max": 300000, "currency": "gbp"},
            deadline=(date.today() + timedelta(days=45)).isoformat(),
        ),
    }
    draft = ny.post("tasks", json=task_payload(title="A draft nobody sees")).get_json()
    provider = ProviderFactory(
        timezone="Asia/Manila",
        country="PH",
        profile__working_hours={d: [["21:00", "05:00"]] for d in WEEKDAYS},
    )
    return {
        "tasks": tasks,
        "draft": draft["id"],
        "provider": login(provider),
        "ny": ny,
        "london": london,
    }


def test_lists_only_open_tasks_newest_first(market):
    ids = _ids(market["provider"], "")
    t = market["tasks"]
    assert ids == [t["analysis"], t["books"], t["support"]]
    assert market["draft"] not in ids


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("skills=bookkeeping", ["books"]),
        ("skills=bookkeeping,customer-support-tier1", ["books", "support"]),
        ("skills=bookkeeping,accounts-payable&skills_match=all", ["books"]),
        ("skills=bookkeeping,customer-support-tier1&skills_match=all", []),
        ("service_model=kpo", ["analysis"]),
        ("budget_min=1000&budget_max=5000&currency=usd", ["support"]),
        ("budget_min=25000&currency=usd", ["books"]),
        ("budget_max=100000&currency=gbp", []),
        ("currency=gbp", ["analysis"]),
        ("language=es", ["support"]),
        ("trial=true", ["books"]),
        ("trial=false", ["analysis", "support"]),
        ("q=bookkeeping", ["books"]),
        ("q=pricing competitor", ["analysis"]),
        ("q=tickets orders", ["support"]),
        ("q=nothing-like-this", []),
        ("shoring=offshore", ["analysis", "books", "support"]),
        ("shoring=nearshore", []),
        # Manila 21:00-05:00 meets New York 09:00-17:00 for 7 hours (EST) and London
        # 09:00-17:00 for 4 hours (GMT).
        ("min_overlap=3.5", ["analysis", "books", "support"]),
        ("min_overlap=5", ["books", "support"]),
        ("min_overlap=5&skills=bookkeeping", ["books"]),
        ("min_overlap=7.5", []),
    ],
)
def test_filters(market, query, expected):
    ids = _ids(market["provider"], query)
    assert sorted(ids) == sorted(market["tasks"][name] for name in expected)


def test_shoring_is_relative_to_the_viewing_provider(market, login):
    us_provider = login(ProviderFactory(timezone="America/Chicago", country="US"))
    colombian = login(ProviderFactory(timezone="America/Bogota", country="CO"))
    t = market["tasks"]
    assert sorted(_ids(us_provider, "shoring=onshore")) == sorted([t["books"], t["support"]])
    assert sorted(_ids(colombian, "shoring=nearshore")) == sorted([t["books"], t["support"]])
    assert _ids(colombian, "shoring=offshore") == [t["analysis"]]


def test_posted_since(market):
    task = db.session.get(Task, uuid.UUID(market["tasks"]["support"]))
    task.opened_at = utcnow() - timedelta(days=10)
    db.session.commit()
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat().replace("+00:00", "Z")
    ids = _ids(market["provider"], f"posted_since={since}")
    assert market["tasks"]["support"] not in ids and len(ids) == 2


def test_sorting(market):
    t = market["tasks"]
    api = market["provider"]
    assert _ids(api, "sort=deadline") == [t["books"], t["analysis"], t["support"]]
    assert _ids(api, "sort=budget_desc&currency=usd") == [t["books"], t["support"]]
    assert _ids(api, "sort=budget_asc&currency=usd") == [t["support"], t["books"]]


def test_mine_lists_the_clients_own_tasks_in_any_status(market):
    ny = market["ny"]
    mine = ny.get("tasks?mine=true").get_json()
    assert mine["total"] == 3
    assert market["draft"] in [t["id"] for t in mine["items"]]
    drafts = ny.get("tasks?mine=true&status=draft").get_json()["items"]
    assert [t["id"] for t in drafts] == [market["draft"]]
    assert market["provider"].get("tasks?mine=true").status_code == 403


@pytest.mark.parametrize(
    "query",
    [
        "budget_min=100",
        "currency=xyz",
        "sort=random",
        "skills=nope",
        "cursor=garbage!",
        "page_size=500",
        "min_overlap=30",
        "shoring=anywhere",
        "posted_since=yesterday",
    ],
)
def test_bad_filters_are_422(market, query):
    response = market["provider"].get(f"tasks?{query}")
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "validation_error"


def test_clients_cannot_use_provider_relative_filters(market):
    response = market["ny"].get("tasks?min_overlap=1")
    assert response.status_code == 422
    assert "min_overlap" in response.get_json()["error"]["details"]


@pytest.mark.parametrize(
    "query", ["sort=newest", "sort=deadline", "sort=budget_desc", "sort=newest&min_overlap=0"]
)
def test_pages_neither_skip_nor_repeat_while_tasks_are_published_between_them(login, query):
    client = login(ClientFactory())
    existing = {
        _open(
            client,
            title=f"Existing task {n}",
            start_date=None,
            deadline=(date.today() + timedelta(days=10 + n)).isoformat(),
        )
        for n in range(7)
    }
    provider = login(ProviderFactory())
    seen: list[str] = []
    cursor = ""
    for n in range(10):
        body = provider.get(f"tasks?{query}&page_size=2{cursor}").get_json()
        assert body["total"] >= 7
        seen.extend(t["id"] for t in body["items"])
        # Another client publishes tasks while this provider is paging.
        _open(
            client,
            title=f"Inserted meanwhile {n}",
            start_date=None,
            deadline=(date.today() + timedelta(days=5 + n * 3)).isoformat(),
            budget={"type": "hourly", "min": 800, "max": 900 + n * 200, "currency": "usd"},
        )
        if body["next_cursor"] is None:
            break
        cursor = f"&cursor={body['next_cursor']}"
    assert len(seen) == len(set(seen)), "an item was repeated"
    assert existing <= set(seen), "an item that existed all along was skipped"


def test_total_counts_every_match(login):
    client = login(ClientFactory())
    for n in range(5):
        _open(client, title=f"Task number {n}")
    body = login(ProviderFactory()).get("tasks?page_size=2").get_json()
    assert (body["total"], len(body["items"])) == (5, 2)
    assert body["next_cursor"]


@pytest.mark.postgres
def test_postgresql_full_text_search_stems_and_uses_the_gin_index(market):
    # English stemming: "invoicing" finds "invoices", "reconciled" finds "Reconcile".
    assert _ids(market["provider"], "q=invoicing") == [market["tasks"]["books"]]
    assert _ids(market["provider"], "q=reconciled") == [market["tasks"]["books"]]
    assert _ids(market["provider"], 'q="pricing analysis" -bookkeeping') == [
        market["tasks"]["analysis"]
    ]
    with db.engine.connect() as conn:
        conn.execute(sa.text("SET enable_seqscan = off"))
        plan = "\n".join(
            conn.execute(
                sa.text(
                    "EXPLAIN SELECT id FROM tasks WHERE "
                    "to_tsvector('english', title || ' ' || summary)"
                    " @@ websearch_to_tsquery('english', 'invoice')"
                )
            ).scalars()
        )
    assert "ix_tasks_fts" in plan


@pytest.mark.parametrize(
    "query",
    [
        "posted_since=9999-12-31T23:59:59-12:00",
        "posted_since=0001-01-01T00:00:00%2B14:00",
        "sort=budget_desc&cursor="
        + __import__("base64")
        .urlsafe_b64encode(
            b'["999999999999999999999999999999", "01a20764-6c7d-755a-97a3-6071fbd76b5a"]'
        )
        .decode(),
        "cursor="
        + __import__("base64")
        .urlsafe_b64encode(b'["9999-12-31T23:59:59-12:00", "01a20764-6c7d-755a-97a3-6071fbd76b5a"]')
        .decode(),
    ],
)
def test_extreme_values_are_422_not_500(market, query):
    response = market["provider"].get(f"tasks?{query}&min_overlap=0")
    assert response.status_code == 422


def test_overlap_of_a_coverage_task_is_measured_against_its_window(login):
    # New York client, 09:00-17:00 (EST); the task wants 22:00-06:00 New York time covered.
    client = login(ClientFactory(timezone="America/New_York", country="US"))
    night = {d: [["22:00", "06:00"]] for d in WEEKDAYS}
    start = date.today() + timedelta(days=1)
    while start.month in (3, 4, 10, 11):  # keep clear of daylight-saving changes
        start += timedelta(days=30)
    coverage = _open(
        client,
        timezone_need={"mode": "coverage", "window": night},
        start_date=start.isoformat(),
        deadline=(start + timedelta(days=13)).isoformat(),
    )
    # Manila is 13 hours ahead of EST: 11:00-19:00 there is 22:00-06:00 in New York.
    provider = login(
        ProviderFactory(
            timezone="Asia/Manila",
            country="PH",
            profile__working_hours={
                d: [["11:00", "19:00"]] for d in ("tue", "wed", "thu", "fri", "sat")
            },
        )
    )
    assert _ids(provider, "min_overlap=7") == [coverage]


def test_the_query_schema_builds_a_task_search_with_a_field_per_filter():
    assert [f.name for f in dataclasses.fields(TaskSearch)] == list(TaskQuerySchema().fields)
    search = TaskQuerySchema().load({"skills": "bookkeeping,data-entry", "min_overlap": "2"})
    assert search == TaskSearch(skills=("bookkeeping", "data-entry"), min_overlap=2.0)
    assert search.fit_filters() == ["min_overlap"]
