"""Celery task of the reviews: publish the reviews whose window has closed."""

from __future__ import annotations

from celery import shared_task

from marketplace.record import reviews


@shared_task(name="marketplace.record.review_jobs.publish_reviews")
def publish_reviews() -> int:
    """Publish the reviews whose window has closed and tell both sides."""
    return reviews.publish_lapsed()
