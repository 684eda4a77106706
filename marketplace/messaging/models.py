"""Threads, messages and read markers."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.database import IdMixin, UTCDateTime, utcnow
from marketplace.extensions import Model


class Thread(IdMixin, Model):
    """The conversation about one bid (before award) or one contract."""

    __tablename__ = "threads"
    __table_args__ = (
        sa.CheckConstraint("(bid_id IS NULL) <> (contract_id IS NULL)", name="one_subject"),
    )

    bid_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("bids.id", ondelete="CASCADE"), unique=True
    )
    contract_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), unique=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Message(IdMixin, Model):
    """One message; its time is the base of the response-time measures."""

    __tablename__ = "messages"
    __table_args__ = (sa.Index("ix_messages_thread_created", "thread_id", "created_at"),)

    thread_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("threads.id", ondelete="CASCADE"))
    sender_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text)
    #: Attached files' metadata (marketplace.files has the rest).
    files: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    sender: Mapped[User] = relationship()


class ReadMarker(Model):
    """How far a user has read a thread."""

    __tablename__ = "read_markers"

    thread_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("threads.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    last_read_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
