"""File schemas: the multipart upload, a file's metadata, and lists of file ids."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from werkzeug.datastructures import FileStorage

from marketplace.files.models import FilePurpose
from marketplace.schemas import BaseSchema


class UploadSchema(BaseSchema):
    """The multipart body of an upload: the file, and what it is for."""

    file = ma.fields.Raw(
        required=True,
        metadata={
            "type": "string",
            "format": "binary",
            "description": "The file. Its type is judged from its bytes; the name is only "
            "shown (made safe: no directories, no control characters).",
        },
    )
    purpose = ma.fields.Enum(
        FilePurpose,
        by_value=True,
        required=True,
        metadata={
            "description": "What the file will be attached to: `task` (a task's "
            "`confidential_files`), `message`, `submission` (a milestone's delivery), "
            "`evidence` (a dispute), `work_report`, `time_entry`. Each use has its own size "
            "limit, and a file attaches only to its use."
        },
    )

    @ma.validates("file")
    def _a_file(self, value: Any, **_: Any) -> None:
        if not isinstance(value, FileStorage):
            raise ma.ValidationError("Send a file part, not a text field.")


class FileSchema(BaseSchema):
    """A file's metadata."""

    id = ma.fields.UUID()
    name = ma.fields.String()
    size = ma.fields.Integer(metadata={"description": "Bytes."})
    content_type = ma.fields.String(metadata={"description": "Sniffed from the bytes."})
    sha256 = ma.fields.String()
    purpose = ma.fields.Enum(FilePurpose, by_value=True)
    created_at = ma.fields.DateTime()
    attached = ma.fields.Function(
        lambda file: file.attached_id is not None,
        metadata={
            "type": "boolean",
            "description": "Whether it is attached; an upload attached to nothing within "
            "24 hours is deleted.",
        },
    )
    download_path = ma.fields.String()


class AttachedFileSchema(BaseSchema):
    """A file attached to an object, as the object shows it."""

    id = ma.fields.UUID()
    name = ma.fields.String()
    size = ma.fields.Integer()
    content_type = ma.fields.String()
    sha256 = ma.fields.String()
    download_path = ma.fields.String()


def file_ids(description: str, **kwargs: Any) -> ma.fields.List:
    """A list of ids of the caller's uploads, to attach."""
    return ma.fields.List(
        ma.fields.UUID(),
        validate=ma.validate.Length(max=20),
        metadata={"description": description},
        **kwargs,
    )


def attached_files(description: str) -> ma.fields.List:
    """The files attached to an object, as it shows them."""
    return ma.fields.List(
        ma.fields.Nested(AttachedFileSchema), metadata={"description": description}
    )
