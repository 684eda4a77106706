"""Contracts, their terms versions, milestones, amendments and recorded transitions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.bids.models import Bid
from marketplace.database import (
    IdMixin,
    TimestampMixin,
    TransitionMixin,
    UTCDateTime,
    enum_type,
    utcnow,
)
from marketplace.extensions import Model
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks.models import Task


class ContractStatus(StrEnum):
    """offered -> active -> completed; declined, expired or terminated; paused and back."""

    OFFERED = "offered"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    DECLINED = "declined"
    EXPIRED = "expired"
    TERMINATED = "terminated"


class MilestoneStatus(StrEnum):
    """The escrow unit's states (docs/design.md); `refund_requested` while the provider
    answers a client's request to cancel a funded milestone."""

    PENDING = "pending"
    FUNDED = "funded"
    SUBMITTED = "submitted"
    CHANGES_REQUESTED = "changes_requested"
    REFUND_REQUESTED = "refund_requested"
    RELEASED = "released"
    CANCELLED = "cancelled"
    REFUNDED = "refunded"
    DISPUTED = "disputed"
    RESOLVED = "resolved"


class MilestoneKind(StrEnum):
    """What a milestone pays for: agreed work (the parties move it), an hourly invoice's
    hours, or a bonus (both moved by the marketplace itself)."""

    WORK = "work"
    HOURS = "hours"
    BONUS = "bonus"


class AmendmentStatus(StrEnum):
    """proposed until the other party accepts or declines it, the proposer withdraws it,
    or it lapses."""

    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    LAPSED = "lapsed"


class Contract(IdMixin, TimestampMixin, Model):
    """The agreement between a client and a provider made from an accepted bid."""

    __tablename__ = "contracts"
    __table_args__ = (sa.Index("ix_contracts_status_offer", "status", "offer_expires_at"),)

    task_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("tasks.id"), index=True)
    bid_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("bids.id"), unique=True)
    client_profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("client_profiles.id"), index=True
    )
    provider_profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("provider_profiles.id"), index=True
    )
    pilot_of_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("contracts.id"), unique=True
    )
    status: Mapped[ContractStatus] = mapped_column(
        enum_type(ContractStatus), default=ContractStatus.OFFERED
    )
    terms_version: Mapped[int] = mapped_column(default=1)
    offer_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(sa.Text)

    task: Mapped[Task] = relationship()
    bid: Mapped[Bid | None] = relationship()
    client_profile: Mapped[ClientProfile] = relationship()
    provider_profile: Mapped[ProviderProfile] = relationship()
    pilot_of: Mapped[Contract | None] = relationship(
        remote_side="Contract.id", back_populates="extension"
    )
    #: The full contract that extends this pilot, if any.
    extension: Mapped[Contract | None] = relationship(back_populates="pilot_of", uselist=False)
    milestones: Mapped[list[Milestone]] = relationship(
        back_populates="contract", order_by="Milestone.position", cascade="all, delete-orphan"
    )
    terms: Mapped[list[ContractTerms]] = relationship(
        order_by="ContractTerms.version", cascade="all, delete-orphan"
    )
    transitions: Mapped[list[ContractTransition]] = relationship(
        cascade="all, delete-orphan", order_by="ContractTransition.at"
    )

    @property
    def amounts(self) -> dict[str, dict[str, Any]]:
        """What the contract is worth (its milestones, cancelled ones left out) and where its
        money is: paid into escrow, released to the provider (before the fee), refunded to
        the client, held now; each `{"amount", "currency"}`, from the loaded milestones."""
        live = [m for m in self.milestones if m.status != MilestoneStatus.CANCELLED]
        funded = sum(m.amount for m in self.milestones if m.funded_at is not None)
        released = sum(m.released_amount for m in self.milestones)
        refunded = sum(m.refunded_amount for m in self.milestones)
        currency = self.milestones[0].currency if self.milestones else self.task.currency
        sums = {
            "total": sum(m.amount for m in live),
            "funded": funded,
            "released": released,
            "refunded": refunded,
            "in_escrow": funded - released - refunded,
        }
        return {name: {"amount": amount, "currency": currency} for name, amount in sums.items()}

    @property
    def current_terms(self) -> ContractTerms:
        """The terms version in force."""
        return next(t for t in self.terms if t.version == self.terms_version)


class ContractTerms(IdMixin, Model):
    """One version of what was agreed; never changed once written (its hash proves it)."""

    __tablename__ = "contract_terms"
    __table_args__ = (sa.UniqueConstraint("contract_id", "version"),)

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int]
    content: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    created_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Milestone(IdMixin, TimestampMixin, Model):
    """A piece of the work and its payment: the escrow unit."""

    __tablename__ = "milestones"
    __table_args__ = (sa.Index("ix_milestones_status_auto_release", "status", "auto_release_at"),)

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    amount: Mapped[int] = mapped_column(sa.BigInteger)
    currency: Mapped[str] = mapped_column(sa.String(3))
    due_date: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[MilestoneStatus] = mapped_column(
        enum_type(MilestoneStatus), default=MilestoneStatus.PENDING
    )
    kind: Mapped[MilestoneKind] = mapped_column(
        enum_type(MilestoneKind, length=10), default=MilestoneKind.WORK, server_default="work"
    )
    revisions: Mapped[int] = mapped_column(default=0)
    funded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When a submitted milestone is released without the client's answer.
    auto_release_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Fixed when the money leaves escrow, so the split is never recomputed.
    released_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    refunded_amount: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    #: When the parties were warned that the money has sat in escrow too long.
    escrow_warned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    contract: Mapped[Contract] = relationship(back_populates="milestones")
    transitions: Mapped[list[MilestoneTransition]] = relationship(
        cascade="all, delete-orphan", order_by="MilestoneTransition.at"
    )
    submissions: Mapped[list[MilestoneSubmission]] = relationship(
        cascade="all, delete-orphan", order_by="MilestoneSubmission.revision"
    )


class MilestoneTransition(
    TransitionMixin[MilestoneStatus], Model, of="milestones", status=MilestoneStatus
):
    """One step of a milestone's life: who moved it, from which status to which, when, why."""


class MilestoneSubmission(IdMixin, Model):
    """The provider's delivery of a milestone: a note and the deliverables' metadata."""

    __tablename__ = "milestone_submissions"
    __table_args__ = (sa.UniqueConstraint("milestone_id", "revision"),)

    milestone_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("milestones.id", ondelete="CASCADE"), index=True
    )
    revision: Mapped[int]
    note: Mapped[str] = mapped_column(sa.Text)
    deliverables: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    #: The delivered files' metadata (marketplace.files has the rest).
    files: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list, server_default="[]")
    submitted_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ContractTransition(
    TransitionMixin[ContractStatus], Model, of="contracts", status=ContractStatus
):
    """One step of a contract's life: who moved it, from which status to which, when, why."""


class Amendment(IdMixin, Model):
    """A proposed new terms version; the other party accepts or declines it, the proposer
    withdraws it, or it lapses."""

    __tablename__ = "amendments"

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), index=True
    )
    proposed_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    proposer_side: Mapped[str] = mapped_column(sa.String(10))
    base_version: Mapped[int]
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
    note: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[AmendmentStatus] = mapped_column(
        enum_type(AmendmentStatus), default=AmendmentStatus.PROPOSED
    )
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    new_version: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Why the other party declined it, or the proposer withdrew it.
    end_reason: Mapped[str | None] = mapped_column(sa.Text)

    contract: Mapped[Contract] = relationship()
