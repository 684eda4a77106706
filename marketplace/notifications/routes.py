"""Notification endpoints."""

from __future__ import annotations

import uuid

from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.notifications import services
from marketplace.notifications.models import Notification
from marketplace.notifications.schemas import (
    MarkedSchema,
    NotificationPageSchema,
    NotificationQuerySchema,
    NotificationSchema,
    UnreadCountSchema,
)
from marketplace.pagination import Page, paginate

blp = Blueprint(
    "notifications", __name__, url_prefix="/api/v1/notifications", description="Your notifications"
)


@blp.get("")
@login_required
@blp.arguments(NotificationQuerySchema, location="query", as_kwargs=True)
@blp.response(200, NotificationPageSchema)
@blp.errors(401, 422)
def list_notifications(page: int, page_size: int | None, unread: bool | None = None) -> Page:
    """Your notifications, newest first."""
    return paginate(
        services.notifications_query(user=current_user, unread=unread),
        page=page,
        page_size=page_size,
    )


@blp.get("/unread-count")
@login_required
@blp.response(200, UnreadCountSchema)
@blp.errors(401)
def unread_count() -> dict[str, int]:
    """How many of your notifications are unread.

    `{"unread": n}`: one count for a badge to poll; `GET /notifications?unread=true` lists
    them.
    """
    return {"unread": services.unread_count(user=current_user)}


@blp.post("/<uuid:notification_id>/read")
@login_required
@blp.response(200, NotificationSchema)
@blp.errors(400, 401, 404)
def mark_read(notification_id: uuid.UUID) -> Notification:
    """Mark one notification read."""
    return services.mark_read(user=current_user, notification_id=notification_id)


@blp.post("/read")
@login_required
@blp.response(200, MarkedSchema)
@blp.errors(400, 401)
def mark_all_read() -> dict[str, int]:
    """Mark all your notifications read."""
    return {"marked": services.mark_all_read(user=current_user)}
