"""Celery tasks of the files area."""

from __future__ import annotations

from celery import shared_task

from marketplace.files import services


@shared_task(name="marketplace.files.jobs.purge_files")
def purge_files() -> int:
    """Delete uploads attached to nothing within a day."""
    return services.purge_unattached()
