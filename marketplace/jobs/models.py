"""The transactional outbox: side effects written with the state change, run after commit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.database import IdMixin, UTCDateTime, enum_type, utcnow
from marketplace.extensions import Model


class OutboxStatus(StrEnum):
    """pending -> sent, or failed once the last retry is spent."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxEntry(IdMixin, Model):
    """A side effect (an e-mail, a gateway call) waiting to be carried out."""

    __tablename__ = "outbox_entries"
    __table_args__ = (sa.Index("ix_outbox_entries_due", "status", "next_attempt_at"),)

    kind: Mapped[str] = mapped_column(sa.String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
