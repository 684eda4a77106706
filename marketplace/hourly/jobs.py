"""Celery tasks of hourly contracts."""

from __future__ import annotations

from celery import shared_task

from marketplace.hourly import invoices


@shared_task(name="marketplace.hourly.jobs.bill")
def bill() -> dict[str, int]:
    """Issue, charge, settle and release the weekly invoices that are due."""
    return invoices.bill()
