"""Posting tasks: drafts, edits, publishing (review routing), cancelling, moderation, expiry."""

from __future__ import annotations

import functools
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.interfaces import ORMOption
from sqlalchemy.orm.strategy_options import _AbstractLoad

from marketplace import permissions
from marketplace.accounts.models import User, UserStatus
from marketplace.catalog import services as catalog
from marketplace.database import lock_row, new_id, utcnow
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.files import services as files
from marketplace.files.models import FilePurpose
from marketplace.inputs import UNSET, given, value_or
from marketplace.notifications import services as notifications
from marketplace.organizations.models import MemberRole, Membership
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.schemas import Redacted
from marketplace.tasks import terms
from marketplace.tasks.inputs import Budget, TaskChanges, TaskDraft
from marketplace.tasks.models import (
    Confidentiality,
    Task,
    TaskLanguage,
    TaskSkill,
    TaskStatus,
    TaskTransition,
    TermsAcceptance,
)
from marketplace.tasks.rules import (
    FLAGGED_TEXT,
    NEW_CLIENT,
    STRATEGIC_ADVICE,
    blocklist_hits,
    check_task_rules,
)
from marketplace.tasks.states import TASK_STATES, VISIBLE_TO_ALL

#: Text a moderator reads before a new client's posting goes live.
TEXT_FIELDS = frozenset({"title", "summary", "confidential_details"})
#: Fields stored as given (the others are converted: budget, timezone need, lists).
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
        "shoring",
        "positions",
        "trial",
    }
)


def is_new_client(client_profile: ClientProfile) -> bool:
    """Young (NEW_CLIENT_DAYS) and without a completed contract: their postings are reviewed."""
    young = utcnow() - client_profile.created_at < timedelta(
        days=current_app.config["NEW_CLIENT_DAYS"]
    )
    return young and client_profile.first_completion_at is None


def transition(task: Task, action: str, *, actor: User | None, reason: str | None = None) -> None:
    """Apply a state-machine action to the task and record who did it, when and why."""
    target = TASK_STATES.apply(
        task, action, record=TaskTransition, actor_id=actor.id if actor else None, reason=reason
    )
    if target == TaskStatus.OPEN and task.opened_at is None:
        task.opened_at = utcnow()
        task.expires_at = task.opened_at + timedelta(days=current_app.config["TASK_EXPIRY_DAYS"])


def is_owner(user: User, task: Task) -> bool:
    """Whether the user acts for the client that posted the task."""
    return permissions.speaks_for(user, task.client_profile)


def poster_is_active(task: Task) -> bool:
    """Whether the client behind the task may be seen: not a suspended individual, nor a
    company whose owner is suspended."""
    client = task.client_profile
    if client.user is not None:
        return client.user.is_active
    suspended_owner = (
        sa.select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.organization_id == client.organization_id,
            Membership.role == MemberRole.OWNER,
            User.status == UserStatus.SUSPENDED,
        )
    )
    return not db.session.scalar(sa.select(sa.exists(suspended_owner)))


def _suspended_clients() -> sa.Select[Any]:
    individuals = (
        sa.select(ClientProfile.id)
        .join(User, User.id == ClientProfile.user_id)
        .where(User.status == UserStatus.SUSPENDED)
    )
    companies = (
        sa.select(ClientProfile.id)
        .join(Membership, Membership.organization_id == ClientProfile.organization_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.role == MemberRole.OWNER, User.status == UserStatus.SUSPENDED)
    )
    return individuals.union(companies)  # type: ignore[return-value]


def poster_is_active_clause() -> sa.ColumnElement[bool]:
    """`poster_is_active` in SQL, for lists."""
    return Task.client_profile_id.not_in(_suspended_clients())


#: What only the task's client and admins see of it.
PRIVILEGED_FIELDS = frozenset(
    {"review_reasons", "rejection_reason", "allowed_actions", "transitions"}
)


def task_statement(*options: ORMOption) -> sa.Select[Task]:
    """The statement loading one task (bound as `task_id`) with `options`. A caller builds
    it once, at its first use (when every model is mapped), and binds it on each request:
    building and keying a statement with its loader options costs more than running it."""
    return (
        sa.select(Task).where(Task.id == sa.bindparam("task_id", type_=sa.Uuid())).options(*options)
    )


