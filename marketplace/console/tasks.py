"""The task review queue: the tasks waiting for a moderator, oldest first, and each task's
review page (its client and history, the whole posting, why it waits and where the
blocklist matches it, highlighted), with Approve and Reject (a reason the client reads)
through the services the API's admin routes call."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass
from typing import Any

from flask import current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from marketplace.console.actions import perform
from marketplace.console.exports import csv_response, wants_csv
from marketplace.console.site import page, page_number, render
from marketplace.database import utcnow
from marketplace.jobs.emails import format_money
from marketplace.pagination import paginate
from marketplace.reporting.operations import export_rows
from marketplace.tasks import lifecycle, review
from marketplace.tasks.rules import FLAGGED_TEXT, NEW_CLIENT, RESUBMITTED, BlocklistMatch
from marketplace.tasks.states import TaskStatus

bp = page("tasks", __name__, url_prefix="/tasks")

#: The posting's text fields, as the page names them (the blocklist reads these).
TEXT_FIELDS = (
    ("title", "Title"),
    ("summary", "Summary"),
    ("confidential_details", "Confidential details"),
)
#: A rejection's reason, as the API's admin route takes it.
REASON_MIN, REASON_MAX = 3, 2000


def review_reasons() -> dict[str, str]:
    """Why a task waits for review, as a moderator reads the codes of `review_reasons`."""
    days = current_app.config["NEW_CLIENT_DAYS"]
    return {
        NEW_CLIENT: f"New client: younger than {days} days, with no completed contract yet",
        FLAGGED_TEXT: "Its text matched the blocklist",
        RESUBMITTED: "Published again after a moderator rejected it",
    }


def money(amount: int, currency: str) -> str:
    """Minor units as the currency reads them: `$8.00`."""
    return format_money({"amount": amount, "currency": currency})


@dataclass(frozen=True)
class Segment:
    """A piece of a field's text; `marks` numbers the blocklist expressions matching it
    (empty: nothing matched there)."""

    text: str
    marks: tuple[int, ...]


def segments(text: str, spans: list[tuple[int, int, int]]) -> list[Segment]:
    """`text` cut where matches (start, end, expression number) begin and end, so that each
    piece is either plain or matched by the same expressions throughout."""
    cuts = sorted({0, len(text), *(s for s, _, _ in spans), *(e for _, e, _ in spans)})
    pieces = []
    for start, end in itertools.pairwise(cuts):
        marks = tuple(sorted({n for s, e, n in spans if s <= start and end <= e}))
        pieces.append(Segment(text[start:end], marks))
    return pieces


@dataclass(frozen=True)
class Place:
    """A blocklist match as the page lists it: the expression's number, the field, and the
    line and first character (both from 1) where it starts."""

    number: int
    match: BlocklistMatch
    field_label: str
    line: int
    column: int


def blocklist_view(case: review.ReviewCase) -> dict[str, Any]:
    """The expressions that match (numbered in the blocklist's order), the places, and each
    text field cut into highlighted segments."""
    labels = dict(TEXT_FIELDS)
    order = list(current_app.config["TASK_BLOCKLIST"])
    matched = sorted({m.pattern for m in case.matches}, key=order.index)
    numbers = {pattern: n for n, pattern in enumerate(matched, 1)}
    task = case.task
    places = []
    for m in case.matches:
        text = getattr(task, m.field)
        places.append(
            Place(
                number=numbers[m.pattern],
                match=m,
                field_label=labels[m.field],
                line=text.count("\n", 0, m.start) + 1,
                column=m.start - (text.rfind("\n", 0, m.start) + 1) + 1,
            )
        )
    fields = [
        (
            name,
            label,
            segments(
                getattr(task, name),
                [(m.start, m.end, numbers[m.pattern]) for m in case.matches if m.field == name],
            ),
        )
        for name, label in TEXT_FIELDS
    ]
    return {"patterns": list(enumerate(matched, 1)), "places": places, "fields": fields}


def _review_page(
    task_id: uuid.UUID, *, status_code: int = 200, errors: dict[str, str] | None = None
) -> ResponseReturnValue:
    case = review.review_case(task_id)
    return render(
        "console/tasks/review.html",
        status_code=status_code,
        case=case,
        task=case.task,
        blocklist=blocklist_view(case),
        reasons=review_reasons(),
        errors=errors or {},
        reason=request.form.get("reason", "") if errors else "",
        money=money,
        in_review=case.task.status == TaskStatus.PENDING_REVIEW,
        reason_limits=(REASON_MIN, REASON_MAX),
        now=utcnow(),
    )


@bp.get("/")
def index() -> ResponseReturnValue:
    """The tasks waiting for review, oldest first (all of them as CSV with `?format=csv`)."""
    if wants_csv():
        tasks = export_rows(review.queue())
        since = review.in_review_since(tasks)
        return csv_response(
            "tasks-in-review",
            ("id", "in_review_since", "title", "client", "created_by", "reasons",
             "budget_min", "budget_max", "currency", "budget_type"),
            (
                (t.id, since.get(t.id, t.updated_at), t.title, t.client_profile.display_name,
                 t.created_by.email, " ".join(t.review_reasons), money(t.budget_min, t.currency),
                 money(t.budget_max, t.currency), t.currency, t.budget_type.value)
                for t in tasks
            ),
        )  # fmt: skip
    result = paginate(review.queue(), page=page_number())
    return render(
        "console/tasks/index.html",
        page=result,
        since=review.in_review_since(result.items),
        reasons=review_reasons(),
        money=money,
    )


@bp.get("/<uuid:task_id>")
def detail(task_id: uuid.UUID) -> ResponseReturnValue:
    """A task as a moderator reviews it (any status; the decision while it is in review)."""
    return _review_page(task_id)


@bp.post("/<uuid:task_id>/approve")
def approve(task_id: uuid.UUID) -> ResponseReturnValue:
    """Let the task go live (as `POST /api/v1/admin/tasks/{id}/approve`)."""
    task = perform(
        lambda: lifecycle.approve_task(admin=current_user, task_id=task_id),
        action="approve_task",
        target_type="task",
        target_id=task_id,
        done="Approved: the task is open to providers, and its client is told.",
    )
    if task is None:
        return redirect(url_for(".detail", task_id=task_id))
    return redirect(url_for(".index"))


def _reason_problem(reason: str) -> str | None:
    if not reason:
        return "Write the reason: the client reads it to fix the task."
    if len(reason) < REASON_MIN:
        return f"Write at least {REASON_MIN} characters: the client reads it to fix the task."
    if len(reason) > REASON_MAX:
        return f"Keep the reason under {REASON_MAX} characters."
    return None


@bp.post("/<uuid:task_id>/reject")
def reject(task_id: uuid.UUID) -> ResponseReturnValue:
    """Reject the task with a reason the client reads (as the API's reject route)."""
    reason = request.form.get("reason", "").strip()
    problem = _reason_problem(reason)
    if problem:
        return _review_page(task_id, status_code=422, errors={"reason": problem})
    task = perform(
        lambda: lifecycle.reject_task(admin=current_user, task_id=task_id, reason=reason),
        action="reject_task",
        target_type="task",
        target_id=task_id,
        done="Rejected: the client is told the reason.",
        reason=reason,
    )
    if task is None:
        return redirect(url_for(".detail", task_id=task_id))
    return redirect(url_for(".index"))
