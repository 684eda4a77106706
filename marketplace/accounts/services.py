"""Account rules: sign-up, credentials, API tokens, admins and suspensions."""

from __future__ import annotations

import functools
import hashlib
import secrets
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption

from marketplace import audit
from marketplace.accounts import twofactor
from marketplace.accounts.inputs import AccountChanges
from marketplace.accounts.models import ApiToken, Role, User, UserSession, UserStatus
from marketplace.accounts.passwords import (
    check_password_strength,
    hash_password,
    needs_rehash,
    verify_password,
)
from marketplace.accounts.states import USER_STATES
from marketplace.database import commit_keeping_values, lock_row, utcnow
from marketplace.errors import (
    BadRequest,
    BusinessRuleViolation,
    Conflict,
    Forbidden,
    NotFound,
    Unauthorized,
)
from marketplace.extensions import db
from marketplace.inputs import UNSET
from marketplace.jobs import emails

TOKEN_PREFIX = "mkt_"


def normalize_email(raw: str) -> str:
    """Validate an address and return its canonical, lower-case form."""
    try:
        result = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise BusinessRuleViolation(
            "Invalid e-mail address.", details={"email": [str(exc)]}
        ) from None
    return result.normalized.lower()


def find_user_by_email(email: str) -> User | None:
    """The user with this e-mail (any case), if any."""
    try:
        normalized = normalize_email(email)
    except BusinessRuleViolation:
        return None
    return db.session.scalar(sa.select(User).where(User.email == normalized))


class AddressTaken(BusinessRuleViolation):
    """A new account asked for with an address that already has one (`owner`'s)."""

    def __init__(self, owner: User) -> None:
        super().__init__(
            "This e-mail address is already registered.",
            details={"email": ["An account with this e-mail address already exists."]},
        )
        self.owner = owner


def _create_user(
    *, email: str, password: str, name: str, role: Role, timezone: str, country: str | None
) -> User:
    normalized = normalize_email(email)
    check_password_strength(password, normalized)
    # Hashed before the address is looked up, so a taken address costs what a new one does.
    password_hash = hash_password(password)
    owner = db.session.scalar(sa.select(User).where(User.email == normalized))
    if owner is not None:
        raise AddressTaken(owner)
    user = User(
        email=normalized,
        password_hash=password_hash,
        name=name.strip(),
        role=role,
        timezone=timezone,
        country=country,
    )
    db.session.add(user)
    return user


def register(
    *,
    email: str,
    password: str,
    name: str,
    role: Role,
    timezone: str = "UTC",
    country: str | None = None,
) -> User:
    """Add a client or provider account to the session (not committed; it has no profile yet);
    an address that already has an account is an AddressTaken."""
    role = Role(role)
    if role not in (Role.CLIENT, Role.PROVIDER):
        raise BusinessRuleViolation(
            "Sign up as a client or a provider.", details={"role": ["Must be client or provider."]}
        )
    user = _create_user(
        email=email, password=password, name=name, role=role, timezone=timezone, country=country
    )
    db.session.flush()
    return user


def create_admin(*, email: str, password: str, name: str = "Administrator") -> User:
    """Create an admin account (only the CLI does this); whoever runs the CLI vouches for
    the address, so it is verified."""
    user = _create_user(
        email=email, password=password, name=name, role=Role.ADMIN, timezone="UTC", country=None
    )
    user.email_verified_at = utcnow()
    db.session.commit()
    return user


def authenticate(
    *, email: str, password: str, code: str | None = None, recovery_code: str | None = None
) -> User:
    """Check credentials; refuse unknown, wrong and suspended accounts, and an account with
    two-factor sign-in without a current code or an unused recovery code."""
    user = find_user_by_email(email)
    # An unknown address is checked against a stand-in hash, so both answers take as long.
    if not verify_password(user.password_hash if user else None, password):
        user = None
    if user is None:
        raise Unauthorized("Wrong e-mail address or password.")
    if user.status == UserStatus.SUSPENDED:
        raise AccountSuspended("This account is suspended.")
    twofactor.check_sign_in(user=user, code=code, recovery_code=recovery_code)
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    db.session.commit()
    return user


class AccountSuspended(Forbidden):
    """A suspended user tried to sign in."""

    code = "account_suspended"


def start_session(*, user: User, ip_address: str | None, user_agent: str | None) -> UserSession:
    """Record a new signed-in browser session for the user."""
    record = UserSession(
        user_id=user.id, ip_address=ip_address, user_agent=(user_agent or "")[:400] or None
    )
    db.session.add(record)
    db.session.commit()
    return record


def _signed_in(user: Any) -> ORMOption:
    """Load a credential's user, and whom they act for, in the credential's own statement:
    authenticating a request costs one statement."""
    return joinedload(user, innerjoin=True).joinedload(User.membership)


# Each statement is built once, at its first use (when every model is mapped), and a
# request only binds its values: building and keying a statement with its loader options
# costs more than running it.
@functools.cache
def _session_statement() -> sa.Select[UserSession]:
    return (
        sa.select(UserSession)
        .where(
            UserSession.id == sa.bindparam("session_id", type_=sa.Uuid()),
            UserSession.user_id == sa.bindparam("user_id", type_=sa.Uuid()),
        )
        .options(_signed_in(UserSession.user))
    )


@functools.cache
def _token_statement() -> sa.Select[ApiToken]:
    return (
        sa.select(ApiToken)
        .where(ApiToken.token_hash == sa.bindparam("token_hash", type_=sa.String()))
        .options(_signed_in(ApiToken.user))
    )


