"""Stripe in tests: localstripe in a subprocess, the app on a real port for its webhooks,
requests intercepted at the SDK's HTTP boundary, and webhooks signed as Stripe does."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import stripe
from flask import Flask
from werkzeug.serving import make_server

from marketplace.extensions import db

WEBHOOK_SECRET = "whsec_test_marketplace"
Responder = Callable[["Sent"], tuple[int, dict[str, Any]]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], *, timeout: float = 15.0, what: str = "it") -> Any:
    """Poll `check` (reading the database afresh each time) until it is truthy."""
    deadline = time.monotonic() + timeout
    while True:
        db.session.rollback()  # end the read: SQLite's write lock must be free for the server
        result = check()
        db.session.rollback()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def start_localstripe() -> tuple[subprocess.Popen[bytes], str]:
    """localstripe on a free port, with a fresh state; returns the process and its URL."""
    command = shutil.which("localstripe", path=os.path.dirname(sys.executable))
    if command is None:
        raise RuntimeError("localstripe is not installed (it is a dev dependency)")
    port = free_port()
    process = subprocess.Popen(
        [command, "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            urllib.request.urlopen(f"{url}/v1/balance", timeout=1).close()
            return process, url
        except urllib.error.HTTPError:
            return process, url  # it answers (401 without a key)
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("localstripe did not start") from None
            time.sleep(0.2)


def register_webhook(localstripe_url: str, target: str, secret: str = WEBHOOK_SECRET) -> None:
    """Have localstripe send its events, signed with `secret`, to `target`."""
    data = urllib.parse.urlencode({"url": target, "secret": secret}).encode()
    request = urllib.request.Request(
        f"{localstripe_url}/_config/webhooks/marketplace", data=data, method="POST"
    )
    urllib.request.urlopen(request, timeout=5).close()


class LiveServer:
    """The app served on a real port in a thread, so localstripe can call its webhook."""

    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=5)


@dataclass
class Sent:
    """One request the Stripe SDK made, as it went over the wire."""

    method: str
    path: str
    headers: dict[str, str]
    params: dict[str, str]


class StripeHTTP(stripe.HTTPClient):
    """The SDK's HTTP client for tests: requests to paths with a responder get that answer
    (and are recorded); others go to `forward_to` (localstripe), or fail the test."""

    name = "marketplace-tests"

    def __init__(self, *, forward: bool) -> None:
        super().__init__()
        self.sent: list[Sent] = []
        self.responders: dict[str, Responder] = {}
        self._forward = stripe.RequestsClient() if forward else None

    def answer(self, path_prefix: str, responder: Responder) -> None:
        """Answer requests whose path starts with `path_prefix` with `responder`."""
        self.responders[path_prefix] = responder

    def to(self, path_prefix: str) -> list[Sent]:
        """The recorded requests to paths starting with `path_prefix`."""
        return [s for s in self.sent if s.path.startswith(path_prefix)]

    def request(
        self, method: str, url: str, headers: Any, post_data: Any = None, **_: Any
    ) -> tuple[str, int, dict[str, str]]:
        path = urllib.parse.urlsplit(url).path
        body = post_data.decode() if isinstance(post_data, bytes) else (post_data or "")
        sent = Sent(method.upper(), path, dict(headers or {}), dict(urllib.parse.parse_qsl(body)))
        self.sent.append(sent)
        for prefix, respond in self.responders.items():
            if path.startswith(prefix):
                status, payload = respond(sent)
                # Stripe's header; requests' headers are case-insensitive, this dict is not.
                request_id = f"req_{uuid.uuid4().hex[:14]}"
                return (
                    json.dumps(payload),
                    status,
                    {"Request-Id": request_id, "request-id": request_id},
                )
        if self._forward is None:
            raise AssertionError(f"unexpected Stripe request {method} {path}")
        content, status, response_headers = self._forward.request(method, url, headers, post_data)
        return content, status, dict(response_headers)

    def request_stream(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        if self._forward is not None:
            self._forward.close()


def stripe_error(status: int, kind: str, message: str, **extra: Any) -> tuple[int, dict[str, Any]]:
    """A Stripe-shaped error answer."""
    return status, {"error": {"type": kind, "message": message, **extra}}


def event(kind: str, obj: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """A Stripe event wrapping `obj`."""
    return {
        "id": event_id or f"evt_{uuid.uuid4().hex[:24]}",
        "object": "event",
        "type": kind,
        "created": int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def signed(
    payload: dict[str, Any], *, secret: str = WEBHOOK_SECRET, at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and `Stripe-Signature` header Stripe sends for `payload`."""
    body = json.dumps(payload).encode()
    timestamp = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return body, {"Stripe-Signature": f"t={timestamp},v1={digest.hexdigest()}"}


def serving(app: Flask) -> Iterator[LiveServer]:
    """A live server for the fixture's lifetime."""
    server = LiveServer(app)
    try:
        yield server
    finally:
        server.stop()
