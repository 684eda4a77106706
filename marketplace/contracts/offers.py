"""Contract offers: declined by the provider, expired in time, or withdrawn with their task."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.bids import services as bids
from marketplace.contracts.models import (
    Contract,
    ContractStatus,
)
from marketplace.contracts.services import (
    MODERATORS,
    get_contract,
    moderation_reason,
    record_moderation,
    require_side,
    tell,
    transition,
)
from marketplace.database import lock_row, utcnow
from marketplace.extensions import db
from marketplace.jobs.due import each_due
from marketplace.notifications.services import Recipients
from marketplace.tasks.models import Task


def provider_people(contract: Contract) -> Recipients:
    """The provider's side of an offer: its people, and the author of the bid it came from."""
    return (
        bids.bidder_people(contract.bid) if contract.bid is not None else contract.provider_profile
    )


def end_offer(contract: Contract, action: str, *, actor: User | None, reason: str) -> None:
    """Decline or expire an offer; its bid is closed, so the provider may bid again."""
    transition(contract, action, actor=actor, reason=reason)
    contract.ended_at = utcnow()
    if contract.bid is not None:
        bids.transition(contract.bid, "close_offer", actor=actor, reason=reason)


def decline_offer(*, user: User, contract_id: uuid.UUID, reason: str | None) -> Contract:
    """The provider declines the offer; the position is free again."""
    contract = get_contract(user=user, contract_id=contract_id, lock=True)
    require_side(user, contract, "provider")
    end_offer(contract, "decline", actor=user, reason=reason or "declined by the provider")
    tell(contract.client_profile, contract, "contract.declined", reason=reason)
    db.session.commit()
    return contract


def withdraw_for_moderation(*, admin: User, contract_id: uuid.UUID, reason: str) -> Contract:
    """An admin withdraws an open offer (one of its parties is suspended, say): it ends as
    expired, its bid is closed, the audit log has it and both parties are told why. A blank
    reason is a 422, a contract that is no longer an offer a 409."""
    reason = moderation_reason(admin, reason)
    contract = get_contract(user=admin, contract_id=contract_id, lock=True)
    end_offer(contract, "expire", actor=admin, reason=f"withdrawn by the {MODERATORS}: {reason}")
    record_moderation(admin, contract, "withdraw_offer", reason)
    for people in (contract.client_profile, provider_people(contract)):
        tell(people, contract, "contract.withdrawn", reason=reason)
    db.session.commit()
    return contract


def expire_offers() -> int:
    """Expire offers past their date; both parties are told. Returns how many."""
    return each_due(
        sa.select(Contract.id).where(
            Contract.status == ContractStatus.OFFERED, Contract.offer_expires_at <= utcnow()
        ),
        _expire_offer,
    )


def _expire_offer(contract_id: uuid.UUID) -> bool:
    contract = lock_row(Contract, contract_id)
    if contract.status != ContractStatus.OFFERED:
        return False
    end_offer(contract, "expire", actor=None, reason="not accepted in time")
    for people in (contract.client_profile, provider_people(contract)):
        tell(people, contract, "contract.expired")
    return True


def close_offers_of(task: Task, *, reason: str) -> None:
    """A cancelled or expired task takes its open offers with it; both sides are told."""
    for contract in db.session.scalars(
        sa.select(Contract)
        .where(Contract.task_id == task.id, Contract.status == ContractStatus.OFFERED)
        .with_for_update()
    ):
        end_offer(contract, "expire", actor=None, reason=reason)
        for people in (contract.client_profile, provider_people(contract)):
            tell(people, contract, "contract.withdrawn", reason=reason)
