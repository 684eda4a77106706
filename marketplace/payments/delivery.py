"""Work against escrowed money: submit, approve (release), request changes, auto-release."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.contracts import milestones
from marketplace.contracts.models import (
    ContractStatus,
    Milestone,
    MilestoneStatus,
    MilestoneSubmission,
)
from marketplace.database import commit_keeping_values, new_id, utcnow
from marketplace.extensions import db
from marketplace.files import services as file_services
from marketplace.files.models import FilePurpose
from marketplace.jobs.due import each_due
from marketplace.payments import settlement


def submit(
    *,
    user: User,
    milestone_id: uuid.UUID,
    note: str,
    deliverables: list[dict[str, Any]],
    files: Sequence[uuid.UUID] = (),
) -> Milestone:
    """The provider (any member of a firm) delivers a funded milestone for review, with
    the uploads it names attached (`files`)."""
    locked = milestones.lock_for(user, milestone_id)
    milestone, contract = locked.milestone, locked.contract
    side = locked.side
    milestones.allow(milestone, "submit", side=side)
    milestones.require_contract(contract, ContractStatus.ACTIVE, doing="submit work")
    milestones.move(milestone, "submit", side=side, actor=user)
    submission = MilestoneSubmission(
        id=new_id(),
        revision=len(milestone.submissions) + 1,
        note=note,
        deliverables=deliverables,
        submitted_by_id=user.id,
    )
    submission.files = file_services.attach(
        user=user, file_ids=files, purpose=FilePurpose.SUBMISSION, object_id=submission.id
    )
    milestone.submissions.append(submission)
    days = milestones.terms_value(contract, "auto_release_days")
    milestone.submitted_at = utcnow()
    milestone.auto_release_at = milestone.submitted_at + timedelta(days=days)
    milestones.tell(
        contract,
        milestone,
        to="client",
        email="milestone.submitted",
        auto_release_at=milestone.auto_release_at,
        note=note,
    )
    db.session.commit()
    return milestone


def approve(*, user: User, milestone_id: uuid.UUID) -> Milestone:
    """The client accepts the work: the money goes to the provider, less the fee."""
    locked = milestones.lock_for(user, milestone_id, settling=True)
    milestone, contract = locked.milestone, locked.contract
    with db.session.no_autoflush:  # the reads below never need these changes: one flush
        milestones.move(milestone, "approve", side=locked.committing_side(), actor=user)
        settlement.release(milestone, contract, reason="approved by the client")
        milestones.settle(locked, actor=user)
        milestones.tell(
            contract,
            milestone,
            to="provider",
            email="milestone.approved",
        )
    commit_keeping_values()  # the answer is built from these objects, not read back
    return milestone


def request_changes(*, user: User, milestone_id: uuid.UUID, reason: str) -> Milestone:
    """The client sends the work back with a reason; the auto-release clock stops."""
    locked = milestones.lock_for(user, milestone_id)
    milestone, contract = locked.milestone, locked.contract
    milestones.move(
        milestone,
        "request_changes",
        side=locked.committing_side(),
        actor=user,
        reason=reason,
    )
    milestone.revisions += 1
    milestone.auto_release_at = None
    milestones.tell(
        contract,
        milestone,
        to="provider",
        email="milestone.changes_requested",
        reason=reason,
    )
    db.session.commit()
    return milestone


def auto_release_due() -> int:
    """Release submitted milestones whose client has not answered in time. Returns how many."""
    return each_due(
        sa.select(Milestone.id).where(
            Milestone.status == MilestoneStatus.SUBMITTED, Milestone.auto_release_at <= utcnow()
        ),
        _auto_release,
    )


def _auto_release(milestone_id: uuid.UUID) -> bool:
    locked = milestones.lock(milestone_id, settling=True)
    milestone, contract = locked.milestone, locked.contract
    if milestone.status != MilestoneStatus.SUBMITTED or not (
        milestone.auto_release_at and milestone.auto_release_at <= utcnow()
    ):
        return False
    reason = "no answer from the client in time"
    milestones.move(milestone, "auto_release", side="system", actor=None, reason=reason)
    settlement.release(milestone, contract, reason=reason)
    milestones.settle(locked, actor=None)
    milestones.tell(
        contract,
        milestone,
        to="both",
        email="milestone.auto_released",
    )
    return True
