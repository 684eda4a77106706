"""A firm agent who wrote a bid hears what happens to it, as the firm's owner and managers do."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.contracts.models import Contract
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.organizations.models import Membership
from tests.factories import ClientFactory, make_firm, task_payload, terms_acceptance
from tests.money import usd

FIXED = {"type": "fixed", "min": 50_000, "max": 120_000, "currency": "usd"}
BID = {
    "price": {"amount": 100_000, "currency": "usd"},
    "milestones": [
        {"title": "Set-up and first week", "amount": usd(40_000)},
        {"title": "Weeks two to four", "amount": usd(60_000)},
    ],
    "timeline_days": 30,
    "cover_letter": "Our agents run Gorgias queues for three Shopify stores.",
}


@pytest.fixture
def agent_bid(login: Any) -> dict[str, Any]:
    """An open task of a client, and a bid on it written by an agent of a firm."""
    firm = make_firm(owner=True, manager=True, agent=True)
    client_api = login(ClientFactory())
    task = client_api.post("tasks", json=task_payload(budget=FIXED)).get_json()
    client_api.post(f"tasks/{task['id']}/publish", json={})
    agent_api = login(firm.agent)
    agent_api.post(f"tasks/{task['id']}/confidentiality", json=terms_acceptance())
    bid = agent_api.post(f"tasks/{task['id']}/bids", json=BID).get_json()
    return {"firm": firm, "client_api": client_api, "task": task, "bid": bid}


def _kinds(user: User | None) -> list[str]:
    assert user is not None
    return sorted(
        db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == user.id))
    )


def test_the_author_hears_of_shortlisting_messages_and_the_decline(agent_bid, sent_mail):
    firm, client_api, bid = agent_bid["firm"], agent_bid["client_api"], agent_bid["bid"]

    client_api.post(f"bids/{bid['id']}/shortlist")
    client_api.post(f"bids/{bid['id']}/messages", json={"body": "Can you start on Monday?"})
    client_api.post(f"bids/{bid['id']}/decline", json={"reason": "We chose a local team"})

    expected = ["bid.declined", "bid.shortlisted", "message.new"]
    for member in (firm.agent, firm.owner, firm.manager):
        assert _kinds(member) == expected  # each once: no one is told twice
    to_agent = [m for m in sent_mail if m.to == firm.agent.email]
    assert len(to_agent) == 3
    assert any("We chose a local team" in m.body for m in to_agent)


def test_the_author_hears_when_the_bid_expires_with_its_task(agent_bid):
    firm, task = agent_bid["firm"], agent_bid["task"]

    agent_bid["client_api"].post(f"tasks/{task['id']}/cancel", json={})

    assert _kinds(firm.agent) == ["bid.expired"]
    assert _kinds(firm.owner) == ["bid.expired"]


def test_the_author_hears_of_the_offer_its_expiry_and_the_contracts_messages(agent_bid, app):
    firm, client_api, bid = agent_bid["firm"], agent_bid["client_api"], agent_bid["bid"]

    contract = client_api.post(f"bids/{bid['id']}/accept", json={}).get_json()
    client_api.post(f"contracts/{contract['id']}/messages", json={"body": "Welcome aboard"})
    row = db.session.get(Contract, uuid.UUID(contract["id"]))
    assert row is not None
    row.offer_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert "expired 1 offers" in app.test_cli_runner().invoke(args=["expire-offers"]).output

    expected = ["contract.expired", "contract.offered", "message.new"]
    assert _kinds(firm.agent) == expected
    assert _kinds(firm.manager) == expected


def test_an_author_who_left_the_firm_hears_nothing_more(agent_bid):
    firm, bid = agent_bid["firm"], agent_bid["bid"]
    db.session.execute(sa.delete(Membership).where(Membership.user_id == firm.agent.id))
    db.session.commit()

    agent_bid["client_api"].post(f"bids/{bid['id']}/shortlist")

    assert _kinds(firm.agent) == []
    assert _kinds(firm.owner) == ["bid.shortlisted"]
