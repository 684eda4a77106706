"""The task review queue in a real headless Chromium against a live server: an admin
approves a task from the queue and the API shows it open; rejects one with a reason and
the client finds the notification; every page passes axe-core and is screenshotted."""

from __future__ import annotations

import re
import uuid
from typing import Any

from marketplace import permissions
from marketplace.accounts.models import User
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Confidentiality
from tests.browser_support import check_page, needs_axe, needs_chromium
from tests.factories import PASSWORD, AdminFactory, ClientFactory, task_draft
from tests.test_console_browser import Person, person, sign_in

pytestmark = [needs_chromium, needs_axe]

FLAGGED_SUMMARY = (
    "Answer order-status tickets in Gorgias, about 200 a week.\n"
    "Pay me via PayPal to skip the fees, and send questions on WhatsApp."
)


def in_review(client: Person, title: str, **draft: Any) -> uuid.UUID:
    """A task of `client` (a new client) published to the review queue; committed."""
    user = db.session.get(User, client.id)
    permissions.acting_client_profile(user).created_at = utcnow()
    fields = {"confidentiality": Confidentiality.PUBLIC, "timezone_need": None, **draft}
    task = tasks.create_task(user=user, draft=task_draft(title=title, **fields))
    lifecycle.publish_task(user=user, task_id=task.id, confirm_strategic=False)
    task_id = task.id
    db.session.commit()  # and nothing read after it: the live server needs the write lock
    return task_id


def api_of(browser: Any, live_server: str, user: Person) -> Any:
    """An API client signed in as `user` in a browser context of its own (as the web
    frontend would be)."""
    context = browser.new_context()
    request = context.request
    token = request.get(f"{live_server}/api/v1/auth/csrf").json()["csrf_token"]
    response = request.post(
        f"{live_server}/api/v1/auth/login",
        data={"email": user.email, "password": PASSWORD},
        headers={"X-CSRFToken": token},
    )
    assert response.status == 200, response.text()
    return request


def open_queue(page: Any, live_server: str, admin: Person) -> None:
    sign_in(page, live_server, admin)
    page.wait_for_url(f"{live_server}/admin/")
    page.get_by_role("navigation", name="Console").get_by_role("link", name="Tasks").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Tasks in review"


def test_an_admin_approves_a_task_from_the_queue_and_the_api_shows_it_open(
    live_server, page, browser
):
    admin = person(AdminFactory)
    client = person(ClientFactory, name="Nora Newcomer")
    task_id = in_review(client, "Weekend support desk", summary=FLAGGED_SUMMARY)
    in_review(person(ClientFactory), "Inbox triage for a bakery")

    open_queue(page, live_server, admin)
    rows = page.locator("tbody tr")
    assert rows.count() == 2
    assert "Weekend support desk" in rows.first.inner_text()  # the oldest first
    assert "Nora Newcomer" in rows.first.inner_text()
    check_page(page, "tasks-queue")

    page.get_by_role("link", name="Weekend support desk").click()
    assert page.get_by_role("heading", level=1).inner_text() == "Review: Weekend support desk"
    client_section = page.locator("section", has=page.get_by_role("heading", name="The client"))
    assert client.email in client_section.inner_text()
    assert "0 other tasks" in client_section.inner_text()
    places = page.get_by_role("table", name=re.compile("blocklist"))
    assert places.locator("tbody tr").count() == 2
    assert places.locator("tbody tr").first.locator("td").nth(2).inner_text() == "Summary"
    posting = page.locator("section", has=page.get_by_role("heading", name="The posting"))
    assert posting.locator("mark").all_inner_texts() == ["Pay me via PayPal", "WhatsApp"]
    check_page(page, "task-review")

    page.get_by_role("button", name="Approve the task").click()
    page.wait_for_url(f"{live_server}/admin/tasks/")
    assert "Approved" in page.get_by_role("status").inner_text()
    assert page.locator("tbody tr").count() == 1
    check_page(page, "tasks-queue-after-approval")

    api = api_of(browser, live_server, client)
    task = api.get(f"{live_server}/api/v1/tasks/{task_id}").json()
    assert task["status"] == "open"
    subjects = [
        n["subject"] for n in api.get(f"{live_server}/api/v1/notifications").json()["items"]
    ]
    assert "Your task is live: Weekend support desk" in subjects

    page.goto(f"{live_server}/admin/tasks/{task_id}")
    assert "there is nothing to decide" in page.locator("#decision").inner_text()
    check_page(page, "task-review-approved")


def test_an_admin_rejects_a_task_with_a_reason_the_client_is_notified_of(
    live_server, page, browser
):
    admin = person(AdminFactory)
    client = person(ClientFactory, name="Ravi Rejected")
    task_id = in_review(client, "Crypto payouts helper", summary=FLAGGED_SUMMARY)

    open_queue(page, live_server, admin)
    page.get_by_role("link", name="Crypto payouts helper").click()

    # A reason of blanks gets past the browser's check but not the server's.
    reason = page.get_by_label("Reason for the client")
    reason.fill("   ")
    page.get_by_role("button", name="Reject the task").click()
    assert "Write the reason" in page.get_by_role("alert").inner_text()
    assert reason.get_attribute("aria-invalid") == "true"
    check_page(page, "task-review-reason-missing")

    told = "Payments must stay on the platform: remove the PayPal and WhatsApp requests."
    page.get_by_label("Reason for the client").fill(told)
    page.get_by_role("button", name="Reject the task").click()
    page.wait_for_url(f"{live_server}/admin/tasks/")
    assert "Rejected" in page.get_by_role("status").inner_text()
    assert page.locator("tbody tr").inner_text() == "No task is waiting for review."

    api = api_of(browser, live_server, client)
    notes = api.get(f"{live_server}/api/v1/notifications").json()["items"]
    rejected = [
        n for n in notes if n["subject"] == "Your task was not approved: Crypto payouts helper"
    ]
    assert len(rejected) == 1 and rejected[0]["data"]["task_id"] == str(task_id)
    task = api.get(f"{live_server}/api/v1/tasks/{task_id}").json()
    assert (task["status"], task["rejection_reason"]) == ("rejected", told)

    page.goto(f"{live_server}/admin/tasks/{task_id}")
    assert told in page.locator("#decision").inner_text()
    check_page(page, "task-review-rejected")
