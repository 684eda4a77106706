"""`allowed_actions` agrees with what the endpoints then accept (issue 15): for bids,
contracts and milestones in each state they reach, for each viewer (the client's owner and
agent, the provider's owner and agent, an outsider, an admin), every listed action succeeds
and every other one is refused (403, 404 or 409; never a 2xx, never a 500).

A refused request changes nothing (the access matrix checks that), so one copy of a state
serves every refusal; each listed action runs on a fresh copy of its own, built by the
services between the same people. Money moves through the sandbox gateway.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace import permissions
from marketplace.accounts.models import User
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.bids.models import Bid
from marketplace.contracts import actions, offers, pilots
from marketplace.contracts import services as contracts
from marketplace.contracts.inputs import AwardTerms, PilotTerms
from marketplace.contracts.models import Contract, Milestone
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.flows import tasks as task_flows
from marketplace.inputs import Money
from marketplace.payments import delivery, disputes, funding, payouts, refunds
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import Budget, TaskChanges
from marketplace.tasks.models import BudgetType, Confidentiality
from marketplace.tasks.states import TaskStatus
from tests.factories import AdminFactory, ProviderFactory, make_company, make_firm, task_draft
from tests.money import money_post, usd

REFUSED = {403, 404, 409}
VIEWERS = ("client", "client agent", "provider", "provider agent", "outsider", "admin")


@dataclass
class People:
    """A company and a firm, each with an owner and an agent; an outside provider; an
    admin. `apis` signs each in (bearer tokens)."""

    client: User
    client_agent: User
    provider: User
    provider_agent: User
    outsider: User
    admin: User
    apis: dict[str, Any]


@pytest.fixture
def people(bearer: Any) -> People:
    company = make_company(owner=True, agent=True)
    firm = make_firm(owner=True, agent=True)
    users = {
        "client": company.owner,
        "client agent": company.agent,
        "provider": firm.owner,
        "provider agent": firm.agent,
        "outsider": ProviderFactory(),
        "admin": AdminFactory(),
    }
    # An established client publishes straight to open (new ones go to moderation).
    permissions.acting_client_profile(company.owner).created_at = utcnow() - timedelta(days=60)
    db.session.commit()
    payouts.start_onboarding(user=firm.owner)
    return People(
        *(users[name] for name in VIEWERS), apis={name: bearer(u) for name, u in users.items()}
    )


# --- building states through the services -------------------------------------------


def _open_task(p: People, *, trial: bool = False, positions: int = 1) -> uuid.UUID:
    task = tasks.create_task(
        user=p.client,
        draft=task_draft(
            budget=Budget(BudgetType.FIXED, 1, 40_000 if trial else 100_000, "usd"),
            confidentiality=Confidentiality.PUBLIC,
            positions=positions,
            timezone_need=None,
            trial=trial,
        ),
    )
    lifecycle.publish_task(user=p.client, task_id=task.id, confirm_strategic=False)
    return task.id


def _bid(provider: User, task_id: uuid.UUID, amounts: tuple[int, ...] = (20_000,)) -> Bid:
    return bids.place_bid(
        user=provider,
        task_id=task_id,
        proposal=BidProposal(
            price=Money(sum(amounts), "usd"),
            milestones=tuple(
                MilestoneProposal(title=f"Part {n}", amount=amount)
                for n, amount in enumerate(amounts, start=1)
            ),
            timeline_days=30,
            cover_letter="We run this kind of work every day.",
        ),
    )


def _offer(p: People, *, trial: bool = False, amounts: tuple[int, ...] = (20_000,)) -> Contract:
    bid = _bid(p.provider, _open_task(p, trial=trial), amounts)
    return contract_flows.award(user=p.client, bid_id=bid.id, terms=AwardTerms())


def _active(p: People, **kwargs: Any) -> Contract:
    contract = _offer(p, **kwargs)
    return contract_flows.accept_offer(user=p.provider, contract_id=contract.id)


def _complete(p: People, contract: Contract) -> Contract:
    for milestone_id in [m.id for m in contract.milestones]:
        funding.fund(user=p.client, milestone_id=milestone_id)
        delivery.submit(user=p.provider, milestone_id=milestone_id, note="Done.", deliverables=[])
        delivery.approve(user=p.client, milestone_id=milestone_id)
    return contract


def _expire_offer(contract: Contract) -> None:
    contract.offer_expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


# Bids: each builder returns the bid's id.


def bid_submitted(p: People) -> uuid.UUID:
    return _bid(p.provider, _open_task(p)).id


def bid_submitted_no_position_free(p: People) -> uuid.UUID:
    """A live bid on a task whose one position is on offer to another bidder."""
    task_id = _open_task(p)
    other = _bid(p.outsider, task_id)
    mine = _bid(p.provider, task_id)
    contract_flows.award(user=p.client, bid_id=other.id, terms=AwardTerms())
    return mine.id


def bid_shortlisted(p: People) -> uuid.UUID:
    bid_id = bid_submitted(p)
    bids.shortlist_bid(user=p.client, bid_id=bid_id)
    return bid_id


def bid_shortlisted_task_cancelled_offer_out(p: People) -> uuid.UUID:
    """A shortlisted bid of a task with two positions, one on offer to another bidder."""
    task_id = _open_task(p, positions=2)
    other = _bid(p.outsider, task_id)
    mine = _bid(p.provider, task_id)
    bids.shortlist_bid(user=p.client, bid_id=mine.id)
    contract_flows.award(user=p.client, bid_id=other.id, terms=AwardTerms())
    return mine.id


def bid_accepted(p: People) -> uuid.UUID:
    contract = _offer(p)
    assert contract.bid_id is not None
    return contract.bid_id


def bid_declined(p: People) -> uuid.UUID:
    bid_id = bid_submitted(p)
    bids.decline_bid(user=p.client, bid_id=bid_id, reason="Not the right fit for us.")
    return bid_id


def bid_withdrawn(p: People) -> uuid.UUID:
    bid_id = bid_submitted(p)
    bids.withdraw_bid(user=p.provider, bid_id=bid_id)
    return bid_id


def bid_expired(p: People) -> uuid.UUID:
    bid = _bid(p.provider, task_id := _open_task(p))
    task_flows.cancel_task(user=p.client, task_id=task_id, reason="plans changed")
    return bid.id


def bid_offer_declined(p: People) -> uuid.UUID:
    contract = _offer(p)
    offers.decline_offer(user=p.provider, contract_id=contract.id, reason=None)
    assert contract.bid_id is not None
    return contract.bid_id


BID_STATES: dict[str, Callable[[People], uuid.UUID]] = {
    "submitted": bid_submitted,
    "submitted, the position on offer to another": bid_submitted_no_position_free,
    "shortlisted": bid_shortlisted,
    "shortlisted, one of two positions on offer": bid_shortlisted_task_cancelled_offer_out,
    "accepted": bid_accepted,
    "declined": bid_declined,
    "withdrawn": bid_withdrawn,
    "expired with its task": bid_expired,
    "offer declined": bid_offer_declined,
}

BID_CALLS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "edit": ("PATCH", "bids/{id}", {"cover_letter": "A sharper letter: we start on Monday."}),
    "withdraw": ("POST", "bids/{id}/withdraw", None),
    "shortlist": ("POST", "bids/{id}/shortlist", None),
    "decline": ("POST", "bids/{id}/decline", {"reason": "Not the right fit for us."}),
    "award": ("POST", "bids/{id}/accept", {}),
}


# Contracts: each builder returns the contract's id.


def contract_offered(p: People) -> uuid.UUID:
    return _offer(p).id


def contract_offer_past_its_date(p: People) -> uuid.UUID:
    contract = _offer(p)
    _expire_offer(contract)
    return contract.id


def contract_offer_of_a_task_in_review(p: People) -> uuid.UUID:
    """An offer whose task went back to review (its client edited in an e-mail address):
    accepting it would fail."""
    contract = _offer(p)
    tasks.update_task(
        user=p.client,
        task_id=contract.task_id,
        changes=TaskChanges(summary="Write to me at someone@example.com for the details."),
    )
    assert contract.task.status == TaskStatus.PENDING_REVIEW
    return contract.id


def contract_active(p: People) -> uuid.UUID:
    return _active(p).id


def contract_paused(p: People) -> uuid.UUID:
    contract_id = contract_active(p)
    contracts.pause(user=p.client, contract_id=contract_id, reason=None)
    return contract_id


def contract_terminated(p: People) -> uuid.UUID:
    contract_id = contract_active(p)
    contract_flows.terminate(user=p.client, contract_id=contract_id, reason="Plans changed.")
    return contract_id


def contract_declined(p: People) -> uuid.UUID:
    contract = _offer(p)
    offers.decline_offer(user=p.provider, contract_id=contract.id, reason=None)
    return contract.id


def contract_completed(p: People) -> uuid.UUID:
    return _complete(p, _active(p)).id


def contract_completed_pilot(p: People) -> uuid.UUID:
    return _complete(p, _active(p, trial=True)).id


def contract_extended_pilot(p: People) -> uuid.UUID:
    contract_id = contract_completed_pilot(p)
    pilots.extend_pilot(user=p.client, contract_id=contract_id, terms=_pilot_terms())
    return contract_id


def _pilot_terms() -> PilotTerms:
    return PilotTerms(milestones=(MilestoneProposal(title="First month", amount=90_000),))


CONTRACT_STATES: dict[str, Callable[[People], uuid.UUID]] = {
    "offered": contract_offered,
    "offered past its date": contract_offer_past_its_date,
    "offered, its task back in review": contract_offer_of_a_task_in_review,
    "active": contract_active,
    "paused": contract_paused,
    "terminated": contract_terminated,
    "declined": contract_declined,
    "completed": contract_completed,
    "completed pilot": contract_completed_pilot,
    "completed pilot, extended": contract_extended_pilot,
}

CONTRACT_CALLS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "accept": ("POST", "contracts/{id}/accept", None),
    "decline": ("POST", "contracts/{id}/decline", {}),
    "pause": ("POST", "contracts/{id}/pause", {}),
    "resume": ("POST", "contracts/{id}/resume", None),
    "terminate": ("POST", "contracts/{id}/terminate", {"reason": "We are ending this."}),
    "amend": (
        "POST",
        "contracts/{id}/amendments",
        {"changes": {"scope_summary": "The scope now covers weekend tickets too."}},
    ),
    "extend": (
        "POST",
        "contracts/{id}/extend",
        {"milestones": [{"title": "First month", "amount": usd(90_000)}]},
    ),
}


# Milestones: each builder returns the id of the milestone in that state.


def _first(contract: Contract) -> uuid.UUID:
    return contract.milestones[0].id


def milestone_pending(p: People) -> uuid.UUID:
    return _first(_active(p))


def milestone_pending_no_payouts(p: People) -> uuid.UUID:
    """A pending milestone whose provider cannot receive payouts yet (an individual)."""
    va = ProviderFactory()
    bid = _bid(va, _open_task(p))
    contract = contract_flows.award(user=p.client, bid_id=bid.id, terms=AwardTerms())
    contract_flows.accept_offer(user=va, contract_id=contract.id)
    return _first(contract)


def milestone_funded(p: People) -> uuid.UUID:
    milestone_id = milestone_pending(p)
    funding.fund(user=p.client, milestone_id=milestone_id)
    return milestone_id


def milestone_submitted(p: People) -> uuid.UUID:
    milestone_id = milestone_funded(p)
    delivery.submit(user=p.provider, milestone_id=milestone_id, note="Done.", deliverables=[])
    return milestone_id


def milestone_changes_requested(p: People) -> uuid.UUID:
    milestone_id = milestone_submitted(p)
    delivery.request_changes(user=p.client, milestone_id=milestone_id, reason="Fix the totals.")
    return milestone_id


def milestone_refund_requested(p: People) -> uuid.UUID:
    milestone_id = milestone_funded(p)
    refunds.request_refund(user=p.client, milestone_id=milestone_id, reason="No longer needed.")
    return milestone_id


def milestone_disputed(p: People) -> uuid.UUID:
    milestone_id = milestone_submitted(p)
    disputes.open_dispute(user=p.client, milestone_id=milestone_id, reason="The work is missing.")
    return milestone_id


def milestone_released(p: People) -> uuid.UUID:
    """The first of two milestones released (the contract stays active)."""
    contract = _active(p, amounts=(20_000, 30_000))
    milestone_id = _first(contract)
    funding.fund(user=p.client, milestone_id=milestone_id)
    delivery.submit(user=p.provider, milestone_id=milestone_id, note="Done.", deliverables=[])
    delivery.approve(user=p.client, milestone_id=milestone_id)
    return milestone_id


def milestone_refunded(p: People) -> uuid.UUID:
    milestone_id = milestone_refund_requested(p)
    refunds.approve_refund(user=p.provider, milestone_id=milestone_id)
    return milestone_id


def milestone_resolved(p: People) -> uuid.UUID:
    milestone_id = milestone_disputed(p)
    dispute_id = db.session.scalar(
        sa.select(disputes.Dispute.id).where(disputes.Dispute.milestone_id == milestone_id)
    )
    disputes.resolve(
        admin=p.admin,
        dispute_id=dispute_id,
        release_amount=Money(10_000, "usd"),
        refund_amount=Money(10_000, "usd"),
        note="Half each.",
    )
    return milestone_id


def milestone_cancelled(p: People) -> uuid.UUID:
    contract = _active(p)
    contract_flows.terminate(user=p.client, contract_id=contract.id, reason="Plans changed.")
    return _first(contract)


def milestone_pending_contract_paused(p: People) -> uuid.UUID:
    contract = _active(p)
    contracts.pause(user=p.client, contract_id=contract.id, reason=None)
    return _first(contract)


def milestone_funded_contract_paused(p: People) -> uuid.UUID:
    milestone_id = milestone_funded(p)
    contract_id = db.session.get(Milestone, milestone_id).contract_id  # type: ignore[union-attr]
    contracts.pause(user=p.client, contract_id=contract_id, reason=None)
    return milestone_id


def milestone_submitted_contract_terminated(p: People) -> uuid.UUID:
    milestone_id = milestone_submitted(p)
    contract_id = db.session.get(Milestone, milestone_id).contract_id  # type: ignore[union-attr]
    contract_flows.terminate(user=p.provider, contract_id=contract_id, reason="Plans changed.")
    return milestone_id


MILESTONE_STATES: dict[str, Callable[[People], uuid.UUID]] = {
    "pending": milestone_pending,
    "pending, provider without payouts": milestone_pending_no_payouts,
    "funded": milestone_funded,
    "submitted": milestone_submitted,
    "changes requested": milestone_changes_requested,
    "refund requested": milestone_refund_requested,
    "disputed": milestone_disputed,
    "released": milestone_released,
    "refunded": milestone_refunded,
    "resolved": milestone_resolved,
    "cancelled with its contract": milestone_cancelled,
    "pending, contract paused": milestone_pending_contract_paused,
    "funded, contract paused": milestone_funded_contract_paused,
    "submitted, contract terminated": milestone_submitted_contract_terminated,
}

MILESTONE_CALLS: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "fund": ("MONEY", "milestones/{id}/fund", {}),
    "submit": ("POST", "milestones/{id}/submit", {"note": "Here it is.", "deliverables": []}),
    "approve": ("MONEY", "milestones/{id}/approve", None),
    "request_changes": ("POST", "milestones/{id}/request-changes", {"reason": "Fix the totals."}),
    "request_refund": ("POST", "milestones/{id}/refund-request", {"reason": "Not needed now."}),
    "approve_refund": ("MONEY", "milestones/{id}/refund-request/approve", None),
    "dispute": ("POST", "milestones/{id}/dispute", {"reason": "The work is not what we agreed."}),
}


# --- the check -------------------------------------------------------------------------


def _call(api: Any, call: tuple[str, str, dict[str, Any] | None], entity_id: uuid.UUID) -> Any:
    method, path, body = call
    path = path.format(id=entity_id)
    kwargs = {} if body is None else {"json": body}
    if method == "MONEY":
        return money_post(api, path, **kwargs)
    return api.request(method, path, **kwargs)


def _fingerprint(model: type[Any], entity_id: uuid.UUID) -> tuple[Any, ...]:
    """The statuses a request could change: the entity's, its task's contracts' and their
    milestones'."""
    db.session.expire_all()
    entity = db.session.get(model, entity_id)
    task_id = entity.contract.task_id if isinstance(entity, Milestone) else entity.task_id
    task_contracts = db.session.scalars(
        sa.select(Contract).where(Contract.task_id == task_id).order_by(Contract.id)
    )
    return (
        entity.status,
        tuple((c.status, tuple(m.status for m in c.milestones)) for c in task_contracts),
    )


