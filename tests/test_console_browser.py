"""The moderation console in a real headless Chromium against a live server: signing in,
the guard on every console URL, CSRF, and every page checked by axe-core and screenshotted
(tests/screenshots/)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace import permissions
from marketplace.audit import AuditEntry
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import OutboxEntry, OutboxStatus
from marketplace.moderation import services as moderation
from marketplace.payments import delivery, disputes, funding
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Confidentiality
from tests.browser_support import check_page, needs_axe, needs_chromium, screenshot
from tests.factories import PASSWORD, AdminFactory, ClientFactory, ProviderFactory, task_draft
from tests.money import make_deal

pytestmark = [needs_chromium, needs_axe]


@dataclass(frozen=True)
class Person:
    """What a browser test needs of a user, read before the test's transaction ends: on
    SQLite any read takes the write lock that the live server's requests wait for."""

    id: uuid.UUID
    email: str
    totp_secret: str | None

    def code(self) -> str:
        return pyotp.TOTP(self.totp_secret).now() if self.totp_secret else ""


def person(factory: Any, **attributes: Any) -> Person:
    """A user made by `factory`, committed, as a Person."""
    user = factory(**attributes)
    found = Person(user.id, user.email, user.totp_secret)
    db.session.commit()
    return found


def sign_in(page: Any, live_server: str, admin: Person, *, code: str | None = None) -> None:
    """Fill in and send the console's sign-in form as an admin does."""
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Two-factor code").fill(code if code is not None else admin.code())
    page.get_by_role("button", name="Sign in").click()


