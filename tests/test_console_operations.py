"""The console's Operations page through the test client: filters, retries, exports, and
Flask-Admin's lists staying read-only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from marketplace import audit
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from marketplace.jobs.models import OutboxEntry, OutboxStatus
from marketplace.payments.models import EventStatus, WebhookEvent
from tests.console_support import signed_in
from tests.factories import AdminFactory, ClientFactory


@pytest.fixture
def admin():
    return AdminFactory()


@pytest.fixture
def console(client, admin):
    return signed_in(client, admin)


def rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def log(actor, action: str, target, when: datetime) -> None:
    entry = audit.record(actor=actor, action=action, target_type="user", target_id=target.id)
    entry.at = when
    db.session.commit()


def test_the_audit_log_filters_by_actor_action_object_and_dates(console, admin):
    other, target = AdminFactory(), ClientFactory()
    log(admin, "suspend_user", target, datetime(2026, 2, 1, 10, tzinfo=UTC))
    log(admin, "reinstate_user", target, datetime(2026, 2, 3, 23, 59, tzinfo=UTC))
    log(other, "suspend_user", other, datetime(2026, 2, 5, tzinfo=UTC))
    base = "/admin/operations/audit?format=csv"

    def actions(query: str) -> list[str]:
        return [row[2] for row in rows(console.get(f"{base}&{query}"))[1:]]

    assert actions(f"actor={admin.email}&object_type=user") == [
        "console.sign_in",  # this test's own sign-in, today
        "reinstate_user",
        "suspend_user",
    ]
    assert actions(f"actor={other.email}") == ["suspend_user"]
    assert actions("actor=nobody@example.com") == []
    assert actions("action=suspend_user") == ["suspend_user", "suspend_user"]
    assert actions(f"object_type=user&object_id={target.id}") == [
        "reinstate_user",
        "suspend_user",
    ]
    assert actions("since=2026-02-02&until=2026-02-03") == ["reinstate_user"]  # `until` included
    assert actions("action=console.") == ["console.sign_in"]  # a prefix
    page = console.get("/admin/operations/audit?action=suspend_user")
    assert page.status_code == 200
    assert page.get_data(as_text=True).count("<code>suspend_user</code>") == 2


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("object_id=12", "An object id looks like"),
        ("since=yesterday", "Enter a date as YYYY-MM-DD."),
        ("since=2026-02-03&until=2026-02-01", "The end date is before the start date."),
        ("until=9999-12-31", "Enter a date between 1970 and 9000."),
    ],
)
def test_a_filter_that_cannot_apply_is_explained(console, query, message):
    response = console.get(f"/admin/operations/audit?{query}")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html


def test_retrying_an_entry_that_did_not_fail_is_refused_with_a_message(console, admin):
    entry = OutboxEntry(kind="email", payload={}, status=OutboxStatus.PENDING)
    db.session.add(entry)
    db.session.commit()
    response = console.post(f"/admin/operations/outbox/{entry.id}/retry")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/operations/outbox?status=failed&page=1"
    page = console.get(response.headers["Location"]).get_data(as_text=True)
    assert "flash-error" in page
    assert db.session.scalars(sa.select(AuditEntry.action)).all() == ["console.sign_in"]
    assert entry.status == OutboxStatus.PENDING


def test_a_retry_without_the_csrf_token_changes_nothing(console):
    entry = OutboxEntry(kind="email", payload={}, status=OutboxStatus.FAILED, attempts=5)
    db.session.add(entry)
    db.session.commit()
    response = console.post(f"/admin/operations/outbox/{entry.id}/retry", csrf=False)
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)
    assert entry.status == OutboxStatus.FAILED


def test_webhook_events_show_the_job_that_processes_them(console):
    db.session.add_all(
        [
            WebhookEvent(gateway="stripe", event_id="evt_1", type="payment_intent.succeeded",
                         payload={}),
            WebhookEvent(gateway="stripe", event_id="evt_2", type="customer.created", payload={},
                         status=EventStatus.IGNORED),
            OutboxEntry(kind="stripe.event", payload={"event_id": "evt_1"},
                        status=OutboxStatus.FAILED, attempts=5, last_error="No such payment"),
        ]
    )  # fmt: skip
    db.session.commit()
    unprocessed = rows(console.get("/admin/operations/webhooks?view=unprocessed&format=csv"))
    assert [row[:3] + row[5:] for row in unprocessed[1:]] == [
        ["evt_1", "payment_intent.succeeded", "received", "failed", "No such payment"]
    ]
    ignored = rows(console.get("/admin/operations/webhooks?view=ignored&format=csv"))
    assert [row[:3] for row in ignored[1:]] == [["evt_2", "customer.created", "ignored"]]
    page = console.get("/admin/operations/webhooks").get_data(as_text=True)
    assert "No such payment" in page and "evt_2" not in page
    overview = console.get("/admin/operations/").get_data(as_text=True)
    assert "Unprocessed webhook events" in overview


def test_the_lists_page_through_many_entries(console, admin, app):
    for n in range(app.config["PAGE_SIZE_DEFAULT"] + 1):
        audit.record(actor=admin, action=f"bulk.{n}", target_type="user", target_id=admin.id)
    db.session.commit()
    first = console.get("/admin/operations/audit?action=bulk.").get_data(as_text=True)
    assert 'rel="next"' in first and 'rel="prev"' not in first
    second = console.get("/admin/operations/audit?action=bulk.&page=2").get_data(as_text=True)
    assert second.count("<code>bulk.") == 1 and 'rel="prev"' in second


@pytest.mark.parametrize("view", ["audit_records", "outbox_records", "webhook_records"])
def test_flask_admin_lists_are_read_only_and_guarded(client, console, view, api):
    assert console.get(f"/admin/records/{view}/").status_code == 200
    for action in ("new", "edit"):
        assert console.get(f"/admin/records/{view}/{action}/").status_code in (302, 403, 404)
    assert console.post(f"/admin/records/{view}/delete/", {"id": "x"}).status_code in (
        302,
        403,
        404,
        405,
    )
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEntry)) == 1
    api.login(ClientFactory())
    refused = api.client.get(f"/admin/records/{view}/")
    assert refused.status_code == 404 and refused.is_json


def test_the_outbox_records_never_show_a_payload(console):
    # An e-mail's payload holds its links and their tokens (a password reset's, say).
    entry = OutboxEntry(
        kind="email",
        payload={"body": "Reset: https://app.example/reset-password#token=SECRET-RESET-TOKEN"},
        status=OutboxStatus.PENDING,
    )
    db.session.add(entry)
    db.session.commit()
    details = console.get(f"/admin/records/outbox_records/details/?id={entry.id}")
    assert details.status_code == 200
    assert "SECRET-RESET-TOKEN" not in details.get_data(as_text=True)
    listed = console.get("/admin/records/outbox_records/").get_data(as_text=True)
    assert "SECRET-RESET-TOKEN" not in listed
    export = console.get("/admin/records/outbox_records/export/csv/")
    assert export.status_code == 200
    assert "SECRET-RESET-TOKEN" not in export.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/admin/operations/audit?page=%C2%B2",  # a digit, but not 0-9
        "/admin/operations/audit?page=" + "9" * 5000,
        "/admin/operations/audit?_method=X&_external=1&_scheme=x",
        "/admin/tasks/?page=-1",
        "/admin/reports/?page=%C2%B2",
        "/admin/users/?page=" + "9" * 5000,
        "/admin/disputes/?_anchor=x&page=2",
        "/admin/records/audit_records/?page=-1",
        "/admin/records/audit_records/?page=99999999999&page_size=100000",
        "/admin/records/outbox_records/details/?id=not-an-id",
    ],
)
def test_odd_query_arguments_never_break_a_page(console, path):
    assert console.get(path).status_code in (200, 302)
