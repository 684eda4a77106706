"""What the console shows of a dispute: the open queue, and one dispute's case on a page
(the parties, the contract and its terms, the milestone and its deliveries, the thread,
both parties' evidence and the contract's ledger), and what a split would move.

Read-only: disputes are resolved by `payments.disputes.resolve`, as the API resolves them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from marketplace.accounts.models import User
from marketplace.contracts import milestones
from marketplace.contracts.models import Contract, ContractTerms, Milestone, MilestoneSubmission
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerEntry, LedgerTransaction
from marketplace.messaging.models import Message, Thread
from marketplace.payments import disputes, evidence
from marketplace.payments.models import Dispute, DisputeStatus
from marketplace.reporting import statements

#: How many of the contract's latest messages a dispute's page shows.
THREAD_MESSAGES = 50
#: The most ledger transactions of the contract a dispute's page shows (oldest first).
LEDGER_TRANSACTIONS = 200


def open_queue() -> sa.Select[Dispute]:
    """Open disputes, oldest first (nobody waits longest), with their milestone, contract,
    task and parties."""
    return disputes.disputes_query(status=DisputeStatus.OPEN)


@dataclass
class DisputeCase:
    """One dispute as a moderator reads it before settling it."""

    dispute: evidence.DisputeView
    evidence: list[Any]
    evidence_due_at: datetime
    milestone: Milestone
    contract: Contract
    terms: ContractTerms
    submissions: list[MilestoneSubmission]
    messages: list[Message]
    message_total: int
    ledger_lines: list[LedgerTransaction]
    escrow: list[dict[str, Any]]
    fee_bps: int
    raised_by: User | None
    resolved_by: User | None

    @property
    def held(self) -> int:
        """What the split shares out: the disputed milestone's money, in minor units."""
        return self.milestone.amount

    @property
    def is_open(self) -> bool:
        return self.dispute.status == DisputeStatus.OPEN

    @property
    def evidence_open(self) -> bool:
        """Whether the parties may still add evidence."""
        return utcnow() <= self.evidence_due_at


def _thread(contract_id: uuid.UUID) -> tuple[list[Message], int]:
    """The contract's latest messages (oldest first) and how many it has in all; no thread
    is made for a contract whose parties never wrote."""
    thread_id = db.session.scalar(sa.select(Thread.id).where(Thread.contract_id == contract_id))
    if thread_id is None:
        return [], 0
    latest = list(
        db.session.scalars(
            sa.select(Message)
            .where(Message.thread_id == thread_id)
            .options(joinedload(Message.sender))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(THREAD_MESSAGES)
        )
    )
    total = db.session.scalar(
        sa.select(sa.func.count()).select_from(Message).where(Message.thread_id == thread_id)
    )
    return latest[::-1], int(total or 0)


def ledger_lines(*, admin: User, contract_id: uuid.UUID) -> list[LedgerTransaction]:
    """The contract's ledger transactions as GET /contracts/{id}/ledger lists them (oldest
    first), each with its entries and their accounts."""
    stmt = statements.contract_transactions(user=admin, contract_id=contract_id)
    return list(
        db.session.scalars(
            stmt.options(
                selectinload(LedgerTransaction.entries).joinedload(LedgerEntry.account)
            ).limit(LEDGER_TRANSACTIONS)
        )
    )


def dispute_case(*, admin: User, dispute_id: uuid.UUID) -> DisputeCase:
    """Everything on one dispute, for an admin (NotFound for an unknown id)."""
    dispute = evidence.detail(user=admin, dispute_id=dispute_id)
    milestone: Milestone = dispute.milestone
    contract = milestone.contract
    messages, total = _thread(contract.id)
    people = {
        u.id: u
        for u in db.session.scalars(
            sa.select(User).where(
                User.id.in_(
                    {i for i in (dispute.raised_by_id, dispute.resolved_by_id) if i is not None}
                )
            )
        )
    }
    return DisputeCase(
        dispute=dispute,
        evidence=dispute.evidence,
        evidence_due_at=dispute.evidence_due_at,
        milestone=milestone,
        contract=contract,
        terms=contract.current_terms,
        submissions=list(milestone.submissions),
        messages=messages,
        message_total=total,
        ledger_lines=ledger_lines(admin=admin, contract_id=contract.id),
        escrow=statements.escrow_held(contract.id),
        fee_bps=milestones.terms_value(contract, "platform_fee_bps"),
        raised_by=people.get(dispute.raised_by_id) if dispute.raised_by_id else None,
        resolved_by=people.get(dispute.resolved_by_id) if dispute.resolved_by_id else None,
    )


@dataclass(frozen=True)
class SplitPreview:
    """What a split of a disputed milestone moves, in minor units of its currency."""

    release: int
    refund: int
    provider_share: int
    fee: int
    currency: str
    escrow_before: int

    @property
    def escrow_after(self) -> int:
        return self.escrow_before - self.release - self.refund


def split_preview(case: DisputeCase, *, release: int, refund: int) -> SplitPreview:
    """The money a split would move: the release to the provider less the contract's fee
    (as `payments.settlement.split` computes it), the refund, and the contract's escrow
    before and after."""
    share, fee = ledger.fee_split(release, case.fee_bps)
    currency = case.milestone.currency
    before = next((e["amount"] for e in case.escrow if e["currency"] == currency), 0)
    return SplitPreview(
        release=release,
        refund=refund,
        provider_share=share,
        fee=fee,
        currency=currency,
        escrow_before=before,
    )
