"""Notify users: a notification row and an outbox e-mail, in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from marketplace.accounts.models import Role, User, UserStatus
from marketplace.database import utcnow
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.jobs import outbox
from marketplace.notifications.models import Notification
from marketplace.permissions import people_acting_for
from marketplace.profiles.models import ClientProfile, ProviderProfile

#: Whom a notification goes to: the people acting for a profile, or these users.
Recipients = ClientProfile | ProviderProfile | Iterable[User]


def _notify(
    users: Iterable[User], *, kind: str, subject: str, body: str, data: dict[str, Any]
) -> list[Notification]:
    """Tell each user once; both the notification and the e-mail commit with the caller."""
    created = []
    for user in {u.id: u for u in users}.values():
        item = Notification(user_id=user.id, kind=kind, subject=subject, data=data)
        db.session.add(item)
        outbox.enqueue_email(to=user.email, subject=subject, body=body)
        created.append(item)
    return created


def tell(
    to: Recipients, *, kind: str, subject: str, body: str, **about: uuid.UUID | None
) -> list[Notification]:
    """Notify the people acting for a profile (its individual, or its organization's owner
    and managers), or the users given; `about` names what it concerns (`task_id=...`,
    `contract_id=...`), kept as ids in the notification's data for the frontend's links."""
    people = people_acting_for(to) if isinstance(to, ClientProfile | ProviderProfile) else to
    data = {name: str(value) if value is not None else None for name, value in about.items()}
    return _notify(people, kind=kind, subject=subject, body=body, data=data)


def admins() -> list[User]:
    """The active admins, who hear about money that needs them."""
    return list(
        db.session.scalars(
            sa.select(User).where(User.role == Role.ADMIN, User.status == UserStatus.ACTIVE)
        )
    )


def notifications_query(*, user: User, unread: bool | None = None) -> sa.Select[Notification]:
    """The user's notifications, newest first."""
    stmt = (
        sa.select(Notification)
        .where(Notification.user_id == user.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    )
    if unread is True:
        stmt = stmt.where(Notification.read_at.is_(None))
    elif unread is False:
        stmt = stmt.where(Notification.read_at.is_not(None))
    return stmt


def unread_count(*, user: User) -> int:
    """How many of the user's notifications are unread: one count, for a badge to poll."""
    return int(
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def mark_read(*, user: User, notification_id: uuid.UUID) -> Notification:
    """Mark one of the user's notifications read."""
    item = db.session.get(Notification, notification_id)
    if item is None or item.user_id != user.id:
        raise NotFound("Notification not found.")
    if item.read_at is None:
        item.read_at = utcnow()
        db.session.commit()
    return item


def mark_all_read(*, user: User) -> int:
    """Mark all the user's notifications read; return how many changed."""
    result = db.session.execute(
        sa.update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    )
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
