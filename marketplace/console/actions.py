"""What a console view does with a form: run one service, tell the admin how it went, and
make sure the audit log has the action."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from flask import flash
from flask_login import current_user

from marketplace import audit
from marketplace.database import utcnow
from marketplace.errors import DomainError
from marketplace.extensions import db

T = TypeVar("T")


def perform(
    call: Callable[[], T],
    *,
    action: str,
    target_type: str,
    target_id: uuid.UUID,
    done: str,
    reason: str | None = None,
) -> T | None:
    """Run `call` (one service call, made with `current_user` as the admin) for a console
    form: on success flash `done` and return its result; if the service refuses (a
    DomainError), flash its message and return None. Either way the page redirects after.

    Services record their own audit entries; if this one left none for the target, one is
    recorded here as `action`, with the reason, so every console action is in the log."""
    admin = current_user._get_current_object()
    started = utcnow()
    try:
        result = call()
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
        return None
    audit.ensure_recorded(
        actor=admin,
        action=action,
        target_type=target_type,
        target_id=target_id,
        since=started,
        details={"reason": reason, "via": "console"} if reason else {"via": "console"},
    )
    flash(done, "success")
    return result
