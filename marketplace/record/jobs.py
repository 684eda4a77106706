"""Celery tasks of the measured record."""

from __future__ import annotations

from celery import shared_task

from marketplace.record import events, reports, reviews


@shared_task(name="marketplace.record.jobs.confirm_work_reports")
def confirm_work_reports() -> int:
    """Mark confirmed the work reports left unanswered for their window."""
    return reports.confirm_lapsed()


@shared_task(name="marketplace.record.jobs.publish_reviews")
def publish_reviews() -> int:
    """Publish the reviews whose window has closed and tell both sides."""
    return reviews.publish_lapsed()


@shared_task(name="marketplace.record.jobs.evaluate_slas")
def evaluate_slas() -> int:
    """Record (and tell both parties) the SLA events of every active contract."""
    return events.evaluate_all()
