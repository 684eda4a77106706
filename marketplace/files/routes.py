"""File endpoints: upload (multipart), metadata, and download."""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, redirect, send_file
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from marketplace.api import Blueprint
from marketplace.config import Config
from marketplace.errors import NotFound
from marketplace.files import services, storage
from marketplace.files.models import FilePurpose, StoredFile
from marketplace.files.schemas import FileSchema, UploadSchema
from marketplace.flows import files as file_flows
from marketplace.tasks.schemas import current_reader

blp = Blueprint("files", __name__, url_prefix="/api/v1", description="Files")


@blp.post("/files")
@login_required
@blp.arguments(UploadSchema, location="files", as_kwargs=True)
@blp.response(201, FileSchema)
@blp.errors(400, 401, 413, 422)
def upload_file(purpose: FilePurpose, file: Any) -> StoredFile:
    """Upload a file (multipart/form-data: the `file`, and its `purpose`), then attach it
    by id.

    The content type is judged from the bytes, not from the client: PDF, images, office
    documents, plain text and CSV, and zip archives are accepted, anything else is a 422.
    A file over its use's limit is a 413. The answer's id goes in the `files` (a task's
    `confidential_files`) of what it belongs to; an upload attached to nothing within 24
    hours is deleted.
    """
    try:
        return services.upload(
            user=current_user, purpose=purpose, stream=file.stream, filename=file.filename
        )
    finally:
        file.close()  # Werkzeug's spooled copy of a large upload: free it now


@blp.get("/files/<uuid:file_id>")
@login_required
@blp.response(200, FileSchema)
@blp.errors(401, 404, 422)
def get_file(file_id: uuid.UUID) -> StoredFile:
    """A file's metadata: for its uploader while it is attached to nothing, then for
    whoever may see what it is attached to (a task's files: as its confidential details)."""
    return file_flows.readable_file(reader=current_reader(), file_id=file_id)


_DOWNLOAD_CONTENT = {
    content_type: {"schema": {"type": "string", "format": "binary"}}
    for content_type in Config.FILE_ALLOWED_TYPES
}


@blp.get("/files/<uuid:file_id>/download")
@login_required
@blp.doc(
    responses={
        "200": {"description": "The file's bytes, as an attachment.", "content": _DOWNLOAD_CONTENT},
        "302": {
            "description": "With S3 storage: a redirect to a signed URL valid for a minute.",
            "headers": {"Location": {"schema": {"type": "string"}}},
        },
    }
)
@blp.errors(401, 404, 422)
def download_file(file_id: uuid.UUID) -> Response:
    """Download a file: who may read it is checked at every download (a task's files go
    through the confidentiality gate and the access log). Local storage streams it; S3
    storage answers with a redirect to a short-lived signed URL."""
    file = file_flows.readable_file(reader=current_reader(), file_id=file_id)
    store = storage.current()
    path = store.local_path(file.storage_key)
    if path is None:
        url = store.signed_url(
            file.storage_key,
            name=file.name,
            content_type=file.content_type,
            seconds=current_app.config["FILE_URL_SECONDS"],
        )
        response = redirect(url, code=302)
    else:
        try:
            response = send_file(
                path,
                mimetype=file.content_type,
                as_attachment=True,
                download_name=file.name,
                etag=file.sha256,
                max_age=0,
            )
        except FileNotFoundError:
            raise NotFound("File not found.") from None
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
