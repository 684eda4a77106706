"""Posting tasks: drafts, edits, publishing (review routing), cancelling, moderation, expiry."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from marketplace.accounts.models import User, UserStatus
from marketplace.catalog import services as catalog
from marketplace.database import utcnow
from marketplace.errors import BusinessRuleViolation, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.jobs import outbox
from marketplace.moderation import audit
from marketplace.profiles import services as profiles
from marketplace.profiles.models import ClientProfile
from marketplace.schemas import Redacted
from marketplace.tasks import terms
from marketplace.tasks.models import Task, TaskLanguage, TaskSkill, TaskStatus, TaskTransition
from marketplace.tasks.rules import STRATEGIC_ADVICE, check_task_rules
from marketplace.tasks.states import TASK_STATES, VISIBLE_TO_ALL

#: Why a task waits for review. Clients see these codes, never the blocklist itself,
#: which would show them how to word around it; moderators read the task.
NEW_CLIENT = "new_client"
FLAGGED_TEXT = "flagged_text"
#: Fields whose change makes a new version of the confidentiality terms.
CONFIDENTIAL_FIELDS = frozenset({"confidential_details", "attachments"})
SIMPLE_FIELDS = frozenset(
    {
        "title",
        "summary",
        "confidential_details",
        "confidentiality",
        "service_model",
        "tier",
        "start_date",
        "deadline",
        "timezone_need",
        "shoring",
        "positions",
        "trial",
        "attachments",
    }
)


def transition(task: Task, action: str, *, actor: User | None, reason: str | None = None) -> None:
    """Apply a state-machine action to the task and record who did it, when and why."""
    target = TASK_STATES.target(action, task.status)
    task.transitions.append(
        TaskTransition(
            from_status=task.status,
            to_status=target,
            actor_id=actor.id if actor else None,
            reason=reason,
        )
    )
    task.status = target
    if target == TaskStatus.OPEN and task.opened_at is None:
        task.opened_at = utcnow()
        task.expires_at = task.opened_at + timedelta(days=current_app.config["TASK_EXPIRY_DAYS"])


def is_owner(user: User, task: Task) -> bool:
    """Whether the user acts for the client that posted the task."""
    if user.role != "client":
        return False
    return profiles.acting_client_profile(user).id == task.client_profile_id


def poster_is_active(task: Task) -> bool:
    """Whether the client behind the task may be seen (a suspended individual may not)."""
    poster = task.client_profile.user
    return poster is None or poster.status == UserStatus.ACTIVE


def poster_is_active_clause() -> sa.ColumnElement[bool]:
    """`poster_is_active` in SQL, for lists."""
    suspended = (
        sa.select(ClientProfile.id)
        .join(User, User.id == ClientProfile.user_id)
        .where(User.status == UserStatus.SUSPENDED)
    )
    return Task.client_profile_id.not_in(suspended)


#: What only the task's client and admins see of it.
PRIVILEGED_FIELDS = frozenset(
    {"review_reasons", "rejection_reason", "allowed_actions", "transitions"}
)


def view_task(*, user: User, task_id: uuid.UUID) -> Task | Redacted:
    """The task as this user may see it: whole for its client and admins, else redacted."""
    task = get_task(user=user, task_id=task_id)
    if user.is_admin or is_owner(user, task):
        return task
    return Redacted(task, PRIVILEGED_FIELDS)


def get_task(*, user: User, task_id: uuid.UUID) -> Task:
    """A task the user may see: its client and admins always; others once it is public
    (and while its client is not suspended)."""
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound("Task not found.")
    if user.is_admin or is_owner(user, task):
        return task
    if task.status not in VISIBLE_TO_ALL or not poster_is_active(task):
        raise NotFound("Task not found.")
    return task


def locked_task(task_id: uuid.UUID) -> Task:
    """A task with its row locked for this transaction (FOR UPDATE on PostgreSQL)."""
    task = db.session.scalar(sa.select(Task).where(Task.id == task_id).with_for_update())
    if task is None:
        raise NotFound("Task not found.")
    return task


def owned_task(*, user: User, task_id: uuid.UUID, lock: bool = False) -> Task:
    """A task the user's client account posted; anyone else gets NotFound."""
    task = locked_task(task_id) if lock else db.session.get(Task, task_id)
    if task is None or not is_owner(user, task):
        raise NotFound("Task not found.")
    return task


