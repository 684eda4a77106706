"""Tasks, their required skills and languages, transitions and confidentiality records."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, query_expression, relationship

from marketplace.accounts.models import User
from marketplace.catalog.models import Skill
from marketplace.database import (
    IdMixin,
    TimestampMixin,
    TransitionMixin,
    UTCDateTime,
    bit_string,
    enum_type,
    utcnow,
)
from marketplace.extensions import Model
from marketplace.profiles.models import WEEK_SLOTS, ClientProfile, ProviderProfile, ServiceModel
from marketplace.tasks.states import CLIENT_ACTIONS, TASK_STATES, TaskStatus
from marketplace.tasks.terms import terms_hash, terms_text


class Confidentiality(StrEnum):
    """Whether providers must accept the confidentiality terms to read the details."""

    PUBLIC = "public"
    TERMS_REQUIRED = "terms_required"


class BudgetType(StrEnum):
    """A fixed price for the whole task, or an hourly rate."""

    FIXED = "fixed"
    HOURLY = "hourly"


class Shoring(StrEnum):
    """Where the client wants the provider, relative to the client's country."""

    ONSHORE = "onshore"
    NEARSHORE = "nearshore"
    OFFSHORE = "offshore"
    ANY = "any"


#: `Task.fit_masks`: a week of quarter-hours for each weekday of the client.
FIT_MASK_BITS = 7 * WEEK_SLOTS


class Task(IdMixin, TimestampMixin, Model):
    """A piece of non-core work a client hands off."""

    __tablename__ = "tasks"
    __table_args__ = (
        sa.CheckConstraint("budget_min > 0 AND budget_max >= budget_min", name="budget_range"),
        sa.CheckConstraint("positions BETWEEN 1 AND 50", name="positions_range"),
        sa.CheckConstraint("tier BETWEEN 1 AND 4", name="tier_range"),
        sa.Index("ix_tasks_status_opened", "status", "opened_at"),
    )

    client_profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("client_profiles.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    summary: Mapped[str] = mapped_column(sa.Text)
    confidential_details: Mapped[str] = mapped_column(sa.Text, default="")
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    #: Uploaded files of the confidential material (metadata; marketplace.files has the rest).
    confidential_files: Mapped[list[dict[str, Any]]] = mapped_column(
        sa.JSON, default=list, server_default="[]"
    )
    confidentiality: Mapped[Confidentiality] = mapped_column(
        enum_type(Confidentiality), default=Confidentiality.PUBLIC
    )
    terms_version: Mapped[int] = mapped_column(default=1)
    terms_hash: Mapped[str] = mapped_column(sa.String(64))
    service_model: Mapped[ServiceModel | None] = mapped_column(enum_type(ServiceModel))
    tier: Mapped[int] = mapped_column(sa.SmallInteger)
    budget_type: Mapped[BudgetType] = mapped_column(enum_type(BudgetType))
    budget_min: Mapped[int] = mapped_column(sa.BigInteger)
    budget_max: Mapped[int] = mapped_column(sa.BigInteger, index=True)
    currency: Mapped[str] = mapped_column(sa.String(3))
    start_date: Mapped[date | None] = mapped_column(sa.Date)
    deadline: Mapped[date] = mapped_column(sa.Date, index=True)
    timezone_need: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    shoring: Mapped[Shoring] = mapped_column(enum_type(Shoring), default=Shoring.ANY)
    positions: Mapped[int] = mapped_column(default=1)
    trial: Mapped[bool] = mapped_column(default=False)
    status: Mapped[TaskStatus] = mapped_column(enum_type(TaskStatus), default=TaskStatus.DRAFT)
    review_reasons: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    rejection_reason: Mapped[str | None] = mapped_column(sa.Text)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Derived columns that the discovery filters (shoring, minimum overlap) read in SQL:
    # figures of the client's zone, country and hours over the task's period, and the days
    # of search they stand for. Every flush keeps them in step with the task and its client
    # (marketplace.matching.task_fit); until computed they stand for no day (but the
    # country, always current).
    fit_country: Mapped[str | None] = mapped_column(sa.String(2), index=True)
    fit_offset_min: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    fit_offset_max: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    fit_masks: Mapped[str] = mapped_column(
        bit_string(FIT_MASK_BITS), default=lambda: "0" * FIT_MASK_BITS, deferred=True
    )
    fit_from: Mapped[date] = mapped_column(sa.Date, default=date.min)
    fit_until: Mapped[date] = mapped_column(sa.Date, default=date.min)

    #: Live bids on the task, where a list asks for them with the task
    #: (`bids.services.with_bid_count`); else None.
    bid_count: Mapped[int | None] = query_expression()

    client_profile: Mapped[ClientProfile] = relationship()
    created_by: Mapped[User] = relationship()
    skills: Mapped[list[TaskSkill]] = relationship(
        back_populates="task",
        cascade="all, delete-orphan",
        order_by="TaskSkill.id",
        lazy="selectin",
    )
    language_rows: Mapped[list[TaskLanguage]] = relationship(
        cascade="all, delete-orphan", order_by="TaskLanguage.code", lazy="selectin"
    )
    transitions: Mapped[list[TaskTransition]] = relationship(
        cascade="all, delete-orphan", order_by="TaskTransition.at"
    )

    @property
    def languages(self) -> list[str]:
        """ISO 639-1 codes the provider must speak."""
        return [row.code for row in self.language_rows]

    @property
    def budget(self) -> dict[str, Any]:
        """`{"type", "min", "max", "currency"}` in minor units."""
        return {
            "type": self.budget_type,
            "min": self.budget_min,
            "max": self.budget_max,
            "currency": self.currency,
        }

    @property
    def allowed_actions(self) -> list[str]:
        """What the client can do with the task now."""
        return [a for a in TASK_STATES.actions_from(self.status) if a in CLIENT_ACTIONS]

    @property
    def confidentiality_terms(self) -> dict[str, Any] | None:
        """The terms a provider accepts (version, hash, text); None for public tasks."""
        if self.confidentiality != Confidentiality.TERMS_REQUIRED:
            return None
        return {"version": self.terms_version, "hash": terms_hash(), "text": terms_text()}


class TaskSkill(IdMixin, Model):
    """A skill a task needs, at a minimum level."""

    __tablename__ = "task_skills"
    __table_args__ = (sa.UniqueConstraint("task_id", "skill_id"),)

    task_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    skill_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("skills.id"), index=True)
    min_level: Mapped[int] = mapped_column(sa.SmallInteger)

    task: Mapped[Task] = relationship(back_populates="skills")
    skill: Mapped[Skill] = relationship(lazy="joined")

    @property
    def slug(self) -> str:
        return self.skill.slug


