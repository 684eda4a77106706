"""Reports in a real headless Chromium against a live server: an admin reads a report
beside the reported content and resolves it with a note (suspending the reported user, or
cancelling the reported task) or dismisses it, and sees it closed; every page passes
axe-core and is screenshotted."""

from __future__ import annotations

import csv
import io
import re
import uuid
from typing import Any

from marketplace.accounts.models import User, UserStatus
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.moderation import services as moderation
from marketplace.moderation.models import Report, ReportStatus
from marketplace.tasks.models import Task, TaskStatus
from tests.browser_support import check_page, needs_axe, needs_chromium
from tests.factories import AdminFactory, ClientFactory, ProviderFactory
from tests.money import make_bid
from tests.test_console_browser import Person, person, sign_in

pytestmark = [needs_chromium, needs_axe]


def market() -> dict[str, Any]:
    """A client's open task with a provider's bid and message, and three open reports: on
    the client (by the provider), on the message and on the task (by the client and by
    another provider); committed, with nothing read after."""
    client = ClientFactory(name="Carla Client")
    provider = ProviderFactory(name="Pedro Provider")
    bid = make_bid((40_000,), client=client, provider=provider)
    thread = messaging.bid_conversation(user=client, bid_id=bid.id)
    message = messaging.post_message(
        thread, user=provider, body="Pay me by wire instead, it is cheaper for both of us."
    )
    on_user = moderation.report(
        reporter=provider,
        target_type="user",
        target_id=client.id,
        reason="Insulted me in the thread and asked for free work.",
    )
    on_message = moderation.report(
        reporter=client,
        target_type="message",
        target_id=message.id,
        reason="Asks to be paid off the platform.",
    )
    on_task = moderation.report(
        reporter=ProviderFactory(),
        target_type="task",
        target_id=bid.task_id,
        reason="The same posting appears under three accounts.",
    )
    ids = {
        "client": client.id,
        "task": bid.task_id,
        "on_user": on_user.id,
        "on_message": on_message.id,
        "on_task": on_task.id,
    }
    db.session.commit()  # the live server needs the write lock
    return ids


def open_reports(page: Any, live_server: str, admin: Person) -> None:
    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Reports").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Reports"


def decision_form(page: Any, button: str) -> Any:
    return page.locator("form", has=page.get_by_role("button", name=button))


def state_of(report_id: uuid.UUID) -> tuple[ReportStatus, uuid.UUID | None]:
    """The report's status and closer as the live server left them, read in a transaction
    ended at once (on SQLite an open read holds off the live server's writes)."""
    db.session.expire_all()
    found = db.session.get(Report, report_id)
    assert found is not None
    state = (found.status, found.resolved_by_id)
    db.session.commit()
    return state


def test_an_admin_resolves_a_report_with_a_note_suspending_the_user(live_server, page):
    admin = person(AdminFactory, name="Mo Derator")
    ids = market()

    open_reports(page, live_server, admin)
    assert page.locator("tbody tr").count() == 3
    check_page(page, "reports-open")
    page.get_by_role("link", name="User: Carla Client").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Report on a user: Carla Client"
    reporter = page.locator("section", has=page.get_by_role("heading", name="Who reported it"))
    assert "Pedro Provider" in reporter.inner_text()
    assert "Insulted me in the thread" in reporter.inner_text()
    check_page(page, "report-on-a-user")

    form = decision_form(page, "Resolve the report")
    form.get_by_label("Note", exact=True).fill("Abusive messages, second warning ignored.")
    form.get_by_label(re.compile("Suspend the user")).check()
    form.get_by_role("button", name="Resolve the report").click()
    page.wait_for_url(f"{live_server}/admin/reports/{ids['on_user']}")
    assert "The user was suspended." in page.get_by_role("status").inner_text()
    outcome = page.locator("section", has=page.get_by_role("heading", name="Outcome"))
    text = outcome.inner_text()
    assert "resolved" in text and "Mo Derator" in text and admin.email in text
    assert "Abusive messages, second warning ignored." in text
    assert page.get_by_role("button", name="Resolve the report").count() == 0
    check_page(page, "report-resolved")

    assert state_of(ids["on_user"]) == (ReportStatus.RESOLVED, admin.id)
    user = db.session.get(User, ids["client"])
    suspended = user is not None and user.status == UserStatus.SUSPENDED
    db.session.commit()
    assert suspended

    page.get_by_role("navigation", name="Console").get_by_role("link", name="Reports").click()
    assert page.locator("tbody tr").count() == 2  # no longer among the open ones
    page.get_by_label("Status").select_option("resolved")
    page.get_by_role("button", name="Show").click()
    assert page.locator("tbody tr").count() == 1
    assert "Carla Client" in page.locator("tbody tr").inner_text()
    check_page(page, "reports-resolved")
    href = page.get_by_role("link", name="Download these reports as CSV").get_attribute("href")
    assert href is not None and "format=csv" in href and "status=resolved" in href
    download = page.request.get(f"{live_server}{href}")
    assert download.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(download.text())))
    assert [row[2] for row in rows[1:]] == ["resolved"]
    assert rows[1][8:] == [admin.email, "Abusive messages, second warning ignored."]


