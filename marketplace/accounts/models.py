"""Users and their personal API tokens."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.database import IdMixin, TimestampMixin, UTCDateTime, enum_type, utcnow
from marketplace.extensions import Model

if TYPE_CHECKING:
    from marketplace.organizations.models import Membership


class Role(StrEnum):
    """What a user is on the marketplace."""

    CLIENT = "client"
    PROVIDER = "provider"
    ADMIN = "admin"


class UserStatus(StrEnum):
    """Suspended users can neither log in nor act."""

    ACTIVE = "active"
    SUSPENDED = "suspended"


class User(IdMixin, TimestampMixin, UserMixin, Model):
    """A person who signs in: a client, a provider (or firm member), or an admin."""

    __tablename__ = "users"

    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(enum_type(Role))
    status: Mapped[UserStatus] = mapped_column(enum_type(UserStatus), default=UserStatus.ACTIVE)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    country: Mapped[str | None] = mapped_column(sa.String(2))
    suspension_reason: Mapped[str | None] = mapped_column(sa.Text)
    suspended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the user opened the link of the verification e-mail (None: not yet). Until then
    #: they may sign in, browse and fill in profiles, but not commit to anything
    #: (marketplace.accounts.verification.require_verified_email).
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Notification kinds the user does not want e-mailed (marketplace.jobs.emails.KINDS;
    #: the kinds it marks `always` are e-mailed anyway). In-app notifications are kept.
    email_opt_out: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    #: Two-factor sign-in (marketplace.accounts.twofactor): the TOTP secret (set up, and in
    #: use once `two_factor_enabled_at` is set; never shown again after that), and the last
    #: time step whose code was accepted, so that no code is accepted twice.
    totp_secret: Mapped[str | None] = mapped_column(sa.String(64))
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", passive_deletes=True)
    #: Whom the user acts for; the request's user comes with it (marketplace.accounts.auth),
    #: and adding or removing a membership keeps it in step.
    membership: Mapped[Membership | None] = relationship(
        "Membership", back_populates="user", uselist=False, passive_deletes=True
    )

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive users
        return self.status == UserStatus.ACTIVE

    @property
    def is_admin(self) -> bool:
        return self.role == Role.ADMIN

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    @property
    def two_factor_enabled(self) -> bool:
        """Whether signing in needs a code from an authenticator app."""
        return self.two_factor_enabled_at is not None

    @property
    def two_factor_setup_required(self) -> bool:
        """An admin without two-factor sign-in may only set it up."""
        return self.is_admin and not self.two_factor_enabled

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role}>"


class UserSession(IdMixin, Model):
    """A signed-in browser session; logging out revokes it, so a copied cookie stops working."""

    __tablename__ = "user_sessions"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(400))

    user: Mapped[User] = relationship()


class ApiToken(IdMixin, Model):
    """A personal API token for integrations; only its SHA-256 hash is stored."""

    __tablename__ = "api_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(100))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    prefix: Mapped[str] = mapped_column(sa.String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")

    def is_usable(self, now: datetime) -> bool:
        """Neither revoked nor expired."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class RecoveryCode(IdMixin, Model):
    """A one-time code that stands in for an authenticator's code; only its SHA-256 hash
    is stored, and it works once."""

    __tablename__ = "recovery_codes"

    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