def live_session(*, user_id: uuid.UUID, session_id: uuid.UUID) -> UserSession | None:
    """The user's session, with its user, if it was not revoked and its user is active."""
    record = db.session.scalar(_session_statement(), {"session_id": session_id, "user_id": user_id})
    if record is None or record.revoked_at is not None or not record.user.is_active:
        return None
    now = utcnow()
    # Record activity at most once a minute so reads do not write on every request.
    if now - record.last_seen_at > timedelta(minutes=1):
        record.last_seen_at = now
        commit_keeping_values()
    return record


def end_session(*, session_id: uuid.UUID) -> None:
    """Revoke a session: its cookie, even if copied, no longer signs anyone in."""
    record = db.session.get(UserSession, session_id)
    if record is not None and record.revoked_at is None:
        record.revoked_at = utcnow()
        db.session.commit()


def _token_hash(raw: str) -> str:
    # Tokens carry 256 bits of randomness, so a fast hash is safe here (unlike passwords).
    return hashlib.sha256(raw.encode()).hexdigest()


def create_token(
    *, user: User, name: str, expires_in_days: int | None = None
) -> tuple[ApiToken, str]:
    """Issue a personal API token; the raw value is returned once and never stored."""
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user=user,
        name=name.strip(),
        token_hash=_token_hash(raw),
        prefix=raw[:12],
        expires_at=utcnow() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    db.session.add(token)
    db.session.commit()
    return token, raw


def tokens_query(*, user: User) -> sa.Select[ApiToken]:
    """The user's tokens that are not revoked, newest first."""
    return (
        sa.select(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .order_by(ApiToken.created_at.desc(), ApiToken.id.desc())
    )


def revoke_token(*, user: User, token_id: uuid.UUID) -> None:
    """Revoke one of the user's tokens; another user's token is not found."""
    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != user.id or token.revoked_at is not None:
        raise NotFound("Token not found.")
    token.revoked_at = utcnow()
    db.session.commit()


def user_for_token(raw: str) -> User | None:
    """The active user owning a usable token, recording its use."""
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = db.session.scalar(_token_statement(), {"token_hash": _token_hash(raw)})
    now = utcnow()
    if token is None or not token.is_usable(now) or not token.user.is_active:
        return None
    # Record use at most once a minute so reads do not write on every request.
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        commit_keeping_values()
    return token.user


def get_user(user_id: uuid.UUID) -> User:
    """A user by id, or NotFound."""
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("User not found.")
    return user


def revoke_credentials(*, user: User) -> None:
    """Revoke every session and API token of the user (not committed): no cookie or token
    issued so far works again, even after a reinstatement."""
    now = utcnow()
    for model in (UserSession, ApiToken):
        db.session.execute(
            sa.update(model)
            .where(model.user_id == user.id, model.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session="fetch")
        )


def update_account(*, user: User, changes: AccountChanges) -> User:
    """The user changes their own name, time zone (an IANA name, checked by the schema) or
    the notification kinds they do not want e-mailed. An unknown kind, or one that is
    always e-mailed (money, security, invitations to answer), is a 400."""
    if changes.email_opt_out is not UNSET:
        unknown = sorted({k for k in changes.email_opt_out if k not in emails.KINDS})
        fixed = sorted(
            {k for k in changes.email_opt_out if k in emails.KINDS and not emails.can_turn_off(k)}
        )
        problems = [f"Unknown notification kind: {k}." for k in unknown] + [
            f"{k} is always e-mailed: it concerns money, security or an invitation to answer."
            for k in fixed
        ]
        if problems:
            raise BadRequest(
                "These notification kinds cannot be turned off.",
                details={"email_opt_out": problems},
            )
    # The user's own row, changed only by them: the last change wins, no lock needed.
    if changes.name is not UNSET:
        user.name = changes.name.strip()
    if changes.timezone is not UNSET:
        user.timezone = changes.timezone
    if changes.email_opt_out is not UNSET:
        user.email_opt_out = sorted(set(changes.email_opt_out))
    commit_keeping_values()
    return user


def suspend_user(*, admin: User, user: User, reason: str) -> User:
    """Suspend a user and revoke their sessions and tokens; a suspended user is a 409."""
    user = suspend(admin=admin, user=user, reason=reason)
    db.session.commit()
    return user


def suspend(*, admin: User, user: User, reason: str) -> User:
    """`suspend_user` in the caller's transaction (not committed), for flows that suspend
    as part of a larger change (a moderator resolving a report)."""
    if user.is_admin:
        raise Conflict("Admins cannot be suspended through the API.")
    user = lock_row(User, user.id)  # two admins at once: one suspends, the other gets a 409
    USER_STATES.apply(user, "suspend", actor_id=admin.id, reason=reason)
    user.suspension_reason = reason
    user.suspended_at = utcnow()
    revoke_credentials(user=user)
    audit.record(
        actor=admin,
        action="suspend_user",
        target_type="user",
        target_id=user.id,
        details={"reason": reason},
    )
    emails.send("account.suspended", to=user, context={"reason": reason})
    return user


def reinstate_user(*, admin: User, user: User) -> User:
    """Lift a suspension (the user signs in afresh); an active user is a 409."""
    user = lock_row(User, user.id)
    USER_STATES.apply(user, "reinstate", actor_id=admin.id)
    user.suspension_reason = None
    user.suspended_at = None
    audit.record(actor=admin, action="reinstate_user", target_type="user", target_id=user.id)
    db.session.commit()
    return user


def users_query(*, status: UserStatus | None = None, role: Role | None = None) -> sa.Select[User]:
    """Users for the admin panel, newest first."""
    stmt = sa.select(User).order_by(User.created_at.desc(), User.id.desc())
    if status is not None:
        stmt = stmt.where(User.status == status)
    if role is not None:
        stmt = stmt.where(User.role == role)
    return stmt