def _apply(task: Task, data: dict[str, Any]) -> None:
    for name in SIMPLE_FIELDS & data.keys():
        setattr(task, name, data[name])
    if "budget" in data:
        budget = data["budget"]
        task.budget_type, task.budget_min = budget["type"], budget["min"]
        task.budget_max, task.currency = budget["max"], budget["currency"]
    if "languages" in data:
        task.language_rows = [TaskLanguage(code=code) for code in dict.fromkeys(data["languages"])]
    if "skills" in data:
        resolved = catalog.resolve_skill_list(data["skills"])
        task.skills.clear()
        db.session.flush()
        task.skills.extend(
            TaskSkill(skill=skill, min_level=item["min_level"]) for skill, item in resolved
        )


def create_task(*, user: User, data: dict[str, Any]) -> Task:
    """Save a new task as a draft of the client the user acts for."""
    if user.role != "client":
        raise Forbidden("Only clients post tasks.")
    client_profile = profiles.acting_client_profile(user)
    task = Task(client_profile=client_profile, created_by=user, status=TaskStatus.DRAFT)
    _apply(task, data)
    task.terms_hash = terms.terms_hash()
    task.transitions.append(
        TaskTransition(from_status=None, to_status=TaskStatus.DRAFT, actor_id=user.id)
    )
    db.session.add(task)
    db.session.commit()
    return task


def _as_input(task: Task) -> dict[str, Any]:
    """The stored fields that the cross-field rules look at, as a schema would load them."""
    return {
        "budget": task.budget,
        "start_date": task.start_date,
        "deadline": task.deadline,
        "trial": task.trial,
    }


def update_task(*, user: User, task_id: uuid.UUID, changes: dict[str, Any]) -> Task:
    """Edit a draft, a task in review or an open task; re-check the whole task's rules."""
    task = owned_task(user=user, task_id=task_id, lock=True)
    TASK_STATES.check("edit", task.status)
    if changes.get("tier") == 1 and task.tier != 1 and task.status != TaskStatus.DRAFT:
        raise BusinessRuleViolation(
            "A published task cannot become strategic (tier 1).",
            details={"tier": [STRATEGIC_ADVICE, "Post strategic work as a new draft."]},
        )
    merged = {**_as_input(task), **changes}
    errors = check_task_rules(merged, changed=set(changes))
    if errors:
        raise BusinessRuleViolation("The task has invalid fields.", details=errors)
    material_changed = any(
        getattr(task, name) != changes[name] for name in CONFIDENTIAL_FIELDS & changes.keys()
    )
    _apply(task, changes)
    if material_changed or task.terms_hash != terms.terms_hash():
        task.terms_version += 1
        task.terms_hash = terms.terms_hash()
    if task.status == TaskStatus.OPEN and blocklist_hits(task):
        task.review_reasons = [FLAGGED_TEXT]
        transition(task, "flag_for_review", actor=user, reason="edited text needs review")
    db.session.commit()
    return task


def delete_task(*, user: User, task_id: uuid.UUID) -> None:
    """Delete a draft (anything else is cancelled, not deleted)."""
    task = owned_task(user=user, task_id=task_id, lock=True)
    TASK_STATES.check("delete", task.status)
    db.session.delete(task)
    db.session.commit()


def blocklist_hits(task: Task) -> list[str]:
    """The configured blocklist expressions the task's text matches."""
    text = "\n".join([task.title, task.summary, task.confidential_details])
    return [
        pattern
        for pattern in current_app.config["TASK_BLOCKLIST"]
        if re.search(pattern, text, flags=re.IGNORECASE)
    ]


