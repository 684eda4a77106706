"""The escrow age guard: Stripe holds platform funds for about 90 days, so money must not
sit in escrow that long. The clock is the funding date, which is what Stripe counts."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from marketplace.contracts import milestones
from marketplace.contracts.models import Milestone
from marketplace.contracts.states import MILESTONE_STATES
from marketplace.database import utcnow
from marketplace.jobs.due import each_due
from marketplace.payments import disputes

#: Money in escrow that nobody has frozen yet: the states a dispute (or a review) starts from.
WAITING = MILESTONE_STATES.sources("dispute")


def _due(*conditions: sa.ColumnElement[bool]) -> sa.Select[uuid.UUID]:
    return sa.select(Milestone.id).where(Milestone.status.in_(WAITING), *conditions)


def guard() -> dict[str, int]:
    """Warn both parties and the admins about milestones funded ESCROW_WARN_DAYS ago, and
    send those funded ESCROW_REVIEW_DAYS ago to the admins' dispute queue."""
    config, now = current_app.config, utcnow()
    review_before = now - timedelta(days=config["ESCROW_REVIEW_DAYS"])
    warn_before = now - timedelta(days=config["ESCROW_WARN_DAYS"])
    reviewed = each_due(_due(Milestone.funded_at <= review_before), _send_to_review)
    warned = each_due(
        _due(Milestone.funded_at <= warn_before, Milestone.escrow_warned_at.is_(None)),
        lambda milestone_id: _warn(milestone_id, now),
    )
    return {"warned": warned, "reviewed": reviewed}


def _send_to_review(milestone_id: uuid.UUID) -> bool:
    locked = milestones.lock(milestone_id)
    if locked.milestone.status not in WAITING:
        return False
    days = current_app.config["ESCROW_REVIEW_DAYS"]
    disputes.freeze(
        locked,
        reason=f"The money has been in escrow for {days} days; an admin settles it "
        "before the payment provider's holding limit.",
    )
    return True


def _warn(milestone_id: uuid.UUID, now: datetime) -> bool:
    locked = milestones.lock(milestone_id)
    if locked.milestone.status not in WAITING or locked.milestone.escrow_warned_at is not None:
        return False
    config = current_app.config
    locked.milestone.escrow_warned_at = now
    for to in ("both", "admins"):
        milestones.tell(
            locked.contract,
            locked.milestone,
            to=to,
            email="milestone.escrow_aging",
            funded_at=locked.milestone.funded_at,
            review_days=config["ESCROW_REVIEW_DAYS"],
        )
    return True
