"""Reports from users, and the admin report queue."""

from __future__ import annotations

from typing import Any

from flask_login import current_user, login_required

from marketplace import audit
from marketplace.accounts.auth import admin_required
from marketplace.api import Blueprint
from marketplace.moderation import services
from marketplace.moderation.models import Report, ReportStatus
from marketplace.moderation.schemas import (
    AdminReportPageSchema,
    AuditPageSchema,
    AuditQuerySchema,
    ReportQuerySchema,
    ReportSchema,
)
from marketplace.pagination import Page, paginate

blp = Blueprint("moderation", __name__, url_prefix="/api/v1", description="Reports")


@blp.post("/reports")
@login_required
@blp.arguments(ReportSchema)
@blp.response(201, ReportSchema)
@blp.errors(400, 401, 404, 409, 422)
def create_report(data: dict[str, Any]) -> Report:
    """Report a task or a user to the moderators."""
    return services.report(reporter=current_user, **data)


@blp.get("/admin/reports")
@admin_required
@blp.arguments(ReportQuerySchema, location="query", as_kwargs=True)
@blp.response(200, AdminReportPageSchema)
@blp.errors(401, 403, 422)
def report_queue(
    page: int, page_size: int | None, status: ReportStatus, target_type: str | None = None
) -> Page:
    """Reports, oldest first; `status=open` (the default) is the queue."""
    return paginate(
        services.reports_query(status=status, target_type=target_type),
        page=page,
        page_size=page_size,
    )


@blp.get("/admin/audit-log")
@admin_required
@blp.arguments(AuditQuerySchema, location="query", as_kwargs=True)
@blp.response(200, AuditPageSchema)
@blp.errors(401, 403, 422)
def audit_log(page: int, page_size: int | None, **filters: Any) -> Page:
    """Every admin action, newest first; filter by target or actor."""
    return paginate(audit.entries_query(**filters), page=page, page_size=page_size)