def api_sign_in(page: Any, live_server: str, user: Person) -> None:
    """Sign a party in through the API in this browser (the console will not have them)."""
    token = page.request.get(f"{live_server}/api/v1/auth/csrf").json()["csrf_token"]
    response = page.request.post(
        f"{live_server}/api/v1/auth/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert response.status == 200, response.text()


def console_get_urls(app: Flask) -> list[str]:
    """Every GET URL of the console, from the URL map, with made-up ids in its variables."""
    urls = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/admin") or rule.endpoint.endswith(".static"):
            continue
        if "GET" not in (rule.methods or ()):
            continue
        values = {name: uuid.uuid4() for name in rule.arguments}
        with app.test_request_context():
            urls.append(app.url_for(rule.endpoint, **values))
    return sorted(set(urls))


def test_an_admin_signs_in_with_the_second_factor_and_out_again(live_server, page):
    admin = person(AdminFactory)
    page.goto(f"{live_server}/admin/")
    assert page.url == f"{live_server}/admin/login?next=/admin/"
    check_page(page, "login")

    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"
    assert page.get_by_role("status").inner_text() == f"Signed in as {admin.email}."
    nav = page.get_by_role("navigation", name="Console")
    assert nav.get_by_role("link", name="Dashboard").get_attribute("aria-current") == "page"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/admin/login")
    assert page.get_by_role("status").inner_text() == "You are signed out."
    page.goto(f"{live_server}/admin/")
    assert "/admin/login" in page.url


def test_a_wrong_password_or_code_is_refused_on_the_form(live_server, page):
    admin = person(AdminFactory)
    page.goto(f"{live_server}/admin/login")
    page.get_by_label("E-mail address").fill(admin.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    assert page.get_by_role("alert").inner_text() == "Wrong e-mail address or password."
    check_page(page, "login-refused")

    sign_in(page, live_server, admin, code="123456")
    assert "wrong, expired or already used" in page.get_by_role("alert").inner_text()
    page.goto(f"{live_server}/admin/")
    assert "/admin/login" in page.url


@pytest.mark.parametrize("factory", [ClientFactory, ProviderFactory])
def test_a_party_is_refused_on_every_console_url(app, live_server, page, factory):
    user = person(factory)
    api_sign_in(page, live_server, user)
    urls = [url for url in console_get_urls(app) if url != "/admin/login"]
    assert "/admin/" in urls
    for url in urls:
        response = page.goto(f"{live_server}{url}")
        assert response is not None and response.status == 404, url
        assert response.headers["content-type"].startswith("application/json"), url
        assert "console" not in page.content().lower(), url


def test_anonymous_visitors_are_sent_to_sign_in_from_every_console_url(app, live_server, page):
    for url in console_get_urls(app):
        page.goto(f"{live_server}{url}")
        if url == "/admin/login":
            continue
        assert re.search(r"/admin/login\?next=", page.url), url
        assert page.get_by_role("heading", level=1).inner_text() == "Sign in to the console"


def test_a_console_form_without_its_csrf_token_is_refused(live_server, page):
    admin = person(AdminFactory)
    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")
    # A page of another site would post the form without the token it cannot read.
    page.evaluate("() => document.querySelector('form.sign-out input[name=csrf_token]').remove()")
    page.get_by_role("button", name="Sign out").click()
    assert page.get_by_role("heading", level=1).inner_text() == "The form has expired"
    check_page(page, "csrf-refused")
    page.goto(f"{live_server}/admin/")
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"  # still signed in


#: Every console page with the query strings worth seeing, for axe-core and the screenshots.
PAGES = (
    "/admin/",
    "/admin/users/",
    "/admin/users/?q=example",
    "/admin/disputes/",
    "/admin/tasks/",
    "/admin/reports/",
    "/admin/reports/?status=all",
    "/admin/reports/?status=dismissed&target_type=task",
    "/admin/operations/",
    "/admin/operations/outbox?status=failed",
    "/admin/operations/outbox?status=pending",
    "/admin/operations/webhooks?view=unprocessed",
    "/admin/operations/webhooks?view=ignored",
    "/admin/operations/audit",
    "/admin/operations/audit?object_id=not-an-id",
    "/admin/records/audit_records/",
    "/admin/records/outbox_records/",
    "/admin/records/webhook_records/",
)


def test_every_console_page_is_in_the_axe_list(app):
    """A new page without an id in its URL must be added to PAGES (and so to axe's run)."""
    covered = {url.split("?")[0] for url in PAGES} | {"/admin/login"}
    pages = {
        url
        for url in console_get_urls(app)
        if not re.search(r"[0-9a-f]{8}-", url)
        and not url.startswith("/admin/records/")  # Flask-Admin's: the lists above
    }
    assert pages - covered == set()


def world(admin_email: str) -> dict[str, Any]:
    """Something in every queue the dashboard counts, and a failed e-mail to retry."""
    newcomer = ClientFactory()
    permissions.acting_client_profile(newcomer).created_at = utcnow()  # reviewed first
    draft = task_draft(confidentiality=Confidentiality.PUBLIC, timezone_need=None)
    task = tasks.create_task(user=newcomer, draft=draft)
    lifecycle.publish_task(user=newcomer, task_id=task.id, confirm_strategic=False)
    deal = make_deal((40_000, 60_000))
    funding.fund(user=deal.client, milestone_id=deal.milestone_ids[0])
    delivery.submit(
        user=deal.provider, milestone_id=deal.milestone_ids[0], note="Done.", deliverables=[]
    )
    disputes.open_dispute(user=deal.client, milestone_id=deal.milestone_ids[0], reason="Late.")
    moderation.report(
        reporter=deal.provider, target_type="user", target_id=deal.client.id, reason="Rude."
    )
    failed = OutboxEntry(
        kind="email",
        payload={"to": "ops@example.com", "subject": "Weekly digest", "body": "Hi", "html": None},
        status=OutboxStatus.FAILED,
        attempts=5,
        last_error="SMTP server said no",
    )
    db.session.add_all(
        [
            failed,
            OutboxEntry(
                kind="payments.transfer",
                payload={},
                status=OutboxStatus.FAILED,
                attempts=5,
                last_error="=cmd|' /C calc'!A0",
            ),
        ]
    )
    db.session.flush()
    ids = {"failed_email": failed.id, "client": deal.client.email}
    db.session.commit()  # and nothing read after it: the live server needs the write lock
    return ids


def test_the_dashboard_counts_every_queue_and_draws_its_charts(live_server, page):
    admin = person(AdminFactory)
    world(admin.email)
    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")
    counts = {
        text.split("\n", 1)[1].strip(): int(text.split("\n", 1)[0])
        for text in (card.inner_text() for card in page.locator(".card").all())
    }
    assert counts == {
        "Tasks in review": 1,
        "Open reports": 1,
        "Open disputes": 1,
        "Escrow past the age guard": 0,
        "Failed outbox entries": 2,
        "Contracts with an SLA breach": 0,
    }
    page.get_by_role("link", name="Failed outbox entries").wait_for()
    charts = page.locator("figure.chart svg[role=img]")
    assert charts.count() == 6
    assert page.locator("svg title", has_text="Gross volume and fees by week (USD)").count() == 1
    volume = page.locator("figure.chart", has_text="Gross volume and fees by week (USD)")
    volume.get_by_text("The numbers").click()
    last_week = volume.locator("tbody tr").last
    assert last_week.locator("td").all_inner_texts() == ["400", "0"]
    check_page(page, "dashboard")


def test_a_failed_outbox_entry_is_retried_from_the_browser(live_server, page, sent_mail):
    admin = person(AdminFactory)
    ids = world(admin.email)
    sign_in(page, live_server, admin)
    page.goto(f"{live_server}/admin/")
    page.get_by_role("link", name="Failed outbox entries").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Outbox"
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    check_page(page, "outbox-failed")
    page.get_by_role("row", name=re.compile("SMTP server said no")).get_by_role(
        "button", name=re.compile("Retry")
    ).click()
    assert "queued again" in page.get_by_role("status").inner_text()
    assert page.locator("tbody tr").count() == 1
    check_page(page, "outbox-after-retry")

    entry = db.session.get(OutboxEntry, ids["failed_email"])
    assert entry is not None and entry.status == OutboxStatus.SENT
    assert "Weekly digest" in [mail.subject for mail in sent_mail]
    trail = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.target_id == ids["failed_email"])
    ).all()
    assert [(e.action, e.actor_id) for e in trail] == [("outbox.retry", admin.id)]
    db.session.commit()

    page.get_by_role("link", name="Audit log").first.click()
    page.get_by_label("Action").fill("outbox.retry")
    page.get_by_role("button", name="Filter").click()
    assert page.locator("tbody tr").count() == 1
    assert admin.email in page.locator("tbody tr").inner_text()
    check_page(page, "audit-filtered")


