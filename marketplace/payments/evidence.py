"""The parties' evidence on a dispute: either side adds statements and files until the
deadline (DISPUTE_EVIDENCE_DAYS after the opening), and both sides and admins read it all."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from marketplace.accounts.models import User
from marketplace.contracts import milestones
from marketplace.contracts import services as contracts
from marketplace.database import lock_row, new_id, utcnow
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden
from marketplace.extensions import db
from marketplace.files import services as file_services
from marketplace.files.models import FilePurpose
from marketplace.payments.disputes import get_dispute
from marketplace.payments.models import Dispute, DisputeEvidence
from marketplace.payments.states import DISPUTE_STATES


def evidence_due_at(dispute: Dispute) -> datetime:
    """Until when the parties may add evidence: DISPUTE_EVIDENCE_DAYS after the opening."""
    return dispute.created_at + timedelta(days=current_app.config["DISPUTE_EVIDENCE_DAYS"])


def evidence_of(dispute: Dispute) -> list[DisputeEvidence]:
    """The dispute's evidence from both parties, oldest first, with its authors."""
    return list(
        db.session.scalars(
            sa.select(DisputeEvidence)
            .where(DisputeEvidence.dispute_id == dispute.id)
            .order_by(DisputeEvidence.created_at, DisputeEvidence.id)
            .options(joinedload(DisputeEvidence.author))
        )
    )


class DisputeView:
    """A dispute with the parties' evidence and its deadline (for DisputeDetailSchema)."""

    def __init__(self, dispute: Dispute) -> None:
        self._dispute = dispute
        self.evidence = evidence_of(dispute)
        self.evidence_due_at = evidence_due_at(dispute)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dispute, name)


def detail(*, user: User, dispute_id: uuid.UUID) -> DisputeView:
    """A dispute with both parties' evidence and its deadline, for its contract's parties
    and admins; anyone else gets NotFound."""
    return DisputeView(get_dispute(user=user, dispute_id=dispute_id))


def add_evidence(
    *, user: User, dispute_id: uuid.UUID, text: str, files: Sequence[uuid.UUID] = ()
) -> DisputeEvidence:
    """A party (anyone acting for either side) adds a statement and the uploads `files`
    names (purpose `evidence`) to an open dispute before its deadline; the other side is
    told. Outsiders get NotFound, admins a 403; a resolved dispute or a passed deadline is
    a 409, a blank text or a file that is not the user's unattached evidence upload a 422."""
    dispute = get_dispute(user=user, dispute_id=dispute_id)
    contract = dispute.milestone.contract
    side = contracts.side_of(user, contract)
    if side is None:  # an admin: they settle disputes, they take no side in them
        raise Forbidden("Only the contract's parties add evidence.")
    text = text.strip()
    if not text:
        raise BusinessRuleViolation(
            "The evidence is empty.", details={"text": ["Must not be blank."]}
        )
    dispute = lock_row(Dispute, dispute.id)  # against a resolution landing meanwhile
    DISPUTE_STATES.check("add_evidence", dispute.status)
    due = evidence_due_at(dispute)
    if utcnow() > due:
        raise Conflict(
            "The time for evidence on this dispute is over.",
            details={"evidence_due_at": due.isoformat()},
        )
    item = DisputeEvidence(id=new_id(), dispute_id=dispute.id, author=user, side=side, text=text)
    item.files = file_services.attach(
        user=user, file_ids=files, purpose=FilePurpose.EVIDENCE, object_id=item.id
    )
    db.session.add(item)
    milestones.tell(
        contract,
        dispute.milestone,
        to="provider" if side == "client" else "client",
        email="dispute.evidence",
        side=side,
        evidence_due_at=due,
    )
    db.session.commit()
    return item
