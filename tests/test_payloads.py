"""Payloads a screen can show without more requests (issue 15): bids, contracts, milestones,
disputes and invitations name their task and the parties, each viewer sees the other side
as its `counterparty`, contracts sum their money, a provider's view of a task says where it
stands on it, and task lists count the live bids."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.catalog.models import Skill
from marketplace.extensions import db
from marketplace.inputs import Money
from marketplace.profiles.models import ClientProfile, ProviderProfile, ProviderSkill
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import Budget, TaskChanges
from marketplace.tasks.models import BudgetType, Confidentiality, Task
from tests.factories import (
    AdminFactory,
    ClientFactory,
    ProviderFactory,
    make_company,
    make_firm,
    task_draft,
    terms_acceptance,
)
from tests.money import make_deal, money_post

SKILL = "customer-support-tier1"


def open_task(owner: Any, *, title: str = "Inbox triage", **overrides: Any) -> Task:
    """A published, open fixed-price task of the client `owner` acts for."""
    fields: dict[str, Any] = {
        "title": title,
        "budget": Budget(BudgetType.FIXED, 10_000, 200_000, "usd"),
        "confidentiality": Confidentiality.PUBLIC,
        "timezone_need": None,
        **overrides,
    }
    task = tasks.create_task(user=owner, draft=task_draft(**fields))
    lifecycle.publish_task(user=owner, task_id=task.id, confirm_strategic=False)
    db.session.refresh(task)
    return task


def place_bid(user: Any, task: Task, amount: int = 50_000) -> Any:
    """A fixed-price bid of one milestone by the provider `user` acts for."""
    return bids.place_bid(
        user=user,
        task_id=task.id,
        proposal=BidProposal(
            price=Money(amount, "usd"),
            milestones=(MilestoneProposal(title="All of it", amount=amount),),
            timeline_days=20,
            cover_letter="We have done this for years, every day.",
        ),
    )


def firm_party(team: Any) -> dict[str, Any]:
    """How a firm or company shows as a party."""
    name = team.organization.name
    return {
        "profile_id": str(team.profile.id),
        "display_name": name,
        "organization": {"id": str(team.organization.id), "name": name},
    }


def person_party(user: Any, model: type[ClientProfile] | type[ProviderProfile]) -> dict[str, Any]:
    """How an individual client or VA shows as a party."""
    profile = db.session.scalar(sa.select(model).filter_by(user_id=user.id))
    assert profile is not None
    return {"profile_id": str(profile.id), "display_name": user.name, "organization": None}


def summary(task: Task) -> dict[str, Any]:
    db.session.refresh(task)
    return {"id": str(task.id), "title": task.title, "status": task.status.value}


def test_bids_name_the_task_and_the_other_side_for_each_viewer(login):
    company = make_company(name="Acme Retail", owner=True)
    firm = make_firm(name="Northwind Support", owner=True, agent=True)
    va = ProviderFactory(name="Rosa Reyes")
    dana = ClientFactory(name="Dana Whitfield")
    task = open_task(company.owner, title="Tier-one tickets")
    own_task = open_task(dana, title="Bookkeeping catch-up")
    firm_bid, va_bid = place_bid(firm.owner, task), place_bid(va, task)
    dana_bid = place_bid(firm.agent, own_task)

    listed = login(company.owner).get(f"tasks/{task.id}/bids").get_json()["items"]
    assert [b["task"] for b in listed] == [summary(task)] * 2
    assert [b["counterparty"] for b in listed] == [
        firm_party(firm),
        person_party(va, ProviderProfile),
    ]
    for user, bid in ((firm.agent, firm_bid), (va, va_bid)):
        body = login(user).get(f"bids/{bid.id}").get_json()
        assert body["task"] == summary(task)
        assert body["counterparty"] == firm_party(company)
    seen_by_firm = login(firm.owner).get(f"bids/{dana_bid.id}").get_json()
    assert seen_by_firm["counterparty"] == person_party(dana, ClientProfile)
    seen_by_dana = login(dana).get(f"tasks/{own_task.id}/bids").get_json()["items"]
    assert [b["counterparty"] for b in seen_by_dana] == [firm_party(firm)]
    by_admin = login(AdminFactory()).get(f"bids/{va_bid.id}").get_json()
    assert (by_admin["task"], by_admin["counterparty"]) == (summary(task), None)


def _amounts(total: int, funded: int = 0, released: int = 0, refunded: int = 0) -> dict:
    sums = {
        "total": total,
        "funded": funded,
        "released": released,
        "refunded": refunded,
        "in_escrow": funded - released - refunded,
    }
    return {name: {"amount": amount, "currency": "usd"} for name, amount in sums.items()}


def test_a_contract_names_both_sides_and_sums_its_money(login):
    company = make_company(name="Acme Retail", owner=True)
    firm = make_firm(name="Northwind Support", owner=True, agent=True)
    deal = make_deal((40_000, 60_000), client=company.owner, provider=firm.owner)
    task = deal.contract.task
    client_api, provider_api = login(company.owner), login(firm.agent)
    path = f"contracts/{deal.contract_id}"

    for api, other in ((client_api, firm_party(firm)), (provider_api, firm_party(company))):
        body = api.get(path).get_json()
        assert body["task"] == summary(task)
        assert (body["client"], body["provider"]) == (firm_party(company), firm_party(firm))
        assert body["counterparty"] == other
        assert body["amounts"] == _amounts(100_000)
        assert all("task" not in m and "counterparty" not in m for m in body["milestones"])
        listed = api.get("contracts").get_json()["items"]
        assert [c["counterparty"] for c in listed] == [other]
        assert [c["amounts"] for c in listed] == [_amounts(100_000)]
    assert login(AdminFactory()).get(path).get_json()["counterparty"] is None

    first, second = deal.milestone_ids
    assert money_post(client_api, f"milestones/{first}/fund").status_code == 200
    assert client_api.get(path).get_json()["amounts"] == _amounts(100_000, 40_000)
    delivered = provider_api.post(f"milestones/{first}/submit", json={"note": "Done."})
    assert delivered.status_code == 200, delivered.get_json()
    assert money_post(client_api, f"milestones/{first}/approve").status_code == 200
    assert money_post(client_api, f"milestones/{second}/fund").status_code == 200
    assert provider_api.get(path).get_json()["amounts"] == _amounts(100_000, 100_000, 40_000)


def test_individual_parties_have_no_organization(login):
    dana, rosa = ClientFactory(name="Dana Whitfield"), ProviderFactory(name="Rosa Reyes")
    deal = make_deal((30_000,), client=dana, provider=rosa)
    path = f"contracts/{deal.contract_id}"
    seen_by_dana = login(dana).get(path).get_json()
    seen_by_rosa = login(rosa).get(path).get_json()
    assert seen_by_dana["counterparty"] == person_party(rosa, ProviderProfile)
    assert seen_by_rosa["counterparty"] == person_party(dana, ClientProfile)
    assert seen_by_rosa["client"] == seen_by_dana["client"] == person_party(dana, ClientProfile)
    assert seen_by_dana["provider"] == person_party(rosa, ProviderProfile)


def test_milestones_and_disputes_name_the_task_and_the_parties(login):
    company = make_company(name="Acme Retail", owner=True)
    firm = make_firm(name="Northwind Support", owner=True)
    deal = make_deal((40_000, 60_000), client=company.owner, provider=firm.owner)
    task = deal.contract.task
    client_api, provider_api = login(company.owner), login(firm.owner)
    first = deal.milestone_ids[0]

    funded = money_post(client_api, f"milestones/{first}/fund").get_json()["milestone"]
    assert (funded["task"], funded["counterparty"]) == (summary(task), firm_party(firm))
    shown = provider_api.get(f"milestones/{first}").get_json()
    assert (shown["task"], shown["counterparty"]) == (summary(task), firm_party(company))

    reason = "The first week's tickets were not answered."
    dispute = client_api.post(f"milestones/{first}/dispute", json={"reason": reason})
    assert dispute.status_code == 201, dispute.get_json()
    body = dispute.get_json()
    assert (body["milestone_title"], body["task"]) == ("Part 1", summary(task))
    assert (body["client"], body["provider"]) == (firm_party(company), firm_party(firm))
    assert body["counterparty"] == firm_party(firm)
    nested = provider_api.get(f"milestones/{first}").get_json()["dispute"]
    assert nested["counterparty"] == firm_party(company)
    queue = login(AdminFactory()).get("admin/disputes?status=open").get_json()["items"]
    assert [(d["milestone_title"], d["counterparty"]) for d in queue] == [("Part 1", None)]
    assert (queue[0]["client"], queue[0]["provider"]) == (firm_party(company), firm_party(firm))


def _matching_firm(name: str) -> Any:
    firm = make_firm(name=name, owner=True)
    skill = db.session.scalar(sa.select(Skill).filter_by(slug=SKILL))
    firm.profile.skills.append(ProviderSkill(skill=skill, level=4, years=3))
    db.session.commit()
    return firm


def test_invitations_name_the_other_side(login):
    company = make_company(name="Acme Retail", owner=True)
    firm = _matching_firm("Northwind Support")
    task = open_task(company.owner)

    response = login(company.owner).post(
        f"tasks/{task.id}/invitations", json={"provider_ids": [str(firm.profile.id)]}
    )
    assert response.status_code == 201, response.get_json()
    assert [i["counterparty"] for i in response.get_json()["items"]] == [firm_party(firm)]
    listed = login(firm.owner).get("providers/me/invitations").get_json()["items"]
    assert [(i["task"]["title"], i["counterparty"]) for i in listed] == [
        (task.title, firm_party(company))
    ]


def test_a_providers_task_view_says_where_it_stands(login):
    company = make_company(name="Acme Retail", owner=True)
    firm = make_firm(name="Northwind Support", owner=True, agent=True)
    task = open_task(company.owner, confidentiality=Confidentiality.TERMS_REQUIRED)
    public = open_task(company.owner, title="Public work")
    agent, owner = login(firm.agent), login(firm.owner)

    def standing(api: Any, of: Task = task) -> tuple[Any, Any]:
        body = api.get(f"tasks/{of.id}").get_json()
        return body["terms_accepted"], body["my_bid"]

    assert standing(agent) == (False, None)
    assert standing(agent, public) == (None, None)
    accepted = owner.post(f"tasks/{task.id}/confidentiality", json=terms_acceptance())
    assert accepted.status_code == 201
    assert standing(agent) == (True, None)  # the firm accepted, for every member
    bid = place_bid(firm.agent, task)
    assert standing(agent) == (True, {"id": str(bid.id), "status": "submitted"})
    assert standing(login(ProviderFactory())) == (False, None)  # another provider's view
    assert owner.post(f"bids/{bid.id}/withdraw").status_code == 200
    assert standing(agent) == (True, None)
    client_view = login(company.owner).get(f"tasks/{task.id}").get_json()
    assert "terms_accepted" not in client_view and "my_bid" not in client_view

    # New confidential material is a new terms version: accepted no more.
    changes = TaskChanges(confidential_details="The new escalation matrix is in the drive.")
    tasks.update_task(user=company.owner, task_id=task.id, changes=changes)
    assert standing(agent) == (False, None)


def test_task_lists_count_live_bids(login):
    company = make_company(name="Acme Retail", owner=True)
    busy = open_task(company.owner, title="Busy")
    open_task(company.owner, title="Quiet")
    bidders = [ProviderFactory() for _ in range(3)]
    placed = [place_bid(user, busy) for user in bidders]
    bids.withdraw_bid(user=bidders[0], bid_id=placed[0].id)

    def counts(api: Any, query: str) -> dict[str, int]:
        items = api.get(f"tasks?{query}").get_json()["items"]
        return {item["title"]: item["bid_count"] for item in items}

    assert counts(login(ProviderFactory()), "") == {"Busy": 2, "Quiet": 0}
    assert counts(login(company.owner), "mine=true") == {"Busy": 2, "Quiet": 0}
