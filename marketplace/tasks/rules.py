"""Rules of a whole task that no single field can check (dates, trial budgets, strategy)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from flask import current_app

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
#: How far from today a task's dates may lie (beyond this they are typing mistakes,
#: and zone arithmetic on them would overflow).
DATE_HORIZON = timedelta(days=3 * 366)


def check_task_rules(data: dict[str, Any], *, changed: set[str]) -> dict[str, list[str]]:
    """Cross-field rules of a whole task; `changed` names the fields this request sets."""
    errors: dict[str, list[str]] = {}
    today = datetime.now(UTC).date()
    deadline: date | None = data.get("deadline")
    start: date | None = data.get("start_date")
    if deadline and "deadline" in changed and deadline < today:
        errors.setdefault("deadline", []).append("The deadline is in the past.")
    if start and "start_date" in changed and start < today:
        errors.setdefault("start_date", []).append("The start date is in the past.")
    for name in ("start_date", "deadline"):
        value = data.get(name)
        if value and name in changed and abs(value - today) > DATE_HORIZON:
            errors.setdefault(name, []).append("Dates must lie within three years of today.")
    if deadline and start and deadline < start:
        errors.setdefault("deadline", []).append("The deadline is before the start date.")
    budget = data.get("budget")
    if data.get("trial") and budget:
        caps: dict[str, int] = current_app.config["TRIAL_BUDGET_CAPS"]
        cap = caps.get(budget["currency"])
        if cap is not None and budget["max"] > cap:
            errors.setdefault("budget", []).append(
                f"A trial task may cost at most {cap} {budget['currency']} (minor units)."
            )
    return errors


def blocklist_hits(task: Task) -> list[str]:
    """The configured blocklist expressions the task's text matches."""
    text = "\n".join([task.title, task.summary, task.confidential_details])
    return [
        pattern
        for pattern in current_app.config["TASK_BLOCKLIST"]
        if re.search(pattern, text, flags=re.IGNORECASE)
    ]
