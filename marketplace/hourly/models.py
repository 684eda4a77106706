"""Time entries and weekly invoices of hourly contracts."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.contracts.models import Contract, Milestone
from marketplace.database import IdMixin, TimestampMixin, UTCDateTime, enum_type, utcnow
from marketplace.extensions import Model


class InvoiceStatus(StrEnum):
    """in_review until Friday 23:59:59 UTC, then charging; paid once the charge is
    confirmed (the money waits out the security period in escrow), then released to the
    provider. payment_failed while a declined charge waits for its next attempt."""

    IN_REVIEW = "in_review"
    CHARGING = "charging"
    PAYMENT_FAILED = "payment_failed"
    PAID = "paid"
    RELEASED = "released"


class TimeEntry(IdMixin, TimestampMixin, Model):
    """A stretch of work one person logged on an hourly contract, within one billing week."""

    __tablename__ = "time_entries"
    __table_args__ = (
        sa.Index("ix_time_entries_worker_started", "worker_id", "started_at"),
        sa.Index("ix_time_entries_contract_week", "contract_id", "week", "started_at"),
        sa.Index(
            "ix_time_entries_unbilled",
            "week",
            postgresql_where=sa.text("invoice_id IS NULL"),
            sqlite_where=sa.text("invoice_id IS NULL"),
        ),
        sa.CheckConstraint("ended_at > started_at", name="positive_duration"),
    )

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE")
    )
    worker_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int]
    #: The Monday (UTC) of the billing week the entry is in.
    week: Mapped[date] = mapped_column(sa.Date)
    memo: Mapped[str] = mapped_column(sa.Text)
    files: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list, server_default="[]")
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("invoices.id"), index=True)
    #: Disputed by the client in the invoice's review window.
    disputed: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    worker: Mapped[User] = relationship()
    contract: Mapped[Contract] = relationship()


class Invoice(IdMixin, Model):
    """One billing week of an hourly contract: its billable time, priced at the contract's
    rate. Its money is a milestone of kind `hours` (two when part of it is disputed: the
    disputed part waits for an admin's split, the rest proceeds)."""

    __tablename__ = "invoices"
    __table_args__ = (
        sa.UniqueConstraint("contract_id", "week"),
        sa.Index("ix_invoices_status_due", "status", "next_charge_at"),
    )

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    week: Mapped[date] = mapped_column(sa.Date)
    status: Mapped[InvoiceStatus] = mapped_column(
        enum_type(InvoiceStatus), default=InvoiceStatus.IN_REVIEW
    )
    limit_hours: Mapped[int]
    logged_minutes: Mapped[int]
    #: Billed: the logged minutes up to the week's limit.
    minutes: Mapped[int]
    rate: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    fee_bps: Mapped[int]
    milestone_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("milestones.id"), unique=True)
    #: The disputed part's milestone (the invoice's own when all of it is disputed).
    disputed_milestone_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("milestones.id"))
    disputed_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    dispute_reason: Mapped[str | None] = mapped_column(sa.Text)
    disputed_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    disputed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    review_ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: When the next charge is due (the end of the review window, then each retry).
    next_charge_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    charge_attempts: Mapped[int] = mapped_column(default=0)
    #: Whether a declined charge paused the contract (a confirmed one resumes it).
    paused_contract: Mapped[bool] = mapped_column(default=False)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The end of the security period: the undisputed money is released then.
    available_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contract: Mapped[Contract] = relationship()
    milestone: Mapped[Milestone] = relationship(foreign_keys=[milestone_id])
    disputed_milestone: Mapped[Milestone | None] = relationship(
        foreign_keys=[disputed_milestone_id]
    )
    entries: Mapped[list[TimeEntry]] = relationship(
        order_by="TimeEntry.started_at, TimeEntry.id", viewonly=True
    )