def _is_new_client(client_profile: ClientProfile) -> bool:
    young = utcnow() - client_profile.created_at < timedelta(
        days=current_app.config["NEW_CLIENT_DAYS"]
    )
    return young and not has_completed_contract(client_profile)


def has_completed_contract(client_profile: ClientProfile) -> bool:
    """Whether the client has completed a contract on the marketplace."""
    # Contracts do not exist yet in this codebase (see the contracts area), so no client
    # has completed one; the contracts area answers here once it lands.
    return False


def publish_task(
    *, user: User, task_id: uuid.UUID, confirm_strategic: bool
) -> tuple[Task, list[str]]:
    """Publish a draft: open at once, or to review for new clients and flagged text."""
    task = owned_task(user=user, task_id=task_id, lock=True)
    TASK_STATES.target("publish", task.status)  # a clear 409 before any other check
    notices = []
    if task.tier == 1:
        if not confirm_strategic:
            raise BusinessRuleViolation(
                "This is strategic (tier-1) work.",
                details={"confirm_strategic": [STRATEGIC_ADVICE]},
            )
        notices.append(STRATEGIC_ADVICE)
    errors = check_task_rules(_as_input(task), changed={"deadline"})
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
    if _is_new_client(task.client_profile):
        reasons.append(NEW_CLIENT)
    if blocklist_hits(task):
        reasons.append(FLAGGED_TEXT)
    if reasons:
        task.review_reasons = reasons
        transition(task, "submit_for_review", actor=user)
        notices.append("Your task is waiting for a moderator's review before providers see it.")
    else:
        transition(task, "publish", actor=user)
    db.session.commit()
    return task, notices


def cancel_task(*, user: User, task_id: uuid.UUID, reason: str | None) -> Task:
    """The client withdraws the task."""
    task = owned_task(user=user, task_id=task_id, lock=True)
    transition(task, "cancel", actor=user, reason=reason)
    db.session.commit()
    return task


def _tell_client(task: Task, subject: str, body: str) -> None:
    outbox.enqueue_email(to=task.created_by.email, subject=subject, body=body)


def approve_task(*, admin: User, task_id: uuid.UUID) -> Task:
    """A moderator lets a task under review go live."""
    task = locked_task(task_id)
    transition(task, "approve", actor=admin)
    audit.record(actor=admin, action="approve_task", target_type="task", target_id=task.id)
    _tell_client(
        task,
        f"Your task is live: {task.title}",
        "A moderator approved your task; providers can now find it and bid.\n",
    )
    db.session.commit()
    return task


def reject_task(*, admin: User, task_id: uuid.UUID, reason: str) -> Task:
    """A moderator rejects a task under review; the client is told why."""
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
    _tell_client(
        task,
        f"Your task was not approved: {task.title}",
        f"A moderator did not approve your task.\n\nReason: {reason}\n",
    )
    db.session.commit()
    return task


def review_queue(*, status: TaskStatus) -> sa.Select[Task]:
    """Tasks in a status for moderators, oldest first (the order they should be handled)."""
    return sa.select(Task).where(Task.status == status).order_by(Task.updated_at, Task.id)


def expire_due_tasks() -> int:
    """Expire open tasks whose time is up; return how many."""
    now = utcnow()
    ids = db.session.scalars(
        sa.select(Task.id).where(Task.status == TaskStatus.OPEN, Task.expires_at <= now)
    ).all()
    for task_id in ids:
        task = locked_task(task_id)
        if task.status == TaskStatus.OPEN and task.expires_at and task.expires_at <= now:
            transition(task, "expire", actor=None, reason="no award before the expiry date")
            _tell_client(
                task,
                f"Your task expired: {task.title}",
                "It was open for the configured time without being filled.\n",
            )
        db.session.commit()
    return len(ids)
