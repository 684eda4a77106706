"""Confidential details: who may read them, accepting the terms, and the access log."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks import terms
from marketplace.tasks.models import (
    ConfidentialAccess,
    Confidentiality,
    Task,
    TermsAcceptance,
)
from marketplace.tasks.services import get_task, is_owner, owned_task
from marketplace.tasks.states import TASK_STATES


def _current_acceptance(task: Task, profile: ProviderProfile) -> TermsAcceptance | None:
    return db.session.scalar(
        sa.select(TermsAcceptance).where(
            TermsAcceptance.task_id == task.id,
            TermsAcceptance.provider_profile_id == profile.id,
            TermsAcceptance.terms_version == task.terms_version,
            # New platform terms need a new acceptance at once, even before the task changes.
            TermsAcceptance.terms_hash == terms.terms_hash(),
        )
    )


def has_current_acceptance(task: Task, profile: ProviderProfile) -> bool:
    """Whether the provider may act on the task's details: public, or current terms accepted."""
    if task.confidentiality == Confidentiality.PUBLIC:
        return True
    return _current_acceptance(task, profile) is not None


def accept_terms(
    *,
    user: User,
    task_id: uuid.UUID,
    terms_hash: str,
    terms_version: int | None = None,
    ip_address: str | None,
    user_agent: str | None,
) -> TermsAcceptance:
    """A provider (for themselves or their firm) accepts the task's current terms: the ones
    whose hash (and, if given, version) they name; stale ones are a 409."""
    if user.role != Role.PROVIDER:
        raise Forbidden("Only providers accept a task's confidentiality terms.")
    task = get_task(user=user, task_id=task_id)
    if task.confidentiality != Confidentiality.TERMS_REQUIRED:
        raise BusinessRuleViolation(
            "This task has no confidentiality terms to accept.",
            details={"confidentiality": ["The task is public."]},
        )
    TASK_STATES.check("accept_terms", task.status)
    current_hash = terms.terms_hash()
    if terms_hash != current_hash or terms_version not in (None, task.terms_version):
        raise Conflict(
            "The confidentiality terms changed since you read them: read them again "
            f"(version {task.terms_version}) and accept them with their hash.",
            details={"current_version": task.terms_version, "current_hash": current_hash},
        )
    profile = permissions.acting_provider_profile(user)
    acceptance = _current_acceptance(task, profile)
    if acceptance is None:
        acceptance = TermsAcceptance(
            task_id=task.id,
            provider_profile_id=profile.id,
            user_id=user.id,
            terms_version=task.terms_version,
            terms_hash=current_hash,
            ip_address=ip_address,
            user_agent=(user_agent or "")[:400] or None,
        )
        db.session.add(acceptance)
        try:
            db.session.commit()
        except IntegrityError:  # a concurrent request of the same provider won the race
            db.session.rollback()
            acceptance = _current_acceptance(task, profile)
            if acceptance is None:
                raise
    return acceptance


def _may_read(user: User, task: Task) -> ProviderProfile | bool | None:
    """False if the user may not read; else the provider profile reading (None for others).

    `task` is one `get_task` let the user see: for providers, an open, filled or closed one.
    """
    if user.is_admin or is_owner(user, task):
        return None
    if user.role != Role.PROVIDER:
        return False
    profile = permissions.acting_provider_profile(user)
    if task.confidentiality == Confidentiality.PUBLIC:
        return profile
    return profile if _current_acceptance(task, profile) is not None else False


def read_confidential(*, user: User, task_id: uuid.UUID, ip_address: str | None) -> Task:
    """The confidential details, to those entitled; every read is logged."""
    task = get_task(user=user, task_id=task_id)
    reader = _may_read(user, task)
    if reader is False:
        raise NotFound("Task not found.")
    db.session.add(
        ConfidentialAccess(
            task_id=task.id,
            user_id=user.id,
            provider_profile_id=reader.id if isinstance(reader, ProviderProfile) else None,
            terms_version=task.terms_version,
            ip_address=ip_address,
        )
    )
    db.session.commit()
    return task


def access_log(*, user: User, task_id: uuid.UUID) -> sa.Select[ConfidentialAccess]:
    """Who read the task's confidential details, newest first (the client and admins)."""
    task = (
        db.session.get(Task, task_id) if user.is_admin else owned_task(user=user, task_id=task_id)
    )
    if task is None:
        raise NotFound("Task not found.")
    return (
        sa.select(ConfidentialAccess)
        .where(ConfidentialAccess.task_id == task.id)
        .order_by(ConfidentialAccess.at.desc(), ConfidentialAccess.id.desc())
    )
