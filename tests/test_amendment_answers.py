"""An amendment is answered, not only accepted or left to lapse: the other party declines
it with a reason, the proposer withdraws it; the terms and the money stay as they were."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.payments import funding, payouts
from tests.factories import (
    ClientFactory,
    ProviderFactory,
    make_firm,
    task_payload,
    terms_acceptance,
)
from tests.money import usd

FIXED = {"type": "fixed", "min": 50_000, "max": 120_000, "currency": "usd"}
BID = {
    "price": {"amount": 100_000, "currency": "usd"},
    "milestones": [
        {"title": "Set-up and first week", "amount": usd(40_000)},
        {"title": "Weeks two to four", "amount": usd(60_000)},
    ],
    "timeline_days": 30,
    "cover_letter": "We run support queues for Shopify stores every day.",
}


def _active_contract(login: Any, provider: User) -> dict[str, Any]:
    """A client's fixed-price task, `provider`'s bid on it awarded and accepted."""
    client = ClientFactory()
    client_api, provider_api = login(client), login(provider)
    task = client_api.post("tasks", json=task_payload(budget=FIXED)).get_json()
    client_api.post(f"tasks/{task['id']}/publish", json={})
    provider_api.post(f"tasks/{task['id']}/confidentiality", json=terms_acceptance())
    bid = provider_api.post(f"tasks/{task['id']}/bids", json=BID).get_json()
    contract = client_api.post(f"bids/{bid['id']}/accept", json={}).get_json()
    return {"client": client, "client_api": client_api, "contract": contract}


@pytest.fixture
def proposal(login: Any) -> dict[str, Any]:
    """An active contract and the client's proposal to raise the second milestone."""
    provider = ProviderFactory()
    deal = _active_contract(login, provider)
    provider_api = login(provider)
    contract = deal["contract"]
    assert provider_api.post(f"contracts/{contract['id']}/accept").status_code == 200
    second = contract["milestones"][1]
    changes = {
        "sla": {"turnaround_hours": 12},
        "milestones": {"change": [{"id": second["id"], "amount": usd(90_000)}]},
    }
    response = deal["client_api"].post(
        f"contracts/{contract['id']}/amendments", json={"changes": changes}
    )
    assert response.status_code == 201, response.get_json()
    return {**deal, "provider": provider, "provider_api": provider_api,
            "amendment": response.get_json()}  # fmt: skip


def _kinds(user: User) -> list[str]:
    return sorted(
        db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == user.id))
    )


def test_the_other_party_declines_with_a_reason(proposal, sent_mail):
    client_api, provider_api = proposal["client_api"], proposal["provider_api"]
    amendment, contract = proposal["amendment"], proposal["contract"]
    path = f"amendments/{amendment['id']}"

    assert provider_api.post(f"{path}/decline", json={}).status_code == 422
    assert client_api.post(f"{path}/decline", json={"reason": "Mine"}).status_code == 403
    declined = provider_api.post(f"{path}/decline", json={"reason": "Ninety is too much"})

    assert declined.status_code == 200, declined.get_json()
    assert declined.get_json()["status"] == "declined"
    assert declined.get_json()["end_reason"] == "Ninety is too much"
    assert provider_api.post(f"{path}/accept").status_code == 409
    assert provider_api.post(f"{path}/decline", json={"reason": "Again"}).status_code == 409
    assert client_api.post(f"{path}/withdraw", json={}).status_code == 409
    assert "amendment.declined" in _kinds(proposal["client"])
    assert any(
        "Ninety is too much" in m.body for m in sent_mail if m.to == proposal["client"].email
    )
    now = client_api.get(f"contracts/{contract['id']}").get_json()
    assert now["terms_version"] == 1
    assert [m["amount"] for m in now["milestones"]] == [usd(40_000), usd(60_000)]
    # The money follows the terms in force: the milestone is funded at its old amount.
    payouts.start_onboarding(user=proposal["provider"])
    payment = funding.fund(
        user=proposal["client"], milestone_id=uuid.UUID(contract["milestones"][1]["id"])
    )
    assert payment.amount == 60_000


def test_the_proposer_withdraws(proposal):
    client_api, provider_api = proposal["client_api"], proposal["provider_api"]
    path = f"amendments/{proposal['amendment']['id']}"

    assert provider_api.post(f"{path}/withdraw", json={}).status_code == 403
    withdrawn = client_api.post(f"{path}/withdraw", json={"reason": "Budget frozen"})

    assert withdrawn.status_code == 200, withdrawn.get_json()
    assert withdrawn.get_json()["status"] == "withdrawn"
    assert withdrawn.get_json()["end_reason"] == "Budget frozen"
    assert provider_api.post(f"{path}/accept").status_code == 409
    assert provider_api.post(f"{path}/decline", json={"reason": "Late"}).status_code == 409
    assert "amendment.withdrawn" in _kinds(proposal["provider"])
    listed = client_api.get(f"contracts/{proposal['contract']['id']}/amendments").get_json()
    assert [a["status"] for a in listed["items"]] == ["withdrawn"]


def test_outsiders_and_agents_do_not_answer_amendments(login):
    firm = make_firm(owner=True, agent=True)
    deal = _active_contract(login, firm.agent)
    contract = deal["contract"]
    login(firm.owner).post(f"contracts/{contract['id']}/accept")
    amendment = (
        deal["client_api"]
        .post(f"contracts/{contract['id']}/amendments",
              json={"changes": {"scope_summary": "Also tag tickets by product line."}})
        .get_json()
    )  # fmt: skip
    path = f"amendments/{amendment['id']}/decline"
    body = {"reason": "Not for us"}

    assert login(ProviderFactory()).post(path, json=body).status_code == 404
    assert login(firm.agent).post(path, json=body).status_code == 403
    assert login(firm.owner).post(path, json=body).status_code == 200