def page_options() -> tuple[ORMOption, ...]:
    """What a task's page reads of it besides its row, in the same statement: its client
    (zone, country; whether the user acts for it) with the client's individual, and its
    skills. Its languages follow in one more statement (their own collection: joining both
    would multiply the rows)."""
    return (
        joinedload(Task.client_profile, innerjoin=True).joinedload(ClientProfile.user),
        joinedload(Task.skills),
    )


def summary_options() -> tuple[_AbstractLoad, ...]:
    """Options for a task loaded only to be named (`tasks.schemas.TaskSummarySchema`: id,
    title, status, all in its row): its collections, loaded with every task by default,
    are left out."""
    return lazyload(Task.skills), lazyload(Task.language_rows)


@functools.cache
def _page_statement() -> sa.Select[Task]:
    return task_statement(*page_options())


def view_task(*, user: User, task_id: uuid.UUID) -> Task | Redacted:
    """The task as this user may see it: whole for its client and admins, else redacted."""
    task = _task(task_id, _page_statement())
    if user.is_admin or is_owner(user, task):
        return task
    _require_public(task)
    return Redacted(task, PRIVILEGED_FIELDS)


def get_task(*, user: User, task_id: uuid.UUID, statement: sa.Select[Task] | None = None) -> Task:
    """A task the user may see: its client and admins always; others once it is public
    (and while its client is not suspended). `statement` (from `task_statement`) loads
    what the caller reads of it."""
    task = _task(task_id, statement)
    if not (user.is_admin or is_owner(user, task)):
        _require_public(task)
    return task


def _task(task_id: uuid.UUID, statement: sa.Select[Task] | None) -> Task:
    if statement is None:
        task = db.session.get(Task, task_id)
    else:
        task = db.session.scalars(statement, {"task_id": task_id}).unique().one_or_none()
    if task is None:
        raise NotFound("Task not found.")
    return task


def _require_public(task: Task) -> None:
    """NotFound unless anyone signed in may see the task (public, its client not suspended)."""
    if task.status not in VISIBLE_TO_ALL or not poster_is_active(task):
        raise NotFound("Task not found.")


def locked_task(task_id: uuid.UUID) -> Task:
    """A task with its row locked for this transaction (FOR UPDATE on PostgreSQL), read
    afresh even if the session already holds it."""
    try:
        return lock_row(Task, task_id)
    except NoResultFound:
        raise NotFound("Task not found.") from None


def owned_task(*, user: User, task_id: uuid.UUID, lock: bool = False) -> Task:
    """A task the user's client account posted. Admins, who may read any task, are refused
    (403) what only its client does; anyone else gets NotFound."""
    task = locked_task(task_id) if lock else db.session.get(Task, task_id)
    if task is not None and user.is_admin:
        raise Forbidden("Only the task's client does this.")
    if task is None or not is_owner(user, task):
        raise NotFound("Task not found.")
    return task


def _attach_files(task: Task, user: User, file_ids: tuple[uuid.UUID, ...]) -> None:
    """The task's confidential files become the given uploads (already attached ones stay
    the task's even when left out of the list)."""
    task.confidential_files = files.attach(
        user=user,
        file_ids=file_ids,
        purpose=FilePurpose.TASK,
        object_id=task.id,
        field="confidential_files",
    )


def _apply(task: Task, values: TaskDraft | TaskChanges, *, user: User) -> None:
    names = given(values)
    for name in SIMPLE_FIELDS & names:
        setattr(task, name, getattr(values, name))
    if values.budget is not UNSET:
        budget = values.budget
        task.budget_type, task.budget_min = budget.type, budget.min
        task.budget_max, task.currency = budget.max, budget.currency
    if values.timezone_need is not UNSET:
        need = values.timezone_need
        task.timezone_need = need.as_json() if need is not None else None
    if values.attachments is not UNSET:
        task.attachments = [attachment.as_json() for attachment in values.attachments]
    if values.confidential_files is not UNSET:
        _attach_files(task, user, values.confidential_files)
    if values.languages is not UNSET:
        task.language_rows = [TaskLanguage(code=code) for code in dict.fromkeys(values.languages)]
    if values.skills is not UNSET:
        resolved = catalog.resolve_skill_list(values.skills)
        task.skills.clear()
        db.session.flush()
        task.skills.extend(
            TaskSkill(skill=skill, min_level=item.min_level) for skill, item in resolved
        )


def create_task(*, user: User, draft: TaskDraft) -> Task:
    """Save a new task as a draft of the client the user acts for."""
    task = new_draft(user=user, draft=draft)
    db.session.commit()
    return task


