"""Pilot, then scale: the small first piece of a workflow to hand off, and the draft trial
task made from it.

The pilot is two weeks of the workflow's hours (`PILOT_WEEKS`), at least one hour, priced
at the market's median rate (the in-house rate when the market gives none), as one fixed
price within the trial cap of its currency (`TRIAL_BUDGET_CAPS`): over the cap, the hours
are cut to what the cap pays for. Its task asks for what the recommendation says (the
skills, the service model, the shoring, the time-zone need, the tier) and states the
service levels to start with, which the client proposes again when awarding. It is a
draft: the client edits and publishes it as any task.

A workflow has one pilot at a time. A new one may be made only once the last one's task
was cancelled, expired or rejected before any contract was offered on it, or deleted. The
task needs 1 to 20 skills, as any task.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import current_app

from marketplace.contracts.models import Contract
from marketplace.hours import DAYS, WorkingHours
from marketplace.profiles.models import ServiceModel
from marketplace.tasks.inputs import Budget, CoverageNeed, OverlapNeed, RequiredSkill, TaskDraft
from marketplace.tasks.models import BudgetType, Shoring, Task
from marketplace.tasks.states import TaskStatus
from marketplace.workflows.models import TimeNeed, Workflow

#: How many weeks of the workflow a pilot covers, and how long it runs.
PILOT_WEEKS = 2
#: Hours a day of live overlap a pilot asks for when the work needs it.
OVERLAP_HOURS = 3
#: Off-hours covered when the client's profile gives no working hours (a weekday evening
#: and night, in the client's zone).
DEFAULT_COVERAGE: WorkingHours = {day: [["18:00", "08:00"]] for day in DAYS[:5]}
#: How much of the workflow's description the task's summary quotes (a task's summary
#: holds 5,000 characters, with the pilot's scope and service levels).
DESCRIPTION_CHARS = 4000
#: Task states after which the pilot is over without a contract: another may be made.
ENDED_UNUSED = frozenset({TaskStatus.CANCELLED, TaskStatus.EXPIRED, TaskStatus.REJECTED})

SLA_WORDS = {
    "first_response_hours": "first response within {} business hours",
    "turnaround_hours": "turnaround within {} business hours",
    "max_error_rate": "errors at most {:.0%}",
    "max_rework_rate": "rework at most {:.0%}",
    "coverage_hours": "{} hours a week covered",
}


@dataclass(frozen=True)
class PilotPlan:
    """The pilot a recommendation proposes: its hours and fixed price, one milestone."""

    hours: int
    budget: int
    currency: str
    days: int
    scope: str


def plan(workflow: Workflow, *, rate: int | None) -> PilotPlan:
    """The pilot of `workflow` at `rate` an hour (None: priced at the in-house rate)."""
    currency = workflow.in_house_rate_currency
    price = rate if rate else workflow.in_house_rate_amount
    hours = max(1, int(workflow.hours_per_week * PILOT_WEEKS))
    cap = current_app.config["TRIAL_BUDGET_CAPS"].get(currency)
    if cap is not None and hours * price > cap:
        hours = max(1, cap // price)
    budget = hours * price if cap is None else min(hours * price, cap)
    scope = (
        f"A {PILOT_WEEKS}-week pilot of {workflow.name}: about {hours} hours of the work, "
        "paid as one milestone on completion. If it goes well, extend it into a full "
        "contract with the same provider."
    )
    return PilotPlan(
        hours=hours, budget=budget, currency=currency, days=7 * PILOT_WEEKS, scope=scope
    )


def is_current(task: Task | None, contracts: list[Contract]) -> bool:
    """Whether this pilot task still stands (a new pilot would replace it otherwise): it
    does unless it ended (cancelled, expired, rejected) before any contract was offered."""
    return task is not None and (task.status not in ENDED_UNUSED or bool(contracts))


#: How many skills a task may ask for (the task's own input rule).
TASK_SKILLS = (1, 20)


def skill_errors(workflow: Workflow) -> dict[str, list[str]]:
    """Why the workflow's skills cannot make a task's, if they cannot."""
    least, most = TASK_SKILLS
    if least <= len(workflow.skill_rows) <= most:
        return {}
    return {
        "skills": [
            f"A pilot task needs {least} to {most} skills: name the skills it needs "
            f"(it has {len(workflow.skill_rows)})."
        ]
    }


def coverage_window(hours: dict[str, Any]) -> WorkingHours:
    """The hours the client's team does not work on its working days: from the end of
    each day's last shift to the start of its first, overnight (the client's zone)."""
    window: WorkingHours = {}
    for day in DAYS:
        shifts = hours.get(day) or []
        if not shifts:
            continue
        start, end = shifts[0][0], shifts[-1][1]
        if start != "00:00" and end not in ("24:00", start):
            window[day] = [[end, start]]
    return window or DEFAULT_COVERAGE


def sla_summary(sla: dict[str, Any] | None) -> str:
    """The service levels to start with, in words."""
    if not sla:
        return ""
    parts = [words.format(sla[name]) for name, words in SLA_WORDS.items() if name in sla]
    return "Service levels to start with: " + "; ".join(parts) + "."


def draft(
    workflow: Workflow,
    *,
    pilot: PilotPlan,
    tier: int,
    service_model: ServiceModel | None,
    shoring: Shoring | None,
    sla: dict[str, Any] | None,
) -> TaskDraft:
    """The draft trial task of a workflow's pilot."""
    need: OverlapNeed | CoverageNeed | None = None
    if workflow.time_need == TimeNeed.OVERLAP:
        need = OverlapNeed(hours=OVERLAP_HOURS)
    elif workflow.time_need == TimeNeed.COVERAGE:
        need = CoverageNeed(window=coverage_window(workflow.client_profile.working_hours or {}))
    summary = "\n\n".join(
        part
        for part in (
            workflow.description.strip()[:DESCRIPTION_CHARS],
            pilot.scope,
            sla_summary(sla),
        )
        if part
    )
    return TaskDraft(
        title=f"Pilot: {workflow.name}"[:200],
        summary=summary,
        service_model=service_model,
        tier=tier,
        skills=tuple(RequiredSkill(slug) for slug in workflow.skills),
        budget=Budget(
            type=BudgetType.FIXED, min=pilot.budget, max=pilot.budget, currency=pilot.currency
        ),
        # Today as the task's own date rules read it (tasks.rules): the calendar's, UTC.
        deadline=datetime.now(UTC).date() + timedelta(days=pilot.days),
        timezone_need=need,
        shoring=shoring or Shoring.ANY,
        trial=True,
    )
