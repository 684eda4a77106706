"""The measured record's tables: work reports, announced changes, SLA events, reviews and
the providers' computed record."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.database import IdMixin, UTCDateTime, enum_type, utcnow
from marketplace.extensions import Model


class WorkReportStatus(StrEnum):
    """`submitted` until the client answers; unanswered for 7 days it counts as confirmed."""

    SUBMITTED = "submitted"
    CONFIRMED = "confirmed"
    CONTESTED = "contested"


class WorkReport(IdMixin, Model):
    """The provider side's figures for one period of operations work (BPO, VA, ITO)."""

    __tablename__ = "work_reports"
    __table_args__ = (
        sa.Index("ix_work_reports_contract_period", "contract_id", "period_start"),
        sa.CheckConstraint("period_end >= period_start", name="period_order"),
    )

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE")
    )
    submitted_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    #: The period's first and last days (inclusive), in the client's zone.
    period_start: Mapped[date] = mapped_column(sa.Date)
    period_end: Mapped[date] = mapped_column(sa.Date)
    items_received: Mapped[int]
    items_completed: Mapped[int]
    items_with_errors: Mapped[int] = mapped_column(default=0)
    items_reworked: Mapped[int] = mapped_column(default=0)
    escalations: Mapped[int] = mapped_column(default=0)
    satisfaction_responses: Mapped[int] = mapped_column(default=0)
    #: Average satisfaction score (1-5) of the responses; None without responses.
    satisfaction_average: Mapped[float | None] = mapped_column(sa.Float)
    improvement_suggestions: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Share (0-1) of the period's items handled by the SOP; None if not measured.
    sop_adherence: Mapped[float | None] = mapped_column(sa.Float)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    files: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    status: Mapped[WorkReportStatus] = mapped_column(
        enum_type(WorkReportStatus), default=WorkReportStatus.SUBMITTED
    )
    contest_reason: Mapped[str | None] = mapped_column(sa.Text)
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Change(IdMixin, Model):
    """A policy, product or SOP change the client announces; the provider side acknowledges
    it and then confirms it adopted (the time to adoption is the learning speed)."""

    __tablename__ = "contract_changes"
    __table_args__ = (sa.Index("ix_contract_changes_contract", "contract_id", "announced_at"),)

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE")
    )
    announced_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text)
    #: What must be adopted for the change to count as learned.
    to_adopt: Mapped[str] = mapped_column(sa.Text)
    files: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    announced_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    adopted_by_id: Mapped[uuid.UUID | None] = mapped_column(sa.ForeignKey("users.id"))
    adopted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Service minutes from announcement to adoption, fixed when adopted.
    adoption_minutes: Mapped[int | None]


class SlaEventKind(StrEnum):
    AT_RISK = "at_risk"
    BREACHED = "breached"
    RECOVERED = "recovered"


class SlaEvent(IdMixin, Model):
    """One SLA event of a contract; `key` names what it is about (a clock's subject or a
    metric's period), and is unique with the kind, so each event is recorded once however
    often and on however many workers the evaluation runs."""

    __tablename__ = "sla_events"
    __table_args__ = (
        sa.UniqueConstraint("contract_id", "metric", "key", "kind", name="uq_sla_events_once"),
        sa.Index("ix_sla_events_contract_at", "contract_id", "at"),
    )

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE")
    )
    metric: Mapped[str] = mapped_column(sa.String(40))
    key: Mapped[str] = mapped_column(sa.String(120))
    kind: Mapped[SlaEventKind] = mapped_column(enum_type(SlaEventKind))
    #: When it happened (the moment the clock passed the threshold), not when it was seen.
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ReviewSide(StrEnum):
    """Who wrote the review: the client reviews the provider, the provider the client."""

    CLIENT = "client"
    PROVIDER = "provider"


class Review(IdMixin, Model):
    """One side's review of the other after a contract ends; hidden from everyone but its
    author until both sides have reviewed or the window has passed."""

    __tablename__ = "reviews"
    __table_args__ = (
        sa.UniqueConstraint("contract_id", "side", name="uq_reviews_contract_side"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="rating_range"),
        sa.Index("ix_reviews_provider_published", "provider_profile_id", "published_at"),
    )

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE")
    )
    side: Mapped[ReviewSide] = mapped_column(enum_type(ReviewSide))
    author_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    #: The contract's provider (for the provider's list of reviews about it).
    provider_profile_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("provider_profiles.id"))
    client_profile_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("client_profiles.id"))
    rating: Mapped[int]
    sub_ratings: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)
    text: Mapped[str] = mapped_column(sa.Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: When both reviews of the contract became visible; None while hidden.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ProviderRecord(Model):
    """A provider's measured record, recomputed by a periodic job: per window (`12m`,
    `all`) and figure, `{"value", "samples"}`; `score` is the record term of matching."""

    __tablename__ = "provider_records"

    provider_profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("provider_profiles.id", ondelete="CASCADE"), primary_key=True
    )
    figures: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    score: Mapped[float] = mapped_column(sa.Float)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlaSample(Model):
    """A stopped response clock of a contract and the service minutes it counted, kept so
    that the KPIs need not recount a long thread's clocks on every read (`samples`)."""

    __tablename__ = "sla_samples"

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True
    )
    metric: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    #: What the clock is about (the id of the message that started the wait).
    key: Mapped[str] = mapped_column(sa.String(120), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: The date the clock stopped in the client's zone (the KPIs' periods are the client's).
    day: Mapped[date] = mapped_column(sa.Date)
    minutes: Mapped[int]


class SlaSampleMark(Model):
    """How far a contract's `SlaSample` rows are up to date: the messages seen (how many,
    and the last one), the wait still running after them, the rows grouped (`digest`), and
    the basis they were counted
    on (a hash of the service hours, the exchange idle time, the provider side's senders and
    the client's zone): when it changes, the samples are counted again."""

    __tablename__ = "sla_sample_marks"

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True
    )
    basis: Mapped[str] = mapped_column(sa.String(64))
    messages: Mapped[int] = mapped_column(default=0)
    last_message_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_message_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    waiting_metric: Mapped[str | None] = mapped_column(sa.String(40))
    waiting_key: Mapped[str | None] = mapped_column(sa.String(120))
    waiting_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The samples grouped as the KPIs read them, `{metric: {day: {minutes: how many}}}`, kept
    #: with the mark so that a read with nothing new reads one row (None: count again).
    digest: Mapped[dict[str, dict[str, dict[str, int]]] | None] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class KpiSnapshot(Model):
    """A contract's KPIs as last computed (`kpis.contract_kpis`), with what they were computed
    from (`fingerprint`: a hash of the contract's terms, messages, reports, changes and
    milestone steps) and the first moment time alone may change them (`valid_until`: a
    running clock reaching 75 % or 100 % of its target, a report's answer window lapsing,
    a new day in the client's zone). A read serves it while both hold."""

    __tablename__ = "kpi_snapshots"

    contract_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("contracts.id", ondelete="CASCADE"), primary_key=True
    )
    fingerprint: Mapped[str] = mapped_column(sa.String(64))
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime)
    document: Mapped[dict[str, Any]] = mapped_column(sa.JSON)
