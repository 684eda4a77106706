"""Celery tasks of the matching area."""

from __future__ import annotations

from celery import shared_task

from marketplace.matching import index


@shared_task(name="marketplace.matching.jobs.refresh_availability")
def refresh_availability() -> int:
    """Move weekly UTC availability to the offsets zones have now."""
    return index.refresh_availability()
