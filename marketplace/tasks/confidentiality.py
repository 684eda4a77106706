"""Confidential material: who may read it, accepting the terms, and the access log.

Confidential material (a task's details and attachments, in one terms version) is served
in more than one place: the task's own endpoint, and the snapshot in a contract's terms.
Wherever it is served, it goes out through `disclose`, which records the read in the task's
access log: the client sees every reader, through which endpoint and which version.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

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


@dataclass(frozen=True)
class Reader:
    """Who reads confidential material, from where, and through which endpoint (`via`, as
    the API docs name it); the entry point builds one per request."""

    user: User
    via: str
    ip_address: str | None = None
    #: (task, version) pairs already logged for this reader in this request.
    logged: set[tuple[uuid.UUID, int]] = field(default_factory=set, compare=False)


@dataclass(frozen=True)
class Material:
    """The confidential part of one terms version of a task: what the access log guards."""

    task_id: uuid.UUID
    terms_version: int
    terms_hash: str
    confidential_details: str
    attachments: list[dict[str, Any]]
    #: Uploaded files (marketplace.files): their metadata; the bytes are downloaded apart,
    #: through this gate again.
    confidential_files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Whether there is nothing confidential in it."""
        return not (self.confidential_details or self.attachments or self.confidential_files)


def current_material(task: Task) -> Material:
    """The task's confidential material as it is now."""
    return Material(
        task_id=task.id,
        terms_version=task.terms_version,
        terms_hash=terms.terms_hash(),
        confidential_details=task.confidential_details,
        attachments=list(task.attachments or []),
        confidential_files=list(task.confidential_files or []),
    )


def disclose(
    material: Material, *, reader: Reader, provider_profile_id: uuid.UUID | None
) -> Material:
    """Serve `material` to `reader`: the one way confidential material leaves the service
    layer. The read is logged (once per request and version) and committed before it is
    served, so a failure to log serves nothing."""
    key = (material.task_id, material.terms_version)
    if key not in reader.logged:
        db.session.add(
            ConfidentialAccess(
                task_id=material.task_id,
                user_id=reader.user.id,
                provider_profile_id=provider_profile_id,
                terms_version=material.terms_version,
                via=reader.via[:120],
                ip_address=reader.ip_address,
            )
        )
        db.session.commit()
        reader.logged.add(key)
    return material


def _current_acceptance(task: Task, profile: ProviderProfile) -> TermsAcceptance | None:
    return db.session.scalar(sa.select(TermsAcceptance).where(_is_current(task, profile)))


def _is_current(task: Task, profile: ProviderProfile) -> sa.ColumnElement[bool]:
    """Whether an acceptance is the provider's of the task's current terms."""
    return is_current_acceptance(task.id, task.terms_version, profile.id)


def is_current_acceptance(
    task_id: uuid.UUID, terms_version: int, provider_profile_id: Any
) -> sa.ColumnElement[bool]:
    """Whether an acceptance is the provider's (`provider_profile_id`: a value or a scalar
    subquery) of the current terms (`terms_version` and the platform's text) of the task."""
    return sa.and_(
        TermsAcceptance.task_id == task_id,
        TermsAcceptance.provider_profile_id == provider_profile_id,
        TermsAcceptance.terms_version == terms_version,
        # New platform terms need a new acceptance at once, even before the task changes.
        TermsAcceptance.terms_hash == terms.terms_hash(),
    )


def may_act_on_details(task: Task, profile: ProviderProfile) -> sa.ColumnElement[bool]:
    """Whether the provider may act on the task's details (public, or current terms accepted),
    as SQL: a caller asks it in one statement with its other questions."""
    if task.confidentiality == Confidentiality.PUBLIC:
        return sa.true()
    return sa.exists().where(_is_current(task, profile))


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


def read_confidential(*, reader: Reader, task_id: uuid.UUID) -> Material:
    """The task's current confidential material, to those entitled (its client, admins,
    providers who accepted the current terms); NotFound for anyone else."""
    task = get_task(user=reader.user, task_id=task_id)
    profile = _may_read(reader.user, task)
    if profile is False:
        raise NotFound("Task not found.")
    return disclose(
        current_material(task),
        reader=reader,
        provider_profile_id=profile.id if isinstance(profile, ProviderProfile) else None,
    )


def access_log(*, user: User, task_id: uuid.UUID) -> sa.Select[ConfidentialAccess]:
    """Who read the task's confidential material, where, and which version, newest first
    (the client and admins)."""
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
