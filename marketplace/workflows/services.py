"""Auditing workflows: recording them, editing their answers over time, and the
recommendation the rule tables (rules.py) give for each.

A workflow is private to its client: the client's individual, or any member of its
company, as for the company's tasks (any member posts and manages them). Anyone else,
admins included, is told it does not exist; an account of another kind is refused the
list and the creation, which only clients have.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import NoResultFound

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.catalog import services as catalog
from marketplace.database import lock_row, new_id, utcnow
from marketplace.errors import BusinessRuleViolation, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.inputs import UNSET, given_values
from marketplace.profiles.models import ServiceModel
from marketplace.tasks.models import Shoring
from marketplace.workflows import rules
from marketplace.workflows.inputs import AnswerChanges, WorkflowChanges, WorkflowDraft
from marketplace.workflows.models import Workflow, WorkflowSkill

#: What a recommendation will also give once it is computed (market pricing, ROI, pilot):
#: null until then, and named in its `pending`.
PENDING = ("market_rate", "roi", "pilot")


@dataclass(frozen=True)
class Reason:
    """Why a recommendation says what it says: what it decided (`tier`, `service_model`,
    `shoring`), by which rule, in words."""

    about: str
    rule: str
    text: str


@dataclass(frozen=True)
class Recommendation:
    """Where a workflow belongs, why, and the service levels to start with."""

    tier: int
    reasons: tuple[Reason, ...]
    service_model: ServiceModel | None
    shoring: Shoring | None
    sla: dict[str, float] | None
    market_rate: None = None
    roi: None = None
    pilot: None = None
    pending: tuple[str, ...] = PENDING


def _require_client(user: User) -> None:
    if user.role != Role.CLIENT:
        raise Forbidden("Only clients audit workflows.")


def _workflow(user: User, workflow_id: uuid.UUID, *, lock: bool = False) -> Workflow:
    """The workflow, if the user acts for its client; NotFound for anyone else."""
    try:
        workflow = (
            lock_row(Workflow, workflow_id) if lock else db.session.get(Workflow, workflow_id)
        )
    except NoResultFound:
        workflow = None
    if workflow is None or not permissions.acts_for_client(user, workflow.client_profile_id):
        raise NotFound("Workflow not found.")
    return workflow


def _set_skills(workflow: Workflow, slugs: tuple[str, ...]) -> None:
    if len(slugs) != len(set(slugs)):
        raise BusinessRuleViolation(
            "A skill is listed twice.", details={"skills": ["Each skill may appear once."]}
        )
    known = catalog.skills_by_slug(slugs) if slugs else {}
    if workflow.skill_rows:
        workflow.skill_rows.clear()
        db.session.flush()  # the old rows go before new ones take their keys
    workflow.skill_rows.extend(
        WorkflowSkill(skill=known[slug], position=position) for position, slug in enumerate(slugs)
    )


def _set_answers(workflow: Workflow, answers: AnswerChanges) -> None:
    for name, value in given_values(answers).items():
        setattr(workflow, name, value)


def _apply(workflow: Workflow, values: WorkflowDraft | WorkflowChanges) -> None:
    if values.name is not UNSET:
        workflow.name = values.name
    if values.description is not UNSET:
        workflow.description = values.description
    if values.hours_per_week is not UNSET:
        workflow.hours_per_week_hundredths = int(values.hours_per_week.scaleb(2))
    if values.in_house_rate is not UNSET:
        workflow.in_house_rate_amount = values.in_house_rate.amount
        workflow.in_house_rate_currency = values.in_house_rate.currency
    if values.skills is not UNSET:
        _set_skills(workflow, values.skills)
    if values.answers is not UNSET:
        _set_answers(workflow, values.answers)
    if values.hours_saved_per_week is not UNSET:
        saved = values.hours_saved_per_week
        workflow.hours_saved_hundredths = None if saved is None else int(saved.scaleb(2))


def create_workflow(*, user: User, draft: WorkflowDraft) -> Workflow:
    """Record a workflow of the client the user acts for, with the answers given so far."""
    _require_client(user)
    workflow = Workflow(
        id=new_id(), client_profile=permissions.acting_client_profile(user), created_by=user
    )
    db.session.add(workflow)
    _apply(workflow, draft)
    db.session.commit()
    return workflow


def workflows_query(*, user: User) -> sa.Select[Workflow]:
    """The workflows of the client the user acts for, newest first (to paginate)."""
    _require_client(user)
    profile = permissions.acting_client_profile(user)
    return (
        sa.select(Workflow)
        .where(Workflow.client_profile_id == profile.id)
        .order_by(Workflow.created_at.desc(), Workflow.id.desc())
    )


def get_workflow(*, user: User, workflow_id: uuid.UUID) -> Workflow:
    """A workflow of the client the user acts for."""
    return _workflow(user, workflow_id)


def update_workflow(*, user: User, workflow_id: uuid.UUID, changes: WorkflowChanges) -> Workflow:
    """Edit a workflow: the fields given replace its own; the answers given replace those
    answers and keep the others (null clears one)."""
    workflow = _workflow(user, workflow_id, lock=True)
    _apply(workflow, changes)
    workflow.updated_at = utcnow()  # its skills are rows of their own
    db.session.commit()
    return workflow


def delete_workflow(*, user: User, workflow_id: uuid.UUID) -> None:
    """Delete a workflow and its answers."""
    workflow = _workflow(user, workflow_id, lock=True)
    db.session.delete(workflow)
    db.session.commit()


def recommend(*, user: User, workflow_id: uuid.UUID) -> Recommendation:
    """What the rule tables say of the workflow: its tier, service model and shoring with
    every reason, and the SLA defaults of that service model; a 422 naming the answers
    (or the skills) it still needs."""
    workflow = _workflow(user, workflow_id)
    advice = rules.advise(
        workflow.answers,
        skill_categories=[row.skill.category for row in workflow.skill_rows],
        hours_per_week=workflow.hours_per_week,
    )
    if advice.missing or advice.tier is None:
        raise BusinessRuleViolation(
            "Answer these first: the recommendation depends on them.",
            details=rules.missing_details(advice.missing),
        )
    return Recommendation(
        tier=advice.tier,
        reasons=tuple(Reason(about, rule.name, rule.reason) for about, rule in advice.reasons),
        service_model=advice.service_model,
        shoring=advice.shoring,
        sla=sla_defaults(advice.service_model),
    )


def sla_defaults(model: ServiceModel | None) -> dict[str, Any] | None:
    """The service levels to start with: the measured record's defaults for the model."""
    if model is None:
        return None
    return dict(current_app.config["SLA_DEFAULTS"][model.value])
