"""Organizations and their members."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.database import IdMixin, TimestampMixin, UTCDateTime, enum_type, utcnow
from marketplace.extensions import Model


class OrganizationKind(StrEnum):
    """A client company buys work; a provider firm does it."""

    CLIENT = "client"
    PROVIDER = "provider"


class MemberRole(StrEnum):
    """Owners manage membership; managers and agents act for the organization."""

    OWNER = "owner"
    MANAGER = "manager"
    AGENT = "agent"


class Organization(IdMixin, TimestampMixin, Model):
    """A client company or a provider firm."""

    __tablename__ = "organizations"

    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[OrganizationKind] = mapped_column(enum_type(OrganizationKind))

    pending_invitations: Mapped[list[Invitation]] = relationship(
        primaryjoin="and_(Invitation.organization_id == Organization.id, "
        "Invitation.status == 'pending')",
        viewonly=True,
        order_by="Invitation.created_at",
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="organization",
        cascade="all, delete-orphan",
        order_by="Membership.created_at",
    )


class Membership(IdMixin, Model):
    """A user acting for an organization. A user belongs to at most one organization."""

    __tablename__ = "memberships"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    role: Mapped[MemberRole] = mapped_column(enum_type(MemberRole))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: Joined wherever a membership is read: its name goes with it (a user's summary).
    organization: Mapped[Organization] = relationship(back_populates="memberships", lazy="joined")
    user: Mapped[User] = relationship(back_populates="membership")


class InvitationStatus(StrEnum):
    """pending until the invitee accepts or declines, or the owner revokes it."""

    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    REVOKED = "revoked"


class Invitation(IdMixin, Model):
    """An owner's invitation to join; the invitee becomes a member only by accepting it."""

    __tablename__ = "organization_invitations"
    __table_args__ = (
        sa.Index(
            "uq_organization_invitations_pending",
            "organization_id",
            "email",
            unique=True,
            postgresql_where=sa.text("status = 'pending'"),
            sqlite_where=sa.text("status = 'pending'"),
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), index=True
    )
    email: Mapped[str] = mapped_column(sa.String(254), index=True)
    role: Mapped[MemberRole] = mapped_column(enum_type(MemberRole))
    invited_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    status: Mapped[InvitationStatus] = mapped_column(
        enum_type(InvitationStatus), default=InvitationStatus.PENDING
    )
    # The invitee proves they read the invitation e-mail: its token, stored hashed.
    token_hash: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organization: Mapped[Organization] = relationship()