def _listed(p: People, path: str, entity_id: uuid.UUID) -> dict[str, list[str] | None]:
    """Each viewer's `allowed_actions` from GET `path` (None when it is hidden: 404)."""
    listed: dict[str, list[str] | None] = {}
    for viewer in VIEWERS:
        response = p.apis[viewer].get(path.format(id=entity_id))
        assert response.status_code in (200, 404), (viewer, response.get_json())
        listed[viewer] = (
            response.get_json()["allowed_actions"] if response.status_code == 200 else None
        )
    return listed


def _check(
    p: People,
    build: Callable[[People], uuid.UUID],
    model: type[Any],
    read_path: str,
    calls: dict[str, tuple[str, str, dict[str, Any] | None]],
    every_action: dict[str, str],
) -> dict[str, list[str]]:
    """Build the state, read every viewer's actions, call every action as every viewer;
    returns the actions listed per viewer (for the test's own expectations)."""
    assert set(calls) == set(every_action), "every documented action has a call"
    entity_id = build(p)
    listed = _listed(p, read_path, entity_id)
    problems: list[str] = []
    for viewer in VIEWERS:
        allowed = listed[viewer] or []
        for action in calls:
            if action in allowed:
                continue
            before = _fingerprint(model, entity_id)
            response = _call(p.apis[viewer], calls[action], entity_id)
            if response.status_code not in REFUSED:
                problems.append(
                    f"{viewer} {action} (unlisted): {response.status_code} {response.get_json()}"
                )
            if _fingerprint(model, entity_id) != before:  # a refusal that ends an offer
                entity_id = build(p)
    for viewer in VIEWERS:
        for action in listed[viewer] or []:
            fresh = build(p)
            response = _call(p.apis[viewer], calls[action], fresh)
            if not 200 <= response.status_code < 300:
                problems.append(
                    f"{viewer} {action} (listed): {response.status_code} {response.get_json()}"
                )
    assert not problems, "\n".join(problems)
    return {viewer: sorted(actions or []) for viewer, actions in listed.items()}


