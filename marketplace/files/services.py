"""Uploading, reading, attaching and purging files."""

from __future__ import annotations

import hashlib
import logging
import os
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app

from marketplace.accounts.models import User
from marketplace.database import new_id, utcnow
from marketplace.errors import BusinessRuleViolation, NotFound, PayloadTooLarge
from marketplace.extensions import db
from marketplace.files import sniffing, storage
from marketplace.files.models import FilePurpose, StoredFile

log = logging.getLogger(__name__)

CHUNK = 64 * 1024


def max_bytes(purpose: FilePurpose) -> int:
    """The largest upload the configuration allows for `purpose`."""
    return int(current_app.config["FILE_MAX_BYTES"][purpose.value])


def _receive(stream: IO[bytes], target: IO[bytes], *, limit: int) -> tuple[int, str, bytes]:
    """Copy `stream` into `target` while hashing; (size, sha256, first bytes)."""
    digest = hashlib.sha256()
    head = b""
    size = 0
    while chunk := stream.read(CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"The file is larger than {limit} bytes, the limit for this use.",
                details={"file": [f"At most {limit} bytes."], "max_bytes": limit},
            )
        if len(head) < sniffing.HEAD_BYTES:
            head += chunk[: sniffing.HEAD_BYTES - len(head)]
        digest.update(chunk)
        target.write(chunk)
    return size, digest.hexdigest(), head


def upload(
    *, user: User, purpose: FilePurpose, stream: IO[bytes], filename: str | None
) -> StoredFile:
    """Store an upload: streamed to a staging file while hashed and measured, its type
    sniffed from the bytes, then moved into the storage and recorded. On any failure
    nothing is left behind: neither the staging file nor a stored object nor a row."""
    name = sniffing.safe_name(filename)
    store = storage.current()
    staging = storage.staging_file(store)
    file = StoredFile(id=new_id(), owner_id=user.id, purpose=purpose, name=name)
    stored = False
    try:
        with staging:
            size, sha256, head = _receive(stream, staging, limit=max_bytes(purpose))
        content_type = sniffing.sniff(head, name=name)
        if size == 0:
            raise BusinessRuleViolation(
                "The file is empty.", details={"file": ["Send a file with content."]}
            )
        if content_type not in current_app.config["FILE_ALLOWED_TYPES"]:
            raise BusinessRuleViolation(
                f"Files of type {content_type} are not accepted.",
                details={
                    "file": [f"{content_type} is not an accepted type."],
                    "accepted": list(current_app.config["FILE_ALLOWED_TYPES"]),
                },
            )
        file.size, file.sha256, file.content_type = size, sha256, content_type
        file.storage_key = f"files/{purpose.value}/{file.id}"
        store.put(file.storage_key, staging.name, content_type=content_type)
        stored = True
        db.session.add(file)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if stored:
            try:
                store.delete(file.storage_key)
            except Exception:  # the purge job's orphan sweep is not there: log it loudly
                log.exception("could not remove the stored object %s", file.storage_key)
        raise
    finally:
        if os.path.exists(staging.name):
            os.remove(staging.name)
    return file


def get_row(file_id: uuid.UUID) -> StoredFile:
    """The file's row, whoever asks (authorization is the caller's)."""
    file = db.session.get(StoredFile, file_id)
    if file is None:
        raise NotFound("File not found.")
    return file


def may_see_unattached(user: User, file: StoredFile) -> bool:
    """An unattached file is its uploader's (and admins')."""
    return file.owner_id == user.id or user.is_admin


def attach(
    *,
    user: User,
    file_ids: Sequence[uuid.UUID],
    purpose: FilePurpose,
    object_id: uuid.UUID,
    field: str = "files",
) -> list[dict[str, Any]]:
    """Attach the user's own uploads of `purpose` to the object `object_id`, for good, in
    the caller's transaction; the metadata the object keeps. Files already attached to the
    same object stay; any other id (unknown, someone else's, another use, attached
    elsewhere) is a 422 naming it."""
    ids = list(dict.fromkeys(file_ids))
    if not ids:
        return []
    rows = {
        f.id: f
        for f in db.session.scalars(
            sa.select(StoredFile).where(StoredFile.id.in_(ids)).with_for_update()
        )
    }
    errors: dict[str, list[str]] = {}
    fresh = []
    for file_id in ids:
        file = rows.get(file_id)
        if file is None or file.owner_id != user.id:
            errors[str(file_id)] = ["No such file of yours."]
        elif file.purpose != purpose:
            errors[str(file_id)] = [f"The file was uploaded for {file.purpose.value}."]
        elif file.attached_id is None:
            fresh.append(file)
        elif file.attached_id != object_id:
            errors[str(file_id)] = ["The file is already attached elsewhere."]
    if errors:
        raise BusinessRuleViolation("Some files cannot be attached.", details={field: errors})
    now = utcnow()
    if fresh:
        # Conditional, so two requests racing to attach one file cannot both win.
        done = db.session.execute(
            sa.update(StoredFile)
            .where(StoredFile.id.in_([f.id for f in fresh]), StoredFile.attached_id.is_(None))
            .values(attached_id=object_id, attached_at=now)
            .execution_options(synchronize_session="fetch")
        )
        if done.rowcount != len(fresh):  # type: ignore[attr-defined]
            raise BusinessRuleViolation(
                "Some files cannot be attached.",
                details={field: {"_schema": ["A file was attached elsewhere meanwhile."]}},
            )
    return [rows[file_id].as_json() for file_id in ids]


def release(*, purpose: FilePurpose, object_id: uuid.UUID) -> None:
    """The object of kind `purpose` is gone: its files are attached to nothing again (and
    so purged by the next run), in the caller's transaction."""
    db.session.execute(
        sa.update(StoredFile)
        .where(StoredFile.purpose == purpose, StoredFile.attached_id == object_id)
        .values(attached_id=None, attached_at=None)
        .execution_options(synchronize_session=False)
    )


def purge_unattached(*, now: datetime | None = None) -> int:
    """Delete uploads attached to nothing FILE_UNATTACHED_HOURS after their upload: the
    stored object, then the row. Returns how many."""
    hours = int(current_app.config["FILE_UNATTACHED_HOURS"])
    cutoff = (now or utcnow()) - timedelta(hours=hours)
    store = storage.current()
    purged = 0
    due = db.session.scalars(
        sa.select(StoredFile.id).where(
            StoredFile.attached_at.is_(None), StoredFile.created_at < cutoff
        )
    ).all()
    for file_id in due:
        file = db.session.scalar(
            sa.select(StoredFile)
            .where(StoredFile.id == file_id, StoredFile.attached_at.is_(None))
            .with_for_update(skip_locked=True)
        )
        if file is None:  # attached or purged meanwhile
            db.session.rollback()
            continue
        store.delete(file.storage_key)
        db.session.delete(file)
        db.session.commit()
        purged += 1
    return purged
