"""Reports: the queue of users' reports (filtered by status and by what they are about,
as CSV too), and each report's page: the reported content itself, who reported it and why,
the other reports on the same target; resolved (optionally suspending the reported user
or cancelling the reported task) or dismissed with a note, through the services the API's
admin routes call; and, once closed, the outcome."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from sqlalchemy.orm import selectinload

from marketplace import audit
from marketplace.accounts.models import User
from marketplace.console.actions import perform
from marketplace.console.exports import csv_response, wants_csv
from marketplace.console.site import page, page_number, page_url, render
from marketplace.console.tasks import money
from marketplace.extensions import db
from marketplace.flows import moderation as moderation_flows
from marketplace.moderation import services as moderation
from marketplace.moderation.models import Report, ReportStatus
from marketplace.pagination import paginate
from marketplace.reporting import operations
from marketplace.tasks.states import TASK_STATES, TaskStatus

bp = page("reports", __name__, url_prefix="/reports")

#: The lists by status: `all` shows every report.
STATUS_VIEWS = ("open", "resolved", "dismissed", "all")
#: What a report can be about, as the filter offers it.
TARGET_TYPES = tuple(moderation.TARGETS)
#: The longest note, as the API's admin routes take it.
NOTE_MAX = 2000
#: The Users page's view of one user (linked to where it is built).
USER_PAGE = "console.users.show"
#: What a resolution's action does, as the form offers it.
ACTION_LABELS = {
    "suspend_user": "Suspend the user: they are signed out everywhere and told the note as "
    "the reason",
    "cancel_task": "Cancel the task: its bids and offers close, and its client is told the note",
}
#: What was done, as the outcome names it.
ACTION_DONE = {"suspend_user": "The user was suspended.", "cancel_task": "The task was cancelled."}


def _filters() -> tuple[str, str | None]:
    """The status view (default `open`) and target type (None: any) asked for."""
    status = request.args.get("status", "open")
    target_type = request.args.get("target_type") or None
    return (
        status if status in STATUS_VIEWS else "open",
        target_type if target_type in TARGET_TYPES else None,
    )


def _people(ids: Iterable[uuid.UUID | None]) -> dict[uuid.UUID, User]:
    """These users by id (reporters, the admins who closed reports)."""
    wanted = {user_id for user_id in ids if user_id}
    if not wanted:
        return {}
    return {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(wanted)))}


def user_url(user_id: uuid.UUID | None) -> str | None:
    """The console's page of a user, once the Users page is built."""
    return page_url(USER_PAGE, user_id=user_id) if user_id else None


def target_url(target: dict[str, Any]) -> str | None:
    """The console's page of what a report is about, if it has one."""
    if not target["found"]:
        return None
    if target["type"] == "task":
        return url_for("console.tasks.detail", task_id=target["id"])
    if target["type"] == "user":
        return user_url(target["id"])
    return None


def resolution_actions(target: dict[str, Any]) -> list[str]:
    """The actions a resolution may take on this target as it is now
    (moderation.services.ACTIONS, where the target's state allows them)."""
    if not target["found"]:
        return []
    if target["type"] == "user" and target["status"] == "active":
        return ["suspend_user"]
    if target["type"] == "task" and "cancel" in TASK_STATES.actions_from(
        TaskStatus(target["status"])
    ):
        return ["cancel_task"]
    return []


@bp.get("/")
def index() -> ResponseReturnValue:
    """Reports, oldest first: the open ones unless another status is asked for."""
    status, target_type = _filters()
    stmt = moderation.reports_query(
        status=None if status == "all" else ReportStatus(status), target_type=target_type
    ).options(selectinload(Report.reporter))
    if wants_csv():
        rows = operations.export_rows(stmt)
        closers = _people(r.resolved_by_id for r in rows)
        return csv_response(
            f"reports-{status}",
            ("id", "created_at", "status", "target_type", "target_id", "reporter", "reason",
             "closed_at", "closed_by", "note"),
            (
                (r.id, r.created_at, r.status.value, r.target_type, r.target_id,
                 r.reporter.email, r.reason, r.resolved_at,
                 closers[r.resolved_by_id].email if r.resolved_by_id in closers else "",
                 r.resolution_note)
                for r in rows
            ),
        )  # fmt: skip
    result = paginate(stmt, page=page_number())
    return render(
        "console/reports/index.html",
        page=result,
        status=status,
        target_type=target_type,
        status_views=STATUS_VIEWS,
        target_types=TARGET_TYPES,
        targets={r.id: moderation.report_target(r) for r in result.items},
    )


