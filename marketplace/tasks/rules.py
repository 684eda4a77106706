"""Rules of a whole task that no single field can check (dates, trial budgets, strategy)."""

from __future__ import annotations

import re
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from flask import current_app

from marketplace.tasks.inputs import Budget

if TYPE_CHECKING:
    from marketplace.tasks.models import Task

STRATEGIC_ADVICE = (
    "Tier-1 work (product vision, pricing, key relationships) is what sets a business "
    "apart, so it is usually kept in house: outsourcing it risks the know-how, the "
    "relationships and the decisions that make the business different. Publish it only "
    'if you are sure, by sending {"confirm_strategic": true}.'
)

#: Why a task waits for review. Clients see these codes, never the blocklist itself,
#: which would show them how to word around it; moderators read the task.
NEW_CLIENT = "new_client"
FLAGGED_TEXT = "flagged_text"
#: A moderator once rejected the task: it is not published again without one.
RESUBMITTED = "resubmitted"
#: How far from today a task's dates may lie (beyond this they are typing mistakes,
#: and zone arithmetic on them would overflow).
DATE_HORIZON = timedelta(days=3 * 366)


def check_task_rules(
    *,
    start_date: date | None,
    deadline: date | None,
    trial: bool,
    budget: Budget | None,
    changed: AbstractSet[str],
) -> dict[str, list[str]]:
    """Cross-field rules of a whole task; `changed` names the fields this request sets."""
    errors: dict[str, list[str]] = {}
    today = datetime.now(UTC).date()
    if deadline and "deadline" in changed and deadline < today:
        errors.setdefault("deadline", []).append("The deadline is in the past.")
    if start_date and "start_date" in changed and start_date < today:
        errors.setdefault("start_date", []).append("The start date is in the past.")
    for name, value in (("start_date", start_date), ("deadline", deadline)):
        # A date in the past is already refused as past (the horizon guards the future).
        if value and name in changed and value - today > DATE_HORIZON:
            errors.setdefault(name, []).append("Dates must lie within three years of today.")
    if deadline and start_date and deadline < start_date:
        errors.setdefault("deadline", []).append("The deadline is before the start date.")
    if trial and budget:
        caps: dict[str, int] = current_app.config["TRIAL_BUDGET_CAPS"]
        cap = caps.get(budget.currency)
        if cap is not None and budget.max > cap:
            errors.setdefault("budget", []).append(
                f"A trial task may cost at most {cap} {budget.currency} (minor units)."
            )
    return errors


#: The task's text the blocklist reads, in this order, joined by newlines.
BLOCKLIST_FIELDS = ("title", "summary", "confidential_details")
#: How many places of one expression `blocklist_matches` lists at most.
MATCHES_PER_PATTERN = 50


@dataclass(frozen=True)
class BlocklistMatch:
    """One place where a blocklist expression matches a task: the expression, the field
    (one of BLOCKLIST_FIELDS), where in that field's text (`start` included, `end` not)
    and the text matched there."""

    pattern: str
    field: str
    start: int
    end: int
    text: str


def _blocklist_text(task: Task) -> str:
    return "\n".join(getattr(task, name) for name in BLOCKLIST_FIELDS)


def blocklist_hits(task: Task) -> list[str]:
    """The configured blocklist expressions the task's text matches."""
    text = _blocklist_text(task)
    return [
        pattern
        for pattern in current_app.config["TASK_BLOCKLIST"]
        if re.search(pattern, text, flags=re.IGNORECASE)
    ]


def blocklist_matches(task: Task) -> list[BlocklistMatch]:
    """Where the blocklist matches the task now: each match of each expression in the text
    `blocklist_hits` reads (the same expressions, flags and text), placed in its field; a
    match that runs over from one field into the next is listed once per field. At most
    MATCHES_PER_PATTERN places per expression; empty matches are left out."""
    text = _blocklist_text(task)
    bounds, offset = [], 0
    for name in BLOCKLIST_FIELDS:
        length = len(getattr(task, name))
        bounds.append((name, offset, offset + length))
        offset += length + 1  # the newline between fields
    found = []
    for pattern in current_app.config["TASK_BLOCKLIST"]:
        places = 0
        for match in re.finditer(pattern, text, flags=re.IGNORECASE):
            if match.start() == match.end():
                continue
            for name, first, last in bounds:
                start, end = max(match.start(), first), min(match.end(), last)
                if start < end:
                    found.append(
                        BlocklistMatch(pattern, name, start - first, end - first, text[start:end])
                    )
            places += 1
            if places >= MATCHES_PER_PATTERN:
                break
    return found
