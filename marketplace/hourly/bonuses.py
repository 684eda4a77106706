"""Bonuses: a one-off amount the client pays the provider (for hours over the weekly limit,
say), charged to the saved card and released at once through the ledger: external ->
escrow -> the provider's payable less the fee."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from marketplace.accounts import verification
from marketplace.accounts.models import User
from marketplace.contracts import milestones
from marketplace.contracts import services as contracts
from marketplace.contracts.models import Milestone, MilestoneKind, MilestoneStatus
from marketplace.contracts.states import RUNNING
from marketplace.database import new_id
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, PaymentFailed
from marketplace.extensions import db
from marketplace.inputs import Money
from marketplace.jobs.due import each_due
from marketplace.payments import funding, methods, settlement
from marketplace.payments.gateways.base import GatewayRefused, GatewayUnavailable
from marketplace.payments.models import PaymentStatus


def pay(*, user: User, contract_id: uuid.UUID, amount: Money, reason: str) -> Milestone:
    """The client pays a bonus on a running contract: charged to the saved card, released to
    the provider as soon as the gateway confirms it (at once in the sandbox). A declined
    card is a 402 and leaves the bonus unpaid (its milestone is cancelled)."""
    verification.require_verified_email(user)
    contract = contracts.get_contract(user=user, contract_id=contract_id, lock=True)
    if contracts.signing_side(user, contract) != "client":
        raise Forbidden("Only the client pays a bonus.")
    if contract.status not in RUNNING:
        raise Conflict(
            f"A bonus is paid on a running contract; this one is {contract.status.value}.",
            details={"contract_status": contract.status.value},
        )
    currency = contract.current_terms.content["price"]["currency"]
    if amount.currency != currency:
        raise BusinessRuleViolation(
            "A bonus is paid in the contract's currency.",
            details={"amount": {"currency": [f"Must be {currency}."]}},
        )
    method = methods.require_ready(contract.client_profile_id)
    position = milestones.next_position(contract.id)
    bonus = Milestone(
        id=new_id(),
        contract_id=contract.id,
        kind=MilestoneKind.BONUS,
        position=position,
        title="Bonus",
        description=reason,
        amount=amount.amount,
        currency=currency,
    )
    db.session.add(bonus)
    db.session.commit()
    try:
        payment = funding.charge_saved_card(
            milestone_id=bonus.id, method=method, description=f"Bonus ({contract.id})"
        )
    except (GatewayUnavailable, GatewayRefused):
        # Not asked again: the client is told to retry. Should the gateway have charged
        # after all, the money arrives for a cancelled bonus and is refunded.
        db.session.rollback()
        _cancel(bonus.id, reason="the payment provider did not answer")
        raise
    if payment.status == PaymentStatus.FAILED:
        _cancel(bonus.id, reason="the card was declined")
        raise PaymentFailed(
            f"The card was declined: {payment.failure_message or payment.failure_code}.",
            details={"decline_code": payment.failure_code},
        )
    release(bonus.id)
    db.session.commit()
    return db.session.get(Milestone, bonus.id)  # type: ignore[return-value]


def _cancel(bonus_id: uuid.UUID, *, reason: str) -> None:
    locked = milestones.lock(bonus_id)
    milestones.move(locked.milestone, "cancel", side="system", actor=None, reason=reason)
    db.session.commit()


def release(milestone_id: uuid.UUID) -> bool:
    """A funded bonus goes to the provider at once, less the fee; they are told."""
    locked = milestones.lock(milestone_id)
    bonus, contract = locked.milestone, locked.contract
    if bonus.kind != MilestoneKind.BONUS or bonus.status != MilestoneStatus.FUNDED:
        return False
    milestones.move(bonus, "release", side="system", actor=None, reason="bonus")
    settlement.release(bonus, contract, reason=f"bonus: {bonus.description}"[:500])
    contracts.tell(
        contract.provider_profile,
        contract,
        "bonus.paid",
        amount=Money(bonus.amount, bonus.currency),
        client=contract.client_profile.display_name,
        reason=bonus.description,
    )
    return True


def release_funded() -> int:
    """Release the bonuses Stripe confirmed by webhook since they were asked for."""
    return each_due(
        sa.select(Milestone.id).where(
            Milestone.kind == MilestoneKind.BONUS, Milestone.status == MilestoneStatus.FUNDED
        ),
        release,
    )
