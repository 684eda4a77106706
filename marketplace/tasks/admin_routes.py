"""Admin endpoints for tasks: the review queue, approval and rejection."""

from __future__ import annotations

import uuid

from flask_login import current_user

from marketplace.accounts.auth import admin_required
from marketplace.api import Blueprint
from marketplace.pagination import Page, page_schema, paginate
from marketplace.tasks import lifecycle
from marketplace.tasks.models import Task, TaskStatus
from marketplace.tasks.schemas import AdminTaskQuerySchema, OwnerTaskSchema, ReasonSchema

blp = Blueprint(
    "admin_tasks", __name__, url_prefix="/api/v1/admin/tasks", description="Admin: task moderation"
)
AdminTaskPageSchema = page_schema(OwnerTaskSchema, "AdminTaskPage")


@blp.get("")
@admin_required
@blp.arguments(AdminTaskQuerySchema, location="query", as_kwargs=True)
@blp.response(200, AdminTaskPageSchema)
@blp.errors(401, 403, 422)
def review_queue(page: int, page_size: int | None, status: TaskStatus) -> Page:
    """Tasks in a status, oldest first; `status=pending_review` (the default) is the queue."""
    return paginate(lifecycle.review_queue(status=status), page=page, page_size=page_size)


@blp.post("/<uuid:task_id>/approve")
@admin_required
@blp.response(200, OwnerTaskSchema)
@blp.errors(400, 401, 403, 404, 409)
def approve_task(task_id: uuid.UUID) -> Task:
    """Let a task under review go live."""
    return lifecycle.approve_task(admin=current_user, task_id=task_id)


@blp.post("/<uuid:task_id>/reject")
@admin_required
@blp.arguments(ReasonSchema, as_kwargs=True)
@blp.response(200, OwnerTaskSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def reject_task(task_id: uuid.UUID, reason: str) -> Task:
    """Reject a task under review; the client is told the reason."""
    return lifecycle.reject_task(admin=current_user, task_id=task_id, reason=reason)
