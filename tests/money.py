"""Helpers for the money tests: an active contract, money requests, ledger balances."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from marketplace import permissions
from marketplace.accounts.models import User
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.bids.models import Bid
from marketplace.contracts.inputs import AwardTerms
from marketplace.contracts.models import Contract, Milestone
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.inputs import Money
from marketplace.jobs import outbox
from marketplace.jobs.models import OutboxEntry
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerTransaction
from marketplace.payments import payouts
from marketplace.payments.gateways.base import GatewayError
from marketplace.payments.gateways.sandbox import SandboxGateway
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import Budget
from marketplace.tasks.models import BudgetType, Confidentiality
from tests.factories import ClientFactory, ProviderFactory, task_draft


def usd(amount: int) -> dict[str, Any]:
    """Money as the API carries it: `{"amount": <minor units>, "currency": "usd"}`."""
    return {"amount": amount, "currency": "usd"}


@dataclass
class Deal:
    """An active fixed-price contract between a client and a provider."""

    client: User
    provider: User
    contract_id: uuid.UUID
    milestone_ids: list[uuid.UUID] = field(default_factory=list)

    @property
    def contract(self) -> Contract:
        contract = db.session.get(Contract, self.contract_id)
        assert contract is not None
        return contract

    def milestone(self, index: int = 0) -> Milestone:
        milestone = db.session.get(Milestone, self.milestone_ids[index])
        assert milestone is not None
        return milestone


def make_deal(
    amounts: tuple[int, ...] = (40_000, 60_000),
    *,
    payouts_enabled: bool = True,
    client: User | None = None,
    provider: User | None = None,
) -> Deal:
    """Post, bid, award and accept: an active contract with one milestone per amount."""
    client = client or ClientFactory()
    provider = provider or ProviderFactory()
    bid = make_bid(amounts, client=client, provider=provider)
    contract = contract_flows.award(user=client, bid_id=bid.id, terms=AwardTerms())
    contract_flows.accept_offer(user=provider, contract_id=contract.id)
    if payouts_enabled:
        payouts.start_onboarding(user=provider)
    return Deal(
        client=client,
        provider=provider,
        contract_id=contract.id,
        milestone_ids=[m.id for m in contract.milestones],
    )


def make_bid(amounts: tuple[int, ...], *, client: User, provider: User) -> Bid:
    """Post and publish a fixed-price usd task and bid on it, one milestone per amount."""
    total = sum(amounts)
    budget = Budget(BudgetType.FIXED, 1, max(total, 2), "usd")
    task = tasks.create_task(
        user=client,
        draft=task_draft(
            budget=budget, confidentiality=Confidentiality.PUBLIC, positions=1, timezone_need=None
        ),
    )
    # An established client publishes straight to open (new ones go to moderation).
    permissions.acting_client_profile(client).created_at = utcnow() - timedelta(days=60)
    lifecycle.publish_task(user=client, task_id=task.id, confirm_strategic=False)
    bid = bids.place_bid(
        user=provider,
        task_id=task.id,
        proposal=BidProposal(
            price=Money(total, "usd"),
            milestones=tuple(
                MilestoneProposal(title=f"Part {n}", amount=amount)
                for n, amount in enumerate(amounts, start=1)
            ),
            timeline_days=30,
            cover_letter="We run this kind of work every day.",
        ),
    )
    return bid


def money_post(api: Any, path: str, *, idempotency_key: str | None = None, **kwargs: Any) -> Any:
    """POST a money request with an Idempotency-Key (a fresh one unless given)."""
    headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
    return api.post(path, headers=headers, **kwargs)


def balances(deal: Deal, currency: str = "usd", gateway: str = "sandbox") -> dict[str, int]:
    """The deal's escrow, both payables and the platform's revenue."""
    contract = deal.contract
    return {
        "escrow": ledger.balance(ledger.escrow(contract.id, currency)),
        "provider_payable": ledger.balance(
            ledger.provider_payable(contract.provider_profile_id, currency)
        ),
        "client_payable": ledger.balance(
            ledger.client_payable(contract.client_profile_id, currency)
        ),
        "revenue": ledger.balance(ledger.revenue(currency)),
        "external": ledger.balance(ledger.external(gateway, currency)),
    }


def transaction_kinds(deal: Deal) -> list[str]:
    """The kinds of the contract's ledger transactions, oldest first."""
    return [
        t.value
        for t in db.session.scalars(
            sa.select(LedgerTransaction.kind)
            .where(LedgerTransaction.contract_id == deal.contract_id)
            .order_by(LedgerTransaction.created_at, LedgerTransaction.id)
        )
    ]


class FlakyGateway(SandboxGateway):
    """The sandbox, except that the first `failures` transfers and refunds fail as an
    outage would; it counts every call and the idempotency keys it was given."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.calls: list[tuple[str, str]] = []

    def _maybe_fail(self, kind: str, idempotency_key: str) -> None:
        self.calls.append((kind, idempotency_key))
        if self.failures > 0:
            self.failures -= 1
            raise GatewayError("connection reset by the payment provider")

    def transfer(self, **kwargs: Any) -> Any:
        self._maybe_fail("transfer", kwargs["idempotency_key"])
        return super().transfer(**kwargs)

    def refund(self, **kwargs: Any) -> Any:
        self._maybe_fail("refund", kwargs["idempotency_key"])
        return super().refund(**kwargs)


def deliver_again(entry: OutboxEntry, times: int = 1) -> None:
    """Make an outbox entry due and run the worker's delivery pass, `times` times."""
    for _ in range(times):
        entry.next_attempt_at = utcnow()
        db.session.commit()
        outbox.deliver_due()
        db.session.refresh(entry)
