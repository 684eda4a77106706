"""What a moderator reads to review a task: the client behind it and its history, the
whole posting, why it waits for review and where the blocklist matches its text."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from marketplace.accounts.models import User
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.organizations.models import Organization
from marketplace.profiles.models import ClientProfile
from marketplace.tasks.lifecycle import review_queue
from marketplace.tasks.models import Task, TaskStatus, TaskTransition
from marketplace.tasks.rules import BlocklistMatch, blocklist_matches

#: How many of the client's other tasks a review shows (the counts cover them all).
EARLIER_TASKS = 10


@dataclass(frozen=True)
class ClientHistory:
    """The client's other tasks: the latest EARLIER_TASKS (newest first), how many there
    are, and how many of them a moderator approved and rejected (at least once each)."""

    latest: list[Task]
    total: int
    approved: int
    rejected: int


@dataclass(frozen=True)
class ReviewCase:
    """A task as a moderator reviews it."""

    task: Task
    #: Who posted it (for a company: the member who wrote it).
    poster: User
    #: The client company, or None for an individual client.
    organization: Organization | None
    client: ClientProfile
    history: ClientHistory
    #: Where the blocklist matches the task's text now (the same matcher publishing uses).
    matches: list[BlocklistMatch]
    #: When it last went to review (None: it never did).
    in_review_since: datetime | None
    #: Its earlier rejections, oldest first (`reason` is what the client was told).
    rejections: list[TaskTransition]
    #: Its latest step, and who took it (None: the system, or nobody yet).
    last_step: TaskTransition | None
    last_actor: User | None


def queue() -> sa.Select[Task]:
    """The tasks waiting for review, oldest first, with their clients loaded for a list."""
    return review_queue(status=TaskStatus.PENDING_REVIEW).options(
        selectinload(Task.client_profile).selectinload(ClientProfile.organization),
        selectinload(Task.client_profile).selectinload(ClientProfile.user),
        selectinload(Task.created_by),
    )


def in_review_since(tasks: Iterable[Task]) -> dict[uuid.UUID, datetime]:
    """When each of these tasks last went to review, by task id."""
    ids = [task.id for task in tasks]
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(TaskTransition.task_id, sa.func.max(TaskTransition.at))
        .where(
            TaskTransition.task_id.in_(ids),
            TaskTransition.to_status == TaskStatus.PENDING_REVIEW,
        )
        .group_by(TaskTransition.task_id)
    )
    return {task_id: at for task_id, at in rows}


def client_history(task: Task) -> ClientHistory:
    """The other tasks of the task's client, and what moderators decided on them."""
    others = sa.and_(Task.client_profile_id == task.client_profile_id, Task.id != task.id)

    def decided(condition: sa.ColumnElement[bool]) -> int:
        return (
            db.session.scalar(
                sa.select(sa.func.count(sa.distinct(TaskTransition.task_id)))
                .join(Task, Task.id == TaskTransition.task_id)
                .where(others, condition)
            )
            or 0
        )

    return ClientHistory(
        latest=list(
            db.session.scalars(
                sa.select(Task)
                .where(others)
                .order_by(Task.created_at.desc(), Task.id.desc())
                .limit(EARLIER_TASKS)
            )
        ),
        total=db.session.scalar(sa.select(sa.func.count(Task.id)).where(others)) or 0,
        approved=decided(
            sa.and_(
                TaskTransition.from_status == TaskStatus.PENDING_REVIEW,
                TaskTransition.to_status == TaskStatus.OPEN,
            )
        ),
        rejected=decided(TaskTransition.to_status == TaskStatus.REJECTED),
    )


def review_case(task_id: uuid.UUID) -> ReviewCase:
    """A task (in any status) with what a moderator reads beside it; or NotFound."""
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound("Task not found.")
    steps = task.transitions
    into_review = [step.at for step in steps if step.to_status == TaskStatus.PENDING_REVIEW]
    last = steps[-1] if steps else None
    return ReviewCase(
        task=task,
        poster=task.created_by,
        organization=task.client_profile.organization,
        client=task.client_profile,
        history=client_history(task),
        matches=blocklist_matches(task),
        in_review_since=max(into_review) if into_review else None,
        rejections=[step for step in steps if step.to_status == TaskStatus.REJECTED],
        last_step=last,
        last_actor=db.session.get(User, last.actor_id) if last and last.actor_id else None,
    )
