"""Per-user rate limits on bids, bid edits, messages, API tokens and invitations, and the
production refusal of per-process limit storage."""

from __future__ import annotations

from typing import Any

import pytest

from marketplace import create_app
from marketplace.accounts.models import User
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal
from marketplace.config import ProductionConfig
from marketplace.extensions import limiter
from marketplace.inputs import Money
from marketplace.profiles.models import ServiceModel
from marketplace.tasks.inputs import RequiredSkill
from tests.factories import ProviderFactory, make_company
from tests.matching_world import client, open_task, provider

TINY = "2 per minute"
SKILL = "customer-support-tier1"
BID = {
    "price": {"amount": 1200, "currency": "usd"},
    "timeline_days": 10,
    "cover_letter": "Happy to start next Monday on your queue.",
}


@pytest.fixture
def tiny_limit(app, monkeypatch):
    """`tiny_limit(NAME)` sets the limit named NAME to two requests a minute."""

    def _set(name: str) -> None:
        monkeypatch.setitem(app.config, name, TINY)

    return _set


def assert_rate_limited(response: Any) -> None:
    assert response.status_code == 429, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "rate_limited"
    assert error["message"]
    assert error["details"] == {}
    assert int(response.headers["Retry-After"]) > 0


def _bid_on_new_task() -> tuple[User, User, Any]:
    """A client, a provider and the provider's bid on the client's open (public) task."""
    owner = client("America/New_York", "US")
    task = open_task(owner, confidentiality="public")
    bidder = ProviderFactory()
    bid = bids.place_bid(
        user=bidder,
        task_id=task.id,
        proposal=BidProposal(
            price=Money(1200, "usd"), timeline_days=10, cover_letter="Ready on Monday."
        ),
    )
    return owner, bidder, bid


def test_placing_bids_is_limited_per_user(login, tiny_limit):
    tiny_limit("BID_RATE_LIMIT")
    owner = client("America/New_York", "US")
    tasks = [open_task(owner, confidentiality="public") for _ in range(4)]
    api = login(ProviderFactory())

    statuses = [api.post(f"tasks/{task.id}/bids", json=BID).status_code for task in tasks[:2]]

    assert statuses == [201, 201]
    assert_rate_limited(api.post(f"tasks/{tasks[2].id}/bids", json=BID))
    # Per user: another provider still bids.
    other = login(ProviderFactory())
    assert other.post(f"tasks/{tasks[3].id}/bids", json=BID).status_code == 201


def test_editing_a_bid_is_limited_per_user(login, tiny_limit):
    tiny_limit("BID_EDIT_RATE_LIMIT")
    _, bidder, bid = _bid_on_new_task()
    api = login(bidder)

    statuses = [
        api.patch(f"bids/{bid.id}", json={"timeline_days": days}).status_code for days in (11, 12)
    ]

    assert statuses == [200, 200]
    assert_rate_limited(api.patch(f"bids/{bid.id}", json={"timeline_days": 13}))


def test_messages_are_limited_per_user(login, tiny_limit):
    tiny_limit("MESSAGE_RATE_LIMIT")
    owner, bidder, bid = _bid_on_new_task()
    api = login(bidder)
    path = f"bids/{bid.id}/messages"

    statuses = [api.post(path, json={"body": f"Note {n}"}).status_code for n in range(2)]

    assert statuses == [201, 201]
    assert_rate_limited(api.post(path, json={"body": "One too many."}))
    assert login(owner).post(path, json={"body": "The client still writes."}).status_code == 201


def test_creating_api_tokens_is_limited_per_user(login, tiny_limit):
    tiny_limit("TOKEN_RATE_LIMIT")
    api = login(ProviderFactory())

    statuses = [api.post("auth/tokens", json={"name": f"ci {n}"}).status_code for n in range(2)]

    assert statuses == [201, 201]
    assert_rate_limited(api.post("auth/tokens", json={"name": "ci 3"}))


def test_organization_invitations_are_limited_per_user(login, tiny_limit):
    tiny_limit("MEMBER_INVITATION_RATE_LIMIT")
    company = make_company(name="Acme Ltd", owner=True)
    api = login(company.owner)
    path = f"organizations/{company.organization.id}/members"

    statuses = [
        api.post(path, json={"email": f"agent{n}@example.com"}).status_code for n in range(2)
    ]

    assert statuses == [201, 201]
    assert_rate_limited(api.post(path, json={"email": "agent3@example.com"}))


def test_task_invitations_are_limited_per_user(login, tiny_limit):
    tiny_limit("TASK_INVITATION_RATE_LIMIT")
    owner = client("America/New_York", "US")
    task = open_task(owner, service_model=ServiceModel.VA, skills=(RequiredSkill(SKILL, 3),))
    invitee = provider(skills={SKILL: (4, 2)})
    api = login(owner)
    body = {"provider_ids": [str(invitee.id)]}

    statuses = [api.post(f"tasks/{task.id}/invitations", json=body).status_code for _ in range(2)]

    assert statuses == [201, 201]
    assert_rate_limited(api.post(f"tasks/{task.id}/invitations", json=body))


PRODUCTION = {"SECRET_KEY": "x" * 40, "SQLALCHEMY_DATABASE_URI": "sqlite://"}


def test_production_refuses_per_process_rate_limits_unless_chosen(monkeypatch):
    """Each gunicorn worker keeps its own in-memory counters, multiplying every limit."""
    # The limiter is one extension object: building apps here re-binds it (the last one
    # turns it off). Put it back afterwards, or later tests would run without limits.
    monkeypatch.setattr(limiter, "enabled", limiter.enabled)
    monkeypatch.setattr(limiter, "_storage", limiter._storage)
    bare = type("Prod", (ProductionConfig,), {**PRODUCTION, "REDIS_URL": None})
    with pytest.raises(RuntimeError, match=r"REDIS_URL.*RATELIMIT_STORAGE_URI=memory://"):
        create_app(type("NoStorage", (bare,), {"RATELIMIT_STORAGE_URI": None}))

    chosen = create_app(type("Memory", (bare,), {"RATELIMIT_STORAGE_URI": "memory://"}))
    assert chosen.config["RATELIMIT_STORAGE_URI"] == "memory://"
    off = create_app(
        type("Off", (bare,), {"RATELIMIT_STORAGE_URI": None, "RATELIMIT_ENABLED": False})
    )
    assert off.config["RATELIMIT_ENABLED"] is False
