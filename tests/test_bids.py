"""Bids: placing, one live bid, privacy between bidders, edits, shortlisting, declining."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from marketplace.bids.models import Bid, BidTransition
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from tests.factories import (
    AdminFactory,
    ClientFactory,
    ProviderFactory,
    make_firm,
    task_payload,
    terms_acceptance,
)
from tests.money import usd

FIXED = {"type": "fixed", "min": 50_000, "max": 120_000, "currency": "usd"}


def _task(api, **overrides):
    task = api.post("tasks", json=task_payload(**overrides)).get_json()
    response = api.post(f"tasks/{task['id']}/publish", json={})
    assert response.get_json()["task"]["status"] == "open", response.get_json()
    return task


def _bid_body(**overrides):
    due = (date.today() + timedelta(days=30)).isoformat()
    body = {
        "price": {"amount": 100_000, "currency": "usd"},
        "milestones": [
            {"title": "Set-up and first week", "amount": usd(40_000), "due_date": due},
            {"title": "Weeks two to four", "amount": usd(60_000)},
        ],
        "timeline_days": 30,
        "cover_letter": "Our team has run Gorgias queues for three Shopify stores.",
    }
    body.update(overrides)
    return body


@pytest.fixture
def open_task(login):
    client = ClientFactory()
    api = login(client)
    task = _task(api, budget=FIXED)
    return {"client": client, "api": api, "task": task}


def _accepting_provider(login, task_id, **kwargs):
    api = login(ProviderFactory(**kwargs))
    api.post(f"tasks/{task_id}/confidentiality", json=terms_acceptance())
    return api


def test_provider_bids_and_the_client_is_notified(open_task, login, sent_mail):
    provider = _accepting_provider(login, open_task["task"]["id"])

    response = provider.post(f"tasks/{open_task['task']['id']}/bids", json=_bid_body())

    assert response.status_code == 201, response.get_json()
    bid = response.get_json()
    assert bid["status"] == "submitted"
    assert bid["price"] == {"amount": 100_000, "currency": "usd"}
    assert bid["explanation"]["rate_fit"] == "within"
    assert bid["explanation"]["shoring"] in {"onshore", "nearshore", "offshore"}
    assert [s["slug"] for s in bid["explanation"]["skills"]] == ["customer-support-tier1"]
    assert any(m.to == open_task["client"].email and "New bid" in m.subject for m in sent_mail)
    assert (
        db.session.scalar(
            sa.select(Notification.kind).where(Notification.user_id == open_task["client"].id)
        )
        == "bid.new"
    )


def test_terms_must_be_accepted_before_bidding(open_task, login):
    provider = login(ProviderFactory())
    response = provider.post(f"tasks/{open_task['task']['id']}/bids", json=_bid_body())
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bid)) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (_bid_body(price={"amount": 100_000, "currency": "eur"}), "price"),
        (_bid_body(milestones=[]), "milestones"),
        (_bid_body(milestones=[{"title": "All", "amount": usd(90_000)}]), "milestones"),
        (
            _bid_body(
                milestones=[{"title": "Late", "amount": usd(100_000), "due_date": "2099-01-01"}]
            ),
            "milestones",
        ),
        (_bid_body(timeline_days=0), "timeline_days"),
        (_bid_body(cover_letter="hi"), "cover_letter"),
        (_bid_body(price={"amount": -1, "currency": "usd"}), "price"),
    ],
)
def test_bad_bids_are_422(open_task, login, body, field):
    provider = _accepting_provider(login, open_task["task"]["id"])
    response = provider.post(f"tasks/{open_task['task']['id']}/bids", json=body)
    assert response.status_code == 422
    assert field in response.get_json()["error"]["details"]


def test_one_live_bid_per_provider(open_task, login):
    provider = _accepting_provider(login, open_task["task"]["id"])
    path = f"tasks/{open_task['task']['id']}/bids"
    first = provider.post(path, json=_bid_body()).get_json()

    assert provider.post(path, json=_bid_body()).status_code == 409
    assert provider.post(f"bids/{first['id']}/withdraw").status_code == 200
    assert provider.post(path, json=_bid_body()).status_code == 201


def test_no_bids_on_drafts_or_closed_tasks_or_by_clients(login, open_task):
    client_api = login(ClientFactory())
    draft = client_api.post("tasks", json=task_payload(confidentiality="public")).get_json()
    provider = login(ProviderFactory())
    assert provider.post(f"tasks/{draft['id']}/bids", json=_bid_body()).status_code == 404
    open_task["api"].post(f"tasks/{open_task['task']['id']}/cancel", json={})
    assert (
        provider.post(f"tasks/{open_task['task']['id']}/bids", json=_bid_body()).status_code == 404
    )
    other = _task(login(ClientFactory()), confidentiality="public", budget=FIXED)
    assert client_api.post(f"tasks/{other['id']}/bids", json=_bid_body()).status_code == 403


def test_providers_see_only_their_own_bids(open_task, login):
    path = f"tasks/{open_task['task']['id']}/bids"
    ana = _accepting_provider(login, open_task["task"]["id"])
    bo = _accepting_provider(login, open_task["task"]["id"])
    ana_bid = ana.post(path, json=_bid_body()).get_json()
    bo_bid = bo.post(path, json=_bid_body()).get_json()

    assert [b["id"] for b in ana.get(path).get_json()["items"]] == [ana_bid["id"]]
    assert bo.get(f"bids/{ana_bid['id']}").status_code == 404
    assert bo.patch(f"bids/{ana_bid['id']}", json={"timeline_days": 3}).status_code == 404
    assert bo.post(f"bids/{ana_bid['id']}/withdraw").status_code == 404
    listed = open_task["api"].get(path).get_json()
    assert {b["id"] for b in listed["items"]} == {ana_bid["id"], bo_bid["id"]}
    assert all("explanation" in b for b in listed["items"])
    assert login(ClientFactory()).get(f"bids/{ana_bid['id']}").status_code == 404
    assert login(AdminFactory()).get(f"bids/{ana_bid['id']}").status_code == 200


def test_bidder_edits_until_shortlisted(open_task, login):
    provider = _accepting_provider(login, open_task["task"]["id"])
    bid = provider.post(f"tasks/{open_task['task']['id']}/bids", json=_bid_body()).get_json()

    response = provider.patch(f"bids/{bid['id']}", json={"timeline_days": 21})
    assert response.status_code == 200
    assert response.get_json()["timeline_days"] == 21
    response = provider.patch(
        f"bids/{bid['id']}", json={"price": {"amount": 90_000, "currency": "usd"}}
    )
    assert response.status_code == 422  # milestones no longer add up
    assert open_task["api"].patch(f"bids/{bid['id']}", json={"timeline_days": 1}).status_code == 403

    assert open_task["api"].post(f"bids/{bid['id']}/shortlist").status_code == 200
    assert provider.patch(f"bids/{bid['id']}", json={"timeline_days": 5}).status_code == 409


def test_client_shortlists_and_declines_with_a_reason(open_task, login, sent_mail):
    bidder = ProviderFactory()
    provider = login(bidder)
    provider.post(f"tasks/{open_task['task']['id']}/confidentiality", json=terms_acceptance())
    bid = provider.post(f"tasks/{open_task['task']['id']}/bids", json=_bid_body()).get_json()
    client = open_task["api"]

    assert provider.post(f"bids/{bid['id']}/shortlist").status_code == 403
    assert client.post(f"bids/{bid['id']}/shortlist").get_json()["status"] == "shortlisted"
    assert client.post(f"bids/{bid['id']}/shortlist").status_code == 409
    assert client.post(f"bids/{bid['id']}/decline", json={}).status_code == 422
    response = client.post(f"bids/{bid['id']}/decline", json={"reason": "Budget too high"})
    assert response.get_json()["status"] == "declined"
    assert response.get_json()["decline_reason"] == "Budget too high"
    assert provider.post(f"bids/{bid['id']}/withdraw").status_code == 409
    kinds = db.session.scalars(
        sa.select(Notification.kind).where(Notification.user_id == bidder.id)
    ).all()
    assert sorted(kinds) == ["bid.declined", "bid.shortlisted"]
    assert any("Budget too high" in m.body for m in sent_mail if m.to == bidder.email)
    steps = db.session.scalars(sa.select(BidTransition.to_status).order_by(BidTransition.at))
    assert list(steps) == ["submitted", "shortlisted", "declined"]


def test_firm_members_bid_for_their_firm(open_task, login):
    firm = make_firm(manager=True, agent=True)
    agent, manager = firm.agent, firm.manager
    path = f"tasks/{open_task['task']['id']}/bids"
    login(manager).post(f"tasks/{open_task['task']['id']}/confidentiality", json=terms_acceptance())

    bid = login(agent).post(path, json=_bid_body()).get_json()

    assert bid["provider_name"] == firm.organization.name
    assert login(manager).post(path, json=_bid_body()).status_code == 409
    assert login(manager).get(f"bids/{bid['id']}").status_code == 200
    assert login(manager).post(f"bids/{bid['id']}/withdraw").status_code == 200


def test_hourly_bids_need_no_milestones(login):
    task = _task(login(ClientFactory()), confidentiality="public")
    provider = login(ProviderFactory())
    response = provider.post(
        f"tasks/{task['id']}/bids",
        json=_bid_body(price={"amount": 1200, "currency": "usd"}, milestones=[]),
    )
    assert response.status_code == 201
    assert response.get_json()["explanation"]["rate_fit"] == "within"