def test_an_admin_resolves_a_task_report_by_cancelling_the_task(live_server, page):
    admin = person(AdminFactory)
    ids = market()

    open_reports(page, live_server, admin)
    page.get_by_label("About").select_option("task")
    page.get_by_role("button", name="Show").click()
    assert page.locator("tbody tr").count() == 1
    page.locator("tbody tr").get_by_role("link").click()
    reported = page.locator("section", has=page.get_by_role("heading", name="What was reported"))
    assert "Tier-one support tickets for a Shopify store" in reported.inner_text()
    assert "Answer order-status and returns tickets" in reported.inner_text()  # its summary
    check_page(page, "report-on-a-task")

    form = decision_form(page, "Resolve the report")
    form.get_by_label("Note", exact=True).fill("Duplicate posting used to harvest bids.")
    form.get_by_label(re.compile("Cancel the task")).check()
    form.get_by_role("button", name="Resolve the report").click()
    assert "The task was cancelled." in page.get_by_role("status").inner_text()

    page.get_by_role("link", name="Tier-one support tickets for a Shopify store").first.click()
    assert page.get_by_role("heading", level=1).inner_text().startswith("Review: ")
    assert "cancelled" in page.locator("#decision").inner_text()
    check_page(page, "task-page-after-cancel")

    task = db.session.get(Task, ids["task"])
    cancelled = task is not None and task.status == TaskStatus.CANCELLED
    db.session.commit()
    assert cancelled


def test_an_admin_dismisses_a_report_and_a_blank_note_is_refused(live_server, page):
    admin = person(AdminFactory)
    ids = market()

    open_reports(page, live_server, admin)
    page.get_by_role("link", name="Message: Message from Pedro Provider").click()
    reported = page.locator("section", has=page.get_by_role("heading", name="What was reported"))
    assert "Pay me by wire instead" in reported.inner_text()  # the message itself

    form = decision_form(page, "Dismiss the report")
    # Blanks pass the browser's check of a required field, not the server's.
    form.get_by_label("Note", exact=True).fill("  ")
    form.get_by_role("button", name="Dismiss the report").click()
    assert "Write a note" in page.get_by_role("alert").inner_text()
    note = decision_form(page, "Dismiss the report").get_by_label("Note", exact=True)
    assert note.get_attribute("aria-invalid") == "true"
    check_page(page, "report-note-missing")
    assert state_of(ids["on_message"]) == (ReportStatus.OPEN, None)

    form = decision_form(page, "Dismiss the report")
    form.get_by_label("Note", exact=True).fill("Wired through the platform's payments: allowed.")
    form.get_by_role("button", name="Dismiss the report").click()
    page.wait_for_url(f"{live_server}/admin/reports/{ids['on_message']}")
    outcome = page.locator("section", has=page.get_by_role("heading", name="Outcome"))
    assert "dismissed" in outcome.inner_text()
    check_page(page, "report-dismissed")
    assert state_of(ids["on_message"]) == (ReportStatus.DISMISSED, admin.id)
