"""Celery tasks of the matching area."""

from __future__ import annotations

from celery import shared_task

from marketplace.extensions import db
from marketplace.matching import index, scoring, task_fit
from marketplace.record import standing


@shared_task(name="marketplace.matching.jobs.refresh_availability")
def refresh_availability() -> int:
    """Move weekly UTC availability to the offsets zones have now."""
    return index.refresh_availability()


@shared_task(name="marketplace.matching.jobs.refresh_task_fit")
def refresh_task_fit() -> int:
    """Renew the zone-fit figures of open tasks about to lapse."""
    return task_fit.refresh_open_tasks()


def recompute_records_now() -> tuple[int, int]:
    """The record job: recompute every provider's record (set-based, see
    `marketplace.record.standing`) and move the matching index's record term to it
    (`index.apply_records`), in one transaction. Returns (records stored, profiles whose
    term changed). Here, not in the index: the record reads messages, which the matching
    area does not know."""
    scores = standing.recompute_all(scoring.record_score, first_responses=standing.first_responses)
    changed = index.apply_records(scores)
    db.session.commit()
    return len(scores), changed


@shared_task(name="marketplace.matching.jobs.recompute_records")
def recompute_records() -> int:
    """Recompute every provider's measured record and the record term of matching."""
    stored, _ = recompute_records_now()
    return stored
