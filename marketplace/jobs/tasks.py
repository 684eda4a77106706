"""Celery tasks of the jobs area."""

from __future__ import annotations

from celery import shared_task

from marketplace.jobs import outbox


@shared_task(name="marketplace.jobs.tasks.deliver_outbox")
def deliver_outbox() -> int:
    """Deliver the outbox entries that are due."""
    return outbox.deliver_due(limit=50)