def new_draft(*, user: User, draft: TaskDraft) -> Task:
    """A new draft task of the client the user acts for, in the caller's transaction (not
    committed)."""
    if user.role != "client":
        raise Forbidden("Only clients post tasks.")
    client_profile = permissions.acting_client_profile(user)
    task = Task(
        id=new_id(), client_profile=client_profile, created_by=user, status=TaskStatus.DRAFT
    )
    _apply(task, draft, user=user)
    task.terms_hash = terms.terms_hash()
    task.transitions.append(
        TaskTransition(from_status=None, to_status=TaskStatus.DRAFT, actor_id=user.id)
    )
    db.session.add(task)
    return task


def stored_budget(task: Task) -> Budget:
    """The task's budget, as the cross-field rules read it."""
    return Budget(
        type=task.budget_type, min=task.budget_min, max=task.budget_max, currency=task.currency
    )


def _changes_confidential_material(task: Task, changes: TaskChanges) -> bool:
    """Whether the edit changes what the confidentiality terms cover."""
    details, attachments = changes.confidential_details, changes.attachments
    return (details is not UNSET and details != task.confidential_details) or (
        attachments is not UNSET and [a.as_json() for a in attachments] != task.attachments
    )


def _tell_earlier_acceptors(task: Task) -> None:
    """Providers who accepted an earlier terms version (its bidders, a contracted provider)
    lose the current details until they accept again: tell them a new version waits."""
    if task.confidentiality != Confidentiality.TERMS_REQUIRED:
        return
    earlier = sa.select(TermsAcceptance.provider_profile_id).where(
        TermsAcceptance.task_id == task.id, TermsAcceptance.terms_version < task.terms_version
    )
    for profile in db.session.scalars(
        sa.select(ProviderProfile).where(ProviderProfile.id.in_(earlier))
    ):
        notifications.tell(
            profile,
            email="task.terms_changed",
            context={"task_title": task.title, "terms_version": task.terms_version},
            task_id=task.id,
        )


def update_task(*, user: User, task_id: uuid.UUID, changes: TaskChanges) -> Task:
    """Edit a draft, a task in review or an open task; re-check the whole task's rules."""
    task = owned_task(user=user, task_id=task_id, lock=True)
    TASK_STATES.check("edit", task.status)
    if changes.tier == 1 and task.tier != 1 and task.status != TaskStatus.DRAFT:
        raise BusinessRuleViolation(
            "A published task cannot become strategic (tier 1).",
            details={"tier": [STRATEGIC_ADVICE, "Post strategic work as a new draft."]},
        )
    changed = given(changes)
    errors = check_task_rules(
        start_date=value_or(changes.start_date, task.start_date),
        deadline=value_or(changes.deadline, task.deadline),
        trial=value_or(changes.trial, task.trial),
        budget=value_or(changes.budget, stored_budget(task)),
        changed=changed,
    )
    if errors:
        raise BusinessRuleViolation("The task has invalid fields.", details=errors)
    before = list(task.confidential_files or [])
    material_changed = _changes_confidential_material(task, changes)
    _apply(task, changes, user=user)
    material_changed = material_changed or task.confidential_files != before
    if material_changed or task.terms_hash != terms.terms_hash():
        task.terms_version += 1
        task.terms_hash = terms.terms_hash()
        _tell_earlier_acceptors(task)
    if task.status == TaskStatus.OPEN:
        reasons = [FLAGGED_TEXT] if blocklist_hits(task) else []
        if TEXT_FIELDS & changed and is_new_client(task.client_profile):
            reasons.insert(0, NEW_CLIENT)  # a moderator approved the old text, not this one
        if reasons:
            task.review_reasons = reasons
            transition(task, "flag_for_review", actor=user, reason="edited text needs review")
    db.session.commit()
    return task


def delete_task(*, user: User, task_id: uuid.UUID) -> None:
    """Delete a draft (anything else is cancelled, not deleted)."""
    task = owned_task(user=user, task_id=task_id, lock=True)
    TASK_STATES.check("delete", task.status)
    if task.opened_at is not None:  # a revised task that was open: bids and reads refer to it
        raise Conflict("This task was open once; cancel it instead of deleting it.")
    files.release(purpose=FilePurpose.TASK, object_id=task.id)
    db.session.delete(task)
    db.session.commit()
