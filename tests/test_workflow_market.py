"""A workflow priced from the market: the hourly rates of the providers it would be matched
with (exact quartiles, too few said in words) and the accepted bids on similar tasks."""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.contracts.inputs import AwardTerms
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.inputs import Money
from marketplace.profiles.models import ServiceModel
from marketplace.tasks.inputs import Budget, RequiredSkill
from marketplace.tasks.models import BudgetType, Confidentiality, Shoring, Task
from marketplace.workflows.market import (
    MIN_PROVIDERS,
    MarketRate,
    Percentiles,
    accepted_bid_rates,
    market_rate,
    percentiles,
)
from marketplace.workflows.models import Workflow
from tests.factories import AdminFactory, ProviderFactory
from tests.matching_world import client, open_task, provider
from tests.money import usd

SKILL = "customer-support-tier1"
CHAT = "live-chat-support"
OTHER = "data-entry"
VA = ServiceModel.VA


def _workflow(login: Any, owner: User, skills: list[str] | None = None) -> Workflow:
    """The client's workflow, recorded through the API, in usd."""
    response = login(owner).post(
        "workflows",
        json={
            "name": "Tier-one support tickets",
            "hours_per_week": 12,
            "in_house_rate": usd(4_500),
            "skills": [SKILL] if skills is None else skills,
        },
    )
    assert response.status_code == 201, response.get_json()
    workflow = db.session.get(Workflow, uuid.UUID(response.get_json()["id"]))
    assert workflow is not None
    return workflow


def _matching(rates: list[int], zone: str = "Asia/Manila", country: str = "PH") -> None:
    """VAs with the skill (at levels 1 to 5 in turn), one per rate, in usd."""
    for n, rate in enumerate(rates):
        provider(zone, country, skills={SKILL: (n % 5 + 1, 2)}, hourly_rate_amount=rate)


# Providers ------------------------------------------------------------------------------


def test_the_matching_providers_rates_give_exact_quartiles(login):
    owner = client("America/New_York", "US")
    workflow = _workflow(login, owner)
    _matching([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000])
    provider(skills={OTHER: (5, 2)}, hourly_rate_amount=10)  # another skill
    provider(skills={SKILL: (5, 2)}, hourly_rate_amount=20, service_model=ServiceModel.BPO)
    provider(skills={SKILL: (5, 2)}, hourly_rate_amount=30, hourly_rate_currency="eur")
    provider(skills={SKILL: (5, 2)}, hourly_rate_amount=None, hourly_rate_currency=None)
    provider(skills={SKILL: (5, 2)}, hourly_rate_amount=40, capacity_hours_per_week=0)
    suspended = provider(skills={SKILL: (5, 2)}, hourly_rate_amount=50)
    assert suspended.user is not None
    accounts.suspend_user(admin=AdminFactory(), user=suspended.user, reason="spam")

    rate = market_rate(workflow, service_model=VA, shoring=None)

    assert rate == MarketRate(
        currency="usd",
        providers=Percentiles(count=8, p25=2750, p50=4500, p75=6250),
        accepted_bids=None,
        message=None,
    )


def test_too_few_matching_providers_are_said_to_be_too_few(login):
    owner = client("America/New_York", "US")
    workflow = _workflow(login, owner)
    _matching([1000, 2000, 3000, 4000])
    provider(skills={SKILL: (3, 2)}, hourly_rate_amount=5000, hourly_rate_currency="eur")

    rate = market_rate(workflow, service_model=VA, shoring=None)

    assert MIN_PROVIDERS == 5
    assert rate.providers is None
    assert rate.message == (
        "Only 4 matching providers have an hourly rate in USD: too few to price it from "
        "(at least 5 are needed), so no figure is given rather than a guess."
    )


def test_onshore_counts_only_providers_in_the_clients_country(login):
    owner = client("America/New_York", "US")
    workflow = _workflow(login, owner)
    _matching([1000, 2000, 3000, 4000, 5000], "America/Chicago", "US")
    _matching([100, 200, 300], "America/Toronto", "CA")  # near, but not the same country

    onshore = market_rate(workflow, service_model=VA, shoring=Shoring.ONSHORE)
    anywhere = market_rate(workflow, service_model=VA, shoring=None)

    assert onshore.providers == Percentiles(count=5, p25=2000, p50=3000, p75=4000)
    assert anywhere.providers == Percentiles(count=8, p25=275, p50=1500, p75=3250)


