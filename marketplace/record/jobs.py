"""Celery tasks of the measured record."""

from __future__ import annotations

from celery import shared_task

from marketplace.record import reports


@shared_task(name="marketplace.record.jobs.confirm_work_reports")
def confirm_work_reports() -> int:
    """Mark confirmed the work reports left unanswered for their window."""
    return reports.confirm_lapsed()
