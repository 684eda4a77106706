"""Reports (flags) on tasks, bids, messages, users and organizations."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.database import IdMixin, UTCDateTime, enum_type, utcnow
from marketplace.extensions import Model


class ReportStatus(StrEnum):
    """open until an admin resolves or dismisses it."""

    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Report(IdMixin, Model):
    """A user's flag on something that may break the rules."""

    __tablename__ = "reports"
    __table_args__ = (
        sa.Index("ix_reports_status_created", "status", "created_at"),
        # One open report per reporter and target, even under concurrent requests.
        sa.Index(
            "uq_reports_open",
            "reporter_id",
            "target_type",
            "target_id",
            unique=True,
            postgresql_where=sa.text("status = 'open'"),
            sqlite_where=sa.text("status = 'open'"),
        ),
    )

    reporter_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    target_type: Mapped[str] = mapped_column(sa.String(20))
    target_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid, index=True)
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[ReportStatus] = mapped_column(enum_type(ReportStatus), default=ReportStatus.OPEN)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)

    reporter: Mapped[User] = relationship(foreign_keys=[reporter_id])
