"""Admin endpoints for users: the list and suspensions."""

from __future__ import annotations

import uuid
from typing import Any

from flask_login import current_user

from marketplace.accounts import services
from marketplace.accounts.auth import admin_required
from marketplace.accounts.models import Role, User, UserStatus
from marketplace.accounts.schemas import (
    AdminUserPageSchema,
    AdminUserSchema,
    SuspendSchema,
    UserQuerySchema,
)
from marketplace.api import Blueprint
from marketplace.pagination import Page, paginate

blp = Blueprint(
    "admin_users", __name__, url_prefix="/api/v1/admin", description="Admin: users and suspensions"
)


@blp.get("/users")
@admin_required
@blp.arguments(UserQuerySchema, location="query", as_kwargs=True)
@blp.response(200, AdminUserPageSchema)
@blp.errors(401, 403, 422)
def list_users(
    page: int, page_size: int | None, status: UserStatus | None = None, role: Role | None = None
) -> Page:
    """Users, newest first, filtered by status and role."""
    return paginate(services.users_query(status=status, role=role), page=page, page_size=page_size)


@blp.post("/users/<uuid:user_id>/suspend")
@admin_required
@blp.arguments(SuspendSchema)
@blp.response(200, AdminUserSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def suspend_user(data: dict[str, Any], user_id: uuid.UUID) -> User:
    """Suspend a user: they cannot log in, and their sessions and tokens are revoked for
    good. A user already suspended is a 409."""
    return services.suspend_user(admin=current_user, user=services.get_user(user_id), **data)


@blp.post("/users/<uuid:user_id>/reinstate")
@admin_required
@blp.response(200, AdminUserSchema)
@blp.errors(400, 401, 403, 404, 409)
def reinstate_user(user_id: uuid.UUID) -> User:
    """Lift a user's suspension; they sign in afresh. A user who is not suspended is a 409."""
    return services.reinstate_user(admin=current_user, user=services.get_user(user_id))
