"""Workflow audit endpoints: a client's workflows, and where each belongs."""

from __future__ import annotations

import uuid
from typing import Any

from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.pagination import Page, PageArgsSchema, paginate
from marketplace.reporting import roi as realised
from marketplace.tasks.models import Task
from marketplace.tasks.schemas import OwnerTaskSchema
from marketplace.workflows import services
from marketplace.workflows.inputs import WorkflowChanges, WorkflowDraft
from marketplace.workflows.models import Workflow
from marketplace.workflows.schemas import (
    ClientRoiSchema,
    WorkflowInputSchema,
    WorkflowPageSchema,
    WorkflowRecommendationSchema,
    WorkflowSchema,
    WorkflowUpdateSchema,
)

blp = Blueprint(
    "workflows",
    __name__,
    url_prefix="/api/v1/workflows",
    description="The workflow audit: which work to keep, hand off or automate",
)


@blp.post("")
@login_required
@blp.arguments(WorkflowInputSchema)
@blp.response(201, WorkflowSchema)
@blp.link(
    201,
    "recommendation",
    "workflows.get_recommendation",
    "Where the workflow belongs, once its answers are given.",
    workflow_id="$response.body#/id",
)
@blp.errors(400, 401, 403, 422)
def create_workflow(draft: WorkflowDraft) -> Workflow:
    """Record a recurring workflow of the client you act for, with the answers you have."""
    return services.create_workflow(user=current_user, draft=draft)


@blp.get("")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, WorkflowPageSchema)
@blp.errors(401, 403, 422)
def list_workflows(page: int, page_size: int | None) -> Page:
    """The workflows of the client you act for, newest first."""
    return paginate(services.workflows_query(user=current_user), page=page, page_size=page_size)


@blp.get("/<uuid:workflow_id>")
@login_required
@blp.response(200, WorkflowSchema)
@blp.errors(401, 404)
def get_workflow(workflow_id: uuid.UUID) -> Workflow:
    """One of your workflows."""
    return services.get_workflow(user=current_user, workflow_id=workflow_id)


@blp.patch("/<uuid:workflow_id>")
@login_required
@blp.arguments(WorkflowUpdateSchema)
@blp.response(200, WorkflowSchema)
@blp.errors(400, 401, 404, 422)
def update_workflow(changes: WorkflowChanges, workflow_id: uuid.UUID) -> Workflow:
    """Edit your workflow; the answers you send replace those answers only (null clears
    one), so the audit can be filled in over time."""
    return services.update_workflow(user=current_user, workflow_id=workflow_id, changes=changes)


@blp.delete("/<uuid:workflow_id>")
@login_required
@blp.response(204)
@blp.errors(400, 401, 404)
def delete_workflow(workflow_id: uuid.UUID) -> None:
    """Delete your workflow."""
    services.delete_workflow(user=current_user, workflow_id=workflow_id)


@blp.post("/<uuid:workflow_id>/pilot")
@login_required
@blp.response(201, OwnerTaskSchema)
@blp.link(201, "publish", "tasks.publish_task", "Publish the draft.", task_id="$response.body#/id")
@blp.errors(400, 401, 404, 409, 422)
def create_pilot(workflow_id: uuid.UUID) -> Task:
    """Make the draft trial task of your workflow's pilot from its recommendation: its
    skills, service model, shoring, time-zone need and tier, one fixed price within the
    trial cap, and the service levels to start with in its summary. Edit and publish it
    as any task; the workflow then follows the pilot, the trial contract and its
    extension. A 409 while an earlier pilot still stands, or for work to keep in house
    or automate (tiers 1 and 4)."""
    return services.create_pilot(user=current_user, workflow_id=workflow_id)


@blp.get("/<uuid:workflow_id>/recommendation")
@login_required
@blp.response(200, WorkflowRecommendationSchema)
@blp.errors(401, 404, 422)
def get_recommendation(workflow_id: uuid.UUID) -> services.Recommendation:
    """Where your workflow belongs (tier, service model, shoring) with every reason, and
    the service levels to start with; for work to hand off (tiers 2 and 3) also the
    market's hourly rates, the return month by month against doing it in house, and the
    pilot to begin with. A 422 names the answers it still needs."""
    return services.recommend(user=current_user, workflow_id=workflow_id)


# The realised return (`GET /clients/me/roi`) -------------------------------------------


clients_blp = Blueprint(
    "roi",
    __name__,
    url_prefix="/api/v1/clients/me",
    description="The realised return of a client's workflows",
)


@clients_blp.get("/roi")
@login_required
@clients_blp.response(200, ClientRoiSchema)
@clients_blp.errors(401, 403)
def get_client_roi() -> dict[str, Any]:
    """Per workflow, the estimate next to what happened (the ledger's spend, the measured
    record's KPIs, the hours you report saving), and month by month per currency the
    saving against the in-house baseline."""
    return realised.client_roi(user=current_user)
