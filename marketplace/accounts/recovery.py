"""Password reset (a signed, single-use link valid one hour) and password change.

A reset token carries a fingerprint of the password hash it was made under: setting a new
password changes the hash, so the token is spent by its first use (and by any other change
of the password). Asking for a reset answers the same way, in the same time, whether or
not the address has an account: the request only queues an outbox entry with the address,
and the outbox job, after the answer, looks the account up and e-mails it.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from marketplace.accounts import links, verification
from marketplace.accounts.models import User, UserSession, UserStatus
from marketplace.accounts.passwords import check_password_strength, hash_password, verify_password
from marketplace.accounts.services import (
    find_user_by_email,
    normalize_email,
    revoke_credentials,
)
from marketplace.database import lock_row, utcnow
from marketplace.errors import BusinessRuleViolation
from marketplace.extensions import db
from marketplace.jobs import emails, outbox

PURPOSE = "password-reset"
VALID_FOR = timedelta(hours=1)
#: The outbox entry that e-mails a reset link, if the address has an account.
JOB = "accounts.password_reset"
_USED = "This link is not valid: it may be incomplete, or used already."


def request_reset(*, email: str) -> None:
    """Queue the reset e-mail for an address: the same work whatever the address (a
    malformed address is a 422, which depends on the text alone)."""
    outbox.enqueue(JOB, {"email": normalize_email(email)})
    db.session.commit()


def send_reset_link(payload: dict[str, Any]) -> None:
    """The outbox job: e-mail a reset link to the account with this address, if there is an
    active one; nothing for an unknown or suspended address."""
    user = find_user_by_email(str(payload.get("email", "")))
    if user is None or user.status != UserStatus.ACTIVE:
        return
    fingerprint = links.fingerprint(user.password_hash)
    token = links.make(PURPOSE, {"user": str(user.id), "hash": fingerprint})
    emails.send(
        "account.password_reset", to=user, context={"expires_at": utcnow() + VALID_FOR}, token=token
    )


def reset_password(*, token: str, password: str) -> User:
    """Set a new password with a reset link's token and revoke every session and API token
    of the user. A used, altered or foreign token is a 400 `invalid_token`, one older than
    an hour a 400 `token_expired`; a weak password a 422 as at sign-up. Opening the link
    proves the address, so an unverified address becomes verified."""
    payload = links.read(
        PURPOSE, token, max_age=VALID_FOR, expired="This link has expired: ask for a new one."
    )
    user = links.user_named(payload)
    if user is None or not _matches(user, payload):
        raise links.InvalidLink(_USED)
    check_password_strength(password, user.email)
    new_hash = hash_password(password)  # hashed before the row is locked: it takes a while
    user = lock_row(User, user.id)
    if not _matches(user, payload):  # spent meanwhile by a concurrent use of the same link
        raise links.InvalidLink(_USED)
    user.password_hash = new_hash
    verification.mark_verified(user)
    revoke_credentials(user=user)
    emails.send("account.password_changed", to=user)
    db.session.commit()
    return user


def change_password(
    *, user: User, current_password: str, new_password: str, keep_session_id: uuid.UUID | None
) -> User:
    """The signed-in user sets a new password, proving the current one (a 422 on
    `current_password` if wrong; a weak new one is a 422 as at sign-up). Every other
    browser session is revoked; the one making the change (`keep_session_id`) stays signed
    in, and API tokens are kept (revoked one by one, or all by a reset)."""
    if not verify_password(user.password_hash, current_password):
        raise BusinessRuleViolation(
            "Your current password is not right.",
            details={"current_password": ["This is not your current password."]},
        )
    try:
        check_password_strength(new_password, user.email)
    except BusinessRuleViolation as weak:
        raise BusinessRuleViolation(
            weak.message, details={"new_password": weak.details["password"]}
        ) from None
    new_hash = hash_password(new_password)
    user = lock_row(User, user.id)
    user.password_hash = new_hash
    others = sa.update(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None)
    )
    if keep_session_id is not None:
        others = others.where(UserSession.id != keep_session_id)
    db.session.execute(
        others.values(revoked_at=utcnow()).execution_options(synchronize_session="fetch")
    )
    emails.send("account.password_changed", to=user)
    db.session.commit()
    return user


def _matches(user: User, payload: dict[str, Any]) -> bool:
    return user.is_active and payload.get("hash") == links.fingerprint(user.password_hash)
