"""Celery tasks of the tasks area."""

from __future__ import annotations

from celery import shared_task

from marketplace.flows import tasks as task_flows


@shared_task(name="marketplace.tasks.jobs.expire_tasks")
def expire_tasks() -> int:
    """Expire open tasks past their expiry date."""
    return task_flows.expire_due_tasks()