# Expected lists, so that a rule missing on both sides (never listed, always refused) shows.
BID_EXPECTED: dict[str, dict[str, set[str]]] = {
    "submitted": {
        "client": {"shortlist", "decline", "award"},
        "client agent": {"shortlist", "decline"},
        "provider": {"edit", "withdraw"},
        "provider agent": {"edit", "withdraw"},
    },
    "submitted, the position on offer to another": {
        "client": {"shortlist", "decline"},
        "client agent": {"shortlist", "decline"},
        "provider": {"edit", "withdraw"},
        "provider agent": {"edit", "withdraw"},
    },
    "shortlisted": {
        "client": {"decline", "award"},
        "client agent": {"decline"},
        "provider": {"withdraw"},
        "provider agent": {"withdraw"},
    },
    "shortlisted, one of two positions on offer": {
        "client": {"decline", "award"},
        "client agent": {"decline"},
        "provider": {"withdraw"},
        "provider agent": {"withdraw"},
    },
}

CONTRACT_EXPECTED: dict[str, dict[str, set[str]]] = {
    "offered": {"provider": {"accept", "decline"}},
    "offered past its date": {"provider": {"decline"}},
    "offered, its task back in review": {"provider": {"decline"}},
    "active": {"client": {"pause", "terminate", "amend"}, "provider": {"terminate", "amend"}},
    "paused": {"client": {"resume", "terminate", "amend"}, "provider": {"terminate", "amend"}},
    "completed pilot": {"client": {"extend"}},
}

