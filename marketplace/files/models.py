"""The metadata of an uploaded file and what it is attached to."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.database import IdMixin, UTCDateTime, enum_type, utcnow
from marketplace.extensions import Model


class FilePurpose(StrEnum):
    """What a file is uploaded for; it can be attached only to an object of that kind."""

    TASK = "task"  # a task's confidential material
    MESSAGE = "message"
    SUBMISSION = "submission"  # a milestone's deliverables
    EVIDENCE = "evidence"  # a dispute's evidence
    WORK_REPORT = "work_report"
    TIME_ENTRY = "time_entry"  # what an hour's work produced, on an hourly contract


class StoredFile(IdMixin, Model):
    """One uploaded file. Its bytes live in the storage under `storage_key`, which is made
    from the id, never from the name the client gave."""

    __tablename__ = "files"
    __table_args__ = (
        sa.Index("ix_files_attached", "purpose", "attached_id"),
        sa.Index("ix_files_unattached", "attached_at", "created_at"),
        sa.CheckConstraint("size >= 0", name="size_positive"),
    )

    owner_id: Mapped[uuid.UUID] = mapped_column(
        sa.ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[FilePurpose] = mapped_column(enum_type(FilePurpose))
    #: The client's file name, made safe (no directories, no control characters).
    name: Mapped[str] = mapped_column(sa.String(255))
    size: Mapped[int] = mapped_column(sa.BigInteger)
    #: Sniffed from the bytes.
    content_type: Mapped[str] = mapped_column(sa.String(120))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    storage_key: Mapped[str] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The object of kind `purpose` it is attached to (once, for good), and when.
    attached_id: Mapped[uuid.UUID | None] = mapped_column(sa.Uuid)
    attached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def download_path(self) -> str:
        """Where the API serves its bytes."""
        return f"/api/v1/files/{self.id}/download"

    def as_json(self) -> dict[str, object]:
        """Its metadata as the objects it is attached to keep it (files never change)."""
        return {
            "id": str(self.id),
            "name": self.name,
            "size": self.size,
            "content_type": self.content_type,
            "sha256": self.sha256,
            "download_path": self.download_path,
        }
