"""Flows that end a task: cancelling (by its client or a moderator) or expiring it closes
its bids and offers too."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.bids import services as bids
from marketplace.contracts import offers
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.jobs.due import each_due
from marketplace.tasks import lifecycle
from marketplace.tasks.models import Task, TaskStatus
from marketplace.tasks.services import locked_task, owned_task, transition


def cancel_task(*, user: User, task_id: uuid.UUID, reason: str | None) -> Task:
    """The client withdraws the task; its live bids expire and its open offers close."""
    task = owned_task(user=user, task_id=task_id, lock=True)
    transition(task, "cancel", actor=user, reason=reason)
    _close_bids_and_offers(task, "the task was cancelled")
    db.session.commit()
    return task


def cancel_for_moderation(*, admin: User, task_id: uuid.UUID, reason: str) -> Task:
    """A moderator cancels a task that breaks the rules, in the caller's transaction (not
    committed): its live bids expire, its open offers close, and its client is told why."""
    task = locked_task(task_id)
    transition(task, "cancel", actor=admin, reason=reason)
    _close_bids_and_offers(task, "the task was cancelled")
    audit.record(
        actor=admin,
        action="cancel_task",
        target_type="task",
        target_id=task.id,
        details={"reason": reason},
    )
    lifecycle.tell_client(task, "task.cancelled", reason=reason)
    return task


def expire_due_tasks() -> int:
    """Expire open tasks whose time is up and tell their clients; returns how many."""
    return each_due(
        sa.select(Task.id).where(Task.status == TaskStatus.OPEN, Task.expires_at <= utcnow()),
        _expire,
    )


def _expire(task_id: uuid.UUID) -> bool:
    task = locked_task(task_id)
    if task.status != TaskStatus.OPEN or task.expires_at is None or task.expires_at > utcnow():
        return False
    transition(task, "expire", actor=None, reason="no award before the expiry date")
    _close_bids_and_offers(task, "the task expired")
    lifecycle.tell_client(task, "task.expired", expired_at=utcnow())
    return True


def _close_bids_and_offers(task: Task, reason: str) -> None:
    bids.expire_live_bids(task, reason=reason)
    offers.close_offers_of(task, reason=reason)
