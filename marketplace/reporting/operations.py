"""What the operators read: the outbox, Stripe's webhook events and the audit log, as
queries for the console's Operations page (and its CSV exports)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from marketplace import audit
from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.jobs import outbox
from marketplace.jobs.models import OutboxEntry, OutboxStatus
from marketplace.payments.models import EventStatus, WebhookEvent

#: The most rows a CSV export holds (narrow the filters for more).
EXPORT_LIMIT = 10_000
#: The outbox kind that processes a stored Stripe event (marketplace.payments.webhooks).
STRIPE_EVENT_JOB = "stripe.event"


class EventView(StrEnum):
    """Which webhook events to list."""

    UNPROCESSED = "unprocessed"  # received, not processed: its job failed or is waiting
    IGNORED = "ignored"  # a type we do not act on


def outbox_query(*, status: OutboxStatus, kind: str | None = None) -> sa.Select[OutboxEntry]:
    """Outbox entries in a status, newest first."""
    return outbox.entries_query(status=status, kind=kind)


def outbox_counts() -> dict[OutboxStatus, int]:
    """How many outbox entries are in each status."""
    rows = db.session.execute(
        sa.select(OutboxEntry.status, sa.func.count()).group_by(OutboxEntry.status)
    )
    counts = dict.fromkeys(OutboxStatus, 0)
    counts.update({OutboxStatus(status): int(n) for status, n in rows})
    return counts


def webhook_events_query(*, view: EventView) -> sa.Select[WebhookEvent]:
    """Webhook events not processed (or ignored), newest first."""
    status = EventStatus.RECEIVED if view == EventView.UNPROCESSED else EventStatus.IGNORED
    return (
        sa.select(WebhookEvent)
        .where(WebhookEvent.status == status)
        .order_by(WebhookEvent.received_at.desc(), WebhookEvent.id.desc())
    )


def webhook_counts() -> dict[EventView, int]:
    """How many webhook events are unprocessed, and how many ignored."""
    return {
        view: int(
            db.session.scalar(
                sa.select(sa.func.count()).select_from(webhook_events_query(view=view).subquery())
            )
            or 0
        )
        for view in EventView
    }


def processing_jobs(events: Iterable[WebhookEvent]) -> dict[str, OutboxEntry]:
    """The outbox entry that processes each of these events, by event id."""
    ids = [event.event_id for event in events]
    if not ids:
        return {}
    event_id = OutboxEntry.payload["event_id"].as_string()
    entries = db.session.scalars(
        sa.select(OutboxEntry).where(OutboxEntry.kind == STRIPE_EVENT_JOB, event_id.in_(ids))
    )
    return {str(entry.payload.get("event_id")): entry for entry in entries}


@dataclass(frozen=True)
class AuditFilters:
    """The audit log's filters, as an operator types them (every one optional)."""

    actor: str = ""  # an e-mail address
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    since: date | None = None  # from this day (UTC)
    until: date | None = None  # to this day (UTC), included

    def problems(self) -> dict[str, str]:
        """Why a filter cannot be applied, by field."""
        found: dict[str, str] = {}
        if self.object_id and _uuid(self.object_id) is None:
            found["object_id"] = "An object id looks like 0190c3e2-7d1f-7a4e-9f10-1b2c3d4e5f60."
        if self.since and self.until and self.since > self.until:
            found["until"] = "The end date is before the start date."
        return found


def _uuid(raw: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw.strip())
    except ValueError:
        return None


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def audit_query(filters: AuditFilters) -> sa.Select[audit.AuditEntry]:
    """The audit log, newest first, filtered (an unknown actor matches nothing)."""
    actor_id: Any = None
    if filters.actor:
        actor = accounts.find_user_by_email(filters.actor)
        actor_id = actor.id if actor else uuid.UUID(int=0)
    return audit.entries_query(
        actor_id=actor_id,
        action=filters.action or None,
        target_type=filters.object_type or None,
        target_id=_uuid(filters.object_id) if filters.object_id else None,
        since=_day_start(filters.since) if filters.since else None,
        until=_day_start(filters.until + timedelta(days=1)) if filters.until else None,
    )


def actors(entries: Iterable[audit.AuditEntry]) -> dict[uuid.UUID, User]:
    """The users who acted in these entries, by id."""
    ids = {entry.actor_id for entry in entries if entry.actor_id}
    if not ids:
        return {}
    return {user.id: user for user in db.session.scalars(sa.select(User).where(User.id.in_(ids)))}


def export_rows(stmt: sa.Select[Any], limit: int = EXPORT_LIMIT) -> list[Any]:
    """The first `limit` rows of a list's query, for its CSV export."""
    return list(db.session.scalars(stmt.limit(limit)))


def audit_actions() -> list[str]:
    """The action names in the audit log (the filter's choices)."""
    return audit.actions()


def audit_object_types() -> list[str]:
    """The kinds of object in the audit log (the filter's choices)."""
    return audit.target_types()
