"""Money leaving escrow: releases, refunds and splits on the ledger, then transfers and
refunds at the gateway through the outbox (after commit, with retries).

Gateway calls carry idempotency keys made from our own ids (`transfer-<id>`,
`refund-<id>`), so a retried outbox entry, or a crash between the gateway's answer
and our commit, never pays or refunds twice.
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from marketplace.contracts import milestones
from marketplace.contracts.models import Contract, Milestone
from marketplace.database import lock_row, new_id, utcnow
from marketplace.extensions import db
from marketplace.jobs import outbox
from marketplace.ledger import postings
from marketplace.ledger import services as ledger
from marketplace.ledger.models import LedgerTransaction, TransactionKind
from marketplace.payments.gateways import gateway
from marketplace.payments.gateways.base import GatewayError
from marketplace.payments.models import Payment, PaymentStatus, Refund, Transfer
from marketplace.payments.states import REFUND_STATES, TRANSFER_STATES
from marketplace.profiles.models import ProviderProfile

log = logging.getLogger(__name__)


def transfer_group(contract_id: uuid.UUID) -> str:
    """The gateway's name for all money of one contract."""
    return f"contract_{contract_id}"


def money_of(record: Milestone | Payment | Transfer | Refund) -> postings.MilestoneMoney:
    """Which milestone of which contract a record's money is for, for its postings."""
    if isinstance(record, Milestone):
        return postings.MilestoneMoney(record.contract_id, record.id, record.currency)
    return postings.MilestoneMoney(record.contract_id, record.milestone_id, record.currency)


def funding_payment(milestone: Milestone) -> Payment:
    """The payment that funded the milestone. A client may pay twice (a saved card after a
    Stripe.js payment, or an intent that succeeds after a retry): the payment that came
    second was posted as unmatched and is refunded, so it is not the one settled here."""
    payments = list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.milestone_id == milestone.id, Payment.status == PaymentStatus.SUCCEEDED)
            .order_by(Payment.settled_at, Payment.attempt)
        )
    )
    if len(payments) > 1:
        keys = {payment.id: postings.unmatched_payment_key(payment.id) for payment in payments}
        unmatched = set(
            db.session.scalars(
                sa.select(LedgerTransaction.key).where(LedgerTransaction.key.in_(keys.values()))
            )
        )
        payments = [payment for payment in payments if keys[payment.id] not in unmatched]
    if len(payments) != 1:
        raise ledger.LedgerError(f"Milestone {milestone.id} has {len(payments)} funding payments.")
    return payments[0]


def split(
    milestone: Milestone,
    contract: Contract,
    *,
    release_amount: int,
    refund_amount: int,
    kind: TransactionKind,
    reason: str,
) -> None:
    """Take the milestone's money out of escrow: `release_amount` to the provider (less the
    contract's fee, to platform revenue) and `refund_amount` back to the client; then queue
    the transfer and the refund."""
    assert release_amount + refund_amount == milestone.amount
    currency = milestone.currency
    share, fee = ledger.fee_split(
        release_amount, milestones.terms_value(contract, "platform_fee_bps")
    )
    postings.out_of_escrow(
        money_of(milestone),
        kind=kind,
        provider_profile_id=contract.provider_profile_id,
        client_profile_id=contract.client_profile_id,
        provider_share=share,
        fee=fee,
        refund=refund_amount,
        memo=reason,
    )
    milestone.released_amount, milestone.refunded_amount = release_amount, refund_amount
    milestone.auto_release_at = None
    payment = funding_payment(milestone)
    if share:
        transfer = Transfer(
            id=new_id(),  # known now: the outbox entry names it without a flush
            milestone_id=milestone.id,
            contract_id=contract.id,
            provider_profile_id=contract.provider_profile_id,
            payment=payment,
            amount=share,
            currency=currency,
        )
        db.session.add(transfer)
        outbox.enqueue("payments.transfer", {"transfer_id": str(transfer.id)})
    if refund_amount:
        queue_refund(payment, contract, amount=refund_amount, reason=reason)


def release(milestone: Milestone, contract: Contract, *, reason: str) -> None:
    """The whole milestone to the provider (less the fee)."""
    split(
        milestone,
        contract,
        release_amount=milestone.amount,
        refund_amount=0,
        kind=TransactionKind.RELEASE,
        reason=reason,
    )


