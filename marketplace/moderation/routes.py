"""Reports from users, and the admin report queue: each case, resolved or dismissed.

Report ids are `moderation_report_id` in paths: `report_id` names a work report's."""

from __future__ import annotations

import uuid
from typing import Any

from flask_login import current_user, login_required

from marketplace import audit
from marketplace.accounts.auth import admin_required
from marketplace.api import Blueprint
from marketplace.flows import moderation as moderation_flows
from marketplace.moderation import services
from marketplace.moderation.models import Report, ReportStatus
from marketplace.moderation.schemas import (
    AdminReportCaseSchema,
    AdminReportPageSchema,
    AdminReportSchema,
    AuditPageSchema,
    AuditQuerySchema,
    CloseReportSchema,
    ReportQuerySchema,
    ReportSchema,
    ResolveReportSchema,
)
from marketplace.pagination import Page, paginate

blp = Blueprint("moderation", __name__, url_prefix="/api/v1", description="Reports")


@blp.post("/reports")
@login_required
@blp.arguments(ReportSchema)
@blp.response(201, ReportSchema)
@blp.errors(400, 401, 404, 409, 422)
def create_report(data: dict[str, Any]) -> Report:
    """Report a task, bid, message, user or organization you can see to the moderators."""
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


@blp.get("/admin/reports/<uuid:moderation_report_id>")
@admin_required
@blp.response(200, AdminReportCaseSchema)
@blp.errors(401, 403, 404)
def get_report(moderation_report_id: uuid.UUID) -> services.ReportCase:
    """A report with what it is about and the other reports on the same target."""
    return services.report_case(moderation_report_id)


@blp.post("/admin/reports/<uuid:moderation_report_id>/resolve")
@admin_required
@blp.arguments(ResolveReportSchema)
@blp.response(200, AdminReportSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def resolve_report(data: dict[str, Any], moderation_report_id: uuid.UUID) -> Report:
    """Resolve an open report with a note, optionally suspending the reported user or
    cancelling the reported task at once; the reporter is told. A closed report is a 409."""
    return moderation_flows.resolve_report(
        admin=current_user, report_id=moderation_report_id, **data
    )


@blp.post("/admin/reports/<uuid:moderation_report_id>/dismiss")
@admin_required
@blp.arguments(CloseReportSchema)
@blp.response(200, AdminReportSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def dismiss_report(data: dict[str, Any], moderation_report_id: uuid.UUID) -> Report:
    """Dismiss an open report with a note (nothing breaks the rules); the reporter is told.
    A closed report is a 409."""
    return services.dismiss_report(admin=current_user, report_id=moderation_report_id, **data)


@blp.get("/admin/audit-log")
@admin_required
@blp.arguments(AuditQuerySchema, location="query", as_kwargs=True)
@blp.response(200, AuditPageSchema)
@blp.errors(401, 403, 422)
def audit_log(page: int, page_size: int | None, **filters: Any) -> Page:
    """Every admin action, newest first; filter by target or actor."""
    return paginate(audit.entries_query(**filters), page=page, page_size=page_size)
