"""Statement budgets of the answers that name their task and parties (issue 15): a list costs
the same number of statements however many items its page holds (each item's task, parties,
milestones and fit are loaded for the page at once), and a detail a bounded number.

Each list is counted, then grown with items of other clients and providers (individuals and
firms alike, so a lazy load per party would show) and counted again.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from marketplace.catalog.models import Skill
from marketplace.extensions import db
from marketplace.profiles.models import ProviderProfile, ProviderSkill
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, make_company, make_firm
from tests.money import make_deal, money_post
from tests.test_payloads import SKILL, open_task, place_bid

#: A bid: authentication, the bid with its task, the task's client and the bidder (one
#: statement), the task's skills, the bidder's skills.
BID = 5
#: A contract: authentication, the contract with its task and parties, its milestones and
#: terms versions; reading the terms' confidential material is logged and committed, and
#: what is dumped after it is read again (the terms, the contract, its milestones and terms),
#: and a pilot's extension, which its `allowed_actions` read (`extend`).
CONTRACT = 10
#: A milestone with its history: authentication, the milestone with its contract, task and
#: parties, its payments, refund request, dispute, moves and deliveries.
MILESTONE = 7
#: A task's bids: authentication, the task, the page of bids with their bidders, the task's
#: skills and the bidders' (for their fit), the count, and whether the task has a position
#: free (for the bids' `allowed_actions`: `award`), once per page.
BIDS = 7


def _counted(count_statements: Any, call: Any) -> tuple[Any, int]:
    """The answer of `call` and how many statements it sent, after one call that warms it
    up; the statements themselves are printed, for a failing assertion."""
    call()
    with count_statements() as log:
        response = call()
    assert response.status_code == 200, response.get_json()
    print(log.report())
    return response.get_json(), log.count


def _provider(firm: bool) -> Any:
    """A VA, or the owner of a new firm, with a skill (the bid's fit shows it)."""
    if firm:
        team = make_firm(owner=True)
        profile, user = team.profile, team.owner
    else:
        user = ProviderFactory()
        profile = user_profile(user)
    skill = db.session.scalar(sa.select(Skill).filter_by(slug=SKILL))
    profile.skills.append(ProviderSkill(skill=skill, level=4, years=3))
    db.session.commit()
    return user


def user_profile(user: Any) -> Any:
    return db.session.scalar(sa.select(ProviderProfile).filter_by(user_id=user.id))


def test_a_tasks_bids_cost_the_same_for_two_and_six_bids(login, count_statements):
    company = make_company(owner=True)
    task = open_task(company.owner)
    bidders = [_provider(firm=n % 2 == 1) for n in range(6)]
    for user in bidders[:2]:
        place_bid(user, task)
    client_api, provider_api = login(company.owner), login(bidders[1])
    path = f"tasks/{task.id}/bids"

    small, few = _counted(count_statements, lambda: client_api.get(path))
    for user in bidders[2:]:
        place_bid(user, task)
    large, many = _counted(count_statements, lambda: client_api.get(path))
    own, provider_count = _counted(count_statements, lambda: provider_api.get(path))

    assert (small["total"], large["total"], own["total"]) == (2, 6, 1)
    assert all(b["counterparty"] and b["explanation"]["skills"] for b in large["items"])
    assert few == many, f"{few} statements for 2 bids, {many} for 6"
    assert many <= BIDS, many
    # And for a provider: whether the task's client is active (a company's owner may be
    # suspended), and whom the provider acts for.
    assert provider_count <= many + 2, provider_count


def test_a_bid_costs_at_most_five_statements(login, count_statements):
    company = make_company(owner=True)
    firm = _provider(firm=True)
    bid = place_bid(firm, open_task(company.owner))
    for api in (login(company.owner), login(firm), login(AdminFactory())):
        body, count = _counted(count_statements, lambda api=api: api.get(f"bids/{bid.id}"))
        assert body["task"]["id"] == str(bid.task_id)
        assert count <= BID, count


def _deal(client: Any, provider: Any) -> Any:
    return make_deal((10_000, 20_000, 30_000), client=client, provider=provider)


def test_contract_lists_cost_the_same_for_two_and_five_contracts(login, count_statements):
    company = make_company(owner=True)
    firm = make_firm(owner=True)
    deals = [_deal(company.owner, firm.owner), _deal(ClientFactory(), firm.owner)]
    client_api, provider_api = login(company.owner), login(firm.owner)

    _, client_few = _counted(count_statements, lambda: client_api.get("contracts"))
    _, provider_few = _counted(count_statements, lambda: provider_api.get("contracts"))
    deals += [
        _deal(company.owner, ProviderFactory()),
        _deal(company.owner, make_firm(owner=True).owner),
    ]
    deals += [_deal(make_company(owner=True).owner, firm.owner)]
    for_client, client_many = _counted(count_statements, lambda: client_api.get("contracts"))
    for_provider, provider_many = _counted(count_statements, lambda: provider_api.get("contracts"))

    assert (for_client["total"], for_provider["total"]) == (3, 3)
    assert all(len(c["milestones"]) == 3 and c["amounts"] for c in for_client["items"])
    assert (client_few, provider_few) == (client_many, provider_many)
    # Authentication, whom the user acts for, the count, the page with its tasks and
    # parties, its milestones, its terms versions.
    # 7: authentication, the page with tasks and parties, the count, milestones, terms, the
    # pilots' extensions (for `allowed_actions`), and the signed-in user's membership.
    # 7: authentication, the acting profile, the page with tasks and parties, the pilots'
    # extensions (for `allowed_actions`: `extend`), milestones, terms, the count.
    assert max(client_many, provider_many) <= 7, (client_many, provider_many)


def test_a_contract_and_a_milestone_stay_within_budget(login, count_statements):
    company = make_company(owner=True)
    firm = make_firm(owner=True)
    deal = _deal(company.owner, firm.owner)
    milestone = deal.milestone_ids[0]
    for api in (login(company.owner), login(firm.owner), login(AdminFactory())):
        body, count = _counted(
            count_statements, lambda api=api: api.get(f"contracts/{deal.contract_id}")
        )
        assert body["client"] and body["provider"]
        assert count <= CONTRACT, count
        body, count = _counted(count_statements, lambda api=api: api.get(f"milestones/{milestone}"))
        assert body["task"]["id"] == str(deal.contract.task_id)
        assert count <= MILESTONE, count


def test_invitations_cost_the_same_for_one_and_three(login, count_statements):
    firm = make_firm(owner=True)
    skill = db.session.scalar(sa.select(Skill).filter_by(slug=SKILL))
    firm.profile.skills.append(ProviderSkill(skill=skill, level=4, years=3))
    db.session.commit()
    api = login(firm.owner)

    def invite() -> None:
        owner = make_company(owner=True).owner
        task = open_task(owner)
        response = login(owner).post(
            f"tasks/{task.id}/invitations", json={"provider_ids": [str(firm.profile.id)]}
        )
        assert response.status_code == 201, response.get_json()

    invite()
    _, few = _counted(count_statements, lambda: api.get("providers/me/invitations"))
    invite()
    invite()
    body, many = _counted(count_statements, lambda: api.get("providers/me/invitations"))

    assert body["total"] == 3 and all(i["counterparty"] for i in body["items"])
    assert few == many, f"{few} statements for 1 invitation, {many} for 3"


def test_the_dispute_queue_costs_the_same_for_one_and_three(login, count_statements):
    admin = login(AdminFactory())

    def dispute(client: Any, provider: Any) -> None:
        deal = _deal(client, provider)
        client_api = login(client)
        milestone = deal.milestone_ids[0]
        assert money_post(client_api, f"milestones/{milestone}/fund").status_code == 200
        response = client_api.post(
            f"milestones/{milestone}/dispute", json={"reason": "Nothing was delivered at all."}
        )
        assert response.status_code == 201, response.get_json()

    dispute(make_company(owner=True).owner, make_firm(owner=True).owner)
    _, few = _counted(count_statements, lambda: admin.get("admin/disputes"))
    dispute(ClientFactory(), ProviderFactory())
    dispute(make_company(owner=True).owner, ProviderFactory())
    body, many = _counted(count_statements, lambda: admin.get("admin/disputes"))

    assert body["total"] == 3 and all(d["client"] and d["task"] for d in body["items"])
    assert few == many, f"{few} statements for 1 dispute, {many} for 3"
