"""Auditing workflows: recording them, editing their answers over time, and the
recommendation the rule tables (rules.py) give for each.

A workflow is private to its client: the client's individual, or any member of its
company, as for the company's tasks (any member posts and manages them). Anyone else,
admins included, is told it does not exist; an account of another kind is refused the
list and the creation, which only clients have.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import NoResultFound
from sqlalchemy.orm import selectinload

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.catalog import services as catalog
from marketplace.database import lock_row, new_id, utcnow
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.inputs import UNSET, given_values
from marketplace.profiles.models import ServiceModel
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Shoring, Task
from marketplace.workflows import market, pilots, roi, rules
from marketplace.workflows.inputs import AnswerChanges, WorkflowChanges, WorkflowDraft
from marketplace.workflows.models import Workflow, WorkflowSkill


@dataclass(frozen=True)
class Reason:
    """Why a recommendation says what it says: what it decided (`tier`, `service_model`,
    `shoring`), by which rule, in words."""

    about: str
    rule: str
    text: str


@dataclass(frozen=True)
class Recommendation:
    """Where a workflow belongs, why, the service levels to start with, and for work to
    hand off (tiers 2 and 3) its market rate, the return and the pilot to begin with."""

    tier: int
    reasons: tuple[Reason, ...]
    service_model: ServiceModel | None
    shoring: Shoring | None
    sla: dict[str, float] | None
    market_rate: market.MarketRate | None = None
    roi: roi.Estimate | None = None
    pilot: pilots.PilotPlan | None = None


#: A page of workflows reads each one's pilot task and contracts once for the page (their
#: own relations are not needed: the page shows their ids and states).
PAGE_OPTIONS = (
    selectinload(Workflow.pilot_task).lazyload("*"),
    selectinload(Workflow.pilot_contracts).lazyload("*"),
)


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
    saved_hundredths = workflow.hours_saved_hundredths
    if saved_hundredths is not None and saved_hundredths > workflow.hours_per_week_hundredths:
        raise BusinessRuleViolation(
            "It cannot save more hours than it takes.",
            details={
                "hours_saved_per_week": [
                    f"At most its hours a week in house ({float(workflow.hours_per_week):g})."
                ]
            },
        )


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
        .options(*PAGE_OPTIONS)
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
    """What the audit says of the workflow (`assess`), or a 422 naming the answers (or
    the skills) it still needs."""
    return _recommended(_workflow(user, workflow_id))


def _recommended(workflow: Workflow) -> Recommendation:
    advice = _advice(workflow)
    if advice.missing or advice.tier is None:
        raise BusinessRuleViolation(
            "Answer these first: the recommendation depends on them.",
            details=rules.missing_details(advice.missing),
        )
    return _recommendation(workflow, advice)


def assess(workflow: Workflow) -> Recommendation | None:
    """What the audit says of a workflow (None while answers are missing): its tier,
    service model and shoring with every reason, the SLA defaults of that service model,
    and for work to hand off the market rate, the return at it and the pilot."""
    advice = _advice(workflow)
    if advice.missing or advice.tier is None:
        return None
    return _recommendation(workflow, advice)


def _advice(workflow: Workflow) -> rules.Advice:
    return rules.advise(
        workflow.answers,
        skill_categories=[row.skill.category for row in workflow.skill_rows],
        hours_per_week=workflow.hours_per_week,
    )


def _recommendation(workflow: Workflow, advice: rules.Advice) -> Recommendation:
    assert advice.tier is not None
    found = Recommendation(
        tier=advice.tier,
        reasons=tuple(Reason(about, rule.name, rule.reason) for about, rule in advice.reasons),
        service_model=advice.service_model,
        shoring=advice.shoring,
        sla=sla_defaults(advice.service_model),
    )
    if advice.tier not in rules.OUTSOURCED:
        return found
    rate = market.market_rate(workflow, service_model=advice.service_model, shoring=advice.shoring)
    estimate = None
    if rate.providers is not None:
        providers = rate.providers
        estimate = roi.estimate(
            hours_per_week=workflow.hours_per_week,
            in_house_rate=workflow.in_house_rate_amount,
            currency=workflow.in_house_rate_currency,
            rates=(providers.p25, providers.p50, providers.p75),
            fee_bps=current_app.config["PLATFORM_FEE_BPS"],
            assumptions=roi.Assumptions.from_config(current_app.config["WORKFLOW_ROI"]),
        )
    pilot = pilots.plan(workflow, rate=rate.providers.p50 if rate.providers else None)
    return replace(found, market_rate=rate, roi=estimate, pilot=pilot)


def create_pilot(*, user: User, workflow_id: uuid.UUID) -> Task:
    """Make the draft trial task of the workflow's pilot from its recommendation, and
    link the workflow to it: a 409 while an earlier pilot still stands, or for work the
    audit keeps in house or automates."""
    workflow = _workflow(user, workflow_id, lock=True)
    if pilots.is_current(workflow.pilot_task, workflow.pilot_contracts):
        raise Conflict(
            "This workflow already has a pilot: edit or cancel its task first.",
            details={"pilot_task_id": [str(workflow.pilot_task_id)]},
        )
    found = _recommended(workflow)
    if errors := pilots.skill_errors(workflow):
        raise BusinessRuleViolation("Its skills cannot make a task's.", details=errors)
    if found.pilot is None:
        raise Conflict(
            "The audit keeps this work in house or automates it: there is no provider to "
            "pilot it with.",
            details={"tier": [f"Tier {found.tier}."]},
        )
    task = tasks.new_draft(
        user=user,
        draft=pilots.draft(
            workflow,
            pilot=found.pilot,
            tier=found.tier,
            service_model=found.service_model,
            shoring=found.shoring,
            sla=found.sla,
        ),
    )
    workflow.pilot_task = task
    workflow.updated_at = utcnow()
    db.session.commit()
    return task


def sla_defaults(model: ServiceModel | None) -> dict[str, Any] | None:
    """The service levels to start with: the measured record's defaults for the model."""
    if model is None:
        return None
    return dict(current_app.config["SLA_DEFAULTS"][model.value])