MILESTONE_EXPECTED: dict[str, dict[str, set[str]]] = {
    "pending": {"client": {"fund"}},
    "funded": {
        "client": {"request_refund", "dispute"},
        "provider": {"submit", "dispute"},
        "provider agent": {"submit"},
    },
    "submitted": {
        "client": {"approve", "request_changes", "dispute"},
        "provider": {"dispute"},
    },
    "changes requested": {
        "client": {"request_refund", "dispute"},
        "provider": {"submit", "dispute"},
        "provider agent": {"submit"},
    },
    "refund requested": {
        "client": {"dispute"},
        "provider": {"approve_refund", "dispute"},
    },
    "funded, contract paused": {
        "client": {"request_refund", "dispute"},
        "provider": {"dispute"},
    },
    "submitted, contract terminated": {
        "client": {"approve", "request_changes", "dispute"},
        "provider": {"dispute"},
    },
}


def _expected(table: dict[str, dict[str, set[str]]], state: str) -> dict[str, list[str]]:
    return {viewer: sorted(table.get(state, {}).get(viewer, set())) for viewer in VIEWERS}


@pytest.mark.parametrize("state", list(BID_STATES))
def test_bid_actions_agree_with_the_endpoints(people, state):
    listed = _check(people, BID_STATES[state], Bid, "bids/{id}", BID_CALLS, actions.BID_ACTIONS)

    assert listed == _expected(BID_EXPECTED, state)


