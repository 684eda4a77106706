"""Disputes: either party freezes a milestone's money; an admin settles it with a split."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.contracts import milestones
from marketplace.contracts import services as contracts
from marketplace.contracts.models import Contract, Milestone
from marketplace.database import lock_row, new_id, utcnow
from marketplace.errors import BusinessRuleViolation, NotFound
from marketplace.extensions import db
from marketplace.files import services as file_services
from marketplace.files.models import FilePurpose
from marketplace.inputs import Money
from marketplace.ledger.models import TransactionKind
from marketplace.payments import refunds, settlement
from marketplace.payments.models import Dispute, DisputeStatus
from marketplace.payments.states import DISPUTE_STATES, REFUND_REQUEST_STATES
from marketplace.profiles import services as profiles
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks import services as tasks


def _open(
    locked: milestones.Locked,
    *,
    side: str,
    actor: User | None,
    reason: str,
    moved_by: str | None = None,
) -> Dispute:
    milestone = locked.milestone
    was = milestone.status
    milestones.move(milestone, "dispute", side=moved_by or side, actor=actor, reason=reason)
    milestone.auto_release_at = None
    request = refunds.open_request(milestone.id)
    if request is not None:
        REFUND_REQUEST_STATES.apply(
            request, "dispute", actor_id=actor.id if actor else None, reason=reason
        )
    dispute = Dispute(
        id=new_id(),
        milestone=milestone,
        contract_id=locked.contract.id,
        raised_by_id=actor.id if actor else None,
        side=side,
        reason=reason,
        milestone_status=was,
    )
    db.session.add(dispute)
    return dispute


def open_dispute(
    *, user: User, milestone_id: uuid.UUID, reason: str, files: Sequence[uuid.UUID] = ()
) -> Dispute:
    """A party disputes a funded, submitted, sent-back or refund-requested milestone:
    auto-release and refunds stop until an admin resolves it. The uploads `files` name
    are its evidence."""
    locked = milestones.lock_for(user, milestone_id)
    side = locked.committing_side()
    dispute = _open(locked, side=side, actor=user, reason=reason)
    dispute.files = file_services.attach(
        user=user, file_ids=files, purpose=FilePurpose.EVIDENCE, object_id=dispute.id
    )
    other = "provider" if side == "client" else "client"
    for to in (other, "admins"):
        milestones.tell(
            locked.contract,
            locked.milestone,
            to=to,
            email="milestone.disputed",
            side=side,
            reason=reason,
        )
    db.session.commit()
    return dispute


def freeze(locked: milestones.Locked, *, reason: str) -> Dispute:
    """The marketplace itself disputes a milestone (a chargeback, money held too long):
    it waits for an admin. Runs in the caller's transaction."""
    dispute = _open(locked, side="system", actor=None, reason=reason)
    milestones.tell(
        locked.contract,
        locked.milestone,
        to="both",
        email="milestone.frozen",
        reason=reason,
    )
    return dispute


def hold_for_client(locked: milestones.Locked, *, client: User, reason: str) -> Dispute:
    """The disputed part of an hourly invoice, now paid, waits in escrow for an admin's
    split: a dispute the client raised in the invoice's review window. The provider and the
    admins are told. Runs in the caller's transaction."""
    dispute = _open(locked, side="client", actor=client, reason=reason, moved_by="system")
    for to in ("provider", "admins"):
        milestones.tell(
            locked.contract,
            locked.milestone,
            to=to,
            email="milestone.disputed",
            side="client",
            reason=reason,
        )
    return dispute


def summary_options() -> tuple[ORMOption, ...]:
    """What `DisputeSchema` shows of a dispute besides its row, to load with it in one
    statement: its milestone (title, amount), and the milestone's contract with the task
    (named) and both parties with their names."""
    return (
        joinedload(Dispute.milestone, innerjoin=True)
        .joinedload(Milestone.contract, innerjoin=True)
        .options(
            joinedload(Contract.task, innerjoin=True).options(*tasks.summary_options()),
            joinedload(Contract.client_profile, innerjoin=True).options(
                *profiles.party_options(ClientProfile)
            ),
            joinedload(Contract.provider_profile, innerjoin=True).options(
                *profiles.party_options(ProviderProfile)
            ),
        ),
    )


def get_dispute(*, user: User, dispute_id: uuid.UUID) -> Dispute:
    """A dispute, for admins and the parties of its contract."""
    dispute = db.session.scalar(
        sa.select(Dispute).where(Dispute.id == dispute_id).options(*summary_options())
    )
    if dispute is None or not (
        user.is_admin or contracts.side_of(user, dispute.milestone.contract)
    ):
        raise NotFound("Dispute not found.")
    return dispute


def disputes_query(*, status: DisputeStatus | None = None) -> sa.Select[Dispute]:
    """The admins' queue: oldest first, so nobody waits longest."""
    stmt = sa.select(Dispute).order_by(Dispute.created_at, Dispute.id).options(*summary_options())
    return stmt.where(Dispute.status == status) if status else stmt


def resolve(
    *,
    admin: User,
    dispute_id: uuid.UUID,
    release_amount: Money,
    refund_amount: Money,
    note: str,
) -> Dispute:
    """Settle a dispute: `release_amount` to the provider (less the fee) and
    `refund_amount` to the client, in the milestone's currency and adding up to its amount."""
    milestone_id = db.session.scalar(
        sa.select(Dispute.milestone_id).where(Dispute.id == dispute_id)
    )
    if milestone_id is None:
        raise NotFound("Dispute not found.")
    locked = milestones.lock(milestone_id, settling=True)
    milestone, contract = locked.milestone, locked.contract
    dispute = lock_row(Dispute, dispute_id)
    milestones.allow(milestone, "resolve", side=milestones.committing_side(admin, contract))
    foreign = {
        name: {"currency": [f"Must be {milestone.currency}, the milestone's currency."]}
        for name, money in (("release_amount", release_amount), ("refund_amount", refund_amount))
        if money.currency != milestone.currency
    }
    if foreign:
        raise BusinessRuleViolation(
            "The split must be in the milestone's currency.", details=foreign
        )
    release, refund = release_amount.amount, refund_amount.amount
    if release + refund != milestone.amount:
        raise BusinessRuleViolation(
            "The release and the refund must add up to the milestone's amount.",
            details={"_schema": [f"release_amount + refund_amount must be {milestone.amount}."]},
        )
    milestones.move(milestone, "resolve", side="admin", actor=admin, reason=note)
    DISPUTE_STATES.apply(dispute, "resolve", actor_id=admin.id, reason=note)
    dispute.resolution_note = note
    dispute.release_amount, dispute.refund_amount = release, refund
    dispute.resolved_by_id, dispute.resolved_at = admin.id, utcnow()
    settlement.split(
        milestone,
        contract,
        release_amount=release,
        refund_amount=refund,
        kind=TransactionKind.RESOLUTION,
        reason=f"dispute resolved: {note}"[:500],
    )
    milestones.settle(locked, actor=admin)
    audit.record(
        actor=admin,
        action="dispute.resolve",
        target_type="dispute",
        target_id=dispute.id,
        details={
            "milestone_id": str(milestone.id),
            "release_amount": release,
            "refund_amount": refund,
            "currency": milestone.currency,
            "note": note,
        },
    )
    milestones.tell(
        contract,
        milestone,
        to="both",
        email="milestone.resolved",
        released=release_amount,
        refunded=refund_amount,
        note=note,
    )
    db.session.commit()
    return dispute
