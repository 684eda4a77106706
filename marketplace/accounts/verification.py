"""E-mail verification: the signed link sign-up sends, its use, and the gate that keeps an
unverified user from committing to anything (publishing, bidding, contracts, money).

The token names the user and the address it was sent to; it works while that user still
has that address and is not yet verified, so it is spent by its first use.
"""

from __future__ import annotations

from datetime import timedelta

from marketplace.accounts import links
from marketplace.accounts.models import User
from marketplace.database import utcnow
from marketplace.errors import Conflict, Forbidden
from marketplace.extensions import db
from marketplace.jobs import emails

PURPOSE = "verify-email"
#: How long a verification link works; a new one can be asked for at any time.
VALID_FOR = timedelta(hours=48)
RESEND = "POST /api/v1/auth/verify-email/resend"


class EmailUnverified(Forbidden):
    """The user has not confirmed their address yet, and the action commits them."""

    code = "email_unverified"


def require_verified_email(user: User) -> None:
    """Refuse, with a 403 `email_unverified` saying what to do, a user who has not opened
    the link of their verification e-mail. Called by every action that commits the user
    or moves money: publishing a task, bidding, awarding and accepting a contract,
    funding a milestone and setting up payouts."""
    if user.email_verified_at is None:
        raise EmailUnverified(
            "Confirm your e-mail address first: open the link in the e-mail we sent to "
            f"{user.email}, or ask for a new one ({RESEND}).",
        )


def mark_verified(user: User) -> None:
    """Record that the user controls their address (not committed); kept if already set."""
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()


def send_link(user: User) -> None:
    """Queue the e-mail with a fresh verification link (in the caller's transaction)."""
    token = links.make(PURPOSE, {"user": str(user.id), "email": user.email})
    emails.send(
        "account.verify_email",
        to=user,
        context={"expires_at": utcnow() + VALID_FOR},
        token=token,
    )


def resend(*, user: User) -> None:
    """Send the signed-in user a new link; an address already verified is a 409."""
    if user.email_verified_at is not None:
        raise Conflict("Your e-mail address is already confirmed.")
    send_link(user)
    db.session.commit()


def verify(*, token: str) -> User:
    """Mark the address of the token verified. A used, altered or foreign token is a 400
    `invalid_token`, one older than VALID_FOR a 400 `token_expired`."""
    payload = links.read(
        PURPOSE,
        token,
        max_age=VALID_FOR,
        expired="This link has expired: sign in and ask for a new one.",
    )
    user = links.user_named(payload)
    if user is None or user.email != payload.get("email") or user.email_verified_at is not None:
        raise links.InvalidLink("This link is not valid: it may be incomplete or used already.")
    mark_verified(user)
    db.session.commit()
    return user
