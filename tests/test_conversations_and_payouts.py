"""Two more lists a frontend needs (issue 15): your conversations, with their last
message and unread counts, and your payouts (the payout account and the ledger's figures).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.inputs import Money
from marketplace.jobs import outbox
from marketplace.messaging import services as messaging
from marketplace.payments import delivery, funding, payouts
from marketplace.profiles.models import ClientProfile
from marketplace.tasks.inputs import Budget
from marketplace.tasks.models import BudgetType, Confidentiality
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, make_company, make_firm
from tests.matching_world import open_task
from tests.money import make_deal

TITLE = "Inbox triage for a busy founder"


def _task(owner: Any, title: str = TITLE) -> Any:
    return open_task(
        owner,
        title=title,
        confidentiality=Confidentiality.PUBLIC,
        budget=Budget(BudgetType.FIXED, 1, 100_000, "usd"),
        positions=1,
        timezone_need=None,
    )


def _bid(bidder: Any, task: Any) -> Any:
    return bids.place_bid(
        user=bidder,
        task_id=task.id,
        proposal=BidProposal(
            price=Money(50_000, "usd"),
            milestones=(MilestoneProposal(title="All of it", amount=50_000),),
            timeline_days=14,
            cover_letter="We have done this kind of work for years.",
        ),
    )


def _on_bid(user: Any, bid: Any, body: str) -> None:
    messaging.post_message(
        messaging.bid_conversation(user=user, bid_id=bid.id), user=user, body=body
    )


def _on_contract(user: Any, contract_id: Any, body: str) -> None:
    conversation = messaging.contract_conversation(user=user, contract_id=contract_id)
    messaging.post_message(conversation, user=user, body=body)


def _conversations(api: Any, query: str = "") -> dict[str, Any]:
    response = api.get(f"conversations{query}")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def _summary(body: dict[str, Any]) -> list[tuple[Any, ...]]:
    """(kind, subject id, counterparty, last sender, unread) of each conversation."""
    return [
        (
            c["kind"],
            c["bid_id"] or c["contract_id"],
            c["counterparty_name"],
            c["last_message"]["sender_name"],
            c["unread_count"],
        )
        for c in body["items"]
    ]


# GET /conversations -------------------------------------------------------------------


@pytest.fixture
def talks(time_machine: Any) -> dict[str, Any]:
    """A company talking with a firm (about its bid, then in their contract) and with a
    VA (about its bid), each message a minute after the last; a bid thread someone opened
    but nobody wrote in; and two strangers talking."""
    time_machine.move_to(utcnow(), tick=False)
    company = make_company(owner=True, agent=True)
    firm = make_firm(owner=True, agent=True)
    va, silent = ProviderFactory(), ProviderFactory()
    task = _task(company.owner)
    firm_bid, va_bid = _bid(firm.agent, task), _bid(va, task)
    messaging.bid_conversation(user=company.owner, bid_id=_bid(silent, task).id)  # opened
    deal = make_deal((10_000,), client=company.owner, provider=firm.owner)
    steps = [
        lambda: _on_bid(company.owner, firm_bid, "Can you start on Monday?"),
        lambda: _on_bid(company.owner, va_bid, "Which help desk have you used?"),
        lambda: _on_contract(firm.owner, deal.contract_id, "The first tickets are answered."),
        lambda: _on_contract(company.agent, deal.contract_id, "Thanks! " + "Details. " * 40),
    ]
    for step in steps:
        time_machine.shift(timedelta(minutes=1))
        step()
    stranger, other_va = ClientFactory(), ProviderFactory()
    _on_bid(stranger, _bid(other_va, _task(stranger, "Bookkeeping catch-up")), "Hello there")
    return {
        "company": company,
        "firm": firm,
        "va": va,
        "silent": silent,
        "firm_bid": str(firm_bid.id),
        "va_bid": str(va_bid.id),
        "contract": str(deal.contract_id),
        "stranger": stranger,
        "other_va": other_va,
    }


def test_each_side_sees_its_threads_newest_activity_first(talks, login):
    company, firm, va = talks["company"], talks["firm"], talks["va"]
    firm_name, company_name = firm.organization.name, company.organization.name
    agent_name = company.agent.name

    client_side = _conversations(login(company.owner))
    assert client_side["total"] == 3
    assert _summary(client_side) == [
        ("contract", talks["contract"], firm_name, agent_name, 2),  # a colleague's counts
        ("bid", talks["va_bid"], va.name, company.owner.name, 0),  # their own does not
        ("bid", talks["firm_bid"], firm_name, company.owner.name, 0),
    ]
    latest = client_side["items"][0]
    assert latest["task_title"] == "Tier-one support tickets for a Shopify store"  # make_deal's
    assert client_side["items"][1]["task_title"] == TITLE
    assert latest["last_message"]["body_excerpt"] == ("Thanks! " + "Details. " * 40)[:200]
    assert latest["last_message"]["truncated"] is True
    assert latest["last_message"]["sender_id"] == str(company.agent.id)
    assert client_side["items"][2]["last_message"]["truncated"] is False
    # Writing marks the thread read up to one's message; a colleague's messages count.
    assert [c[4] for c in _summary(_conversations(login(company.agent)))] == [0, 1, 1]

    assert _summary(_conversations(login(firm.owner))) == [
        ("contract", talks["contract"], company_name, agent_name, 1),
        ("bid", talks["firm_bid"], company_name, company.owner.name, 1),
    ]
    assert _summary(_conversations(login(firm.agent))) == [
        ("contract", talks["contract"], company_name, agent_name, 2),
        ("bid", talks["firm_bid"], company_name, company.owner.name, 1),
    ]
    assert _summary(_conversations(login(va))) == [
        ("bid", talks["va_bid"], company_name, company.owner.name, 1),
    ]


def test_reading_a_thread_clears_its_unread_count_for_the_reader_only(talks, login):
    firm = talks["firm"]
    owner = login(firm.owner)
    assert owner.get(f"contracts/{talks['contract']}/messages").status_code == 200

    assert [c["unread_count"] for c in _conversations(owner)["items"]] == [0, 1]
    assert [c["unread_count"] for c in _conversations(login(firm.agent))["items"]] == [2, 1]


def test_nobody_sees_anothers_conversations(talks, login):
    for user in (ClientFactory(), ProviderFactory(), AdminFactory(), talks["silent"]):
        body = _conversations(login(user))
        assert (body["items"], body["total"]) == ([], 0)
    stranger = _conversations(login(talks["stranger"]))
    assert _summary(stranger) == [
        (
            "bid",
            stranger["items"][0]["bid_id"],
            talks["other_va"].name,
            talks["stranger"].name,
            0,
        )
    ]
    shown = _summary(_conversations(login(talks["other_va"])))
    # An individual client is named by its company name when it gave one.
    profile = db.session.scalar(sa.select(ClientProfile).filter_by(user_id=talks["stranger"].id))
    assert profile is not None and profile.company_name
    assert shown[0][2] == profile.company_name


def test_conversations_page_and_refuse_bad_pages(talks, login):
    api = login(talks["company"].owner)
    first = _conversations(api, "?page_size=2")
    second = _conversations(api, "?page_size=2&page=2")
    assert (first["total"], second["total"]) == (3, 3)
    assert [c["thread_id"] for c in first["items"] + second["items"]] == [
        c["thread_id"] for c in _conversations(api)["items"]
    ]
    for bad in ("page=0", "page_size=101", "page=x"):
        response = api.get(f"conversations?{bad}")
        assert response.status_code == 422, bad
        assert response.get_json()["error"]["code"] == "validation_error"


def test_conversations_cost_the_same_statements_at_two_and_twenty(login, count_statements):
    client, va = ClientFactory(), ProviderFactory()
    api = login(va)
    counts, reports = [], []
    talked = 0
    for wanted in (2, 20):
        while talked < wanted:
            bid = _bid(va, _task(client, f"Task {talked}"))
            _on_bid(client, bid, f"Question {talked}")
            _on_bid(va, bid, f"Answer {talked}")
            talked += 1
        api.get("conversations?page_size=50")
        with count_statements() as log:
            body = _conversations(api, "?page_size=50")
        assert body["total"] == wanted and len(body["items"]) == wanted
        assert body["items"][0]["last_message"]["body_excerpt"] == f"Answer {wanted - 1}"
        counts.append(log.count)
        reports.append(log.report())
    assert counts[0] == counts[1] <= 3, reports  # sign-in, the count, the page


# GET /providers/me/payouts ------------------------------------------------------------


def _payouts(api: Any) -> dict[str, Any]:
    response = api.get("providers/me/payouts")
    assert response.status_code == 200, response.get_json()
    return dict(response.get_json())


def usd(amount: int) -> list[dict[str, Any]]:
    return [{"amount": amount, "currency": "usd"}]


def test_payouts_follow_the_money_from_escrow_to_the_providers_account(login):
    firm = make_firm(owner=True, agent=True)
    deal = make_deal((40_000, 60_000), provider=firm.owner)
    make_deal((5_000,))  # another provider's money
    first, second = deal.milestone_ids
    nothing = {"in_escrow": [], "pending_payout": [], "paid_out": []}
    enabled = {"account_state": "enabled", "payouts_enabled": True}
    assert _payouts(login(firm.agent)) == {**enabled, **nothing}

    funding.fund(user=deal.client, milestone_id=first)
    funding.fund(user=deal.client, milestone_id=second)
    assert _payouts(login(firm.agent)) == {**enabled, **nothing, "in_escrow": usd(100_000)}

    delivery.submit(user=firm.agent, milestone_id=first, note="Done.", deliverables=[])
    delivery.approve(user=deal.client, milestone_id=first)  # the transfer waits in the outbox
    released = {"in_escrow": usd(60_000), "pending_payout": usd(36_000), "paid_out": []}
    assert _payouts(login(firm.owner)) == {**enabled, **released}

    outbox.deliver_due()  # the sandbox transfers it
    paid = {"in_escrow": usd(60_000), "pending_payout": [], "paid_out": usd(36_000)}
    assert _payouts(login(firm.owner)) == {**enabled, **paid}


def test_the_payout_accounts_state(login):
    va = ProviderFactory()
    api = login(va)
    assert _payouts(api)["account_state"] == "not_started"
    onboarding = payouts.start_onboarding(user=va)
    payouts.set_payouts_enabled(account_id=onboarding.account_id, enabled=False)
    db.session.commit()
    assert {k: v for k, v in _payouts(api).items() if k.startswith(("account", "payouts"))} == {
        "account_state": "incomplete",
        "payouts_enabled": False,
    }
    payouts.set_payouts_enabled(account_id=onboarding.account_id, enabled=True)
    db.session.commit()
    assert _payouts(api)["account_state"] == "enabled"


def test_only_providers_have_payouts_and_each_sees_its_own(login, api):
    deal = make_deal((40_000,))
    funding.fund(user=deal.client, milestone_id=deal.milestone_ids[0])

    for user in (deal.client, ClientFactory(), AdminFactory()):
        response = login(user).get("providers/me/payouts")
        assert response.status_code == 403, user.role
        assert response.get_json()["error"]["code"] == "forbidden"
    assert api.get("providers/me/payouts").status_code == 401
    assert _payouts(login(ProviderFactory()))["in_escrow"] == []
    assert _payouts(login(deal.provider))["in_escrow"] == usd(40_000)


def test_payouts_cost_the_same_statements_for_one_contract_and_four(login, count_statements):
    va = ProviderFactory()
    api = login(va)
    counts, reports = [], []
    for deals in (1, 4):
        while len(reports) < deals:
            deal = make_deal((1_000,), provider=va)
            funding.fund(user=deal.client, milestone_id=deal.milestone_ids[0])
            reports.append("")
        api.get("providers/me/payouts")
        with count_statements() as log:
            body = _payouts(api)
        assert body["in_escrow"] == usd(1_000 * deals)
        counts.append(log.count)
        reports[-1] = log.report()
    assert counts[0] == counts[1] <= 3, reports  # sign-in, the profile, the figures
