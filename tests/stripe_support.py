"""Stripe in tests: localstripe in a subprocess, its events delivered to the app by the test
(or, for the one end-to-end test, by localstripe to the app on a real port), requests
intercepted at the SDK's HTTP boundary, and webhooks signed as Stripe does.

Nothing here depends on a quiet machine: localstripe's events are fetched from its Event
list and posted by the test, in order, so no test waits for its own delivery (a single
unretried POST a second later, as late as the scheduler makes it); what must still wait
on a real process waits on the observable outcome for up to PATIENCE and then says what
did not happen.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import stripe
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from marketplace.extensions import db

WEBHOOK_SECRET = "whsec_test_marketplace"
LOCALSTRIPE_KEY = "sk_test_marketplace"
Responder = Callable[["Sent"], tuple[int, dict[str, Any]]]

#: How long a real process may take (localstripe starting or answering, a live delivery)
#: before a test gives up: far beyond a quiet machine's need, so load alone never fails one.
PATIENCE = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], Any], *, timeout: float = PATIENCE, what: str = "it") -> Any:
    """Poll `check` (reading the database afresh each time) until it is truthy; fail
    saying what did not happen once `timeout` seconds have passed."""
    started = time.monotonic()
    while True:
        db.session.rollback()  # end the read: SQLite's write lock must be free for the server
        result = check()
        db.session.rollback()
        if result:
            return result
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.1)


def start_localstripe(*, attempts: int = 3) -> tuple[subprocess.Popen[bytes], str]:
    """localstripe on a free port, with a fresh state; returns the process and its URL.
    A process that exits at once (another program took the port first) is tried again
    on another port."""
    command = shutil.which("localstripe", path=os.path.dirname(sys.executable))
    if command is None:
        raise RuntimeError("localstripe is not installed (it is a dev dependency)")
    output = ""
    for _ in range(attempts):
        url = f"http://127.0.0.1:{free_port()}"
        with tempfile.TemporaryFile() as log:  # not a pipe: a full pipe would block it
            process = subprocess.Popen(
                [command, "--port", url.rsplit(":", 1)[1], "--from-scratch"],
                stdout=subprocess.DEVNULL,
                stderr=log,
            )
            if _answers(url, process):
                return process, url
            log.seek(0)
            output = log.read().decode(errors="replace")[-2000:]
    raise RuntimeError(f"localstripe exited at start {attempts} times; last output:\n{output}")


def _answers(url: str, process: subprocess.Popen[bytes]) -> bool:
    """Whether localstripe came up at `url` (False: it exited); raises if it neither
    answers nor exits within PATIENCE."""
    started = time.monotonic()
    while process.poll() is None:
        try:
            urllib.request.urlopen(f"{url}/v1/balance", timeout=PATIENCE).close()
            return True
        except urllib.error.HTTPError:
            return True  # it answers (401 without a key)
        except OSError:
            if time.monotonic() - started > PATIENCE:
                stop(process)
                raise RuntimeError(f"localstripe did not answer within {PATIENCE:.0f} s") from None
            time.sleep(0.2)
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    """End a process we started, and reap it."""
    process.terminate()
    try:
        process.wait(timeout=PATIENCE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def register_webhook(localstripe_url: str, target: str, secret: str = WEBHOOK_SECRET) -> None:
    """Have localstripe send its events, signed with `secret`, to `target`."""
    data = urllib.parse.urlencode({"url": target, "secret": secret}).encode()
    request = urllib.request.Request(
        f"{localstripe_url}/_config/webhooks/marketplace", data=data, method="POST"
    )
    urllib.request.urlopen(request, timeout=PATIENCE).close()


class EventFeed:
    """localstripe's events, delivered to the app's webhook by the test itself: each new
    one once, oldest first, signed as Stripe signs, by a request whose outbox pass
    processes it before `deliver` returns. Events made before the feed are not the
    test's (localstripe keeps them for the whole module)."""

    def __init__(self, localstripe_url: str, client: FlaskClient) -> None:
        self.url = localstripe_url
        self.client = client
        self.seen = {e["id"] for e in self.events()}

    def events(self) -> list[dict[str, Any]]:
        """Every event localstripe has made, oldest first (its list's order)."""
        found: list[dict[str, Any]] = []
        while True:
            query = {"limit": 100, **({"starting_after": found[-1]["id"]} if found else {})}
            request = urllib.request.Request(
                f"{self.url}/v1/events?{urllib.parse.urlencode(query)}",
                headers={"Authorization": f"Bearer {LOCALSTRIPE_KEY}"},
            )
            with urllib.request.urlopen(request, timeout=PATIENCE) as answer:
                page = json.load(answer)
            found.extend(page["data"])
            if not page["has_more"]:
                return found

    def deliver(self) -> list[str]:
        """Post the events made since the last call; returns their types."""
        delivered = []
        for item in self.events():
            if item["id"] in self.seen:
                continue
            self.seen.add(item["id"])
            body, headers = signed(item)
            answer = self.client.post(
                "/api/v1/webhooks/stripe",
                data=body,
                headers=headers,
                content_type="application/json",
            )
            assert answer.status_code == 200, (item["type"], answer.get_json())
            delivered.append(str(item["type"]))
        return delivered


class LiveServer:
    """The app served on a real port in a thread, so localstripe can call its webhook."""

    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.thread.join(timeout=PATIENCE)


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
