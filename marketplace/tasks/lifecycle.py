"""A task's life after drafting: publishing (with review routing) and moderation."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from marketplace import audit
from marketplace.accounts import verification
from marketplace.accounts.models import User
from marketplace.errors import BusinessRuleViolation
from marketplace.extensions import db
from marketplace.notifications import services as notifications
from marketplace.tasks.models import Task, TaskStatus
from marketplace.tasks.rules import (
    FLAGGED_TEXT,
    NEW_CLIENT,
    RESUBMITTED,
    STRATEGIC_ADVICE,
    blocklist_hits,
    check_task_rules,
)
from marketplace.tasks.services import (
    is_new_client,
    locked_task,
    owned_task,
    stored_budget,
    transition,
)
from marketplace.tasks.states import TASK_STATES


def publish_task(
    *, user: User, task_id: uuid.UUID, confirm_strategic: bool
) -> tuple[Task, list[str]]:
    """Publish a draft: open at once, or to review for new clients and flagged text."""
    verification.require_verified_email(user)
    task = owned_task(user=user, task_id=task_id, lock=True)
    TASK_STATES.target("publish", task.status)  # a clear 409 before any other check
    notices = []
    if task.tier == 1 and not confirm_strategic:
        raise BusinessRuleViolation(
            "This is strategic (tier-1) work.",
            details={"confirm_strategic": [STRATEGIC_ADVICE]},
        )
    errors = check_task_rules(
        start_date=task.start_date,
        deadline=task.deadline,
        trial=task.trial,
        budget=stored_budget(task),
        changed={"deadline"},
    )
    if errors:
        raise BusinessRuleViolation("The task cannot be published as it is.", details=errors)
    if (
        task.timezone_need
        and task.timezone_need["mode"] == "overlap"
        and not (task.client_profile.working_hours)
    ):
        raise BusinessRuleViolation(
            "An overlap need is measured against your working hours; set them first.",
            details={
                "timezone_need": ["Set working_hours in your client profile (PUT /clients/me)."]
            },
        )
    reasons = []
    if is_new_client(task.client_profile):
        reasons.append(NEW_CLIENT)
    if blocklist_hits(task):
        reasons.append(FLAGGED_TEXT)
    if any(step.to_status == TaskStatus.REJECTED for step in task.transitions):
        reasons.append(RESUBMITTED)
    if reasons:
        task.review_reasons = reasons
        transition(task, "submit_for_review", actor=user)
        notices.append("Your task is waiting for a moderator's review before providers see it.")
    else:
        transition(task, "publish", actor=user)
    db.session.commit()
    return task, notices


def fill(task: Task) -> None:
    """Every position of the task is taken by an accepted contract."""
    transition(task, "fill", actor=None, reason="every position is filled")


def tell_client(task: Task, email: str, **context: Any) -> None:
    """Notify the people acting for the task's client now (not whoever once posted it)
    with e-mail `email` (marketplace.jobs.emails), the task's title and `context`."""
    notifications.tell(
        task.client_profile,
        email=email,
        context={"task_title": task.title, **context},
        task_id=task.id,
    )


def approve_task(*, admin: User, task_id: uuid.UUID) -> Task:
    """A moderator lets a task under review go live."""
    task = locked_task(task_id)
    transition(task, "approve", actor=admin)
    task.rejection_reason = None  # a resubmitted task's old refusal no longer stands
    audit.record(actor=admin, action="approve_task", target_type="task", target_id=task.id)
    tell_client(task, "task.approved")
    db.session.commit()
    return task


def reject_task(*, admin: User, task_id: uuid.UUID, reason: str) -> Task:
    """A moderator rejects a task under review; the client is told why. A blank reason is
    a 422: the client reads it to fix the task."""
    reason = reason.strip()
    if not reason:
        raise BusinessRuleViolation(
            "Say why the task is rejected: the client reads it.",
            details={"reason": ["Must not be blank."]},
        )
    task = locked_task(task_id)
    transition(task, "reject", actor=admin, reason=reason)
    audit.record(
        actor=admin,
        action="reject_task",
        target_type="task",
        target_id=task.id,
        details={"reason": reason},
    )
    task.rejection_reason = reason
    tell_client(task, "task.rejected", reason=reason)
    db.session.commit()
    return task


def revise_task(*, user: User, task_id: uuid.UUID) -> Task:
    """The client takes a rejected task back to a draft, keeping the moderator's reason in
    view; publishing it again sends it to review."""
    task = owned_task(user=user, task_id=task_id, lock=True)
    transition(task, "revise", actor=user)
    db.session.commit()
    return task


def review_queue(*, status: TaskStatus) -> sa.Select[Task]:
    """Tasks in a status for moderators, oldest first (the order they should be handled)."""
    return sa.select(Task).where(Task.status == status).order_by(Task.updated_at, Task.id)
