"""Celery tasks of the matching area."""

from __future__ import annotations

from celery import shared_task

from marketplace.matching import index, records, task_fit


@shared_task(name="marketplace.matching.jobs.refresh_availability")
def refresh_availability() -> int:
    """Move weekly UTC availability to the offsets zones have now."""
    return index.refresh_availability()


@shared_task(name="marketplace.matching.jobs.refresh_task_fit")
def refresh_task_fit() -> int:
    """Renew the zone-fit figures of open tasks about to lapse."""
    return task_fit.refresh_open_tasks()


@shared_task(name="marketplace.matching.jobs.recompute_records")
def recompute_records() -> int:
    """Recompute every provider's measured record and the record term of matching."""
    stored, _ = records.recompute_records()
    return stored
