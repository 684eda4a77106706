"""Two-factor sign-in (TOTP, RFC 6238): set up, turned on with a code, checked at sign-in,
turned off with the password and a code; ten single-use recovery codes stand in for a lost
authenticator. Admins must use it (marketplace.accounts.auth lets an admin without it only
set it up).

Codes are 6 digits over 30-second steps; one step either side of now is accepted (clocks
drift), and never a step at or before the last one accepted, so a code seen once (over a
shoulder, in a proxy's log) cannot sign anyone in again. Every code tried counts against
the account's own rate limit (`TWO_FACTOR_RATE_LIMIT`), whatever address it comes from.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

import pyotp
import sqlalchemy as sa
from flask import current_app
from limits import parse_many
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.accounts.models import RecoveryCode, User
from marketplace.accounts.passwords import verify_password
from marketplace.database import lock_row, utcnow
from marketplace.errors import (
    BusinessRuleViolation,
    Conflict,
    DomainError,
    Forbidden,
    Unauthorized,
)
from marketplace.extensions import db, limiter
from marketplace.jobs import emails

RECOVERY_CODE_COUNT = 10
#: Accepted steps either side of the server's: one 30-second step covers a slow phone clock.
VALID_WINDOW = 1
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_RECOVERY_LENGTH = 12  # about 59 bits each: guessing one is hopeless under the rate limit


class TwoFactorRequired(Unauthorized):
    """The password was right, but the account needs a code too: ask for it."""

    code = "two_factor_required"


class InvalidSignInCode(Unauthorized):
    """A wrong, expired or already used code (or recovery code) at sign-in."""

    code = "invalid_two_factor_code"


class InvalidCode(BusinessRuleViolation):
    """A wrong, expired or already used code when turning two-factor sign-in on or off."""

    code = "invalid_two_factor_code"


class WrongPassword(BusinessRuleViolation):
    """The account's password, asked again before turning two-factor sign-in off, is wrong."""

    code = "invalid_password"


class TwoFactorSetupRequired(Forbidden):
    """An admin without two-factor sign-in: they may only set it up."""

    code = "two_factor_setup_required"


class TooManyCodes(DomainError):
    """Too many codes tried for this account lately."""

    status = 429
    code = "rate_limited"


def provisioning_uri(user: User, secret: str) -> str:
    """The `otpauth://totp/...` URI an authenticator app reads (as a QR code or pasted)."""
    issuer = str(current_app.config["TWO_FACTOR_ISSUER"])
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def begin_setup(*, user: User, password: str) -> tuple[str, str]:
    """A new secret for the user to add to an authenticator app: (secret, otpauth URI). It is
    not in use until `enable` confirms a code from it; asking again replaces it. The password
    is asked again (a wrong one is a 422, and counts against the account's limit), so that a
    session left open cannot tie the account to someone else's app. A user who already uses
    two-factor sign-in is a 409 (turn it off first)."""
    user = lock_row(User, user.id)
    if user.two_factor_enabled:
        raise Conflict(
            "Two-factor sign-in is already on. Turn it off first to set up another app.",
        )
    _count_attempt(user)
    if not verify_password(user.password_hash, password):
        raise WrongPassword(
            "The password is wrong.", details={"password": ["Enter your current password."]}
        )
    secret = pyotp.random_base32()
    user.totp_secret = secret
    user.totp_last_step = None
    db.session.commit()
    return secret, provisioning_uri(user, secret)


def enable(*, user: User, code: str) -> list[str]:
    """Turn two-factor sign-in on with a code from the secret of `begin_setup`; returns the
    ten recovery codes (shown this once, stored hashed). A wrong code changes nothing."""
    user = lock_row(User, user.id)
    if user.two_factor_enabled:
        raise Conflict("Two-factor sign-in is already on.")
    if user.totp_secret is None:
        raise Conflict("Set up two-factor sign-in first: POST /api/v1/auth/2fa/setup.")
    _count_attempt(user)
    if not _accept_code(user, code):
        raise InvalidCode(
            "The code is wrong or expired.",
            details={"code": ["Enter the current 6-digit code from your authenticator app."]},
        )
    user.two_factor_enabled_at = utcnow()
    codes = _replace_recovery_codes(user)
    emails.send("account.two_factor_enabled", to=user, context={"when": utcnow()})
    db.session.commit()
    return codes


