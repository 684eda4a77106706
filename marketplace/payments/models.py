"""Payment records (payments, transfers, refunds), refund requests, disputes with the
parties' evidence, and idempotency keys."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.contracts.models import Milestone, MilestoneStatus
from marketplace.database import IdMixin, UTCDateTime, enum_type, utcnow
from marketplace.extensions import Model


class PaymentStatus(StrEnum):
    """A milestone's payment at the gateway: pending until it is confirmed or fails."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class TransferStatus(StrEnum):
    """Money released to a provider: pending until the gateway has made the transfer."""

    PENDING = "pending"
    PAID = "paid"
    FAILED = "failed"
    REVERSED = "reversed"


class RefundStatus(StrEnum):
    """Money owed back to a client: pending until the gateway has refunded it."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class RequestStatus(StrEnum):
    """A refund request: open until the provider answers, or the wait runs out."""

    OPEN = "open"
    APPROVED = "approved"
    LAPSED = "lapsed"  # no answer in time: the refund went ahead
    DISPUTED = "disputed"


class DisputeStatus(StrEnum):
    """open until an admin resolves it."""

    OPEN = "open"
    RESOLVED = "resolved"


def _open_only(name: str, column: str) -> sa.Index:
    """At most one open row per `column`, even under racing requests."""
    return sa.Index(
        name,
        column,
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )


class Payment(IdMixin, Model):
    """A client's payment for one milestone (a PaymentIntent on Stripe)."""

    __tablename__ = "payments"
    __table_args__ = (sa.UniqueConstraint("milestone_id", "attempt"),)

    milestone_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("milestones.id"), index=True)
    contract_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    attempt: Mapped[int]
    gateway: Mapped[str] = mapped_column(sa.String(20))
    gateway_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    client_secret: Mapped[str | None] = mapped_column(sa.String(255))
    #: The saved card charged at once, if the client gave one (else Stripe.js confirms).
    payment_method: Mapped[str | None] = mapped_column(sa.String(255))
    charge_id: Mapped[str | None] = mapped_column(sa.String(255))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[PaymentStatus] = mapped_column(
        enum_type(PaymentStatus), default=PaymentStatus.PENDING
    )
    failure_code: Mapped[str | None] = mapped_column(sa.String(100))
    failure_message: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    milestone: Mapped[Milestone] = relationship()


class Transfer(IdMixin, Model):
    """Money released to a provider and sent to their payout account."""

    __tablename__ = "transfers"

    milestone_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("milestones.id"), unique=True)
    contract_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    provider_profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("provider_profiles.id"), index=True
    )
    payment_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("payments.id"))
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    status: Mapped[TransferStatus] = mapped_column(
        enum_type(TransferStatus), default=TransferStatus.PENDING
    )
    gateway_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    #: Taken back from the provider's account at the gateway (Stripe's transfer.reversed).
    reversed_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    payment: Mapped[Payment] = relationship()
    milestone: Mapped[Milestone] = relationship()


class Refund(IdMixin, Model):
    """Money owed back to a client and refunded on the payment it came from."""

    __tablename__ = "refunds"

    milestone_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("milestones.id"), index=True)
    contract_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    client_profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("client_profiles.id"), index=True
    )
    payment_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("payments.id"), unique=True)
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    reason: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[RefundStatus] = mapped_column(
        enum_type(RefundStatus), default=RefundStatus.PENDING
    )
    gateway_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    payment: Mapped[Payment] = relationship()