@pytest.mark.parametrize("state", list(CONTRACT_STATES))
def test_contract_actions_agree_with_the_endpoints(people, state):
    listed = _check(
        people,
        CONTRACT_STATES[state],
        Contract,
        "contracts/{id}",
        CONTRACT_CALLS,
        actions.CONTRACT_ACTIONS,
    )

    assert listed == _expected(CONTRACT_EXPECTED, state)


@pytest.mark.parametrize("state", list(MILESTONE_STATES))
def test_milestone_actions_agree_with_the_endpoints(people, state):
    listed = _check(
        people,
        MILESTONE_STATES[state],
        Milestone,
        "milestones/{id}",
        MILESTONE_CALLS,
        actions.MILESTONE_ACTIONS,
    )

    assert listed == _expected(MILESTONE_EXPECTED, state)


# --- lists ----------------------------------------------------------------------------


def _page(api: Any, path: str, count_statements: Any) -> tuple[list[dict[str, Any]], int]:
    """The items of GET `path` and the statements it cost (after one call warms it up)."""
    api.get(path)
    with count_statements() as log:
        response = api.get(path)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"], log.count


def test_the_contract_list_shows_each_contracts_actions_at_a_fixed_cost(people, count_statements):
    for build in (contract_offered, contract_active):
        build(people)
    small = {who: _page(people.apis[who], "contracts", count_statements)[1] for who in VIEWERS}
    for build in (contract_offered, contract_paused, contract_completed_pilot, milestone_funded):
        build(people)

    for who in ("client", "client agent", "provider", "provider agent"):
        api = people.apis[who]
        items, cost = _page(api, "contracts", count_statements)

        assert len(items) == 6
        assert cost == small[who], f"{who}: {cost} statements for 6 contracts, {small[who]} for 2"
        for item in items:
            one = api.get(f"contracts/{item['id']}").get_json()
            assert item["allowed_actions"] == one["allowed_actions"], (who, item["status"])
            for listed, alone in zip(item["milestones"], one["milestones"], strict=True):
                assert listed["allowed_actions"] == alone["allowed_actions"], (who, listed)
    client_items = _page(people.apis["client"], "contracts", count_statements)[0]
    running = ["amend", "pause", "terminate"]
    assert sorted(sorted(c["allowed_actions"]) for c in client_items) == sorted(
        [[], [], running, running, ["amend", "resume", "terminate"], ["extend"]]
    )


def test_the_bid_list_shows_each_bids_actions_for_one_statement(people, count_statements):
    task_id = _open_task(people, positions=2)
    for _ in range(4):
        _bid(ProviderFactory(), task_id)
    mine = _bid(people.provider, task_id)
    bids.shortlist_bid(user=people.client, bid_id=mine.id)
    path = f"tasks/{task_id}/bids"

    client_items, client_cost = _page(people.apis["client"], path, count_statements)
    agent_items, agent_cost = _page(people.apis["client agent"], path, count_statements)
    provider_items, _ = _page(people.apis["provider"], path, count_statements)

    # Only the owner's answer asks whether a position is free: once for the whole list.
    assert client_cost - agent_cost == 1
    assert [sorted(b["allowed_actions"]) for b in client_items] == [
        ["award", "decline", "shortlist"]
    ] * 4 + [["award", "decline"]]
    assert [sorted(b["allowed_actions"]) for b in agent_items] == [["decline", "shortlist"]] * 4 + [
        ["decline"]
    ]
    assert [b["allowed_actions"] for b in provider_items] == [["withdraw"]]