def test_a_workflow_without_skills_is_told_to_name_them(login):
    workflow = _workflow(login, client("America/New_York", "US"), skills=[])
    _matching([1000, 2000, 3000, 4000, 5000])

    rate = market_rate(workflow, service_model=None, shoring=None)

    assert rate == MarketRate(
        currency="usd",
        providers=None,
        accepted_bids=None,
        message=(
            "Name the skills it needs: the market rate comes from the providers who have them."
        ),
    )


def test_quartiles_round_half_up_and_one_rate_is_all_three():
    assert percentiles([1000, 1001]) == Percentiles(count=2, p25=1000, p50=1001, p75=1001)
    assert percentiles([1234]) == Percentiles(count=1, p25=1234, p50=1234, p75=1234)
    assert percentiles([]) is None


# Accepted bids --------------------------------------------------------------------------


def _task(owner: User, skills: tuple[str, ...], **overrides: Any) -> Task:
    """An open public hourly usd task (1000 to 10000 an hour) with room for three."""
    fields = {
        "skills": tuple(RequiredSkill(slug, 1) for slug in skills),
        "budget": Budget(BudgetType.HOURLY, 1000, 10_000, "usd"),
        "confidentiality": Confidentiality.PUBLIC,
        "service_model": VA,
        "positions": 3,
        "timezone_need": None,
        **overrides,
    }
    return open_task(owner, **fields)


def _bid(task: Task, price: int, *, award: bool = True, fixed: bool = False) -> uuid.UUID:
    """A new provider's bid of `price` (one milestone if `fixed`); the task's client awards
    it (accepts the bid) if told."""
    bidder = ProviderFactory()
    bid = bids.place_bid(
        user=bidder,
        task_id=task.id,
        proposal=BidProposal(
            price=Money(price, "usd"),
            milestones=(MilestoneProposal(title="All", amount=price),) if fixed else (),
            timeline_days=30,
            cover_letter="We run this kind of work every day.",
        ),
    )
    if award:
        owner = db.session.get(User, task.created_by_id)
        assert owner is not None
        terms = AwardTerms() if fixed else AwardTerms(weekly_limit_hours=20)
        contract_flows.award(user=owner, bid_id=bid.id, terms=terms)
    return bid.id


def test_accepted_hourly_bids_on_tasks_sharing_a_skill_give_their_quartiles(login):
    owner = client("America/New_York", "US")
    workflow = _workflow(login, owner, skills=[SKILL, CHAT])
    support = _task(owner, (SKILL,))
    _bid(support, 2000)
    _bid(support, 3000)
    declined = _bid(support, 9000, award=False)
    bids.decline_bid(user=owner, bid_id=declined, reason="Over budget.")
    _bid(support, 9100, award=False)  # still submitted
    _bid(_task(owner, (CHAT, OTHER), service_model=None), 5000)  # any model, one skill shared
    fixed_price = Budget(BudgetType.FIXED, 1, 50_000, "usd")
    _bid(_task(owner, (SKILL,), budget=fixed_price), 40_000, fixed=True)
    _bid(_task(owner, (OTHER,)), 9200)  # no skill shared
    _bid(_task(owner, (SKILL,), service_model=ServiceModel.BPO), 1000)  # another model

    as_va = market_rate(workflow, service_model=VA, shoring=None)
    any_model = market_rate(workflow, service_model=None, shoring=None)

    assert as_va.accepted_bids == Percentiles(count=3, p25=2500, p50=3000, p75=4000)
    assert any_model.accepted_bids == Percentiles(count=4, p25=1750, p50=2500, p75=3500)


def test_fewer_than_three_accepted_bids_show_no_price(login):
    owner = client("America/New_York", "US")
    workflow = _workflow(login, owner, skills=[SKILL])
    support = _task(owner, (SKILL,))
    _bid(support, 2000)
    _bid(support, 3000)

    found = market_rate(workflow, service_model=VA, shoring=None)

    assert accepted_bid_rates(workflow, service_model=VA) == [3000, 2000]
    assert found.accepted_bids is None  # another client's prices are never shown alone


def test_accepted_bids_are_read_in_one_statement(login):
    owner = client("America/New_York", "US")
    workflow = _workflow(login, owner, skills=[SKILL, CHAT])
    for price in (2000, 3000):
        _bid(_task(owner, (SKILL, CHAT)), price)
    assert workflow.skills == [SKILL, CHAT]  # loaded, as the recommendation has it
    statements: list[str] = []

    def executed(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(db.engine, "before_cursor_execute", executed)
    try:
        rates = accepted_bid_rates(workflow, service_model=VA)
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", executed)

    assert sorted(rates) == [2000, 3000]
    assert len(statements) == 1