def test_every_list_exports_as_csv(live_server, page):
    admin = person(AdminFactory)
    world(admin.email)
    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")

    def download(path: str) -> list[list[str]]:
        response = page.request.get(f"{live_server}{path}")
        assert response.status == 200, path
        assert response.headers["content-type"].startswith("text/csv"), path
        assert "attachment" in response.headers["content-disposition"]
        return list(csv.reader(io.StringIO(response.text())))

    outbox_rows = download("/admin/operations/outbox?status=failed&format=csv")
    assert outbox_rows[0] == [
        "id", "kind", "status", "attempts", "created_at", "next_attempt_at", "last_error"
    ]  # fmt: skip
    assert sorted((row[1], row[2], row[3]) for row in outbox_rows[1:]) == [
        ("email", "failed", "5"),
        ("payments.transfer", "failed", "5"),
    ]
    # A cell a spreadsheet would run as a formula is defused.
    assert "'=cmd|' /C calc'!A0" in [row[6] for row in outbox_rows[1:]]

    audit_rows = download(f"/admin/operations/audit?actor={admin.email}&format=csv")
    assert audit_rows[0] == ["at", "actor", "action", "object_type", "object_id", "details"]
    assert [(row[1], row[2], row[3], row[4]) for row in audit_rows[1:]] == [
        (admin.email, "console.sign_in", "user", str(admin.id))
    ]
    webhook_rows = download("/admin/operations/webhooks?view=unprocessed&format=csv")
    assert webhook_rows == [
        ["event_id", "type", "status", "received_at", "processed_at", "job_status", "job_error"]
    ]
    records = download("/admin/records/audit_records/export/csv/")
    assert len(records) == 2 and "console.sign_in" in records[1]


def test_every_page_of_the_console_passes_axe(live_server, page):
    admin = person(AdminFactory)
    world(admin.email)
    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")
    external: list[str] = []
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server) else external.append(request.url)
        ),
    )
    for url in PAGES:
        response = page.goto(f"{live_server}{url}")
        assert response is not None
        assert response.status in (200, 422), url
        check_page(page, "page" + re.sub(r"[/?=&]+", "-", url))
    page.goto(f"{live_server}/admin/no-such-page")
    screenshot(page, "unknown-page")
    assert external == [], "every asset is served locally"
