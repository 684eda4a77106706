"""Celery tasks of the payments area (each is also a `flask` command)."""

from __future__ import annotations

from celery import shared_task

from marketplace.payments import aging, delivery, idempotency, refunds


@shared_task(name="marketplace.payments.jobs.auto_release")
def auto_release() -> int:
    """Release submitted milestones the client did not answer in time."""
    return delivery.auto_release_due()


@shared_task(name="marketplace.payments.jobs.lapse_refund_requests")
def lapse_refund_requests() -> int:
    """Refund milestones whose provider did not answer a refund request in time."""
    return refunds.lapse_due()


@shared_task(name="marketplace.payments.jobs.purge_idempotency_keys")
def purge_idempotency_keys() -> int:
    """Forget idempotency keys past their retention."""
    return idempotency.purge_expired()


@shared_task(name="marketplace.payments.jobs.escrow_age_guard")
def escrow_age_guard() -> dict[str, int]:
    """Warn about, then review, money held in escrow for long."""
    return aging.guard()
