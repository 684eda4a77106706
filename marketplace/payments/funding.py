"""Funding a milestone: a payment at the gateway, escrowed only once the gateway confirms.

The sandbox confirms at once; Stripe confirms through the `payment_intent.succeeded`
webhook. Both end in `_succeeded`, the one code path that funds a milestone.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.accounts import verification
from marketplace.accounts.models import User
from marketplace.contracts import milestones
from marketplace.contracts.models import (
    ContractStatus,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
)
from marketplace.database import commit_keeping_values, lock_row, new_id, utcnow
from marketplace.errors import Conflict, PaymentFailed
from marketplace.extensions import db
from marketplace.inputs import Money
from marketplace.ledger import postings
from marketplace.payments import settlement
from marketplace.payments.gateways import gateway
from marketplace.payments.gateways.base import GatewayPayment, answered_in_the_api
from marketplace.payments.models import Payment, PaymentStatus, SavedPaymentMethod
from marketplace.payments.states import PAYMENT_STATES

log = logging.getLogger(__name__)


class PayoutsNotEnabled(Conflict):
    """The provider cannot receive money yet."""

    code = "payouts_not_enabled"


#: A payment started this recently holds its milestone's amount (amendments wait).
HOLD = timedelta(hours=1)


def payment_in_progress(milestone_id: uuid.UUID) -> bool:
    """Whether a payment of the milestone started within HOLD is still pending.

    An older one that succeeds after all is still safe: money for a milestone whose
    amount changed meanwhile is refunded (see `payment_succeeded`)."""
    return bool(
        db.session.scalar(
            sa.select(Payment.id).where(
                Payment.milestone_id == milestone_id,
                Payment.status == PaymentStatus.PENDING,
                Payment.created_at > utcnow() - HOLD,
            )
        )
    )


def _attempt(milestone: Milestone, user: User, payment_method: str | None) -> Payment:
    """The payment to ask the gateway for. A retry of the same way of paying reuses its
    latest pending payment (and the gateway's object); another way starts a new attempt;
    should both be paid, the second is refunded."""
    payments = list(
        db.session.scalars(
            sa.select(Payment)
            .where(Payment.milestone_id == milestone.id)
            .order_by(Payment.attempt.desc())
        )
    )
    for payment in payments:
        if payment.status == PaymentStatus.PENDING and payment.payment_method == payment_method:
            return payment
    payment = Payment(
        id=new_id(),
        status=PaymentStatus.PENDING,
        milestone_id=milestone.id,
        milestone=milestone,  # held for the answer, which shows it
        contract_id=milestone.contract_id,
        attempt=payments[0].attempt + 1 if payments else 1,
        gateway=gateway().name,
        amount=milestone.amount,
        currency=milestone.currency,
        payment_method=payment_method,
        created_by_id=user.id,
    )
    db.session.add(payment)
    return payment


def fund(*, user: User, milestone_id: uuid.UUID, payment_method: str | None = None) -> Payment:
    """The client pays a milestone into escrow; returns the payment (with the
    `client_secret` the frontend confirms it with, when the gateway needs that)."""
    verification.require_verified_email(user)
    locked = milestones.lock_for(user, milestone_id)
    milestone, contract = locked.milestone, locked.contract
    milestones.allow(milestone, "fund", side=locked.committing_side())
    milestones.require_contract(contract, ContractStatus.ACTIVE, doing="fund milestones")
    if not contract.provider_profile.receives_payouts:
        raise PayoutsNotEnabled(
            "The provider has not set up payouts yet, so the milestone cannot be funded: "
            "ask them to finish payout onboarding.",
        )
    payment = _attempt(milestone, user, payment_method)
    pay = gateway()
    if not pay.in_process:
        # Committed before the gateway is called: no lock is held over the network, and a
        # retry finds this payment and asks the gateway again with the same key. A gateway
        # that answers in-process (the sandbox) is asked inside the transaction instead:
        # the whole funding then commits at once, or nothing of it does.
        commit_keeping_values()
    result, declined = _create_at_gateway(
        payment,
        description=f"Milestone {milestone.position}: {milestone.title}",
        payment_method=payment_method,
    )
    if declined is not None:  # a declined card: recorded, told, and answered with 402
        _record_result(payment, result, locked if pay.in_process else None)
        db.session.commit()
        raise declined
    _record_result(payment, result, locked if pay.in_process else None)
    commit_keeping_values()  # the answer is built from these objects, not read back
    if not pay.in_process:
        # Recording the result read the payment afresh, which let go of its milestone: read
        # the milestone again with what its answer names (the task, both parties) in one
        # statement, rather than a relation at a time while the answer is dumped.
        answer = db.session.execute(
            sa.select(Milestone)
            .where(Milestone.id == milestone.id)
            .options(*milestones.summary_options())
            .execution_options(populate_existing=True)
        ).scalar_one()
        set_committed_value(payment, "milestone", answer)
    return payment


def charge_saved_card(
    *, milestone_id: uuid.UUID, method: SavedPaymentMethod, description: str
) -> Payment:
    """Charge a pending milestone the marketplace funds itself (an hourly invoice's hours,
    a bonus) to the client's saved card, off-session. A retry of the same card reuses its
    pending payment, so the gateway sees the same idempotency key; a decline is recorded
    (the client is told) and returned as a failed payment, never raised. Commits."""
    locked = milestones.lock(milestone_id)
    milestone = locked.milestone
    user = db.session.get(User, method.saved_by_id)
    assert user is not None and method.payment_method
    payment = _attempt(milestone, user, method.payment_method)
    pay = gateway()
    if not pay.in_process:
        commit_keeping_values()
    result, _ = _create_at_gateway(
        payment,
        description=description,
        payment_method=method.payment_method,
        customer=method.customer_id,
        off_session=True,
    )
    _record_result(payment, result, locked if pay.in_process else None)
    db.session.commit()
    return payment


def _create_at_gateway(
    payment: Payment, *, description: str, payment_method: str | None, **extra: Any
) -> tuple[GatewayPayment, PaymentFailed | None]:
    """Ask the gateway for the payment (its idempotency key made of our id), with what it
    is for in its metadata. A declined card comes back as a failed result with the error;
    an outage or a refusal is raised (503, 502), nothing having been charged."""
    try:
        with answered_in_the_api(f"payment {payment.id}", nothing_done="nothing was charged"):
            result = gateway().create_payment(
                amount=payment.amount,
                currency=payment.currency,
                idempotency_key=f"payment-{payment.id}",
                transfer_group=settlement.transfer_group(payment.contract_id),
                description=description[:200],
                metadata={
                    "payment_id": str(payment.id),
                    "milestone_id": str(payment.milestone_id),
                    "contract_id": str(payment.contract_id),
                },
                payment_method=payment_method,
                **extra,
            )
    except PaymentFailed as exc:
        failed = GatewayPayment(
            id=exc.details.get("payment_intent") or payment.gateway_id or "",
            status="failed",
            failure_code=exc.details.get("decline_code"),
            failure_message=exc.message,
        )
        return failed, exc
    return result, None


def _record_result(
    payment: Payment, result: GatewayPayment, locked: milestones.Locked | None
) -> None:
    """Store what the gateway said about a payment we started, and act on it. `locked` is
    the milestone still locked by the transaction that asked, or None when that committed
    before the call: the payment is then locked and read afresh (its webhook may have been
    applied meanwhile), and the milestone is locked only if the answer moves it."""
    if locked is None:
        payment = lock_row(Payment, payment.id)
    payment.gateway_id = result.id or payment.gateway_id
    payment.client_secret = result.client_secret or payment.client_secret
    payment.charge_id = result.charge_id or payment.charge_id
    # Stripe's answer to the request is not proof of payment: only its signed webhook is.
    confirmed = result.status == "succeeded" and not gateway().confirms_by_webhook
    if confirmed and PAYMENT_STATES.allows("succeed", payment.status):
        _succeeded(payment, locked or milestones.lock(payment.milestone_id), result.charge_id)
    elif result.status == "failed" and PAYMENT_STATES.allows("fail", payment.status):
        _failed(
            payment,
            locked or milestones.lock(payment.milestone_id),
            code=result.failure_code,
            message=result.failure_message,
        )


def find_payment(
    *, gateway_id: str | None = None, charge_id: str | None = None, payment_id: str | None = None
) -> Payment | None:
    """The payment a gateway event is about, locked: by the gateway's id, its charge's id,
    or our own (which we put in the gateway object's metadata). Stripe may send its webhook
    before `fund` has stored the intent's id, so our id is tried too. Ids not given never
    match (a payment whose charge is not known yet is not "the payment of no charge")."""
    conditions = []
    if gateway_id:
        conditions.append(Payment.gateway_id == gateway_id)
    if charge_id:
        conditions.append(Payment.charge_id == charge_id)
    if payment_id:
        try:
            conditions.append(Payment.id == uuid.UUID(payment_id))
        except ValueError:
            log.warning("Gateway event names a malformed payment id %r", payment_id)
    if not conditions:
        return None
    found = db.session.scalar(sa.select(Payment.id).where(sa.or_(*conditions)).limit(1))
    return None if found is None else lock_row(Payment, found)


def payment_succeeded(
    *, gateway_id: str | None, charge_id: str | None, payment_id: str | None = None
) -> Payment | None:
    """The gateway confirmed a payment: fund its milestone (once, whatever the retries).
    Runs in the caller's transaction (a webhook event's), which commits it."""
    payment = find_payment(gateway_id=gateway_id, payment_id=payment_id)
    if payment is None:
        log.warning("Confirmation for unknown payment %s", gateway_id or payment_id)
        return None
    if PAYMENT_STATES.allows("succeed", payment.status):  # else a redelivery
        payment.gateway_id = payment.gateway_id or gateway_id
        _succeeded(payment, milestones.lock(payment.milestone_id), charge_id)
    return payment


def _succeeded(payment: Payment, locked: milestones.Locked, charge_id: str | None) -> None:
    """Fund the locked milestone with the payment. Money for a milestone that no longer
    needs it (cancelled meanwhile, or funded by another payment) is owed back to the client
    and refunded."""
    milestone, contract = locked.milestone, locked.contract
    PAYMENT_STATES.apply(payment, "succeed", actor_id=None, reason="confirmed by the gateway")
    payment.settled_at = utcnow()
    payment.charge_id = charge_id or payment.charge_id
    payment.failure_code = payment.failure_message = None
    if milestone.status == MilestoneStatus.PENDING and payment.amount == milestone.amount:
        milestones.move(
            milestone,
            "fund",
            side="client" if milestone.kind == MilestoneKind.WORK else "system",
            actor=db.session.get(User, payment.created_by_id),
        )
        milestone.funded_at = utcnow()
        postings.funding(
            settlement.money_of(payment),
            gateway=payment.gateway,
            amount=payment.amount,
            memo=f"payment {payment.gateway_id}",
        )
        if milestone.kind == MilestoneKind.WORK:  # an invoice or a bonus tells its own news
            milestones.tell(contract, milestone, to="both", email="milestone.funded")
    else:
        postings.unmatched_payment(
            settlement.money_of(payment),
            client_profile_id=contract.client_profile_id,
            payment_id=payment.id,
            gateway=payment.gateway,
            amount=payment.amount,
            memo=f"payment {payment.gateway_id} for a milestone that is {milestone.status.value}",
        )
        settlement.queue_refund(
            payment, contract, amount=payment.amount, reason="the milestone no longer needs it"
        )
        milestones.tell(
            contract,
            milestone,
            to="client",
            email="payment.refunded",
            payment=Money(payment.amount, payment.currency),
        )


def payment_failed(
    *,
    gateway_id: str | None,
    code: str | None,
    message: str | None,
    payment_id: str | None = None,
) -> Payment | None:
    """The gateway could not take the payment: record why and tell the client. A failure
    reported after a success (out-of-order delivery) changes nothing. Runs in the caller's
    transaction."""
    payment = find_payment(gateway_id=gateway_id, payment_id=payment_id)
    if payment is None or not PAYMENT_STATES.allows("fail", payment.status):
        return payment
    payment.gateway_id = payment.gateway_id or gateway_id
    _failed(payment, milestones.lock(payment.milestone_id), code=code, message=message)
    return payment


def _failed(
    payment: Payment, locked: milestones.Locked, *, code: str | None, message: str | None
) -> None:
    """Record why the payment failed and tell the client."""
    PAYMENT_STATES.apply(payment, "fail", actor_id=None, reason=code or "declined")
    payment.settled_at = utcnow()
    payment.failure_code, payment.failure_message = code, (message or "")[:2000] or None
    if locked.milestone.kind != MilestoneKind.WORK:
        return  # an invoice or a bonus tells its own news
    milestones.tell(
        locked.contract,
        locked.milestone,
        to="client",
        email="payment.failed",
        reason=message or (code or "declined").replace("_", " "),
    )