class TaskLanguage(Model):
    """A language a task needs (a row each, so lists filter by language in SQL)."""

    __tablename__ = "task_languages"

    task_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tasks.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(sa.String(2), primary_key=True, index=True)


class TaskTransition(TransitionMixin[TaskStatus], Model, of="tasks", status=TaskStatus):
    """One step of a task's life: who moved it from which status to which, and when."""

    if TYPE_CHECKING:  # made by TransitionMixin as the class is mapped
        task_id: Mapped[uuid.UUID]


class TermsAcceptance(IdMixin, Model):
    """A provider (individual or firm) accepted one version of a task's confidentiality terms."""

    __tablename__ = "terms_acceptances"
    __table_args__ = (
        sa.UniqueConstraint("task_id", "provider_profile_id", "terms_version", "terms_hash"),
    )

    task_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    provider_profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("provider_profiles.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    terms_version: Mapped[int]
    terms_hash: Mapped[str] = mapped_column(sa.String(64))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(400))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    provider_profile: Mapped[ProviderProfile] = relationship()
    user: Mapped[User] = relationship()


class ConfidentialAccess(IdMixin, Model):
    """One read of a task's confidential material (the details and attachments of one terms
    version), wherever it was served: the client reads this log."""

    __tablename__ = "confidential_accesses"

    task_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("tasks.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    provider_profile_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("provider_profiles.id", ondelete="SET NULL")
    )
    terms_version: Mapped[int]
    #: The endpoint that served it, as the API docs name it: `GET /api/v1/contracts/{contract_id}`.
    via: Mapped[str] = mapped_column(sa.String(120))
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship()
