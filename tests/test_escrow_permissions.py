"""Who may move a milestone, from which state: every other combination is refused.

The allowed moves below are written out from docs/design.md's milestone machine, not
read from the code's table, so a wrong entry in either shows up here.
"""

from __future__ import annotations

import pytest

from marketplace.contracts.models import MilestoneStatus
from marketplace.flows import contracts as contract_flows
from marketplace.inputs import Money
from marketplace.payments import delivery, disputes, funding, refunds
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, make_firm
from tests.money import make_deal, money_post

ACTIONS = {
    # action: (request body, is it money-moving)
    "fund": ({}, True),
    "submit": ({"note": "Done, see the report."}, False),
    "approve": (None, True),
    "request-changes": ({"reason": "Please answer the open tickets."}, False),
    "refund-request": ({"reason": "We no longer need it."}, False),
    "refund-request/approve": (None, True),
    "dispute": ({"reason": "This is not what the contract says."}, False),
}
SIDES = {
    "fund": {"client"},
    "submit": {"provider"},
    "approve": {"client"},
    "request-changes": {"client"},
    "refund-request": {"client"},
    "refund-request/approve": {"provider"},
    "dispute": {"client", "provider"},
}
FROM = {
    "fund": {"pending"},
    "submit": {"funded", "changes_requested"},
    "approve": {"submitted"},
    "request-changes": {"submitted"},
    "refund-request": {"funded", "changes_requested"},
    "refund-request/approve": {"refund_requested"},
    "dispute": {"funded", "submitted", "changes_requested", "refund_requested"},
}
STATES = [
    "pending",
    "funded",
    "submitted",
    "changes_requested",
    "refund_requested",
    "disputed",
    "released",
    "refunded",
    "resolved",
    "cancelled",
]


def _into(state: str):
    """A deal whose first milestone is in `state`, reached through the services."""
    deal = make_deal((10_000, 20_000))
    client, provider, first = deal.client, deal.provider, deal.milestone_ids[0]
    if state == "cancelled":
        contract_flows.terminate(user=client, contract_id=deal.contract_id, reason="Not needed.")
        return deal
    if state != "pending":
        funding.fund(user=client, milestone_id=first)
    if state in ("submitted", "changes_requested", "released"):
        delivery.submit(user=provider, milestone_id=first, note="Done.", deliverables=[])
    if state == "changes_requested":
        delivery.request_changes(user=client, milestone_id=first, reason="Redo.")
    if state == "released":
        delivery.approve(user=client, milestone_id=first)
    if state in ("refund_requested", "refunded"):
        refunds.request_refund(user=client, milestone_id=first, reason="Not needed.")
    if state == "refunded":
        refunds.approve_refund(user=provider, milestone_id=first)
    if state in ("disputed", "resolved"):
        dispute = disputes.open_dispute(user=client, milestone_id=first, reason="Wrong work.")
    if state == "resolved":
        disputes.resolve(
            admin=AdminFactory(),
            dispute_id=dispute.id,
            release_amount=Money(5_000, "usd"),
            refund_amount=Money(5_000, "usd"),
            note="Half each.",
        )
    assert deal.milestone(0).status == MilestoneStatus(state)
    return deal


def _call(api, milestone_id, action):
    body, is_money = ACTIONS[action]
    path = f"milestones/{milestone_id}/{action}"
    kwargs = {} if body is None else {"json": body}
    return money_post(api, path, **kwargs) if is_money else api.post(path, **kwargs)


@pytest.mark.parametrize("state", STATES)
def test_every_forbidden_move_is_refused_and_changes_nothing(state, login):
    deal = _into(state)
    milestone_id = deal.milestone_ids[0]
    people = {
        "client": login(deal.client),
        "provider": login(deal.provider),
        "admin": login(AdminFactory()),
        "outsider": login(ProviderFactory()),
        "other client": login(ClientFactory()),
    }
    for action in ACTIONS:
        for role, api in people.items():
            if role in SIDES[action] and state in FROM[action]:
                continue  # allowed: the flows in test_escrow.py take these
            response = _call(api, milestone_id, action)
            if role in ("outsider", "other client"):
                expected = 404
            elif role not in SIDES[action]:
                expected = 403
            else:
                expected = 409
            assert response.status_code == expected, (action, role, response.get_json())
            assert response.get_json()["error"]["code"]
    assert deal.milestone(0).status == MilestoneStatus(state)


def test_milestones_and_their_history_are_private_to_the_parties(login):
    deal = _into("submitted")
    milestone_id = deal.milestone_ids[0]
    for user in (deal.client, deal.provider, AdminFactory()):
        body = login(user).get(f"milestones/{milestone_id}").get_json()
        assert body["status"] == "submitted"
        assert [p["status"] for p in body["payments"]] == ["succeeded"]
        assert "client_secret" not in body["payments"][0]
    for user in (ProviderFactory(), ClientFactory()):
        assert login(user).get(f"milestones/{milestone_id}").status_code == 404
    assert login(ClientFactory()).get("milestones/not-a-uuid").status_code == 404


def test_a_firm_agent_delivers_but_only_owners_and_managers_commit_money(login):
    firm = make_firm(name="Northwind BPO", owner=True, agent=True)
    deal = make_deal((10_000,), provider=firm.owner)
    first = deal.milestone_ids[0]
    funding.fund(user=deal.client, milestone_id=first)
    agent_api = login(firm.agent)

    assert agent_api.post(f"milestones/{first}/submit", json={"note": "Done."}).status_code == 200
    dispute = agent_api.post(f"milestones/{first}/dispute", json={"reason": "x" * 20})
    assert dispute.status_code == 403
    assert agent_api.post("providers/me/payouts/onboarding").status_code == 403


def test_signed_out_requests_are_401(api):
    deal = make_deal((10_000,))
    for action in ACTIONS:
        response = _call(api, deal.milestone_ids[0], action)
        assert response.status_code == 401, action
    assert deal.milestone(0).status == MilestoneStatus.PENDING