def _case_page(
    report_id: uuid.UUID,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> ResponseReturnValue:
    case = moderation.report_case(report_id)
    people = _people([case.resolved_by_id, *(r.resolved_by_id for r in case.earlier_reports)])
    closing = db.session.scalar(
        audit.entries_query(target_type="report", target_id=report_id).limit(1)
    )
    taken = (closing.details or {}).get("action") if closing is not None else None
    return render(
        "console/reports/report.html",
        status_code=status_code,
        case=case,
        target=case.target,
        target_url=target_url(case.target),
        author_url=user_url(case.target["author_id"]),
        reporter_url=user_url(case.reporter_id),
        user_url=user_url,
        people=people,
        closer=people.get(case.resolved_by_id) if case.resolved_by_id else None,
        action_done=ACTION_DONE.get(taken) if taken else None,
        actions=[(name, ACTION_LABELS[name]) for name in resolution_actions(case.target)],
        is_open=case.status == ReportStatus.OPEN,
        errors=errors or {},
        form=form or {},
        note_max=NOTE_MAX,
        money=money,
    )


@bp.get("/<uuid:report_id>")
def detail(report_id: uuid.UUID) -> ResponseReturnValue:
    """A report beside what it is about; the decision while it is open, the outcome after."""
    return _case_page(report_id)


def _note(which: str) -> tuple[str, dict[str, str]]:
    note = request.form.get("note", "").strip()
    if not note:
        return note, {f"{which}_note": "Write a note: why the report is closed this way."}
    if len(note) > NOTE_MAX:
        return note, {f"{which}_note": f"Keep the note under {NOTE_MAX} characters."}
    return note, {}


@bp.post("/<uuid:report_id>/resolve")
def resolve(report_id: uuid.UUID) -> ResponseReturnValue:
    """Resolve the report with a note and, if chosen, an action on its target (as
    `POST /api/v1/admin/reports/{id}/resolve`)."""
    note, errors = _note("resolve")
    action = request.form.get("action") or None
    if action == "none":
        action = None
    if action is not None and action not in moderation.ACTIONS:
        errors["action"] = "Choose one of the actions offered."
    if errors:
        form = {"which": "resolve", "note": request.form.get("note", ""), "action": action or ""}
        return _case_page(report_id, status_code=422, errors=errors, form=form)
    perform(
        lambda: moderation_flows.resolve_report(
            admin=current_user, report_id=report_id, note=note, action=action
        ),
        action="resolve_report",
        target_type="report",
        target_id=report_id,
        done="The report is resolved; its reporter is told."
        + (f" {ACTION_DONE[action]}" if action else ""),
        reason=note,
    )
    return redirect(url_for(".detail", report_id=report_id))


@bp.post("/<uuid:report_id>/dismiss")
def dismiss(report_id: uuid.UUID) -> ResponseReturnValue:
    """Dismiss the report with a note (as `POST /api/v1/admin/reports/{id}/dismiss`)."""
    note, errors = _note("dismiss")
    if errors:
        form = {"which": "dismiss", "note": request.form.get("note", "")}
        return _case_page(report_id, status_code=422, errors=errors, form=form)
    perform(
        lambda: moderation.dismiss_report(admin=current_user, report_id=report_id, note=note),
        action="dismiss_report",
        target_type="report",
        target_id=report_id,
        done="The report is dismissed; its reporter is told.",
        reason=note,
    )
    return redirect(url_for(".detail", report_id=report_id))
