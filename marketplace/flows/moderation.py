"""Flows of moderation: resolving a report and acting on what it is about (suspending the
reported user, cancelling the reported task) in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.errors import Conflict, DomainError, NotFound
from marketplace.extensions import db
from marketplace.flows import tasks as task_flows
from marketplace.moderation import services as moderation
from marketplace.moderation.models import Report


def _suspend_user(admin: User, item: Report, reason: str) -> None:
    accounts.suspend(admin=admin, user=accounts.get_user(item.target_id), reason=reason)


def _cancel_task(admin: User, item: Report, reason: str) -> None:
    task_flows.cancel_for_moderation(admin=admin, task_id=item.target_id, reason=reason)


#: A resolution's action (moderation.services.ACTIONS) -> what it does to the target.
ACTIONS: dict[str, Callable[[User, Report, str], None]] = {
    "suspend_user": _suspend_user,
    "cancel_task": _cancel_task,
}


def resolve_report(
    *, admin: User, report_id: uuid.UUID, note: str, action: str | None = None
) -> Report:
    """An admin resolves an open report with a note and, optionally, an `action` on its
    target through the target's own services: `suspend_user` (a reported user: suspended,
    signed out everywhere, and told the note as the reason) or `cancel_task` (a reported
    task: cancelled, its bids and offers closed, its client told the note). All of it
    commits together or not at all, each step in the audit log; the reporter is told the
    outcome. A blank note or an action that does not fit the target is a 422; a closed
    report, or an action its target's state refuses (a user already suspended, a task
    already filled or gone), is a 409."""
    try:
        item = moderation.close_report(
            admin=admin, report_id=report_id, outcome="resolve", note=note, action=action
        )
        if action is not None:
            try:
                ACTIONS[action](admin, item, item.resolution_note or note)
            except NotFound:
                raise Conflict(f"The reported {item.target_type} no longer exists.") from None
        db.session.commit()
    except DomainError:
        db.session.rollback()  # nothing of a refused resolution stays, whoever the caller
        raise
    return item
