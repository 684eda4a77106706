"""Operations: the outbox (failed and pending side effects, retried here), Stripe's webhook
events that were not processed or were ignored, and the audit log; each list as CSV too."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from marketplace.console.actions import perform
from marketplace.console.exports import csv_response, wants_csv
from marketplace.console.site import page, page_number, render
from marketplace.jobs import outbox
from marketplace.jobs.models import OutboxStatus
from marketplace.pagination import paginate
from marketplace.reporting import operations
from marketplace.reporting.operations import AuditFilters, EventView

bp = page("operations", __name__, url_prefix="/operations")

OUTBOX_VIEWS = (OutboxStatus.FAILED, OutboxStatus.PENDING)


def _choice(name: str, choices: tuple[Any, ...]) -> Any:
    """The query argument `name` if it is one of `choices` (by value), else the first."""
    raw = request.args.get(name)
    return next((choice for choice in choices if choice.value == raw), choices[0])


@bp.get("/")
def index() -> ResponseReturnValue:
    """What the background machinery needs from an operator, in numbers."""
    return render(
        "console/operations/index.html",
        outbox_counts=operations.outbox_counts(),
        webhook_counts=operations.webhook_counts(),
    )


@bp.get("/outbox")
def outbox_entries() -> ResponseReturnValue:
    """Failed (or pending) outbox entries, newest first; failed ones can be retried."""
    status = _choice("status", OUTBOX_VIEWS)
    stmt = operations.outbox_query(status=status)
    if wants_csv():
        return csv_response(
            f"outbox-{status.value}",
            ("id", "kind", "status", "attempts", "created_at", "next_attempt_at", "last_error"),
            (
                (e.id, e.kind, e.status.value, e.attempts, e.created_at, e.next_attempt_at,
                 e.last_error)
                for e in operations.export_rows(stmt)
            ),
        )  # fmt: skip
    return render(
        "console/operations/outbox.html",
        status=status,
        views=OUTBOX_VIEWS,
        page=paginate(stmt, page=page_number()),
    )


@bp.post("/outbox/<uuid:entry_id>/retry")
def retry_outbox_entry(entry_id: uuid.UUID) -> ResponseReturnValue:
    """Send a failed entry round again (the same service as the API's retry)."""
    perform(
        lambda: outbox.retry(admin=current_user, entry_id=entry_id),
        action="outbox.retry",
        target_type="outbox_entry",
        target_id=entry_id,
        done="The entry is queued again: it will be tried in a moment.",
    )
    return redirect(url_for(".outbox_entries", status="failed", page=page_number()))


@bp.get("/webhooks")
def webhook_events() -> ResponseReturnValue:
    """Stripe events not processed (their job failed or waits) or ignored."""
    view = _choice("view", tuple(EventView))
    stmt = operations.webhook_events_query(view=view)
    if wants_csv():
        events = operations.export_rows(stmt)
        jobs = operations.processing_jobs(events)
        return csv_response(
            f"webhook-events-{view.value}",
            ("event_id", "type", "status", "received_at", "processed_at", "job_status",
             "job_error"),
            (
                (e.event_id, e.type, e.status.value, e.received_at, e.processed_at,
                 jobs[e.event_id].status.value if e.event_id in jobs else "",
                 jobs[e.event_id].last_error if e.event_id in jobs else "")
                for e in events
            ),
        )  # fmt: skip
    result = paginate(stmt, page=page_number())
    return render(
        "console/operations/webhooks.html",
        view=view,
        views=tuple(EventView),
        page=result,
        jobs=operations.processing_jobs(result.items),
    )


def _date(name: str, errors: dict[str, str]) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        errors[name] = "Enter a date as YYYY-MM-DD."
        return None
    if not 1970 <= day.year <= 9000:  # the filter adds a day to `until`
        errors[name] = "Enter a date between 1970 and 9000."
        return None
    return day


def _audit_filters() -> tuple[AuditFilters, dict[str, str]]:
    """The audit log's filters from the query string, and what is wrong with them."""
    errors: dict[str, str] = {}
    filters = AuditFilters(
        actor=request.args.get("actor", "").strip(),
        action=request.args.get("action", "").strip(),
        object_type=request.args.get("object_type", "").strip(),
        object_id=request.args.get("object_id", "").strip(),
        since=_date("since", errors),
        until=_date("until", errors),
    )
    return filters, {**filters.problems(), **errors}


@bp.get("/audit")
def audit_log() -> ResponseReturnValue:
    """The audit log, filtered by actor, action, object and dates."""
    filters, errors = _audit_filters()
    if errors:
        return render(
            "console/operations/audit.html",
            status_code=422,
            filters=filters,
            errors=errors,
            page=None,
        )
    stmt = operations.audit_query(filters)
    if wants_csv():
        entries = operations.export_rows(stmt)
        people = operations.actors(entries)
        return csv_response(
            "audit-log",
            ("at", "actor", "action", "object_type", "object_id", "details"),
            (
                (e.at, people[e.actor_id].email if e.actor_id in people else "", e.action,
                 e.target_type, e.target_id, e.details or "")
                for e in entries
            ),
        )  # fmt: skip
    result = paginate(stmt, page=page_number())
    return render(
        "console/operations/audit.html",
        filters=filters,
        errors=errors,
        page=result,
        actors=operations.actors(result.items),
        action_names=operations.audit_actions(),
        object_types=operations.audit_object_types(),
    )
