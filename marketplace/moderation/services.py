"""Reports: any signed-in user flags a task, bid, message, user or organization they can
see; admins work the queue, read each case beside what it is about, and close it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import NoResultFound

from marketplace import audit
from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.bids import services as bids
from marketplace.bids.models import Bid
from marketplace.database import lock_row, utcnow
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.messaging.models import Message
from marketplace.moderation.models import Report, ReportStatus
from marketplace.moderation.states import REPORT_STATES
from marketplace.notifications import services as notifications
from marketplace.organizations import services as organizations
from marketplace.organizations.models import Organization
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Task

# target type -> a check that the reporter can see the target (raises NotFound otherwise).
TARGETS: dict[str, Callable[[User, uuid.UUID], object]] = {
    "task": lambda user, target_id: tasks.get_task(user=user, task_id=target_id),
    "bid": lambda user, target_id: bids.get_bid(user=user, bid_id=target_id),
    "message": lambda user, target_id: messaging.get_message(user=user, message_id=target_id),
    "user": lambda user, target_id: accounts.get_user(target_id),
    "organization": lambda user, target_id: organizations.get_organization(
        user=user, organization_id=target_id
    ),
}

#: What a resolution may also do, and the target type it applies to.
ACTIONS = {"suspend_user": "user", "cancel_task": "task"}

#: How the reporter's notification names what they reported.
_NOUNS = {
    "task": "a task",
    "bid": "a bid",
    "message": "a message",
    "user": "a user",
    "organization": "an organization",
}
#: Closing a report (a transition of REPORT_STATES) -> the reporter's notification.
_OUTCOME_EMAILS = {"resolve": "report.resolved", "dismiss": "report.dismissed"}
#: The longest text of a target shown beside a report.
TARGET_TEXT_CHARS = 2000
#: How many other reports on the same target a case shows.
OTHER_REPORTS = 20


def report(*, reporter: User, target_type: str, target_id: uuid.UUID, reason: str) -> Report:
    """File a report into the moderation queue; one open report per user and target."""
    check = TARGETS.get(target_type)
    if check is None:
        raise BusinessRuleViolation(
            "Unknown target type.", details={"target_type": [f"Use one of {sorted(TARGETS)}."]}
        )
    check(reporter, target_id)
    if target_type == "user" and target_id == reporter.id:
        raise BusinessRuleViolation(
            "You cannot report yourself.", details={"target_id": ["That is you."]}
        )
    duplicate = db.session.scalar(
        sa.select(Report.id).where(
            Report.reporter_id == reporter.id,
            Report.target_type == target_type,
            Report.target_id == target_id,
            Report.status == ReportStatus.OPEN,
        )
    )
    if duplicate is not None:
        raise Conflict("You already reported this; a moderator will look at it.")
    item = Report(
        reporter=reporter, target_type=target_type, target_id=target_id, reason=reason.strip()
    )
    db.session.add(item)
    db.session.commit()
    return item


def reports_query(*, status: ReportStatus | None, target_type: str | None) -> sa.Select[Report]:
    """Reports for admins, oldest first."""
    stmt = sa.select(Report).order_by(Report.created_at, Report.id)
    if status is not None:
        stmt = stmt.where(Report.status == status)
    if target_type is not None:
        stmt = stmt.where(Report.target_type == target_type)
    return stmt


def get_report(report_id: uuid.UUID) -> Report:
    """A report by id (for admins), or NotFound."""
    item = db.session.get(Report, report_id)
    if item is None:
        raise NotFound("Report not found.")
    return item


def check_action(item: Report, action: str | None) -> None:
    """A 422 unless `action` (None: none) is one that fits what the report is about."""
    if action is None:
        return
    fits = ACTIONS.get(action)
    if fits is None:
        problem = f"Use one of {sorted(ACTIONS)}, or none."
    elif fits != item.target_type:
        problem = f"{action} is for a reported {fits}; this report is about a {item.target_type}."
    else:
        return
    raise BusinessRuleViolation(
        "This action does not fit the report.", details={"action": [problem]}
    )


def close_report(
    *, admin: User, report_id: uuid.UUID, outcome: str, note: str, action: str | None = None
) -> Report:
    """Resolve or dismiss (`outcome`: `resolve` or `dismiss`) an open report, in the caller's
    transaction (not committed): who, when and the admin's `note` are kept, the closing is
    in the audit log (with the `action` the caller takes on the target, if any), and the
    reporter is told the outcome, not the note. A blank note or an action that does not fit
    the target is a 422; a report already closed is a 409."""
    if not admin.is_admin:
        raise Forbidden("Only admins close reports.")
    note = note.strip()
    if not note:
        raise BusinessRuleViolation(
            "Say why the report is closed.", details={"note": ["Must not be blank."]}
        )
    try:
        item = lock_row(Report, report_id)  # two admins at once: one closes, the other a 409
    except NoResultFound:
        raise NotFound("Report not found.") from None
    check_action(item, action)
    REPORT_STATES.apply(item, outcome, actor_id=admin.id, reason=note)
    item.resolved_by_id, item.resolved_at, item.resolution_note = admin.id, utcnow(), note
    audit.record(
        actor=admin,
        action=f"{outcome}_report",
        target_type="report",
        target_id=item.id,
        details={
            "reason": note,
            "action": action,
            "report_target_type": item.target_type,
            "report_target_id": str(item.target_id),
        },
    )
    notifications.tell(
        [item.reporter],
        email=_OUTCOME_EMAILS[outcome],
        context={"target": _NOUNS[item.target_type]},
        report_id=item.id,
    )
    return item


def dismiss_report(*, admin: User, report_id: uuid.UUID, note: str) -> Report:
    """An admin finds nothing to act on: the report is dismissed with a note, audited, and
    its reporter told. A blank note is a 422; a closed report is a 409."""
    item = close_report(admin=admin, report_id=report_id, outcome="dismiss", note=note)
    db.session.commit()
    return item


def _clip(text: str | None) -> str | None:
    if text is None or len(text) <= TARGET_TEXT_CHARS:
        return text
    return text[: TARGET_TEXT_CHARS - 1] + "…"


def _task(task: Task) -> dict[str, Any]:
    return {
        "title": task.title,
        "text": task.summary,
        "status": task.status.value,
        "by": task.client_profile.display_name,
        "author_id": task.created_by_id,
    }


def _bid(bid: Bid) -> dict[str, Any]:
    return {
        "title": f"Bid on “{bid.task.title}”",
        "text": bid.cover_letter,
        "status": bid.status.value,
        "price": bid.price,
        "by": bid.provider_name,
        "author_id": bid.submitted_by_id,
    }


def _message(message: Message) -> dict[str, Any]:
    return {
        "title": f"Message from {message.sender.name}",
        "text": message.body,
        "by": message.sender.name,
        "author_id": message.sender_id,
    }


def _user(user: User) -> dict[str, Any]:
    return {
        "title": user.name,
        "text": user.email,
        "status": user.status.value,
        "by": user.name,
        "author_id": user.id,
    }


def _organization(organization: Organization) -> dict[str, Any]:
    kind = "client company" if organization.kind.value == "client" else "provider firm"
    return {"title": organization.name, "text": f"A {kind}."}


#: target type -> (its model, what an admin reads of it).
_DESCRIBE: dict[str, tuple[type[Any], Callable[[Any], dict[str, Any]]]] = {
    "task": (Task, _task),
    "bid": (Bid, _bid),
    "message": (Message, _message),
    "user": (User, _user),
    "organization": (Organization, _organization),
}


def report_target(item: Report) -> dict[str, Any]:
    """What the report is about, as a plain dict for the admin's page: `type`, `id`,
    `found` (False once it is deleted), `title` (a task's or organization's name, a user's
    name, what a bid or message is), `text` (a task's summary, a bid's cover letter, a
    message's body, a user's e-mail; at most TARGET_TEXT_CHARS), `status`, `price` (a bid's,
    `{"amount", "currency"}`), `by` (who wrote it, by name) and `author_id` (the account
    behind it, to open or suspend). What a target type lacks is None."""
    summary: dict[str, Any] = {
        "type": item.target_type,
        "id": item.target_id,
        "found": False,
        "title": None,
        "text": None,
        "status": None,
        "price": None,
        "by": None,
        "author_id": None,
    }
    model, describe = _DESCRIBE[item.target_type]
    target = db.session.get(model, item.target_id)
    if target is not None:
        summary.update(describe(target), found=True)
        summary["text"] = _clip(summary["text"])
    return summary


def other_reports(item: Report) -> list[Report]:
    """The other reports on the same target (any status), newest first, at most
    OTHER_REPORTS."""
    return list(
        db.session.scalars(
            sa.select(Report)
            .where(
                Report.target_type == item.target_type,
                Report.target_id == item.target_id,
                Report.id != item.id,
            )
            .order_by(Report.created_at.desc(), Report.id.desc())
            .limit(OTHER_REPORTS)
        )
    )


class ReportCase:
    """A report with what an admin reads beside it (for AdminReportCaseSchema): its
    `target` (`report_target`) and the `earlier_reports` on the same target
    (`other_reports`)."""

    def __init__(self, item: Report) -> None:
        self._report = item
        self.target = report_target(item)
        self.earlier_reports = other_reports(item)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._report, name)


def report_case(report_id: uuid.UUID) -> ReportCase:
    """A report, its target and the other reports on it, for admins; or NotFound."""
    return ReportCase(get_report(report_id))