def disable(*, user: User, password: str, code: str | None, recovery_code: str | None) -> User:
    """Turn two-factor sign-in off: needs the password and a current code (or a recovery
    code). An admin who does so can use no admin endpoint until they set it up again."""
    user = lock_row(User, user.id)
    if not user.two_factor_enabled:
        raise Conflict("Two-factor sign-in is not on.")
    _count_attempt(user)
    if not verify_password(user.password_hash, password):
        raise WrongPassword(
            "The password is wrong.", details={"password": ["Enter your current password."]}
        )
    if not _second_factor(user, code=code, recovery_code=recovery_code):
        field = "code" if code else "recovery_code"
        raise InvalidCode(
            "The code is wrong, expired or already used.",
            details={field: ["Enter the current code from your app, or an unused recovery code."]},
        )
    user.totp_secret = None
    user.totp_last_step = None
    user.two_factor_enabled_at = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    emails.send("account.two_factor_disabled", to=user, context={"when": utcnow()})
    db.session.commit()
    return user


def check_sign_in(*, user: User, code: str | None, recovery_code: str | None) -> None:
    """At sign-in, after the password: an account with two-factor sign-in needs a current
    code (or an unused recovery code, used up by this); a user without it needs none."""
    if not user.two_factor_enabled:
        return
    if not code and not recovery_code:
        raise TwoFactorRequired(
            "This account uses two-factor sign-in: send the 6-digit code from your "
            "authenticator app as `code` (or a recovery code as `recovery_code`)."
        )
    _count_attempt(user)
    if not _second_factor(user, code=code, recovery_code=recovery_code):
        raise InvalidSignInCode("The code is wrong, expired or already used.")


def turn_on(*, user: User, secret: str) -> list[str]:
    """Turn two-factor sign-in on with a known secret, without a code (the demo admin's,
    whose secret is published): returns new recovery codes. Not for real accounts."""
    user.totp_secret = secret
    user.totp_last_step = None
    user.two_factor_enabled_at = utcnow()
    codes = _replace_recovery_codes(user)
    db.session.commit()
    return codes


def reset(*, user: User) -> User:
    """Turn a user's two-factor sign-in off without a code (the operator's `flask reset-2fa`,
    for someone who lost both the app and the recovery codes); the user is e-mailed."""
    user = lock_row(User, user.id)
    was_on = user.two_factor_enabled
    user.totp_secret = None
    user.totp_last_step = None
    user.two_factor_enabled_at = None
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    if was_on:
        emails.send("account.two_factor_disabled", to=user, context={"when": utcnow()})
    db.session.commit()
    return user


def _second_factor(user: User, *, code: str | None, recovery_code: str | None) -> bool:
    if code:
        return _accept_code(user, code)
    return bool(recovery_code) and _use_recovery_code(user, recovery_code or "")


def _count_attempt(user: User) -> None:
    """Count one code tried for the account; past the limit, a 429."""
    # This app's setting, not the shared Limiter's flag (another app may have turned it off).
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    for item in parse_many(str(current_app.config["TWO_FACTOR_RATE_LIMIT"])):
        if not limiter.limiter.hit(item, "two_factor", str(user.id)):
            raise TooManyCodes(
                f"Too many codes tried for this account (limit: {item}). Wait and try again."
            )


def _accept_code(user: User, code: str) -> bool:
    """Whether `code` is the user's code for a step near now that is later than the last one
    accepted; if so, that step becomes the last (in the same statement, so two requests
    racing with one code cannot both win)."""
    code = "".join(code.split())
    if user.totp_secret is None or not (code.isdigit() and len(code) == 6):
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = totp.timecode(utcnow())
    for step in range(now - VALID_WINDOW, now + VALID_WINDOW + 1):
        if user.totp_last_step is not None and step <= user.totp_last_step:
            continue
        if hmac.compare_digest(totp.generate_otp(step), code):
            return _claim_step(user, step)
    return False


def _claim_step(user: User, step: int) -> bool:
    claimed = db.session.execute(
        sa.update(User)
        .where(
            User.id == user.id,
            sa.or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _recovery_hash(raw: str) -> str:
    # Recovery codes carry ~59 random bits and guesses are rate-limited: a fast hash is safe.
    normalized = "".join(ch for ch in raw.lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return "-".join(raw[i : i + 4] for i in range(0, _RECOVERY_LENGTH, 4))


def _replace_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes for the user, replacing any old ones (not committed)."""
    db.session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    db.session.add_all(RecoveryCode(user_id=user.id, code_hash=_recovery_hash(c)) for c in codes)
    return codes


def _use_recovery_code(user: User, raw: str) -> bool:
    """Use up one unused recovery code of the user; False if it is not one."""
    used = db.session.execute(
        sa.update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(raw),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return used.rowcount == 1  # type: ignore[attr-defined]
