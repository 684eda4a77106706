"""The measured record's endpoints: KPIs, SLA events, work reports, changes, reviews and
the providers' record."""

from __future__ import annotations

import uuid

from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.pagination import Page, PageArgsSchema, paginate
from marketplace.record import changes, reports
from marketplace.record.models import Change, WorkReport
from marketplace.record.schemas import (
    ChangeInputSchema,
    ChangePageSchema,
    ChangeSchema,
    ContestSchema,
    WorkReportInputSchema,
    WorkReportPageSchema,
    WorkReportSchema,
)

blp = Blueprint("record", __name__, url_prefix="/api/v1", description="Measured record")


# Work reports and changes ---------------------------------------------------------------


@blp.post("/contracts/<uuid:contract_id>/work-reports")
@login_required
@blp.arguments(WorkReportInputSchema)
@blp.response(201, WorkReportSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def file_work_report(figures: reports.ReportFigures, contract_id: uuid.UUID) -> WorkReport:
    """File the figures of a period of operations work (the provider side: BPO, VA, ITO).

    The period (dates in the client's zone, first and last included) has ended, started on
    or after the contract and spans at most 31 days; one overlapping a filed report is a
    409, as is a KPO contract or one not active or paused. Impossible figures are a 422
    naming each field. The client is told."""
    return reports.file_report(user=current_user, contract_id=contract_id, figures=figures)


@blp.get("/contracts/<uuid:contract_id>/work-reports")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, WorkReportPageSchema)
@blp.errors(401, 404, 422)
def list_work_reports(contract_id: uuid.UUID, page: int, page_size: int | None) -> Page:
    """The contract's work reports (its parties and admins), the newest period first; each
    with its status as it counts now (unanswered for 7 days: confirmed)."""
    return paginate(
        reports.reports_query(user=current_user, contract_id=contract_id),
        page=page,
        page_size=page_size,
    )


@blp.post("/work-reports/<uuid:report_id>/confirm")
@login_required
@blp.response(200, WorkReportSchema)
@blp.errors(401, 403, 404, 409)
def confirm_work_report(report_id: uuid.UUID) -> WorkReport:
    """Confirm a report's figures (the client's owner or managers), also one you contested;
    the provider is told. A report confirmed already, or unanswered for 7 days, is a 409."""
    return reports.confirm(user=current_user, report_id=report_id)


@blp.post("/work-reports/<uuid:report_id>/contest")
@login_required
@blp.arguments(ContestSchema, as_kwargs=True)
@blp.response(200, WorkReportSchema)
@blp.errors(401, 403, 404, 409, 422)
def contest_work_report(report_id: uuid.UUID, reason: str) -> WorkReport:
    """Contest a report's figures, saying why (the client's owner or managers): they feed
    nothing until you confirm them. The provider is told."""
    return reports.contest(user=current_user, report_id=report_id, reason=reason)


@blp.post("/contracts/<uuid:contract_id>/changes")
@login_required
@blp.arguments(ChangeInputSchema, as_kwargs=True)
@blp.response(201, ChangeSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def announce_change(contract_id: uuid.UUID, title: str, description: str, to_adopt: str) -> Change:
    """Announce a policy, product or SOP change and what must be adopted (the client side);
    the provider is told, and the time to its adoption is the learning speed."""
    return changes.announce(
        user=current_user,
        contract_id=contract_id,
        title=title,
        description=description,
        to_adopt=to_adopt,
    )


@blp.get("/contracts/<uuid:contract_id>/changes")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ChangePageSchema)
@blp.errors(401, 404, 422)
def list_changes(contract_id: uuid.UUID, page: int, page_size: int | None) -> Page:
    """The contract's announced changes (its parties and admins), the newest first, each
    with its adoption time in service minutes and the target in service hours."""
    return changes.changes_page(
        user=current_user, contract_id=contract_id, page=page, page_size=page_size
    )


@blp.post("/changes/<uuid:change_id>/acknowledge")
@login_required
@blp.response(200, ChangeSchema)
@blp.errors(401, 403, 404, 409)
def acknowledge_change(change_id: uuid.UUID) -> Change:
    """Acknowledge an announced change (the provider side); the client is told."""
    return changes.acknowledge(user=current_user, change_id=change_id)


@blp.post("/changes/<uuid:change_id>/adopted")
@login_required
@blp.response(200, ChangeSchema)
@blp.errors(401, 403, 404, 409)
def adopt_change(change_id: uuid.UUID) -> Change:
    """Confirm a change adopted (the provider side; it counts as acknowledged too): the
    service minutes since its announcement are fixed. The client is told."""
    return changes.adopt(user=current_user, change_id=change_id)
