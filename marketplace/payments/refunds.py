"""Refund requests: the client asks to cancel a funded milestone, the provider approves
or disputes, and with no answer in time the refund goes ahead."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from marketplace.accounts.models import User
from marketplace.contracts import milestones
from marketplace.contracts.models import Contract, Milestone, MilestoneKind, MilestoneStatus
from marketplace.contracts.states import MILESTONE_STATES
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.jobs.due import each_due
from marketplace.payments import settlement
from marketplace.payments.models import RefundRequest, RequestStatus
from marketplace.payments.states import REFUND_REQUEST_STATES


def open_request(milestone_id: uuid.UUID) -> RefundRequest | None:
    """The milestone's refund request waiting for the provider's answer, if any."""
    return db.session.scalar(
        sa.select(RefundRequest).where(
            RefundRequest.milestone_id == milestone_id, RefundRequest.status == RequestStatus.OPEN
        )
    )


def _open_request(
    milestone: Milestone, contract: Contract, *, actor: User | None, side: str, reason: str
) -> RefundRequest:
    milestones.move(milestone, "request_refund", side=side, actor=actor, reason=reason)
    days = current_app.config["REFUND_REQUEST_DAYS"]
    request = RefundRequest(
        milestone=milestone,
        requested_by_id=actor.id if actor else None,
        reason=reason,
        expires_at=utcnow() + timedelta(days=days),
    )
    db.session.add(request)
    milestones.tell(
        contract,
        milestone,
        to="provider",
        email="milestone.refund_requested",
        reason=reason,
        answer_by=request.expires_at,
    )
    return request


def request_refund(*, user: User, milestone_id: uuid.UUID, reason: str) -> RefundRequest:
    """The client asks to cancel a funded milestone that is not submitted."""
    locked = milestones.lock_for(user, milestone_id)
    request = _open_request(
        locked.milestone,
        locked.contract,
        actor=user,
        side=locked.committing_side(),
        reason=reason,
    )
    db.session.commit()
    return request


def raise_for_termination(contract: Contract, *, actor: User, reason: str) -> int:
    """A terminated contract asks for its funded, unsubmitted milestones back (the provider
    may still dispute each). Runs in the termination's transaction; returns how many."""
    count = 0
    for milestone in contract.milestones:
        if milestone.kind == MilestoneKind.WORK and MILESTONE_STATES.allows(
            "request_refund", milestone.status
        ):
            locked = milestones.lock(milestone.id)
            _open_request(
                locked.milestone,
                contract,
                actor=actor,
                side="system",
                reason=f"The contract was terminated: {reason}",
            )
            count += 1
    return count


def _refund(
    locked: milestones.Locked,
    request: RefundRequest,
    *,
    actor: User | None,
    side: str,
    answer: str,
) -> None:
    milestone, contract = locked.milestone, locked.contract
    reason = "refund approved by the provider" if actor else "no answer to the refund request"
    milestones.move(milestone, "refund", side=side, actor=actor, reason=reason)
    actor_id = actor.id if actor else None
    REFUND_REQUEST_STATES.apply(request, answer, actor_id=actor_id, reason=reason)
    request.answered_at, request.answered_by_id = utcnow(), actor_id
    settlement.refund(milestone, contract, reason=reason)
    milestones.settle(locked, actor=actor)
    milestones.tell(
        contract,
        milestone,
        to="both",
        email="milestone.refunded",
        reason=reason,
    )


def approve_refund(*, user: User, milestone_id: uuid.UUID) -> Milestone:
    """The provider agrees: the milestone's money goes back to the client."""
    locked = milestones.lock_for(user, milestone_id, settling=True)
    side = locked.committing_side()
    milestones.allow(locked.milestone, "refund", side=side)
    request = open_request(locked.milestone.id)
    assert request is not None  # refund_requested always has its open request
    _refund(
        locked,
        request,
        actor=user,
        side=side,
        answer="approve",
    )
    db.session.commit()
    return locked.milestone


def lapse_due() -> int:
    """Refund the milestones whose provider did not answer in time. Returns how many."""
    return each_due(
        sa.select(RefundRequest.milestone_id).where(
            RefundRequest.status == RequestStatus.OPEN, RefundRequest.expires_at <= utcnow()
        ),
        _lapse,
    )


def _lapse(milestone_id: uuid.UUID) -> bool:
    locked = milestones.lock(milestone_id, settling=True)
    request = open_request(milestone_id)
    if (
        request is None
        or request.expires_at > utcnow()
        or locked.milestone.status != MilestoneStatus.REFUND_REQUESTED
    ):
        return False
    _refund(
        locked,
        request,
        actor=None,
        side="system",
        answer="lapse",
    )
    return True
