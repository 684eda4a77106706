"""Where the bytes of files live: a local directory (the embedded default) or a bucket of
S3 or any S3-compatible store, behind one small interface."""

from __future__ import annotations

import contextlib
import os
import tempfile
from typing import Any, Protocol
from urllib.parse import quote

from flask import Flask, current_app, request


class Storage(Protocol):
    """Stores finished files by key; a key is made by the service, never by a client."""

    #: Where uploads are written while they arrive (None: the system's temporary directory).
    staging_dir: str | None

    def put(self, key: str, path: str, *, content_type: str) -> None:
        """Store the file at `path` (a staging file, which the caller removes) under `key`."""

    def delete(self, key: str) -> None:
        """Remove the object under `key`; a missing one is no error."""

    def exists(self, key: str) -> bool:
        """Whether an object is stored under `key`."""

    def local_path(self, key: str) -> str | None:
        """The object's path on this machine, to stream it; None if it is not local."""

    def signed_url(self, key: str, *, name: str, content_type: str, seconds: int) -> str:
        """A short-lived URL that downloads the object as an attachment named `name`."""


def _safe_key(key: str) -> str:
    parts = key.split("/")
    if not key or any(part in {"", ".", ".."} for part in parts) or "\\" in key:
        raise ValueError(f"unsafe storage key {key!r}")
    return key


class LocalStorage:
    """Files in a directory (under instance/ by default)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.staging_dir: str | None = os.path.join(self.root, ".staging")

    def _path(self, key: str) -> str:
        path = os.path.abspath(os.path.join(self.root, _safe_key(key)))
        if os.path.commonpath([path, self.root]) != self.root:
            raise ValueError(f"unsafe storage key {key!r}")
        return path

    def put(self, key: str, path: str, *, content_type: str) -> None:
        target = self._path(key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # Same file system as the staging directory: an atomic rename, never half a file.
        os.replace(path, target)

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.remove(self._path(key))

    def exists(self, key: str) -> bool:
        return os.path.isfile(self._path(key))

    def local_path(self, key: str) -> str | None:
        return self._path(key)

    def signed_url(self, key: str, *, name: str, content_type: str, seconds: int) -> str:
        raise NotImplementedError("local files are streamed, not signed")


class S3Storage:
    """Files in an S3 bucket (or any S3-compatible store, by its endpoint URL)."""

    staging_dir: str | None = None

    def __init__(self, *, bucket: str, endpoint_url: str | None, region: str) -> None:
        import boto3
        from botocore.config import Config as BotoConfig

        self.bucket = bucket
        self.client: Any = boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=BotoConfig(signature_version="s3v4", retries={"max_attempts": 3}),
        )

    def put(self, key: str, path: str, *, content_type: str) -> None:
        self.client.upload_file(
            path, self.bucket, _safe_key(key), ExtraArgs={"ContentType": content_type}
        )

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=_safe_key(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=_safe_key(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def local_path(self, key: str) -> str | None:
        return None

    def signed_url(self, key: str, *, name: str, content_type: str, seconds: int) -> str:
        url: str = self.client.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self.bucket,
                "Key": _safe_key(key),
                "ResponseContentType": content_type,
                "ResponseContentDisposition": content_disposition(name),
            },
            ExpiresIn=seconds,
        )
        return url


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266)."""
    fallback = name.encode("ascii", "replace").decode().replace("?", "_").replace('"', "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


def build(config: dict[str, Any], instance_path: str) -> Storage:
    """The storage the configuration names."""
    if config["FILE_STORAGE"] == "s3":
        return S3Storage(
            bucket=config["S3_BUCKET"],
            endpoint_url=config.get("S3_ENDPOINT_URL"),
            region=config.get("S3_REGION") or "us-east-1",
        )
    return LocalStorage(os.path.join(instance_path, config["FILE_STORAGE_PATH"]))


#: Room for the multipart framing around the largest file.
MULTIPART_OVERHEAD = 64 * 1024
UPLOAD_ENDPOINT = "files.upload_file"


def _room_for_uploads() -> None:
    """The upload endpoint takes bodies up to the largest use's limit (every other one:
    MAX_CONTENT_LENGTH)."""
    if request.endpoint == UPLOAD_ENDPOINT and request.method == "POST":
        largest = max(int(n) for n in current_app.config["FILE_MAX_BYTES"].values())
        request.max_content_length = largest + MULTIPART_OVERHEAD


def init_app(app: Flask) -> None:
    """Bind the configured storage to the app, and let uploads be larger than other bodies:
    first of all request hooks, since the CSRF check may read the form."""
    app.extensions["file_storage"] = build(app.config, app.instance_path)
    app.before_request_funcs.setdefault(None, []).insert(0, _room_for_uploads)


def current() -> Storage:
    """The app's storage."""
    storage: Storage = current_app.extensions["file_storage"]
    return storage


def staging_file(storage: Storage) -> tempfile._TemporaryFileWrapper[bytes]:
    """A new staging file for an upload (the caller removes it)."""
    if storage.staging_dir is not None:
        os.makedirs(storage.staging_dir, exist_ok=True)
    return tempfile.NamedTemporaryFile(dir=storage.staging_dir, prefix="upload-", delete=False)
