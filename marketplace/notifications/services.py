"""Notify users: a notification row and an outbox e-mail, in the caller's transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from marketplace.accounts.models import Role, User, UserStatus
from marketplace.database import utcnow
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.jobs import emails
from marketplace.notifications.models import Notification
from marketplace.permissions import people_acting_for
from marketplace.profiles.models import ClientProfile, ProviderProfile

#: Whom a notification goes to: the people acting for a profile, or these users.
Recipients = ClientProfile | ProviderProfile | Iterable[User]


def _notify(
    users: Iterable[User],
    *,
    email: str,
    context: Mapping[str, Any],
    data: dict[str, str | None],
) -> list[Notification]:
    """Tell each user once: an in-app notification always, and the e-mail `email` unless
    the user turned its kind off. Both commit with the caller. Rendering reads only the
    users given (their zone and preferences are columns of theirs) and `context`."""
    kind = emails.EMAILS[email].kind
    subject = emails.subject(email, context)
    created = []
    for user in {u.id: u for u in users}.values():
        item = Notification(user_id=user.id, kind=kind, subject=subject, data=data)
        db.session.add(item)
        if emails.emailed(kind, user.email_opt_out):
            emails.send(email, to=user, context=context, **data)
        created.append(item)
    return created


def tell(
    to: Recipients,
    *,
    email: str,
    context: Mapping[str, Any] | None = None,
    **about: uuid.UUID | None,
) -> list[Notification]:
    """Notify the people acting for a profile (its individual, or its organization's owner
    and managers), or the users given, with e-mail `email` of `marketplace.jobs.emails`
    (its kind is the notification's). `context` holds the values its templates show (titles,
    `Money`, UTC datetimes); `about` names what it concerns (`task_id=...`,
    `contract_id=...`), kept as ids in the notification's data and used for the e-mail's
    link to the frontend."""
    people = people_acting_for(to) if isinstance(to, ClientProfile | ProviderProfile) else to
    data = {name: str(value) if value is not None else None for name, value in about.items()}
    return _notify(people, email=email, context=context or {}, data=data)


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
