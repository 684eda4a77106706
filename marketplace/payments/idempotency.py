"""`Idempotency-Key` for money-moving requests (docs/design.md, "Money and the ledger").

The same key with the same request returns the first answer (status and body); the
same key with another request is a 409, and so is a duplicate that arrives while
the first is still running. Keys are scoped per user and kept IDEMPOTENCY_KEY_HOURS.

The first answer is stored after the service has committed, in its own transaction.
Should the process die between the two, the key stays `in_progress`; after
IDEMPOTENCY_STALE_SECONDS a retry takes it over and runs the request again, which
is safe because the services lock their rows and the state machines refuse repeats.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app, request
from flask_login import current_user
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import make_transient_to_detached

from marketplace.database import commit_keeping_values, is_postgresql, new_id, utcnow
from marketplace.errors import BadRequest, Conflict
from marketplace.extensions import db
from marketplace.payments.models import IdempotencyKey, IdempotencyStatus
from marketplace.payments.states import IDEMPOTENCY_STATES
from marketplace.statemachine import forget_changes

HEADER = "Idempotency-Key"
MAX_LENGTH = 255

#: The OpenAPI description of the header, for `blp.doc(parameters=[...])`.
HEADER_PARAMETER = {
    "in": "header",
    "name": HEADER,
    "required": True,
    "schema": {"type": "string", "minLength": 1, "maxLength": MAX_LENGTH},
    "description": (
        "A unique key per intended operation (a UUID, say). Retrying with the same key and "
        "body returns the first answer; the same key with another body is a 409."
    ),
}


class KeyReused(Conflict):
    """The key was already used for a different request."""

    code = "idempotency_key_reused"


class KeyInProgress(Conflict):
    """The first request with this key has not finished yet."""

    code = "idempotency_key_in_progress"


def fingerprint() -> str:
    """What makes two requests the same: method, path and body (JSON compared by value)."""
    raw = request.get_data(cache=True)
    try:
        body = json.dumps(json.loads(raw or b"null"), sort_keys=True, separators=(",", ":"))
    except (ValueError, RecursionError):
        body = raw.decode("utf-8", "replace")
    digest = hashlib.sha256(f"{request.method} {request.path}\n{body}".encode())
    return digest.hexdigest()


def _key_from_header() -> str:
    key = request.headers.get(HEADER, "")
    if not key or len(key) > MAX_LENGTH or not key.isprintable() or not key.isascii():
        raise BadRequest(
            f"Money-moving requests need an {HEADER} header: 1 to {MAX_LENGTH} printable "
            "ASCII characters, unique per operation (a UUID, say).",
            details={HEADER: ["Missing or invalid."]},
        )
    return key


def _find(user_id: Any, key: str) -> IdempotencyKey | None:
    return db.session.scalar(
        sa.select(IdempotencyKey)
        .where(IdempotencyKey.user_id == user_id, IdempotencyKey.key == key)
        .execution_options(populate_existing=True)
    )


def _take(user_id: Any, key: str, request_fingerprint: str) -> IdempotencyKey | None:
    """Record the key as taken by this request, unless it is recorded already (then None);
    one statement, committed at once so that a duplicate sees it."""
    now = utcnow()
    record = IdempotencyKey(
        id=new_id(),
        user_id=user_id,
        key=key,
        fingerprint=request_fingerprint,
        status=IdempotencyStatus.IN_PROGRESS,
        response_status=None,
        response_body=None,
        created_at=now,
        expires_at=now + timedelta(hours=current_app.config["IDEMPOTENCY_KEY_HOURS"]),
    )
    values = {column.key: getattr(record, column.key) for column in IdempotencyKey.__table__.c}
    insert = pg_insert if is_postgresql() else sqlite_insert
    taken = db.session.scalar(
        insert(IdempotencyKey)
        .values(values)
        .on_conflict_do_nothing(index_elements=["user_id", "key"])
        .returning(IdempotencyKey.id)
    )
    commit_keeping_values()  # the signed-in user and the rest stay loaded for the request
    if taken is None:
        return None
    make_transient_to_detached(record)  # it is the row just written: no need to read it
    db.session.add(record)
    return record


def claim(*, user_id: Any, key: str, request_fingerprint: str) -> IdempotencyKey:
    """Take the key for this request (committed at once), or return the finished record
    whose answer is to be replayed. Raises KeyReused or KeyInProgress."""
    record = _take(user_id, key, request_fingerprint)
    if record is not None:
        return record
    now = utcnow()
    record = _find(user_id, key)
    if record is not None and record.expires_at <= now:
        forget_changes(IdempotencyKey, [record.id])
        db.session.delete(record)
        db.session.commit()
        record = _take(user_id, key, request_fingerprint)
        if record is not None:
            return record
        record = _find(user_id, key)  # a duplicate took it again first
    assert record is not None
    if record.fingerprint != request_fingerprint:
        raise KeyReused(f"This {HEADER} was already used for a different request.")
    if record.status == IdempotencyStatus.COMPLETED:
        return record
    stale = now - timedelta(seconds=current_app.config["IDEMPOTENCY_STALE_SECONDS"])
    taken = db.session.execute(
        sa.update(IdempotencyKey)
        .where(
            IdempotencyKey.id == record.id,
            IdempotencyKey.status == IdempotencyStatus.IN_PROGRESS,
            IdempotencyKey.created_at == record.created_at,
            IdempotencyKey.created_at < stale,
        )
        .values(created_at=now)
    )
    db.session.commit()
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        raise KeyInProgress(
            f"A request with this {HEADER} is still being processed; retry in a moment."
        )
    return _find(user_id, key) or record


def _store(record: IdempotencyKey, response: Response) -> None:
    """Keep the answer with the key. The record is the one `claim` took: the request's
    services keep their objects loaded when they commit, so it is seldom read again."""
    IDEMPOTENCY_STATES.apply(record, "complete", actor_id=record.user_id)
    record.response_status = response.status_code
    record.response_body = response.get_json(silent=True)
    db.session.commit()


def _release(record_id: Any) -> None:
    db.session.rollback()
    forget_changes(IdempotencyKey, [record_id])
    db.session.execute(sa.delete(IdempotencyKey).where(IdempotencyKey.id == record_id))
    db.session.commit()


def _replay(record: IdempotencyKey) -> Any:
    response = current_app.json.response(record.response_body)
    response.status_code = record.response_status or 200
    response.headers["Idempotent-Replayed"] = "true"
    return response


def idempotent(view: Callable[..., Any]) -> Callable[..., Any]:
    """Make a signed-in money endpoint idempotent under its `Idempotency-Key` header.

    Answers below 500 are stored and replayed; a 5xx or a crash frees the key, so
    the client may retry with it.
    """

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = _key_from_header()
        user_id = current_user.id
        record = claim(user_id=user_id, key=key, request_fingerprint=fingerprint())
        if record.status == IdempotencyStatus.COMPLETED:
            return _replay(record)
        record_id = record.id
        try:
            try:
                response = current_app.make_response(view(*args, **kwargs))
            except Exception as exc:  # answered by the app's error handlers, then stored
                response = current_app.make_response(current_app.handle_user_exception(exc))
        except BaseException:
            _release(record_id)
            raise
        if response.status_code >= 500:
            _release(record_id)
        else:
            _store(record, response)
        return response

    return wrapper


def purge_expired() -> int:
    """Delete keys past their retention; returns how many."""
    expired = IdempotencyKey.expires_at <= utcnow()
    forget_changes(IdempotencyKey, sa.select(IdempotencyKey.id).where(expired))
    result = db.session.execute(sa.delete(IdempotencyKey).where(expired))
    db.session.commit()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
