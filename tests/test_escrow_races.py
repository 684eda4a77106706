"""Racing money requests on PostgreSQL: real threads, row locks, one outcome, right books.

Each race starts its threads together at a barrier and is repeated ROUNDS times on a
fresh milestone; after each round the ledger must pass every ledger-check rule.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from marketplace.contracts.models import ContractStatus, MilestoneStatus
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.jobs import outbox
from marketplace.ledger.models import LedgerTransaction, TransactionKind
from marketplace.payments import delivery, funding, refunds
from marketplace.payments.models import Dispute, Payment, Refund, Transfer
from marketplace.reporting import ledger_check as checks
from tests.money import Deal, balances, make_deal, money_post
from tests.races import at_once, count

pytestmark = pytest.mark.postgres
THREADS = 64
ROUNDS = 20
AMOUNT = 10_000


def _transactions(deal: Deal, kind: TransactionKind) -> int:
    return count(
        LedgerTransaction,
        LedgerTransaction.contract_id == deal.contract_id,
        LedgerTransaction.kind == kind,
    )


def _named(name: str, send: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    return name, send(*args, **kwargs)


def _submitted(bearer: Any) -> tuple[Deal, Any, Any]:
    deal = make_deal((AMOUNT,))
    milestone_id = deal.milestone_ids[0]
    funding.fund(user=deal.client, milestone_id=milestone_id)
    delivery.submit(user=deal.provider, milestone_id=milestone_id, note="Done.", deliverables=[])
    return deal, bearer(deal.client), bearer(deal.provider)


def _settle_and_check() -> None:
    outbox.deliver_due()
    db.session.expire_all()
    assert checks.breaches() == []


def test_64_concurrent_approvals_release_once(bearer):
    for _ in range(ROUNDS):
        deal, client_api, _ = _submitted(bearer)
        path = f"milestones/{deal.milestone_ids[0]}/approve"

        responses = at_once([partial(money_post, client_api, path)] * THREADS)

        assert Counter(r.status_code for r in responses) == {200: 1, 409: THREADS - 1}
        _settle_and_check()
        assert deal.milestone(0).status == MilestoneStatus.RELEASED
        assert _transactions(deal, TransactionKind.RELEASE) == 1
        assert _transactions(deal, TransactionKind.PAYOUT) == 1
        assert count(Transfer, Transfer.contract_id == deal.contract_id) == 1
        assert balances(deal)["escrow"] == 0
        assert balances(deal)["provider_payable"] == 0


def test_approve_racing_dispute_keeps_one_outcome(bearer):
    for _ in range(ROUNDS):
        deal, client_api, provider_api = _submitted(bearer)
        milestone_id = deal.milestone_ids[0]
        approve = partial(
            _named, "approve", money_post, client_api, f"milestones/{milestone_id}/approve"
        )
        dispute = partial(
            _named,
            "dispute",
            provider_api.post,
            f"milestones/{milestone_id}/dispute",
            json={"reason": "Not the agreed scope."},
        )

        results = at_once([approve, dispute] * (THREADS // 2))

        wins = [name for name, response in results if response.status_code in (200, 201)]
        assert len(wins) == 1, Counter((n, r.status_code) for n, r in results)
        assert all(r.status_code == 409 for _, r in results if r.status_code not in (200, 201))
        _settle_and_check()
        milestone = deal.milestone(0)
        if wins == ["approve"]:
            assert milestone.status == MilestoneStatus.RELEASED
            assert count(Dispute, Dispute.milestone_id == milestone_id) == 0
            assert _transactions(deal, TransactionKind.RELEASE) == 1
        else:
            assert milestone.status == MilestoneStatus.DISPUTED
            assert count(Dispute, Dispute.milestone_id == milestone_id) == 1
            assert _transactions(deal, TransactionKind.RELEASE) == 0
            assert balances(deal)["escrow"] == AMOUNT


def _lapse(app: Any) -> tuple[str, int]:
    with app.app_context():
        return "lapse", refunds.lapse_due()


def test_refund_approval_racing_disputes_and_the_lapse_job(bearer, app):
    for _ in range(ROUNDS):
        deal = make_deal((AMOUNT,))
        milestone_id = deal.milestone_ids[0]
        funding.fund(user=deal.client, milestone_id=milestone_id)
        refunds.request_refund(user=deal.client, milestone_id=milestone_id, reason="Not needed.")
        refunds.open_request(milestone_id).expires_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
        client_api, provider_api = bearer(deal.client), bearer(deal.provider)
        body = {"reason": "Work was delivered in the thread."}

        refund_path = f"milestones/{milestone_id}/refund-request/approve"
        dispute_path = f"milestones/{milestone_id}/dispute"
        calls: list[Callable[[], Any]] = [partial(_lapse, app)]
        for n in range(THREADS - 1):
            if n % 3 == 0:
                calls.append(partial(_named, "refund", money_post, provider_api, refund_path))
            else:
                api = client_api if n % 3 == 1 else provider_api
                calls.append(partial(_named, "dispute", api.post, dispute_path, json=body))

        results = at_once(calls)

        wins = [
            name
            for name, outcome in results
            if (outcome if name == "lapse" else outcome.status_code in (200, 201))
        ]
        assert len(wins) == 1, [(n, getattr(o, "status_code", o)) for n, o in results]
        _settle_and_check()
        status = deal.milestone(0).status
        if wins[0] == "dispute":
            assert status == MilestoneStatus.DISPUTED
            assert balances(deal)["escrow"] == AMOUNT
            assert count(Refund, Refund.milestone_id == milestone_id) == 0
        else:
            assert status == MilestoneStatus.REFUNDED
            assert _transactions(deal, TransactionKind.REFUND) == 1
            assert count(Refund, Refund.milestone_id == milestone_id) == 1
            assert balances(deal) == {**balances(deal), "escrow": 0, "client_payable": 0}


def test_concurrent_funding_with_different_keys_charges_once(bearer):
    for _ in range(5):
        deal = make_deal((AMOUNT,))
        client_api = bearer(deal.client)
        path = f"milestones/{deal.milestone_ids[0]}/fund"

        responses = at_once([partial(money_post, client_api, path, json={})] * 16)

        assert all(r.status_code in (200, 409) for r in responses)
        assert count(Payment, Payment.milestone_id == deal.milestone_ids[0]) == 1
        assert _transactions(deal, TransactionKind.FUNDING) == 1
        assert balances(deal)["escrow"] == AMOUNT
        _settle_and_check()


def test_approving_the_last_milestones_at_once_completes_the_contract_once(bearer):
    for _ in range(5):
        deal = make_deal((AMOUNT,) * 4)
        for milestone_id in deal.milestone_ids:
            funding.fund(user=deal.client, milestone_id=milestone_id)
            delivery.submit(
                user=deal.provider, milestone_id=milestone_id, note="Done.", deliverables=[]
            )
        client_api = bearer(deal.client)
        paths = [f"milestones/{m}/approve" for m in deal.milestone_ids]

        responses = at_once([partial(money_post, client_api, path) for path in paths])

        assert [r.status_code for r in responses] == [200] * len(paths)
        _settle_and_check()
        assert deal.contract.status == ContractStatus.COMPLETED
        completions = [t for t in deal.contract.transitions if t.to_status.value == "completed"]
        assert len(completions) == 1
        assert _transactions(deal, TransactionKind.RELEASE) == len(paths)