class RefundRequest(IdMixin, Model):
    """A client's request to cancel a funded milestone; the provider approves or disputes."""

    __tablename__ = "refund_requests"
    __table_args__ = (
        _open_only("uq_refund_requests_open", "milestone_id"),
        sa.Index("ix_refund_requests_status_expires", "status", "expires_at"),
    )

    milestone_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("milestones.id"))
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[RequestStatus] = mapped_column(
        enum_type(RequestStatus), default=RequestStatus.OPEN
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    milestone: Mapped[Milestone] = relationship()


class Dispute(IdMixin, Model):
    """A party's dispute over a milestone's money; an admin settles it with a split."""

    __tablename__ = "disputes"
    __table_args__ = (
        _open_only("uq_disputes_open", "milestone_id"),
        sa.Index("ix_disputes_status_created", "status", "created_at"),
    )

    milestone_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("milestones.id"))
    contract_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("contracts.id"), index=True)
    raised_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    side: Mapped[str] = mapped_column(sa.String(10))  # client, provider, or system
    reason: Mapped[str] = mapped_column(sa.Text)
    #: The evidence files' metadata (marketplace.files has the rest).
    files: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list, server_default="[]")
    milestone_status: Mapped[MilestoneStatus] = mapped_column(
        enum_type(MilestoneStatus, name="milestone_status")
    )
    status: Mapped[DisputeStatus] = mapped_column(
        enum_type(DisputeStatus), default=DisputeStatus.OPEN
    )
    release_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    refund_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    milestone: Mapped[Milestone] = relationship()


class DisputeEvidence(IdMixin, Model):
    """What a party adds to an open dispute before its deadline: a statement and files."""

    __tablename__ = "dispute_evidence"
    __table_args__ = (sa.Index("ix_dispute_evidence_dispute_created", "dispute_id", "created_at"),)

    dispute_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("disputes.id", ondelete="CASCADE"))
    author_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    side: Mapped[str] = mapped_column(sa.String(10))  # client or provider
    text: Mapped[str] = mapped_column(sa.Text)
    #: The attached files' metadata (marketplace.files has the rest).
    files: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list, server_default="[]")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User] = relationship()


class EventStatus(StrEnum):
    """received until processed (or ignored: a type we do not act on)."""

    RECEIVED = "received"
    PROCESSED = "processed"
    IGNORED = "ignored"


class WebhookEvent(IdMixin, Model):
    """A verified webhook event from the gateway, kept by its event id: processed once."""

    __tablename__ = "webhook_events"
    __table_args__ = (sa.UniqueConstraint("gateway", "event_id"),)

    gateway: Mapped[str] = mapped_column(sa.String(20))
    event_id: Mapped[str] = mapped_column(sa.String(255))
    type: Mapped[str] = mapped_column(sa.String(100), index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    status: Mapped[EventStatus] = mapped_column(
        enum_type(EventStatus), default=EventStatus.RECEIVED
    )
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IdempotencyStatus(StrEnum):
    """in_progress while the first request runs; completed once its answer is stored."""

    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


class IdempotencyKey(IdMixin, Model):
    """A money request's `Idempotency-Key`, per user, with the first answer to replay."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (sa.UniqueConstraint("user_id", "key"),)

    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(sa.String(255))
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[IdempotencyStatus] = mapped_column(
        enum_type(IdempotencyStatus), default=IdempotencyStatus.IN_PROGRESS
    )
    response_status: Mapped[int | None]
    response_body: Mapped[Any | None] = mapped_column(sa.JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class SavedPaymentMethod(IdMixin, Model):
    """The card a client saved for off-session charges (hourly invoices): a Stripe
    customer and its payment method, set up through a SetupIntent. One per client profile;
    saving another replaces it."""

    __tablename__ = "saved_payment_methods"

    client_profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("client_profiles.id"), unique=True
    )
    gateway: Mapped[str] = mapped_column(sa.String(20))
    customer_id: Mapped[str] = mapped_column(sa.String(255))
    #: The SetupIntent that saves the method (Stripe.js confirms it when no method was sent).
    setup_id: Mapped[str | None] = mapped_column(sa.String(255), unique=True)
    client_secret: Mapped[str | None] = mapped_column(sa.String(255))
    #: None until the setup succeeds.
    payment_method: Mapped[str | None] = mapped_column(sa.String(255))
    saved_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ready_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def ready(self) -> bool:
        """Whether invoices can be charged to it."""
        return self.payment_method is not None