def refund(milestone: Milestone, contract: Contract, *, reason: str) -> None:
    """The whole milestone back to the client."""
    split(
        milestone,
        contract,
        release_amount=0,
        refund_amount=milestone.amount,
        kind=TransactionKind.REFUND,
        reason=reason,
    )


def queue_refund(payment: Payment, contract: Contract, *, amount: int, reason: str) -> Refund:
    """Record money owed back on `payment` and queue the gateway refund."""
    record = Refund(
        id=new_id(),  # known now: the outbox entry names it without a flush
        milestone_id=payment.milestone_id,
        contract_id=contract.id,
        client_profile_id=contract.client_profile_id,
        payment=payment,
        amount=amount,
        currency=payment.currency,
        reason=reason[:200],
    )
    db.session.add(record)
    outbox.enqueue("payments.refund", {"refund_id": str(record.id)})
    return record


def _metadata(record: Transfer | Refund) -> dict[str, str]:
    return {
        "milestone_id": str(record.milestone_id),
        "contract_id": str(record.contract_id),
        f"{type(record).__name__.lower()}_id": str(record.id),
    }


def send_transfer(payload: dict[str, str]) -> None:
    """Make a pending transfer at the gateway and move it out of the provider's payable."""
    transfer, profile = db.session.execute(
        sa.select(Transfer, ProviderProfile)
        .join(ProviderProfile, ProviderProfile.id == Transfer.provider_profile_id)
        .where(Transfer.id == uuid.UUID(payload["transfer_id"]))
        .options(joinedload(Transfer.payment, innerjoin=True))
        .with_for_update(of=Transfer)
        .execution_options(populate_existing=True)
    ).one()
    if not TRANSFER_STATES.allows("pay", transfer.status):
        return  # already done by an earlier delivery
    if not (profile.stripe_account_id and profile.payouts_enabled):
        raise GatewayError("The provider's payout account is not enabled; retrying later.")
    result = gateway().transfer(
        account_id=profile.stripe_account_id,
        amount=transfer.amount,
        currency=transfer.currency,
        source_charge_id=transfer.payment.charge_id,
        transfer_group=transfer_group(transfer.contract_id),
        idempotency_key=f"transfer-{transfer.id}",
        metadata=_metadata(transfer),
    )
    TRANSFER_STATES.apply(transfer, "pay", actor_id=None, reason=f"transfer {result.id}")
    transfer.gateway_id, transfer.settled_at = result.id, utcnow()
    postings.payout(
        money_of(transfer),
        provider_profile_id=transfer.provider_profile_id,
        transfer_id=transfer.id,
        gateway=transfer.payment.gateway,
        amount=transfer.amount,
        memo=f"transfer {result.id}",
    )


def send_refund(payload: dict[str, str]) -> None:
    """Make a pending refund at the gateway; it settles now or when the gateway confirms."""
    record = lock_row(Refund, uuid.UUID(payload["refund_id"]))
    if not REFUND_STATES.allows("succeed", record.status) or record.gateway_id:
        return
    assert record.payment.gateway_id is not None
    result = gateway().refund(
        payment_id=record.payment.gateway_id,
        amount=record.amount,
        idempotency_key=f"refund-{record.id}",
        metadata=_metadata(record),
    )
    record.gateway_id = result.id
    if result.status == "succeeded":
        settle_refund(record)
    elif result.status == "failed":
        REFUND_STATES.apply(record, "fail", actor_id=None, reason=f"refund {result.id}")
        log.error("Refund %s failed at the gateway", record.id)


def settle_refund(record: Refund) -> None:
    """The gateway has refunded: move the money out of the client's payable (once)."""
    if not REFUND_STATES.allows("succeed", record.status):
        return
    REFUND_STATES.apply(record, "succeed", actor_id=None, reason=f"refund {record.gateway_id}")
    record.settled_at = utcnow()
    postings.refund_payout(
        money_of(record),
        client_profile_id=record.client_profile_id,
        refund_id=record.id,
        gateway=record.payment.gateway,
        amount=record.amount,
        memo=f"refund {record.gateway_id}",
    )
