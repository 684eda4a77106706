"""Matching endpoints."""

from __future__ import annotations

import uuid
from typing import Any

from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.extensions import per_user_limit
from marketplace.matching import invitations, services
from marketplace.matching.coverage import Plan
from marketplace.matching.schemas import (
    CoveragePlanSchema,
    MatchPageSchema,
    RecommendationPageSchema,
    SentInvitationPageSchema,
    TaskInvitationInputSchema,
    TaskInvitationListSchema,
    TaskInvitationPageSchema,
)
from marketplace.pagination import Page, PageArgsSchema, paginate

blp = Blueprint(
    "matching",
    __name__,
    url_prefix="/api/v1",
    description="Matching providers and tasks by skill, time zone, shoring, record and price",
)


@blp.get("/tasks/<uuid:task_id>/matches")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, MatchPageSchema)
@blp.errors(401, 404, 422)
def list_matches(task_id: uuid.UUID, page: int, page_size: int | None) -> Page:
    """Providers who meet the task's hard filters, best first (the client and admins)."""
    return services.matches(user=current_user, task_id=task_id, page=page, page_size=page_size)


@blp.get("/providers/me/recommended-tasks")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, RecommendationPageSchema)
@blp.errors(401, 403, 404, 422)
def recommended_tasks(page: int, page_size: int | None) -> Page:
    """Open tasks you (or your firm) match, best first, with why."""
    return services.recommended_tasks(user=current_user, page=page, page_size=page_size)


@blp.post("/tasks/<uuid:task_id>/coverage-plan")
@login_required
@blp.response(200, CoveragePlanSchema)
@blp.errors(401, 404, 422)
def coverage_plan(task_id: uuid.UUID) -> Plan:
    """A few matching providers who together cover the task's weekly window."""
    return services.coverage_plan(user=current_user, task_id=task_id)


@blp.post("/tasks/<uuid:task_id>/invitations")
@login_required
@per_user_limit("TASK_INVITATION_RATE_LIMIT")
@blp.arguments(TaskInvitationInputSchema)
@blp.response(201, TaskInvitationListSchema)
@blp.errors(400, 401, 403, 404, 409, 422, 429)
def invite(data: dict[str, Any], task_id: uuid.UUID) -> dict[str, Any]:
    """Invite up to 20 matching providers to bid on your open task (again: no change)."""
    items = invitations.invite(
        user=current_user, task_id=task_id, provider_ids=data["provider_ids"]
    )
    return {"items": items}


@blp.get("/tasks/<uuid:task_id>/invitations")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, SentInvitationPageSchema)
@blp.errors(401, 404, 422)
def sent_invitations(task_id: uuid.UUID, page: int, page_size: int | None) -> Page:
    """The invitations to bid you sent for your task, newest first.

    Each names the invited provider and what came of it: `invited` (no bid yet), `bid`
    (its latest bid's id and status in `bid`) or `lapsed` (no bid, and the task is
    filled, closed, cancelled or expired). For the task's client (its company's people)
    and admins; anyone else gets a 404.
    """
    return invitations.sent_invitations(
        user=current_user, task_id=task_id, page=page, page_size=page_size
    )


@blp.get("/providers/me/invitations")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, TaskInvitationPageSchema)
@blp.errors(401, 403, 404, 422)
def my_invitations(page: int, page_size: int | None) -> Page:
    """Tasks you (or your firm) are invited to bid on: their public fields only."""
    return paginate(invitations.my_invitations(user=current_user), page=page, page_size=page_size)
