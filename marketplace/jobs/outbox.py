"""Write side effects in the caller's transaction; deliver them after commit with retries."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, g, has_request_context

from marketplace import audit
from marketplace.database import is_postgresql, utcnow
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.jobs.mail import Mail, mail_backend
from marketplace.jobs.models import OutboxEntry, OutboxStatus
from marketplace.jobs.states import OUTBOX_STATES

log = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any]], None]


class PermanentFailure(Exception):
    """A side effect that can never succeed as written: fail the entry without retries."""


def register(app: Flask, kind: str, handler: Handler) -> None:
    """Let `handler` carry out this app's outbox entries of `kind`. `create_app` registers
    every handler, so the web processes and the worker (which builds the same app) know the
    same ones, whatever modules they happened to import."""
    app.extensions.setdefault("outbox_handlers", {})[kind] = handler


def _handlers() -> dict[str, Handler]:
    handlers: dict[str, Handler] = current_app.extensions.get("outbox_handlers", {})
    return handlers


def send_email(payload: dict[str, Any]) -> None:
    """Send one e-mail through the configured backend."""
    mail_backend().send(
        Mail(
            to=payload["to"],
            subject=payload["subject"],
            body=payload["body"],
            html=payload.get("html"),  # (entries queued before e-mails had an HTML part)
        )
    )


def enqueue(kind: str, payload: dict[str, Any]) -> OutboxEntry:
    """Add an entry to the current transaction; it is delivered only if that commits."""
    if kind not in _handlers():
        raise ValueError(f"no outbox handler for {kind!r}")
    entry = OutboxEntry(kind=kind, payload=payload)
    db.session.add(entry)
    if has_request_context():
        g.outbox_dirty = True
    return entry


def enqueue_email(*, to: str, subject: str, body: str, html: str | None = None) -> OutboxEntry:
    """Queue an e-mail (its plain-text and HTML parts) in the current transaction; the
    product's e-mails are rendered by `marketplace.jobs.emails.send`."""
    return enqueue("email", {"to": to, "subject": subject, "body": body, "html": html})


def backoff(attempts: int) -> timedelta:
    """Exponential backoff after the n-th failed attempt, capped at six hours."""
    base = current_app.config["OUTBOX_BACKOFF_SECONDS"]
    return timedelta(seconds=min(base * 2 ** (attempts - 1), 6 * 3600))


def _claim_due(limit: int) -> list[OutboxEntry]:
    stmt = (
        sa.select(OutboxEntry)
        .where(OutboxEntry.status == OutboxStatus.PENDING, OutboxEntry.next_attempt_at <= utcnow())
        .order_by(OutboxEntry.next_attempt_at, OutboxEntry.id)
        .limit(limit)
    )
    if is_postgresql():
        # Concurrent workers each take different entries instead of waiting.
        stmt = stmt.with_for_update(skip_locked=True)
    return list(db.session.scalars(stmt))


def _carry_out(entry: OutboxEntry) -> Exception | None:
    """Run the entry's handler in a savepoint: what it wrote commits with the entry's
    success, and is rolled back when it fails. Returns the failure, if any."""
    try:
        with db.session.begin_nested():
            _handlers()[entry.kind](entry.payload)
    except Exception as exc:  # any failure of a side effect means "retry later"
        return exc
    return None


def _record(entry: OutboxEntry, failure: Exception | None) -> None:
    """Record an attempt: success, a retry with backoff, or final failure."""
    entry.attempts += 1
    if failure is None:
        OUTBOX_STATES.apply(entry, "send", actor_id=None)
        entry.processed_at = utcnow()
        entry.last_error = None
        return
    entry.last_error = f"{type(failure).__name__}: {failure}"[:2000]
    permanent = isinstance(failure, PermanentFailure)
    if permanent or entry.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        OUTBOX_STATES.apply(entry, "fail", actor_id=None, reason=entry.last_error)
        entry.processed_at = utcnow()
        log.error("Outbox entry %s (%s) failed for good: %s", entry.id, entry.kind, failure)
    else:
        entry.next_attempt_at = utcnow() + backoff(entry.attempts)
        log.warning("Outbox entry %s (%s) failed, retrying: %s", entry.id, entry.kind, failure)


#: Entries delivered per transaction: their bookkeeping is written together, and a crash
#: repeats at most this many (every side effect is safe to repeat: gateway calls carry
#: idempotency keys, e-mails are sent at least once).
BATCH = 10


def deliver_due(limit: int = 100) -> int:
    """Deliver the entries that are due, a batch per transaction (each handler in its own
    savepoint); return how many ran."""
    count = 0
    while count < limit:
        batch = _claim_due(min(BATCH, limit - count))
        if not batch:  # (entries the handlers queued are due at once: looked for again)
            break
        failures = [_carry_out(entry) for entry in batch]
        for entry, failure in zip(batch, failures, strict=True):  # written in one flush
            _record(entry, failure)
        db.session.commit()
        count += len(batch)
    return count


def entries_query(*, status: OutboxStatus, kind: str | None = None) -> sa.Select[OutboxEntry]:
    """Entries in `status`, newest first (the admins' view of what failed)."""
    stmt = (
        sa.select(OutboxEntry)
        .where(OutboxEntry.status == status)
        .order_by(OutboxEntry.created_at.desc(), OutboxEntry.id.desc())
    )
    return stmt.where(OutboxEntry.kind == kind) if kind else stmt


def retry(*, admin: Any, entry_id: Any) -> OutboxEntry:
    """An admin sends a failed entry round again, from its first attempt."""
    entry = db.session.scalar(
        sa.select(OutboxEntry).where(OutboxEntry.id == entry_id).with_for_update()
    )
    if entry is None:
        raise NotFound("Outbox entry not found.")
    OUTBOX_STATES.apply(entry, "retry", actor_id=admin.id)  # a 409 unless it failed
    entry.attempts, entry.next_attempt_at = 0, utcnow()
    entry.processed_at = None
    audit.record(actor=admin, action="outbox.retry", target_type="outbox_entry", target_id=entry.id)
    if has_request_context():
        g.outbox_dirty = True
    db.session.commit()
    return entry
