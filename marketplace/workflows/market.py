"""What the market charges for a workflow's work, from the platform's own data: the hourly
rates of the providers it would be matched with, and the accepted bids on similar tasks.

Providers: those the matching engine's candidate selection (`candidates.candidates`) gives
a task asking what the recommendation does: the workflow's skills, each at level 1, no
language, the recommended service model and shoring (any without one), the client's
country and zone, over the four weeks from today (the period of a task without dates).
That selection is bounded (the best `candidates.MAX_CANDIDATES` by its pre-score, the
levels raised where many pass): the figures describe the providers a client would be
shown, not every profile. Only rates in the workflow's currency count (none is converted);
a provider without a rate does not. Fewer than `MIN_PROVIDERS` such rates give no figures
but a message saying so: too few to price it, rather than a guess.

Accepted bids: the price of every bid a client accepted (still `accepted`: an offer
declined or withdrawn since moves it on) on an hourly task, where a bid's price is an hourly
rate, in the workflow's currency, that requires at least one of the workflow's skills and,
with a service model, asks for that model or none. The newest `MAX_BIDS` by the time they
were placed, read in one statement. Fewer than `MIN_BIDS` give no figures: a bid's price
is its client's and its provider's business, never shown alone or nearly so.

Percentiles: `statistics.quantiles(n=4, method="inclusive")`, which interpolates linearly
between the closest ranks, the lowest and highest rates being the 0th and 100th (as
spreadsheets' PERCENTILE.INC): rates of 1000 to 8000 by 1000 give 2750, 4500 and 6250.
Each is rounded half up to whole minor units an hour; a single rate is all three.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa

from marketplace.bids.models import Bid, BidStatus
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.matching import candidates, timezones
from marketplace.profiles.models import ServiceModel
from marketplace.tasks.models import BudgetType, Shoring, Task, TaskSkill
from marketplace.workflows.models import Workflow

#: Fewer matching providers with a rate in the workflow's currency than this: too few.
MIN_PROVIDERS = 5
#: The accepted bids read at most, newest first.
MAX_BIDS = 500
#: Fewer accepted bids than this give no figures (no one bid's price is shown).
MIN_BIDS = 3


@dataclass(frozen=True)
class Percentiles:
    """The quartiles of some hourly rates, in minor units of the currency an hour."""

    count: int  # how many rates are behind the figures
    p25: int
    p50: int
    p75: int


@dataclass(frozen=True)
class MarketRate:
    """The market's hourly rates for a workflow, in its currency: the matching providers'
    (None, with `message` saying why, when too few), and the accepted bids' on similar
    tasks (None without any)."""

    currency: str
    providers: Percentiles | None
    accepted_bids: Percentiles | None
    message: str | None


def percentiles(rates: Sequence[int]) -> Percentiles | None:
    """The rates' 25th, 50th and 75th percentiles (see the module), None without rates."""
    if not rates:
        return None
    if len(rates) == 1:
        return Percentiles(1, rates[0], rates[0], rates[0])
    quartiles = statistics.quantiles([Decimal(r) for r in rates], n=4, method="inclusive")
    p25, p50, p75 = (int(q.quantize(Decimal(1), rounding=ROUND_HALF_UP)) for q in quartiles)
    return Percentiles(len(rates), p25, p50, p75)


def _bid_figures(rates: Sequence[int]) -> Percentiles | None:
    """The accepted bids' percentiles, from at least MIN_BIDS of them."""
    return percentiles(rates) if len(rates) >= MIN_BIDS else None


def market_rate(
    workflow: Workflow, *, service_model: ServiceModel | None, shoring: Shoring | None
) -> MarketRate:
    """The market's rates for the workflow's work, with the recommended service model and
    shoring (None: any)."""
    currency = workflow.in_house_rate_currency
    if not workflow.skill_rows:
        message = (
            "Name the skills it needs: the market rate comes from the providers who have them."
        )
        return MarketRate(currency, None, None, message)
    rates = provider_rates(workflow, service_model=service_model, shoring=shoring)
    providers = percentiles(rates) if len(rates) >= MIN_PROVIDERS else None
    return MarketRate(
        currency=currency,
        providers=providers,
        accepted_bids=_bid_figures(accepted_bid_rates(workflow, service_model=service_model)),
        message=None if providers else _too_few(len(rates), currency),
    )


def _too_few(count: int, currency: str) -> str:
    found = {0: "No matching provider has", 1: "Only 1 matching provider has"}.get(
        count, f"Only {count} matching providers have"
    )
    return (
        f"{found} an hourly rate in {currency.upper()}: too few to price it from "
        f"(at least {MIN_PROVIDERS} are needed), so no figure is given rather than a guess."
    )


def provider_rates(
    workflow: Workflow, *, service_model: ServiceModel | None, shoring: Shoring | None
) -> list[int]:
    """The hourly rates, in the workflow's currency, of the providers a task for it would
    be matched with."""
    client = workflow.client_profile
    first, last = timezones.work_period(None, None, utcnow().date())
    needs = candidates.Needs(
        skills=[(row.skill.number, 1) for row in workflow.skill_rows],
        languages=[],
        service_model=service_model.value if service_model else None,
        shoring=shoring.value if shoring else Shoring.ANY.value,
        client_country=client.country,
        client_zone=client.timezone,
        first=first,
        last=last,
        currency=workflow.in_house_rate_currency,
        budget=None,
    )
    return [
        row.hourly_rate_amount
        for row in candidates.candidates(needs)
        if row.hourly_rate_amount is not None
        and row.hourly_rate_currency == workflow.in_house_rate_currency
    ]


def accepted_bid_rates(workflow: Workflow, *, service_model: ServiceModel | None) -> list[int]:
    """The prices of the newest accepted bids on hourly tasks like the workflow (sharing a
    skill, of its service model or none), in its currency."""
    shares_a_skill = sa.exists().where(
        TaskSkill.task_id == Task.id,
        TaskSkill.skill_id.in_([row.skill_id for row in workflow.skill_rows]),
    )
    query = (
        sa.select(Bid.price_amount)
        .join(Task, Task.id == Bid.task_id)
        .where(
            Bid.status == BidStatus.ACCEPTED,
            Bid.price_currency == workflow.in_house_rate_currency,
            Task.budget_type == BudgetType.HOURLY,
            shares_a_skill,
        )
        .order_by(Bid.created_at.desc(), Bid.id.desc())
        .limit(MAX_BIDS)
    )
    if service_model is not None:
        query = query.where(
            sa.or_(Task.service_model == service_model, Task.service_model.is_(None))
        )
    return list(db.session.scalars(query))
