"""Provider and client profiles. Each belongs to a user or to an organization, never both."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.catalog.models import Skill
from marketplace.database import (
    INT_ARRAY,
    IdMixin,
    TimestampMixin,
    UTCDateTime,
    bit_string,
    enum_type,
)
from marketplace.extensions import Model
from marketplace.organizations.models import Organization

_ONE_OWNER = "(user_id IS NULL) <> (organization_id IS NULL)"
WEEK_SLOTS = 7 * 24 * 4  # quarter-hours in a week: the resolution of `availability`
RECORD_PRIOR = 0.6  # a newcomer's record score (see marketplace.matching.index)


class ServiceModel(StrEnum):
    """How a provider works (docs/domain.md): a lone assistant or a kind of firm."""

    VA = "va"
    BPO = "bpo"
    ITO = "ito"
    KPO = "kpo"


class VerificationStatus(StrEnum):
    """Whether the marketplace has verified the provider's identity."""

    UNVERIFIED = "unverified"
    PENDING = "pending"
    VERIFIED = "verified"


class ProfileOwnerMixin:
    """A profile is owned by one user (individual) or one organization (firm/company)."""

    user_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), unique=True
    )
    organization_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("organizations.id", ondelete="CASCADE"), unique=True
    )


class ProviderProfile(IdMixin, TimestampMixin, ProfileOwnerMixin, Model):
    """What a provider offers, where and when they work, and how they get paid."""

    __tablename__ = "provider_profiles"
    __table_args__ = (sa.CheckConstraint(_ONE_OWNER, name="one_owner"),)

    service_model: Mapped[ServiceModel] = mapped_column(enum_type(ServiceModel))
    headline: Mapped[str] = mapped_column(sa.String(200), default="")
    bio: Mapped[str] = mapped_column(sa.Text, default="")
    hourly_rate_amount: Mapped[int | None] = mapped_column(sa.BigInteger)
    hourly_rate_currency: Mapped[str | None] = mapped_column(sa.String(3))
    languages: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    country: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    working_hours: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    capacity_hours_per_week: Mapped[int] = mapped_column(default=40)
    verification_status: Mapped[VerificationStatus] = mapped_column(
        enum_type(VerificationStatus), default=VerificationStatus.UNVERIFIED
    )
    stripe_account_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    payouts_enabled: Mapped[bool] = mapped_column(default=False)
    # Derived columns that the matching SQL filters and pre-scores on; every flush keeps
    # them in step with the fields above (marketplace.matching.index).
    matchable: Mapped[bool] = mapped_column(default=True)
    match_keys: Mapped[list[int]] = mapped_column(INT_ARRAY, default=list, deferred=True)
    skill_experience: Mapped[list[int]] = mapped_column(INT_ARRAY, default=list, deferred=True)
    availability: Mapped[str] = mapped_column(
        bit_string(WEEK_SLOTS), default=lambda: "0" * WEEK_SLOTS, deferred=True
    )
    availability_offset: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    capacity_left: Mapped[int] = mapped_column(default=40)
    completed_contracts: Mapped[int] = mapped_column(default=0)
    record_score: Mapped[float] = mapped_column(sa.Float, default=RECORD_PRIOR)
    match_quality: Mapped[float] = mapped_column(sa.Float, default=0.0)

    user: Mapped[User | None] = relationship()
    organization: Mapped[Organization | None] = relationship()
    skills: Mapped[list[ProviderSkill]] = relationship(
        back_populates="profile", cascade="all, delete-orphan", order_by="ProviderSkill.id"
    )

    @property
    def receives_payouts(self) -> bool:
        """Whether money can reach the provider: a payout account with payouts enabled (a
        milestone is funded only then)."""
        return bool(self.stripe_account_id and self.payouts_enabled)

    @property
    def kind(self) -> str:
        """`individual` for a VA working alone, `firm` for an organization."""
        return "firm" if self.organization_id else "individual"

    @property
    def display_name(self) -> str:
        """The firm's name, or the individual's."""
        owner = self.organization or self.user
        return owner.name if owner else ""

    @property
    def hourly_rate(self) -> dict[str, Any] | None:
        """The rate as money, `{"amount", "currency"}`, or None when unset."""
        if self.hourly_rate_amount is None:
            return None
        return {"amount": self.hourly_rate_amount, "currency": self.hourly_rate_currency}


class ProviderSkill(IdMixin, Model):
    """A skill a provider offers, at a level (1-5) with years of experience."""

    __tablename__ = "provider_skills"
    __table_args__ = (sa.UniqueConstraint("profile_id", "skill_id"),)

    profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("provider_profiles.id", ondelete="CASCADE"), index=True
    )
    skill_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("skills.id"), index=True)
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    years: Mapped[int] = mapped_column(sa.SmallInteger, default=0)

    profile: Mapped[ProviderProfile] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(lazy="joined")

    @property
    def slug(self) -> str:
        return self.skill.slug

    @property
    def name(self) -> str:
        return self.skill.name


class ClientProfile(IdMixin, TimestampMixin, ProfileOwnerMixin, Model):
    """Where a client is and when its team works: the base of overlap and shoring."""

    __tablename__ = "client_profiles"
    __table_args__ = (sa.CheckConstraint(_ONE_OWNER, name="one_owner"),)

    company_name: Mapped[str] = mapped_column(sa.String(200), default="")
    country: Mapped[str | None] = mapped_column(sa.String(2))
    timezone: Mapped[str] = mapped_column(sa.String(64), default="UTC")
    working_hours: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: When the client's first contract was completed: until then a young client is new.
    first_completion_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()
    organization: Mapped[Organization | None] = relationship()

    @property
    def display_name(self) -> str:
        """The company's name, or the individual's (as `ProviderProfile.display_name`)."""
        owner = self.organization or self.user
        return owner.name if owner else ""
