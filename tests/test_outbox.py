"""The outbox: written with the state change, delivered after commit, retried with backoff."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.jobs import outbox
from marketplace.jobs.mail import Mail
from marketplace.jobs.models import OutboxEntry, OutboxStatus


class FlakyBackend:
    """Fails the first `failures` sends, then delivers."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[Mail] = []

    def send(self, mail: Mail) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("SMTP server unreachable")
        self.sent.append(mail)


@pytest.fixture
def flaky(app):
    def install(failures: int) -> FlakyBackend:
        backend = FlakyBackend(failures)
        app.extensions["mail_backend"] = backend
        return backend

    yield install
    app.extensions.pop("mail_backend", None)


def _make_due(entry: OutboxEntry) -> None:
    entry.next_attempt_at = utcnow() - timedelta(seconds=1)
    db.session.commit()


def test_entry_is_not_delivered_when_the_transaction_rolls_back(sent_mail):
    outbox.enqueue_email(to="a@example.com", subject="Hi", body="...")
    db.session.rollback()

    assert outbox.deliver_due() == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxEntry)) == 0
    assert sent_mail == []


def test_failed_delivery_is_retried_with_backoff_then_sent(flaky, app):
    backend = flaky(failures=2)
    entry = outbox.enqueue_email(to="a@example.com", subject="Hi", body="Body")
    db.session.commit()

    before = utcnow()
    assert outbox.deliver_due() == 1
    assert (entry.status, entry.attempts) == (OutboxStatus.PENDING, 1)
    assert entry.last_error == "ConnectionError: SMTP server unreachable"
    base = app.config["OUTBOX_BACKOFF_SECONDS"]
    assert entry.next_attempt_at >= before + timedelta(seconds=base)
    assert outbox.deliver_due() == 0, "not due again before its backoff"

    _make_due(entry)
    outbox.deliver_due()
    assert entry.attempts == 2
    assert entry.next_attempt_at >= utcnow() + timedelta(seconds=2 * base - 5)

    _make_due(entry)
    outbox.deliver_due()
    assert (entry.status, entry.attempts, entry.last_error) == (OutboxStatus.SENT, 3, None)
    assert backend.sent == [Mail(to="a@example.com", subject="Hi", body="Body")]
    _make_due(entry)
    assert outbox.deliver_due() == 0, "a sent entry is never sent twice"


def test_entry_fails_for_good_after_the_last_attempt(flaky, app, monkeypatch):
    monkeypatch.setitem(app.config, "OUTBOX_MAX_ATTEMPTS", 3)
    backend = flaky(failures=10)
    entry = outbox.enqueue_email(to="a@example.com", subject="Hi", body="Body")
    db.session.commit()

    for _ in range(3):
        _make_due(entry)
        outbox.deliver_due()

    assert (entry.status, entry.attempts) == (OutboxStatus.FAILED, 3)
    assert entry.processed_at is not None
    _make_due(entry)
    assert outbox.deliver_due() == 0
    assert backend.sent == []


def test_request_that_commits_mail_delivers_it_in_process(api, sent_mail):
    api.post(
        "auth/signup",
        json={
            "email": "new@example.com",
            "password": "long-enough-pw",
            "name": "New",
            "role": "client",
        },
    )

    # The welcome and the link to confirm the address.
    assert [m.to for m in sent_mail] == ["new@example.com", "new@example.com"]
    entries = db.session.scalars(sa.select(OutboxEntry)).all()
    assert [e.status for e in entries] == [OutboxStatus.SENT, OutboxStatus.SENT]


def test_deliver_outbox_command(app, sent_mail):
    outbox.enqueue_email(to="b@example.com", subject="Hi", body="...")
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["deliver-outbox"])

    assert result.exit_code == 0
    assert "delivered 1 outbox entries" in result.output
    assert [m.to for m in sent_mail] == ["b@example.com"]


def test_unknown_kind_is_refused():
    with pytest.raises(ValueError, match="no outbox handler"):
        outbox.enqueue("carrier-pigeon", {})


def test_run_periodic_once_runs_every_periodic_job(app, sent_mail):
    outbox.enqueue_email(to="c@example.com", subject="Hi", body="...")
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["run-periodic", "--once"])

    assert result.exit_code == 0, result.output
    assert "deliver-outbox: 1" in result.output
    assert "expire-tasks: 0" in result.output
    assert "refresh-availability: 0" in result.output
    assert [m.to for m in sent_mail] == ["c@example.com"]
