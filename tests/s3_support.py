"""S3 in tests: moto's standalone server (a real S3-compatible HTTP server on localhost,
from the `moto[server]` dev dependency) in a subprocess, never a mock inside the process."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from tests.stripe_support import PATIENCE, free_port, stop

#: Credentials moto accepts (any); set only where the environment has none.
FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}


def moto_command() -> str | None:
    """The `moto_server` script of this environment, if moto[server] is installed."""
    return shutil.which("moto_server", path=os.path.dirname(sys.executable))


def start_moto(*, attempts: int = 3) -> tuple[subprocess.Popen[bytes], str]:
    """moto_server on a free port; returns the process and its endpoint URL. A process that
    exits at once (another program took the port) is tried again on another port."""
    command = moto_command()
    if command is None:
        raise RuntimeError("moto_server is not installed (the moto[server] dev dependency)")
    output = ""
    for _ in range(attempts):
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryFile() as log:  # not a pipe: a full pipe would block it
            process = subprocess.Popen(
                [command, "-H", "127.0.0.1", "-p", str(port)],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            if _answers(url, process):
                return process, url
            log.seek(0)
            output = log.read().decode(errors="replace")[-2000:]
    raise RuntimeError(f"moto_server exited at start {attempts} times; last output:\n{output}")


def _answers(url: str, process: subprocess.Popen[bytes]) -> bool:
    started = time.monotonic()
    while process.poll() is None:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=PATIENCE).close()
            return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            if time.monotonic() - started > PATIENCE:
                stop(process)
                raise RuntimeError(f"moto_server did not answer within {PATIENCE:.0f} s") from None
            time.sleep(0.2)
    return False


def use_fake_credentials() -> None:
    """AWS credentials for moto, unless the environment has its own."""
    for name, value in FAKE_CREDENTIALS.items():
        os.environ.setdefault(name, value)


def create_bucket(endpoint_url: str, bucket: str) -> None:
    """Create `bucket` on the server."""
    import boto3

    boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )


def object_keys(endpoint_url: str, bucket: str) -> list[str]:
    """The keys stored in `bucket`."""
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1")
    pages = client.get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return [item["Key"] for page in pages for item in page.get("Contents", [])]
