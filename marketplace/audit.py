"""The audit log: every admin action is recorded in the same transaction as the action.

It sits in the kernel, below the parties, because every area records into it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.database import IdMixin, UTCDateTime, utcnow
from marketplace.extensions import Model, db

if TYPE_CHECKING:
    from marketplace.accounts.models import User


class AuditEntry(IdMixin, Model):
    """One admin action (and, later, money movement): who did what to what, and when."""

    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_target", "target_type", "target_id"),)

    actor_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(sa.String(64))
    target_type: Mapped[str] = mapped_column(sa.String(20))
    target_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def record(
    *,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: uuid.UUID,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Add an entry to the caller's transaction (it is kept only if that commits)."""
    entry = AuditEntry(
        actor_id=actor.id if actor else None,
        action=action,
        target_type=target_type,
        target_id=target_id,
        details=details or {},
    )
    db.session.add(entry)
    return entry


def entries_query(
    *,
    target_type: str | None = None,
    target_id: uuid.UUID | None = None,
    actor_id: uuid.UUID | None = None,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> sa.Select[AuditEntry]:
    """Entries, newest first, filtered by target, actor, action (a name, or a prefix ending
    in a dot: `outbox.`) and time (`since` included, `until` not)."""
    stmt = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if target_type:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if actor_id:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    if action:
        stmt = stmt.where(
            AuditEntry.action.startswith(action, autoescape=True)
            if action.endswith(".")
            else AuditEntry.action == action
        )
    if since:
        stmt = stmt.where(AuditEntry.at >= since)
    if until:
        stmt = stmt.where(AuditEntry.at < until)
    return stmt


def actions() -> list[str]:
    """Every action name recorded so far, sorted (for filters)."""
    return list(db.session.scalars(sa.select(AuditEntry.action).distinct().order_by("action")))


def target_types() -> list[str]:
    """Every kind of object acted on so far, sorted (for filters)."""
    return list(
        db.session.scalars(sa.select(AuditEntry.target_type).distinct().order_by("target_type"))
    )


def log(
    *,
    actor: User | None,
    action: str,
    target_type: str,
    target_id: uuid.UUID,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record an action that changed nothing else (an admin signing in to the console), in a
    transaction of its own."""
    entry = record(
        actor=actor, action=action, target_type=target_type, target_id=target_id, details=details
    )
    db.session.commit()
    return entry


def ensure_recorded(
    *,
    actor: User,
    action: str,
    target_type: str,
    target_id: uuid.UUID,
    since: datetime,
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """The entry the actor's action on the target left since `since` (services record their
    own); if it left none, one is recorded now, so that no admin action goes unrecorded."""
    found = db.session.scalar(
        entries_query(target_type=target_type, target_id=target_id, actor_id=actor.id)
        .where(AuditEntry.at >= since)
        .limit(1)
    )
    if found is not None:
        return found
    return log(
        actor=actor, action=action, target_type=target_type, target_id=target_id, details=details
    )
