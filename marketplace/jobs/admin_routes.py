"""Admin endpoints for the outbox: what failed for good, and a retry."""

from __future__ import annotations

import uuid

from flask_login import current_user

from marketplace.accounts.auth import admin_required
from marketplace.api import Blueprint
from marketplace.jobs import outbox
from marketplace.jobs.models import OutboxEntry, OutboxStatus
from marketplace.jobs.schemas import OutboxEntrySchema, OutboxPageSchema, OutboxQuerySchema
from marketplace.pagination import Page, paginate

blp = Blueprint(
    "admin_outbox", __name__, url_prefix="/api/v1/admin", description="Admin: side effects"
)


@blp.get("/outbox")
@admin_required
@blp.arguments(OutboxQuerySchema, location="query", as_kwargs=True)
@blp.response(200, OutboxPageSchema)
@blp.errors(401, 403, 422)
def list_outbox(
    page: int, page_size: int | None, status: OutboxStatus, kind: str | None = None
) -> Page:
    """Outbox entries, newest first; by default those that failed after the last retry."""
    return paginate(outbox.entries_query(status=status, kind=kind), page=page, page_size=page_size)


@blp.post("/outbox/<uuid:entry_id>/retry")
@admin_required
@blp.response(200, OutboxEntrySchema)
@blp.errors(401, 403, 404, 409)
def retry_outbox_entry(entry_id: uuid.UUID) -> OutboxEntry:
    """Try a failed entry again (its gateway idempotency key makes this safe)."""
    return outbox.retry(admin=current_user, entry_id=entry_id)
