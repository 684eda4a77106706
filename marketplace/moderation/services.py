"""Reports: any signed-in user flags a task or a user; admins work the queue."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.errors import BusinessRuleViolation, Conflict
from marketplace.extensions import db
from marketplace.moderation.models import Report, ReportStatus
from marketplace.tasks import services as tasks

# target type -> a check that the reporter can see the target (raises NotFound otherwise).
TARGETS: dict[str, Callable[[User, uuid.UUID], object]] = {
    "task": lambda user, target_id: tasks.get_task(user=user, task_id=target_id),
    "user": lambda user, target_id: accounts.get_user(target_id),
}


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
