"""Celery tasks of the tasks area."""

from __future__ import annotations

from celery import shared_task

from marketplace.tasks import lifecycle


@shared_task(name="marketplace.tasks.jobs.expire_tasks")
def expire_tasks() -> int:
    """Expire open tasks past their expiry date."""
    return lifecycle.expire_due_tasks()
