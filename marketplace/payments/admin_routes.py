"""Admin endpoints for money: the disputes queue and their resolution."""

from __future__ import annotations

import uuid
from typing import Any

from flask_login import current_user

from marketplace.accounts.auth import admin_required
from marketplace.api import Blueprint
from marketplace.pagination import Page, paginate
from marketplace.payments import disputes, evidence
from marketplace.payments.models import Dispute, DisputeStatus
from marketplace.payments.routes import money
from marketplace.payments.schemas import (
    DisputeDetailSchema,
    DisputePageSchema,
    DisputeQuerySchema,
    DisputeSchema,
    ResolveSchema,
)

blp = Blueprint(
    "admin_payments", __name__, url_prefix="/api/v1/admin", description="Admin: disputes"
)


@blp.get("/disputes")
@admin_required
@blp.arguments(DisputeQuerySchema, location="query", as_kwargs=True)
@blp.response(200, DisputePageSchema)
@blp.errors(401, 403, 422)
def dispute_queue(page: int, page_size: int | None, status: DisputeStatus | None = None) -> Page:
    """Disputes, oldest first; `status=open` is the queue."""
    return paginate(disputes.disputes_query(status=status), page=page, page_size=page_size)


@blp.get("/disputes/<uuid:dispute_id>")
@admin_required
@blp.response(200, DisputeDetailSchema)
@blp.errors(401, 403, 404)
def get_dispute(dispute_id: uuid.UUID) -> evidence.DisputeView:
    """One dispute, with both parties' evidence and its deadline."""
    return evidence.detail(user=current_user, dispute_id=dispute_id)


@blp.post("/disputes/<uuid:dispute_id>/resolve")
@admin_required
@money
@blp.arguments(ResolveSchema)
@blp.response(200, DisputeSchema)
@blp.errors(400, 401, 403, 404, 409, 422, 429)
def resolve_dispute(data: dict[str, Any], dispute_id: uuid.UUID) -> Dispute:
    """Settle a dispute: release part to the provider and refund the rest to the client."""
    return disputes.resolve(admin=current_user, dispute_id=dispute_id, **data)
