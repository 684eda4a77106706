"""Task invitations: a client asks a matched provider to bid on an open task."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.database import IdMixin, UTCDateTime, utcnow
from marketplace.extensions import Model
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks.models import Task


class TaskInvitation(IdMixin, Model):
    """One provider (an individual or a firm) invited to bid on one task, once."""

    __tablename__ = "task_invitations"
    __table_args__ = (sa.UniqueConstraint("task_id", "provider_profile_id"),)

    task_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    provider_profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("provider_profiles.id", ondelete="CASCADE"), index=True
    )
    invited_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    task: Mapped[Task] = relationship()
    provider_profile: Mapped[ProviderProfile] = relationship()
    invited_by: Mapped[User] = relationship()
