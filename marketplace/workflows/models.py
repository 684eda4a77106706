"""Workflows a client audits: what the work costs in house, and the answers of the
decision test (docs/domain.md, "The four workflow tiers")."""

from __future__ import annotations

import uuid
from decimal import Decimal
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, backref, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.catalog.models import Skill
from marketplace.contracts.models import Contract
from marketplace.database import IdMixin, TimestampMixin, enum_type
from marketplace.extensions import Model
from marketplace.profiles.models import ClientProfile
from marketplace.tasks.models import Task


class Level(StrEnum):
    """How much of something: how repeatable the work is, how costly a mistake."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class TimeNeed(StrEnum):
    """What the work needs of the provider's hours: nothing in particular, live overlap
    with the client's team, or coverage of hours the team does not work."""

    NONE = "none"
    OVERLAP = "overlap"
    COVERAGE = "coverage"


#: Hours a week a workflow may take in house: a team's work, up to a hundred people's.
MAX_HOURS_PER_WEEK = 4000

#: The answers of the decision test, in the order a client is asked them.
ANSWERS = (
    "repeatable",
    "error_risk",
    "proprietary_data",
    "brand_central",
    "has_sop",
    "time_need",
    "rule_based",
)


class Workflow(IdMixin, TimestampMixin, Model):
    """A recurring piece of a client's work, as the client describes it: the hours it
    takes in house, what an hour of it costs, the skills it needs, and the answers of the
    decision test given so far (None: not answered yet)."""

    __tablename__ = "workflows"
    __table_args__ = (
        sa.CheckConstraint(
            f"hours_per_week_hundredths BETWEEN 1 AND {MAX_HOURS_PER_WEEK * 100}",
            name="hours_per_week_range",
        ),
        sa.CheckConstraint(
            f"hours_saved_hundredths BETWEEN 0 AND {MAX_HOURS_PER_WEEK * 100}",
            name="hours_saved_range",
        ),
        sa.CheckConstraint("in_house_rate_amount > 0", name="rate_positive"),
        sa.Index("ix_workflows_client_created", "client_profile_id", "created_at", "id"),
    )

    client_profile_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("client_profiles.id", ondelete="CASCADE")
    )
    created_by_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    #: Hours a week spent on it in house, in hundredths (an exact figure to price).
    hours_per_week_hundredths: Mapped[int]
    #: The fully loaded cost of an hour in house, in minor units of its currency.
    in_house_rate_amount: Mapped[int] = mapped_column(sa.BigInteger)
    in_house_rate_currency: Mapped[str] = mapped_column(sa.String(3))
    repeatable: Mapped[Level | None] = mapped_column(enum_type(Level, name="repeatable"))
    error_risk: Mapped[Level | None] = mapped_column(enum_type(Level, name="error_risk"))
    proprietary_data: Mapped[bool | None]
    brand_central: Mapped[bool | None]
    has_sop: Mapped[bool | None]
    time_need: Mapped[TimeNeed | None] = mapped_column(enum_type(TimeNeed))
    rule_based: Mapped[bool | None]
    #: The draft trial task made from the recommendation (`POST /workflows/{id}/pilot`);
    #: the pilot's contract, its extension and their money follow from the task.
    pilot_task_id: Mapped[uuid.UUID | None] = mapped_column(
        sa.ForeignKey("tasks.id", ondelete="SET NULL"), unique=True
    )
    #: Hours a week the client reports saving since handing it off (None: not reported).
    hours_saved_hundredths: Mapped[int | None]

    client_profile: Mapped[ClientProfile] = relationship()
    created_by: Mapped[User] = relationship()
    #: Deleting the (draft) task clears the link: `ON DELETE SET NULL`, and the ORM's
    #: backref where the database enforces no foreign keys (SQLite).
    pilot_task: Mapped[Task | None] = relationship(
        lazy="selectin", backref=backref("pilot_workflow", uselist=False)
    )
    #: The contracts of the pilot's task, oldest first: offers declined or expired, the
    #: pilot contract, its extension.
    pilot_contracts: Mapped[list[Contract]] = relationship(
        primaryjoin="Workflow.pilot_task_id == foreign(Contract.task_id)",
        order_by="(Contract.created_at, Contract.id)",
        viewonly=True,
        lazy="selectin",
    )
    skill_rows: Mapped[list[WorkflowSkill]] = relationship(
        cascade="all, delete-orphan", order_by="WorkflowSkill.position", lazy="selectin"
    )

    @property
    def hours_per_week(self) -> Decimal:
        """Hours a week spent on it in house (exact, to the hundredth)."""
        return Decimal(self.hours_per_week_hundredths).scaleb(-2)

    @property
    def hours_saved_per_week(self) -> Decimal | None:
        """Hours a week the client reports saving (exact, to the hundredth), if reported."""
        if self.hours_saved_hundredths is None:
            return None
        return Decimal(self.hours_saved_hundredths).scaleb(-2)

    @property
    def pilot(self) -> dict[str, Any] | None:
        """Where the pilot stands: its task, its (trial) contract and the full contract
        that extends it, each None until it exists. The trial contract is the newest of
        the task: an offer declined or expired before it is not the pilot's."""
        if self.pilot_task is None:
            return None
        trial = next((c for c in reversed(self.pilot_contracts) if c.pilot_of_id is None), None)
        extension = None
        if trial is not None:
            extension = next((c for c in self.pilot_contracts if c.pilot_of_id == trial.id), None)
        return {"task": self.pilot_task, "contract": trial, "extension": extension}

    @property
    def skills(self) -> list[str]:
        """The slugs of the skills it needs, in the order the client gave them."""
        return [row.skill.slug for row in self.skill_rows]

    @property
    def answers(self) -> dict[str, Any]:
        """Every answer of the decision test by name; None where not answered yet."""
        return {name: getattr(self, name) for name in ANSWERS}


class WorkflowSkill(Model):
    """A skill a workflow needs (a catalog skill), at its place in the client's list."""

    __tablename__ = "workflow_skills"

    workflow_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("workflows.id", ondelete="CASCADE"), primary_key=True
    )
    skill_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("skills.id"), primary_key=True)
    position: Mapped[int] = mapped_column(sa.SmallInteger)

    skill: Mapped[Skill] = relationship(lazy="joined")
