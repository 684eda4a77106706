"""Task endpoints: posting, lifecycle, confidentiality and discovery."""

from __future__ import annotations

import uuid
from typing import Any

from flask import request
from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.bids import services as bids
from marketplace.contracts import terms as contract_terms
from marketplace.flows import tasks as task_flows
from marketplace.matching import discovery
from marketplace.pagination import Page, PageArgsSchema, page_schema, paginate
from marketplace.tasks import confidentiality, lifecycle, services
from marketplace.tasks.confidentiality import Material
from marketplace.tasks.input_schemas import TaskInputSchema, TaskUpdateSchema
from marketplace.tasks.inputs import TaskChanges, TaskDraft
from marketplace.tasks.models import Task, TermsAcceptance
from marketplace.tasks.schemas import (
    AcceptanceSchema,
    AcceptTermsSchema,
    AccessLogEntrySchema,
    ConfidentialSchema,
    OptionalReasonSchema,
    OwnerTaskSchema,
    PublishResultSchema,
    PublishSchema,
    TaskListSchema,
    TaskQuerySchema,
    TaskViewSchema,
    current_reader,
)

blp = Blueprint(
    "tasks",
    __name__,
    url_prefix="/api/v1/tasks",
    description="Posting non-core work, and finding it",
)

AccessLogPageSchema = page_schema(AccessLogEntrySchema, "AccessLogPage")


@blp.post("")
@login_required
@blp.arguments(TaskInputSchema)
@blp.response(201, OwnerTaskSchema)
@blp.link(201, "publish", "tasks.publish_task", "Publish the draft.", task_id="$response.body#/id")
@blp.errors(400, 401, 403, 422)
def create_task(draft: TaskDraft) -> Task:
    """Post a task as a draft, for the client you act for."""
    return services.create_task(user=current_user, draft=draft)


@blp.get("")
@login_required
@blp.arguments(TaskQuerySchema, location="query")
@blp.response(200, TaskListSchema)
@blp.errors(401, 403, 422)
def list_tasks(search: discovery.TaskSearch) -> Any:
    """Find open tasks (filters, search, sorting, cursor pages), or your own with `mine=true`."""
    return discovery.search_tasks(user=current_user, search=search)


@blp.get("/<uuid:task_id>")
@login_required
@blp.response(200, TaskViewSchema)
@blp.errors(401, 404)
def get_task(task_id: uuid.UUID) -> Any:
    """A task; its client and admins also see review state and history, a provider whether
    it accepted the terms and its live bid."""
    return bids.view_task(user=current_user, task_id=task_id)


@blp.patch("/<uuid:task_id>")
@login_required
@blp.arguments(TaskUpdateSchema)
@blp.response(200, OwnerTaskSchema)
@blp.errors(400, 401, 404, 409, 422)
def update_task(changes: TaskChanges, task_id: uuid.UUID) -> Task:
    """Edit your task (draft, in review or open); changing confidential material needs
    providers to accept the terms again."""
    return services.update_task(user=current_user, task_id=task_id, changes=changes)


@blp.delete("/<uuid:task_id>")
@login_required
@blp.response(204)
@blp.errors(400, 401, 404, 409)
def delete_task(task_id: uuid.UUID) -> None:
    """Delete your draft."""
    services.delete_task(user=current_user, task_id=task_id)


@blp.post("/<uuid:task_id>/publish")
@login_required
@blp.arguments(PublishSchema, as_kwargs=True)
@blp.response(200, PublishResultSchema)
@blp.errors(400, 401, 404, 409, 422)
def publish_task(task_id: uuid.UUID, confirm_strategic: bool) -> dict[str, Any]:
    """Publish your draft: open at once, or to moderation for new clients and flagged text."""
    task, notices = lifecycle.publish_task(
        user=current_user, task_id=task_id, confirm_strategic=confirm_strategic
    )
    return {"task": task, "notices": notices}


@blp.post("/<uuid:task_id>/revise")
@login_required
@blp.response(200, OwnerTaskSchema)
@blp.errors(400, 401, 404, 409)
def revise_task(task_id: uuid.UUID) -> Task:
    """Take your rejected task back to a draft to edit it (the moderator's reason stays in
    `rejection_reason`); publishing it again sends it to review."""
    return lifecycle.revise_task(user=current_user, task_id=task_id)


@blp.post("/<uuid:task_id>/cancel")
@login_required
@blp.arguments(OptionalReasonSchema, as_kwargs=True)
@blp.response(200, OwnerTaskSchema)
@blp.errors(400, 401, 404, 409, 422)
def cancel_task(task_id: uuid.UUID, reason: str | None) -> Task:
    """Cancel your task."""
    return task_flows.cancel_task(user=current_user, task_id=task_id, reason=reason)


@blp.post("/<uuid:task_id>/confidentiality")
@login_required
@blp.arguments(AcceptTermsSchema, as_kwargs=True)
@blp.response(201, AcceptanceSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def accept_terms(task_id: uuid.UUID, terms_hash: str, terms_version: int | None) -> TermsAcceptance:
    """Accept the task's current confidentiality terms (for yourself or your firm), naming
    them by the hash you read; a 409 if they changed since."""
    return confidentiality.accept_terms(
        user=current_user,
        task_id=task_id,
        terms_hash=terms_hash,
        terms_version=terms_version,
        ip_address=request.remote_addr,
        user_agent=request.headers.get("User-Agent"),
    )


@blp.get("/<uuid:task_id>/confidential")
@login_required
@blp.response(200, ConfidentialSchema)
@blp.errors(401, 404)
def read_confidential(task_id: uuid.UUID) -> Material:
    """The confidential details: for the client, admins and providers who accepted the
    current terms (a contracted provider reads its contract's version until it accepts a
    newer one). Every read is in the task's access log."""
    return contract_terms.read_task_material(reader=current_reader(), task_id=task_id)


@blp.get("/<uuid:task_id>/confidential/access-log")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, AccessLogPageSchema)
@blp.errors(401, 404, 422)
def access_log(task_id: uuid.UUID, page: int, page_size: int | None) -> Page:
    """Who read your task's confidential details, and when (newest first)."""
    return paginate(
        confidentiality.access_log(user=current_user, task_id=task_id),
        page=page,
        page_size=page_size,
    )
