"""A milestone's money history: its payments, its refund request and its dispute."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.contracts import milestones
from marketplace.contracts.models import Milestone
from marketplace.extensions import db
from marketplace.payments.models import Dispute, Payment, RefundRequest


class MilestoneView:
    """A milestone with what its detail page shows beside it (for MilestoneDetailSchema)."""

    def __init__(self, milestone: Milestone) -> None:
        self._milestone = milestone
        self.payments = list(
            db.session.scalars(
                sa.select(Payment)
                .where(Payment.milestone_id == milestone.id)
                .order_by(Payment.attempt)
            )
        )
        self.refund_request = db.session.scalar(
            sa.select(RefundRequest)
            .where(RefundRequest.milestone_id == milestone.id)
            .order_by(RefundRequest.created_at.desc())
            .limit(1)
        )
        self.dispute = db.session.scalar(
            sa.select(Dispute)
            .where(Dispute.milestone_id == milestone.id)
            .order_by(Dispute.created_at.desc())
            .limit(1)
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self._milestone, name)


def detail(*, user: User, milestone_id: uuid.UUID) -> MilestoneView:
    """A milestone with its history, for its contract's parties and admins."""
    return MilestoneView(milestones.get_for(user, milestone_id))
