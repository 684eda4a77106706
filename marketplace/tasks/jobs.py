"""Celery tasks of the tasks area."""

from __future__ import annotations

from celery import shared_task

from marketplace.tasks import services


@shared_task(name="marketplace.tasks.jobs.expire_tasks")
def expire_tasks() -> int:
    """Expire open tasks past their expiry date."""
    return services.expire_due_tasks()
