"""Inviting matched providers to bid on an open task, and the invitations a provider has."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.errors import BusinessRuleViolation, Forbidden
from marketplace.extensions import db
from marketplace.matching import candidates
from marketplace.matching.models import TaskInvitation
from marketplace.matching.ranking import TaskView
from marketplace.matching.services import matchable_task
from marketplace.notifications import services as notifications
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Task
from marketplace.tasks.states import TASK_STATES

MAX_INVITATIONS = 20  # per task


def invite(
    *, user: User, task_id: uuid.UUID, provider_ids: list[uuid.UUID]
) -> list[TaskInvitation]:
    """Invite providers who match the open task; inviting one twice changes nothing."""
    task = matchable_task(user=user, task_id=task_id)
    if not tasks.is_owner(user, task):
        raise Forbidden("Only the task's client invites providers.")
    task = tasks.locked_task(task.id)  # one inviter at a time keeps the count honest
    TASK_STATES.check("bid", task.status)
    wanted = list(dict.fromkeys(provider_ids))
    existing = {
        i.provider_profile_id: i
        for i in db.session.scalars(
            sa.select(TaskInvitation).where(TaskInvitation.task_id == task.id)
        )
    }
    new = [pid for pid in wanted if pid not in existing]
    eligible = candidates.eligible(TaskView.of(task).needs, new) if new else set()
    refused = [str(pid) for pid in new if pid not in eligible]
    if refused:
        raise BusinessRuleViolation(
            "Only providers who match the task can be invited.",
            details={"provider_ids": [f"Does not match the task: {pid}" for pid in refused]},
        )
    if len(existing) + len(new) > MAX_INVITATIONS:
        raise BusinessRuleViolation(
            f"A task can have at most {MAX_INVITATIONS} invitations.",
            details={"provider_ids": [f"{MAX_INVITATIONS - len(existing)} invitations left."]},
        )
    found = {
        p.id: p
        for p in db.session.scalars(sa.select(ProviderProfile).where(ProviderProfile.id.in_(new)))
    }
    for pid in new:
        invitation = TaskInvitation(task=task, provider_profile=found[pid], invited_by=user)
        db.session.add(invitation)
        existing[pid] = invitation
        notifications.tell(
            found[pid],
            email="task_invitation",
            context={"task_title": task.title, "summary": task.summary},
            task_id=task.id,
        )
    try:
        db.session.commit()
    except IntegrityError:  # a racing request invited the same provider: same outcome
        db.session.rollback()
        return invite(user=user, task_id=task_id, provider_ids=provider_ids)
    return [existing[pid] for pid in wanted]


def my_invitations(*, user: User) -> sa.Select[TaskInvitation]:
    """Invitations of the provider the user acts for, newest first."""
    if user.role != Role.PROVIDER:
        raise Forbidden("Only providers are invited to bid.")
    provider = permissions.acting_provider_profile(user)
    return (
        sa.select(TaskInvitation)
        .join(Task, Task.id == TaskInvitation.task_id)
        .where(TaskInvitation.provider_profile_id == provider.id, tasks.poster_is_active_clause())
        .order_by(TaskInvitation.created_at.desc(), TaskInvitation.id.desc())
    )
