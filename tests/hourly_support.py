"""Helpers for the hourly tests: an active hourly contract with a saved card, entries and
the weeks of late 2026 (UTC)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from marketplace import permissions
from marketplace.accounts.models import User
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal
from marketplace.contracts.inputs import AwardTerms
from marketplace.contracts.models import Contract
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.inputs import Money
from marketplace.payments import methods, payouts
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import Budget
from marketplace.tasks.models import BudgetType, Confidentiality
from tests.factories import ClientFactory, ProviderFactory, task_draft

#: Monday 2 November 2026, 00:00 UTC: the first billing week of the tests.
WEEK1 = datetime(2026, 11, 2, tzinfo=UTC)
WEEK2 = WEEK1 + timedelta(days=7)
WEEK3 = WEEK2 + timedelta(days=7)
WEEK4 = WEEK3 + timedelta(days=7)


def at(week: datetime, day: int, hour: int, minute: int = 0) -> datetime:
    """`hour:minute` UTC on the `day`-th day (0 = Monday) of the week starting `week`."""
    return week + timedelta(days=day, hours=hour, minutes=minute)


@dataclass
class HourlyDeal:
    """An active hourly contract; the client has saved a card."""

    client: User
    provider: User
    contract_id: uuid.UUID

    @property
    def contract(self) -> Contract:
        contract = db.session.get(Contract, self.contract_id)
        assert contract is not None
        return contract


def make_hourly_deal(
    *,
    rate: int = 3500,
    weekly_limit: int | None = 20,
    client: User | None = None,
    provider: User | None = None,
    card: str | None = "pm_card_visa",
) -> HourlyDeal:
    """Post an hourly usd task, bid `rate` an hour, award it with `weekly_limit` and accept;
    the provider's payouts are on and the client saved `card` (None: no card)."""
    client = client or ClientFactory()
    provider = provider or ProviderFactory()
    task = tasks.create_task(
        user=client,
        draft=task_draft(
            budget=Budget(BudgetType.HOURLY, 1000, 10_000, "usd"),
            confidentiality=Confidentiality.PUBLIC,
            positions=1,
            timezone_need=None,
        ),
    )
    permissions.acting_client_profile(client).created_at = utcnow() - timedelta(days=60)
    lifecycle.publish_task(user=client, task_id=task.id, confirm_strategic=False)
    bid = bids.place_bid(
        user=provider,
        task_id=task.id,
        proposal=BidProposal(
            price=Money(rate, "usd"),
            timeline_days=90,
            cover_letter="We keep your inbox at zero, every weekday.",
        ),
    )
    contract = contract_flows.award(
        user=client, bid_id=bid.id, terms=AwardTerms(weekly_limit_hours=weekly_limit)
    )
    contract_flows.accept_offer(user=provider, contract_id=contract.id)
    payouts.start_onboarding(user=provider)
    if card is not None:
        methods.save(user=client, payment_method=card)
    return HourlyDeal(client=client, provider=provider, contract_id=contract.id)


def entry(start: datetime, end: datetime, memo: str = "Inbox triage") -> dict[str, Any]:
    """A time entry's body."""
    return {"start": start.isoformat(), "end": end.isoformat(), "memo": memo}
