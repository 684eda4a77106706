"""Why a provider fits a task: the explanation shown with matches and with bids."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marketplace.matching.cards import ProviderCard
from marketplace.matching.overlap import ClientPeriod, work_period
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks.models import BudgetType, Task


def rate_fit(task: Task, amount: int | None, currency: str | None) -> str:
    """`within`, `below` or `above` the task's budget, or `unknown` (no price or currency)."""
    return rate_class(amount, currency, task.currency, task.budget_min, task.budget_max)


def rate_class(amount: int | None, currency: str | None, budget_currency: str, low: int,
               high: int) -> str:  # fmt: skip
    """`rate_fit` against a budget of `low` to `high` in `budget_currency`."""
    if amount is None or currency != budget_currency:
        return "unknown"
    if amount < low:
        return "below"
    return "above" if amount > high else "within"


def explain(
    task: Task,
    provider: ProviderProfile | ProviderCard,
    *,
    price: dict[str, Any] | None = None,
    fit: tuple[str, float] | None = None,
) -> dict[str, Any]:
    """Overlap hours, shoring, the provider's level in each required skill and rate fit.

    `price` (a bid's) is judged against the budget; else the provider's hourly rate is,
    for hourly tasks. `fit` is (shoring, overlap hours) when the caller has them already.
    """
    if price is None and task.budget_type == BudgetType.HOURLY:
        price = provider.hourly_rate
    shore, overlap = fit or _fit(task, provider)
    levels = {s.skill_id: s.level for s in provider.skills}
    return {
        "overlap_hours": overlap,
        "shoring": shore,
        "skills": [
            {"slug": s.slug, "min_level": s.min_level, "level": levels.get(s.skill_id)}
            for s in task.skills
        ],
        "rate_fit": rate_fit(
            task, price["amount"] if price else None, price["currency"] if price else None
        ),
    }


def window_of(task: Task) -> dict[str, Any]:
    """The hours overlap is measured against: a coverage task's window, else the client's."""
    need = task.timezone_need or {}
    return need["window"] if need.get("mode") == "coverage" else task.client_profile.working_hours


def period_of(task: Task) -> ClientPeriod:
    """The task's client (its hours, or the coverage window) over the task's dates."""
    client = task.client_profile
    first, last = work_period(task.start_date, task.deadline, datetime.now(UTC).date())
    return ClientPeriod(
        zone=client.timezone, country=client.country, hours=window_of(task), first=first, last=last
    )


def _fit(task: Task, provider: ProviderProfile | ProviderCard) -> tuple[str, float]:
    period = period_of(task)
    return (
        period.shoring(provider.country, provider.timezone),
        period.overlap_hours(provider.timezone, provider.working_hours),
    )
