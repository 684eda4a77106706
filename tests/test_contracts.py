"""Award, offer, acceptance, lifecycle, terms history, amendments, pilots and expiry."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from marketplace.contracts import pilots
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.payments import delivery, funding, payouts
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
PILOT_BUDGET = {"type": "fixed", "min": 20_000, "max": 40_000, "currency": "usd"}


def _bid_body(amount=100_000, milestones=None):
    return {
        "price": {"amount": amount, "currency": "usd"},
        "milestones": milestones
        or [
            {"title": "Set-up and first week", "amount": usd(40_000)},
            {"title": "Weeks two to four", "amount": usd(amount - 40_000)},
        ],
        "timeline_days": 30,
        "cover_letter": "We run support queues for Shopify stores every day.",
    }


def _open_task(client_api, **overrides):
    """A task posted and published through the API; fields as `task_payload` takes them."""
    task = client_api.post("tasks", json=task_payload(**overrides)).get_json()
    client_api.post(f"tasks/{task['id']}/publish", json={})
    return task


def _accepted_pilot(client_api, provider_api, task):
    """A one-milestone bid of 30_000 on the trial `task`, awarded and accepted."""
    bid = provider_api.post(
        f"tasks/{task['id']}/bids",
        json=_bid_body(30_000, [{"title": "One month of books", "amount": usd(30_000)}]),
    ).get_json()
    pilot = client_api.post(f"bids/{bid['id']}/accept", json={}).get_json()
    provider_api.post(f"contracts/{pilot['id']}/accept")
    return pilot


@pytest.fixture
def deal(login):
    """An open fixed-price task (2 positions) with two bids."""
    client, ana, bo = ClientFactory(), ProviderFactory(), ProviderFactory()
    client_api, ana_api, bo_api = login(client), login(ana), login(bo)
    task = _open_task(client_api, budget=FIXED)
    bids = {}
    for name, api in (("ana", ana_api), ("bo", bo_api)):
        api.post(f"tasks/{task['id']}/confidentiality", json=terms_acceptance())
        bids[name] = api.post(f"tasks/{task['id']}/bids", json=_bid_body()).get_json()
    return {
        "client": client,
        "ana": ana,
        "bo": bo,
        "client_api": client_api,
        "ana_api": ana_api,
        "bo_api": bo_api,
        "task": task,
        "bids": bids,
    }


def _award(deal, who="ana", **body):
    response = deal["client_api"].post(f"bids/{deal['bids'][who]['id']}/accept", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_bid_to_active_contract_with_a_terms_snapshot(deal, sent_mail):
    contract = _award(deal, sla={"first_response_hours": 2})

    assert contract["status"] == "offered"
    terms = contract["current_terms"]
    assert terms["version"] == 1
    content = terms["content"]
    assert content["scope"]["summary"] == deal["task"]["summary"]
    assert content["scope"]["confidential_details"].startswith("Macros")
    assert content["confidentiality"]["version"] == 1
    assert len(content["confidentiality"]["hash"]) == 64
    assert content["sla"]["first_response_hours"] == 2
    assert content["sla"]["turnaround_hours"] == 24  # the BPO default
    assert content["platform_fee_bps"] == 1000 and content["auto_release_days"] == 14
    assert [m["amount"] for m in contract["milestones"]] == [usd(40_000), usd(60_000)]
    assert content["total"] == usd(100_000)
    assert [m["amount"] for m in content["milestones"]] == [usd(40_000), usd(60_000)]
    assert deal["ana_api"].get(f"bids/{deal['bids']['ana']['id']}").get_json()["status"] == (
        "accepted"
    )
    assert any(m.to == deal["ana"].email and "offer" in m.subject.lower() for m in sent_mail)

    response = deal["ana_api"].post(f"contracts/{contract['id']}/accept")
    assert response.status_code == 200
    assert response.get_json()["status"] == "active"
    assert any(m.to == deal["client"].email and "accepted" in m.subject for m in sent_mail)


def test_editing_the_task_after_the_award_leaves_the_terms_untouched(deal):
    contract = _award(deal)
    deal["client_api"].patch(
        f"tasks/{deal['task']['id']}", json={"summary": "Something else entirely now."}
    )
    again = deal["ana_api"].get(f"contracts/{contract['id']}").get_json()
    assert again["current_terms"] == contract["current_terms"]
    assert again["current_terms"]["content"]["scope"]["summary"] == deal["task"]["summary"]


def test_filling_every_position_fills_the_task_and_expires_other_bids(login, deal):
    third = login(ProviderFactory())
    third.post(f"tasks/{deal['task']['id']}/confidentiality", json=terms_acceptance())
    third_bid = third.post(f"tasks/{deal['task']['id']}/bids", json=_bid_body()).get_json()
    first, second = _award(deal, "ana"), _award(deal, "bo")
    assert deal["client_api"].post(f"bids/{third_bid['id']}/accept", json={}).status_code == 409

    deal["ana_api"].post(f"contracts/{first['id']}/accept")
    assert deal["client_api"].get(f"tasks/{deal['task']['id']}").get_json()["status"] == "open"
    deal["bo_api"].post(f"contracts/{second['id']}/accept")

    assert deal["client_api"].get(f"tasks/{deal['task']['id']}").get_json()["status"] == "filled"
    assert third.get(f"bids/{third_bid['id']}").get_json()["status"] == "expired"
    assert third.get("notifications").get_json()["items"][0]["kind"] == "bid.expired"


def test_who_may_do_what_with_an_offer(deal, login):
    contract = _award(deal)
    path = f"contracts/{contract['id']}"
    assert deal["bo_api"].get(path).status_code == 404
    assert login(ClientFactory()).get(path).status_code == 404
    assert login(AdminFactory()).get(path).status_code == 200
    assert deal["client_api"].post(f"{path}/accept").status_code == 403
    assert deal["bo_api"].post(f"{path}/accept").status_code == 404
    assert deal["ana_api"].post(f"{path}/pause", json={}).status_code == 403
    assert deal["client_api"].post(f"{path}/pause", json={}).status_code == 409
    assert (
        deal["ana_api"].post(f"bids/{deal['bids']['bo']['id']}/accept", json={}).status_code == 404
    )
    assert [c["id"] for c in deal["ana_api"].get("contracts").get_json()["items"]] == [
        contract["id"]
    ]
    assert deal["bo_api"].get("contracts").get_json()["total"] == 0


def test_declined_offer_frees_the_position(deal):
    contract = _award(deal)
    response = deal["ana_api"].post(
        f"contracts/{contract['id']}/decline", json={"reason": "Fully booked"}
    )
    assert response.get_json()["status"] == "declined"
    assert deal["ana_api"].post(f"contracts/{contract['id']}/accept").status_code == 409
    assert _award(deal, "bo")["status"] == "offered"


def test_offers_expire(deal, app):
    contract = _award(deal)
    row = db.session.get(Contract, uuid.UUID(contract["id"]))
    row.offer_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["expire-offers"])

    assert "expired 1 offers" in result.output
    assert deal["ana_api"].get(f"contracts/{contract['id']}").get_json()["status"] == "expired"
    assert deal["ana_api"].post(f"contracts/{contract['id']}/accept").status_code == 409
    kinds = db.session.scalars(
        sa.select(Notification.kind).where(Notification.kind == "contract.expired")
    ).all()
    assert len(kinds) == 2


def test_lifecycle_pause_resume_terminate(deal):
    contract = _award(deal)
    path = f"contracts/{contract['id']}"
    deal["ana_api"].post(f"{path}/accept")

    assert (
        deal["client_api"].post(f"{path}/pause", json={"reason": "Holiday"}).get_json()["status"]
        == "paused"
    )
    assert deal["client_api"].post(f"{path}/pause", json={}).status_code == 409
    assert deal["client_api"].post(f"{path}/resume").get_json()["status"] == "active"
    assert deal["ana_api"].post(f"{path}/terminate", json={}).status_code == 422
    ended = deal["ana_api"].post(f"{path}/terminate", json={"reason": "Scope changed"}).get_json()
    assert ended["status"] == "terminated"
    assert ended["end_reason"] == "Scope changed"
    assert {m["status"] for m in ended["milestones"]} == {"cancelled"}
    assert deal["client_api"].post(f"{path}/resume").status_code == 409


def test_a_duration_target_of_zero_hours_is_refused(deal):
    contract = _award(deal)
    path = f"contracts/{contract['id']}"
    deal["ana_api"].post(f"{path}/accept")
    for target in ("first_response_hours", "turnaround_hours", "learning_speed_hours"):
        refused = deal["client_api"].post(
            f"{path}/amendments", json={"changes": {"sla": {target: 0}}, "note": "Instant"}
        )
        assert refused.status_code == 422, refused.get_json()
        assert target in str(refused.get_json()["error"]["details"])


def test_amendment_proposed_accepted_and_kept_in_history(deal, sent_mail):
    contract = _award(deal)
    path = f"contracts/{contract['id']}"
    deal["ana_api"].post(f"{path}/accept")
    first, second = contract["milestones"]
    changes = {
        "sla": {"turnaround_hours": 12},
        "milestones": {
            "change": [{"id": first["id"], "amount": usd(45_000)}],
            "cancel": [second["id"]],
            "add": [
                {
                    "title": "Weekend cover",
                    "amount": usd(30_000),
                    "due_date": (date.today() + timedelta(days=40)).isoformat(),
                }
            ],
        },
    }
    amendment = deal["client_api"].post(
        f"{path}/amendments", json={"changes": changes, "note": "More weekends"}
    )
    assert amendment.status_code == 201, amendment.get_json()
    amendment_id = amendment.get_json()["id"]
    assert deal["client_api"].post(f"amendments/{amendment_id}/accept").status_code == 403
    assert deal["bo_api"].post(f"amendments/{amendment_id}/accept").status_code == 404

    accepted = deal["ana_api"].post(f"amendments/{amendment_id}/accept")

    assert accepted.status_code == 200
    assert accepted.get_json()["new_version"] == 2
    now = deal["client_api"].get(path).get_json()
    assert now["terms_version"] == 2
    assert now["current_terms"]["content"]["sla"]["turnaround_hours"] == 12
    assert [(m["title"], m["amount"], m["status"]) for m in now["milestones"]] == [
        ("Set-up and first week", usd(45_000), "pending"),
        ("Weeks two to four", usd(60_000), "cancelled"),
        ("Weekend cover", usd(30_000), "pending"),
    ]
    assert now["current_terms"]["content"]["total"] == usd(75_000)
    history = deal["client_api"].get(f"{path}/terms").get_json()["items"]
    assert [t["version"] for t in history] == [1, 2]
    assert history[0]["content"]["sla"]["turnaround_hours"] == 24
    assert history[0]["content_hash"] != history[1]["content_hash"]
    assert deal["ana_api"].post(f"amendments/{amendment_id}/accept").status_code == 409
    assert any("Amendment" in m.subject for m in sent_mail if m.to == deal["ana"].email)


def test_funded_milestones_cannot_be_amended_and_stale_amendments_lapse(deal, app):
    contract = _award(deal)
    path = f"contracts/{contract['id']}"
    deal["ana_api"].post(f"{path}/accept")
    first, second = contract["milestones"]
    payouts.start_onboarding(user=deal["ana"])
    funding.fund(user=deal["client"], milestone_id=uuid.UUID(first["id"]))

    response = deal["ana_api"].post(
        f"{path}/amendments", json={"changes": {"milestones": {"cancel": [first["id"]]}}}
    )
    assert response.status_code == 422

    one = (
        deal["ana_api"]
        .post(
            f"{path}/amendments",
            json={"changes": {"scope_summary": "Also tag tickets by product line."}},
        )
        .get_json()
    )
    two = (
        deal["client_api"]
        .post(
            f"{path}/amendments",
            json={
                "changes": {"milestones": {"change": [{"id": second["id"], "amount": usd(50_000)}]}}
            },
        )
        .get_json()
    )
    assert deal["client_api"].post(f"amendments/{one['id']}/accept").status_code == 200
    assert deal["ana_api"].post(f"amendments/{two['id']}/accept").status_code == 409
    statuses = {
        a["id"]: a["status"]
        for a in deal["client_api"].get(f"{path}/amendments").get_json()["items"]
    }
    assert statuses == {one["id"]: "accepted", two["id"]: "lapsed"}
    assert deal["client_api"].post(f"{path}/amendments", json={"changes": {}}).status_code == 422


def test_pilot_then_full_contract(login, app):
    client, provider = ClientFactory(), ProviderFactory()
    client_api, provider_api = login(client), login(provider)
    task = _open_task(client_api, trial=True, confidentiality="public", budget=PILOT_BUDGET)
    two = _bid_body(
        30_000, [{"title": "A", "amount": usd(10_000)}, {"title": "B", "amount": usd(20_000)}]
    )
    assert provider_api.post(f"tasks/{task['id']}/bids", json=two).status_code == 422
    pilot = _accepted_pilot(client_api, provider_api, task)
    assert (
        client_api.post(
            f"contracts/{pilot['id']}/extend",
            json={"milestones": [{"title": "Quarter", "amount": usd(90_000)}]},
        ).status_code
        == 409
    )

    row = db.session.get(Contract, uuid.UUID(pilot["id"]))
    payouts.start_onboarding(user=provider)
    for milestone in row.milestones:
        funding.fund(user=client, milestone_id=milestone.id)
        delivery.submit(user=provider, milestone_id=milestone.id, note="Done.", deliverables=[])
        delivery.approve(user=client, milestone_id=milestone.id)
    db.session.refresh(row)
    assert row.status == ContractStatus.COMPLETED

    full = client_api.post(
        f"contracts/{pilot['id']}/extend",
        json={
            "milestones": [{"title": "First quarter", "amount": usd(90_000)}],
            "scope_summary": "Monthly bookkeeping for the next quarter.",
        },
    )
    assert full.status_code == 201, full.get_json()
    full = full.get_json()
    assert full["pilot_of_id"] == pilot["id"]
    assert full["status"] == "offered"
    assert provider_api.post(f"contracts/{full['id']}/accept").get_json()["status"] == "active"
    assert (
        client_api.post(
            f"contracts/{pilot['id']}/extend",
            json={"milestones": [{"title": "Again", "amount": usd(1_000)}]},
        ).status_code
        == 409
    )
    assert pilots.pilot_conversion() == {"completed_pilots": 1, "converted": 1}


def test_contract_threads_are_private(deal, login):
    contract = _award(deal)
    path = f"contracts/{contract['id']}/messages"
    assert deal["ana_api"].post(path, json={"body": "When do we start?"}).status_code == 201
    assert deal["client_api"].get(path).get_json()["total"] == 1
    assert deal["bo_api"].get(path).status_code == 404
    assert login(AdminFactory()).post(path, json={"body": "hi"}).status_code == 403


def test_firm_agents_talk_but_only_owners_and_managers_commit(login):
    firm = make_firm(manager=True, agent=True)
    agent, manager = login(firm.agent), login(firm.manager)
    client_api = login(ClientFactory())
    task = _open_task(client_api, budget=FIXED)
    agent.post(f"tasks/{task['id']}/confidentiality", json=terms_acceptance())
    bid = agent.post(f"tasks/{task['id']}/bids", json=_bid_body()).get_json()
    contract = client_api.post(f"bids/{bid['id']}/accept", json={}).get_json()
    path = f"contracts/{contract['id']}"

    assert agent.get(path).status_code == 200
    assert agent.post(f"{path}/messages", json={"body": "Agent here"}).status_code == 201
    assert agent.post(f"{path}/accept").status_code == 403
    assert manager.post(f"{path}/accept").get_json()["status"] == "active"
    assert agent.post(f"{path}/terminate", json={"reason": "Not mine"}).status_code == 403
    assert login(ProviderFactory()).get(path).status_code == 404


def test_every_event_notifies_its_recipient_and_queues_mail(deal, sent_mail):
    client_api, ana_api = deal["client_api"], deal["ana_api"]
    bid_id = deal["bids"]["ana"]["id"]
    client_api.post(f"bids/{deal['bids']['bo']['id']}/decline", json={"reason": "Too pricey"})
    client_api.post(f"bids/{bid_id}/shortlist")
    ana_api.post(f"bids/{bid_id}/messages", json={"body": "Thanks for shortlisting us"})
    contract = client_api.post(f"bids/{bid_id}/accept", json={}).get_json()
    ana_api.post(f"contracts/{contract['id']}/accept")
    amendment = client_api.post(
        f"contracts/{contract['id']}/amendments",
        json={"changes": {"sla": {"first_response_hours": 3}}},
    ).get_json()
    ana_api.post(f"amendments/{amendment['id']}/accept")

    def kinds(user):
        return sorted(
            db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == user.id))
        )

    assert kinds(deal["client"]) == [
        "amendment.accepted",
        "bid.new",
        "bid.new",
        "contract.accepted",
        "message.new",
    ]
    assert kinds(deal["ana"]) == ["amendment.proposed", "bid.shortlisted", "contract.offered"]
    assert kinds(deal["bo"]) == ["bid.declined"]
    mailed = {(m.to, m.subject.split(":")[0]) for m in sent_mail}
    assert (deal["bo"].email, "Bid declined") in mailed
    assert (deal["ana"].email, "Contract offer") in mailed
    assert (deal["client"].email, "Amendment accepted") in mailed


def test_admins_see_pilot_conversion(login):
    admin = login(AdminFactory())
    assert admin.get("admin/stats/pilots").get_json() == {"completed_pilots": 0, "converted": 0}
    assert login(ClientFactory()).get("admin/stats/pilots").status_code == 403


def test_an_offer_past_its_date_cannot_be_accepted_and_frees_the_bidder(deal):
    contract = _award(deal)
    row = db.session.get(Contract, uuid.UUID(contract["id"]))
    row.offer_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    assert deal["ana_api"].post(f"contracts/{contract['id']}/accept").status_code == 409
    assert deal["ana_api"].get(f"contracts/{contract['id']}").get_json()["status"] == "expired"
    assert deal["ana_api"].get(f"bids/{deal['bids']['ana']['id']}").get_json()["status"] == (
        "expired"
    )
    again = deal["ana_api"].post(f"tasks/{deal['task']['id']}/bids", json=_bid_body())
    assert again.status_code == 201


def test_cancelling_the_task_withdraws_offers_and_closes_bids(deal):
    contract = _award(deal)
    deal["client_api"].post(f"tasks/{deal['task']['id']}/cancel", json={})

    assert deal["ana_api"].get(f"contracts/{contract['id']}").get_json()["status"] == "expired"
    assert deal["ana_api"].post(f"contracts/{contract['id']}/accept").status_code == 409
    assert deal["bo_api"].get(f"bids/{deal['bids']['bo']['id']}").get_json()["status"] == (
        "expired"
    )


@pytest.mark.parametrize(
    "milestones",
    [
        [{"title": "Everything", "amount": usd(1)}],
        [{"title": "Late", "amount": usd(100_000), "due_date": "2030-01-01"}],
    ],
)
def test_the_award_keeps_a_fixed_price_and_the_deadline(deal, milestones):
    response = deal["client_api"].post(
        f"bids/{deal['bids']['ana']['id']}/accept", json={"milestones": milestones}
    )
    assert response.status_code == 422
    assert deal["ana_api"].get(f"bids/{deal['bids']['ana']['id']}").get_json()["status"] == (
        "submitted"
    )


@pytest.mark.parametrize(
    "changes",
    [
        {"milestones": {"add": [{"title": f"M{n}", "amount": usd(1)} for n in range(21)]}},
        {"milestones": {}},
        {"sla": {}},
        {"sla": {"turnaround_hours": 24}},  # the terms already say so
    ],
)
def test_amendments_that_are_too_big_or_change_nothing_are_refused(deal, changes):
    contract = _award(deal)
    deal["ana_api"].post(f"contracts/{contract['id']}/accept")
    path = f"contracts/{contract['id']}/amendments"
    response = deal["client_api"].post(path, json={"changes": changes})
    if response.status_code == 201:  # refused when accepted: it would change nothing
        response = deal["ana_api"].post(f"amendments/{response.get_json()['id']}/accept")
    assert response.status_code == 422


def test_an_amendment_moves_the_fixed_price_with_the_milestones(deal):
    contract = _award(deal)
    deal["ana_api"].post(f"contracts/{contract['id']}/accept")
    first = contract["milestones"][0]
    amendment = (
        deal["client_api"]
        .post(
            f"contracts/{contract['id']}/amendments",
            json={
                "changes": {"milestones": {"change": [{"id": first["id"], "amount": usd(50_000)}]}}
            },
        )
        .get_json()
    )
    deal["ana_api"].post(f"amendments/{amendment['id']}/accept")
    terms = deal["client_api"].get(f"contracts/{contract['id']}").get_json()["current_terms"]
    assert terms["content"]["price"] == terms["content"]["total"] == usd(110_000)


def test_unanswered_amendments_lapse_and_the_proposer_is_told(deal, app):
    from marketplace.contracts.models import Amendment

    contract = _award(deal)
    deal["ana_api"].post(f"contracts/{contract['id']}/accept")
    amendment = (
        deal["client_api"]
        .post(
            f"contracts/{contract['id']}/amendments",
            json={"changes": {"sla": {"turnaround_hours": 12}}},
        )
        .get_json()
    )
    row = db.session.get(Amendment, uuid.UUID(amendment["id"]))
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    assert "lapsed 1 amendments" in app.test_cli_runner().invoke(args=["lapse-amendments"]).output
    assert deal["ana_api"].post(f"amendments/{amendment['id']}/accept").status_code == 409
    assert (
        db.session.scalar(
            sa.select(Notification.user_id).where(Notification.kind == "amendment.lapsed")
        )
        == deal["client"].id
    )


def test_a_pilot_cannot_grow_by_amendment(login):
    client_api, provider_api = login(ClientFactory()), login(ProviderFactory())
    task = _open_task(client_api, trial=True, confidentiality="public", budget=PILOT_BUDGET)
    pilot = _accepted_pilot(client_api, provider_api, task)
    amendment = provider_api.post(
        f"contracts/{pilot['id']}/amendments",
        json={"changes": {"milestones": {"add": [{"title": "More", "amount": usd(9_000_000)}]}}},
    ).get_json()

    response = client_api.post(f"amendments/{amendment['id']}/accept")

    assert response.status_code == 422
    assert len(client_api.get(f"contracts/{pilot['id']}").get_json()["milestones"]) == 1


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", ""),
        ("get", "/terms"),
        ("get", "/amendments"),
        ("get", "/messages"),
        ("post", "/accept"),
        ("post", "/decline"),
        ("post", "/pause"),
        ("post", "/resume"),
        ("post", "/terminate"),
        ("post", "/extend"),
        ("post", "/amendments"),
        ("post", "/messages"),
    ],
)
def test_outsiders_get_404_on_every_contract_endpoint(deal, login, method, suffix):
    contract = _award(deal)
    bodies = {
        "/terminate": {"reason": "Just because"},
        "/messages": {"body": "hello"},
        "/amendments": {"changes": {"sla": {"turnaround_hours": 1}}},
        "/extend": {"milestones": [{"title": "More", "amount": usd(1_000)}]},
    }
    for outsider in (deal["bo_api"], login(ClientFactory())):
        body = bodies.get(suffix, {}) if method == "post" else None  # a GET takes no body
        response = getattr(outsider, method)(f"contracts/{contract['id']}{suffix}", json=body)
        assert response.status_code == 404, (suffix, response.get_json())
    assert deal["ana_api"].get(f"contracts/{contract['id']}").get_json()["status"] == "offered"
