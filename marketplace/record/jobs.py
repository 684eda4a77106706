"""Celery tasks of the measured record."""

from __future__ import annotations

from celery import shared_task

from marketplace.record import events


@shared_task(name="marketplace.record.jobs.evaluate_slas")
def evaluate_slas() -> int:
    """Record (and tell both parties) the SLA events of every active contract."""
    return events.evaluate_all()
