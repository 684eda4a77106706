"""Bids and their recorded transitions."""

from __future__ import annotations

import uuid
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.database import IdMixin, TimestampMixin, TransitionMixin, enum_type
from marketplace.extensions import Model
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks.models import Task


class BidStatus(StrEnum):
    """submitted -> shortlisted -> accepted; or declined, withdrawn, expired."""

    SUBMITTED = "submitted"
    SHORTLISTED = "shortlisted"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"
    EXPIRED = "expired"


class Bid(IdMixin, TimestampMixin, Model):
    """A provider's (or firm's) proposal on a task: price, milestones, timeline, letter."""

    __tablename__ = "bids"
    __table_args__ = (
        # One live bid per provider per task, even under concurrent requests.
        sa.Index(
            "uq_bids_live",
            "task_id",
            "provider_profile_id",
            unique=True,
            postgresql_where=sa.text("status IN ('submitted', 'shortlisted')"),
            sqlite_where=sa.text("status IN ('submitted', 'shortlisted')"),
        ),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    provider_profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("provider_profiles.id", ondelete="CASCADE"), index=True
    )
    submitted_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    price_amount: Mapped[int] = mapped_column(sa.BigInteger)
    price_currency: Mapped[str] = mapped_column(sa.String(3))
    milestones: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    timeline_days: Mapped[int]
    cover_letter: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[BidStatus] = mapped_column(enum_type(BidStatus), default=BidStatus.SUBMITTED)
    decline_reason: Mapped[str | None] = mapped_column(sa.Text)

    task: Mapped[Task] = relationship()
    provider_profile: Mapped[ProviderProfile] = relationship()
    #: Who wrote the bid (for a firm: any member), told of what happens to it.
    submitted_by: Mapped[User] = relationship()
    transitions: Mapped[list[BidTransition]] = relationship(
        cascade="all, delete-orphan", order_by="BidTransition.at"
    )

    @property
    def provider_name(self) -> str:
        return self.provider_profile.display_name

    @property
    def price(self) -> dict[str, Any]:
        """`{"amount", "currency"}`: the fixed price, or the hourly rate of an hourly task."""
        return {"amount": self.price_amount, "currency": self.price_currency}


class BidTransition(TransitionMixin[BidStatus], Model, of="bids", status=BidStatus):
    """One step of a bid's life: who moved it, from which status to which, when, why."""
