"""Celery tasks of the contracts area."""

from __future__ import annotations

from celery import shared_task

from marketplace.contracts import offers
from marketplace.flows import amendments


@shared_task(name="marketplace.contracts.jobs.expire_offers")
def expire_offers() -> int:
    """Expire contract offers that were not accepted in time."""
    return offers.expire_offers()


@shared_task(name="marketplace.contracts.jobs.lapse_amendments")
def lapse_amendments() -> int:
    """Let unanswered amendments lapse."""
    return amendments.lapse_due()
