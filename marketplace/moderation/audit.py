"""The audit log: every admin action is recorded in the same transaction as the action."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.moderation.models import AuditEntry


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
) -> sa.Select[AuditEntry]:
    """Entries, newest first, filtered by target and actor."""
    stmt = sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if target_type:
        stmt = stmt.where(AuditEntry.target_type == target_type)
    if target_id:
        stmt = stmt.where(AuditEntry.target_id == target_id)
    if actor_id:
        stmt = stmt.where(AuditEntry.actor_id == actor_id)
    return stmt
