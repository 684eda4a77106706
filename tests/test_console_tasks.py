"""The console's task review queue, with the test client: the queue, a task's review page
(its client and history, the posting, where the blocklist matches), approving and
rejecting through the API's services, and the refusals."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from marketplace import permissions
from marketplace.accounts.models import User
from marketplace.audit import AuditEntry
from marketplace.database import utcnow
from marketplace.demo import data as demo_data
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Confidentiality, Task, TaskStatus
from marketplace.tasks.rules import blocklist_hits, blocklist_matches
from tests.console_support import Console, signed_in
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, make_company, task_draft

FLAGGED_SUMMARY = "Answer tickets.\nPay me via PayPal to save the fees, or call on WhatsApp."


def post_for_review(client: Any, **draft: Any) -> Task:
    """A new client's task, published: it waits for review."""
    permissions.acting_client_profile(client).created_at = utcnow()
    fields = {"confidentiality": Confidentiality.PUBLIC, "timezone_need": None, **draft}
    task = tasks.create_task(user=client, draft=task_draft(**fields))
    task, _ = lifecycle.publish_task(user=client, task_id=task.id, confirm_strategic=False)
    assert task.status == TaskStatus.PENDING_REVIEW
    return task


def status_of(task: Task) -> TaskStatus:
    db.session.expire_all()
    found = db.session.get(Task, task.id)
    assert found is not None
    return found.status


def notifications_of(user: Any) -> list[str]:
    return list(
        db.session.scalars(sa.select(Notification.subject).where(Notification.user_id == user.id))
    )


def audit_actions() -> list[tuple[str, dict[str, Any]]]:
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.at))
    return [(e.action, e.details) for e in entries if not e.action.startswith("console.")]


@pytest.fixture
def admin_console(client) -> Console:
    return signed_in(client, AdminFactory())


def test_the_queue_lists_tasks_in_review_oldest_first_in_pages(app, admin_console, monkeypatch):
    first_client, second_client = ClientFactory(), ClientFactory(name="Bea Second")
    with time_machine.travel(utcnow() - timedelta(hours=3), tick=False):
        older = post_for_review(first_client, title="Older posting in review")
    newer = post_for_review(second_client, title="Newer posting in review")
    established = ClientFactory()
    live = tasks.create_task(user=established, draft=task_draft(title="Already open task"))
    lifecycle.publish_task(user=established, task_id=live.id, confirm_strategic=False)

    page = admin_console.get("/admin/tasks/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "<h1>Tasks in review</h1>" in html
    assert html.index("Older posting in review") < html.index("Newer posting in review")
    assert "Already open task" not in html
    assert "New client: younger than 7 days" in html
    assert f'href="/admin/tasks/{older.id}"' in html
    assert "Bea Second" in html and second_client.email in html
    assert "$8.00\N{EN DASH}$15.00 an hour" in html

    monkeypatch.setitem(app.config, "PAGE_SIZE_DEFAULT", 1)
    second_page = admin_console.get("/admin/tasks/?page=2").get_data(as_text=True)
    assert "Newer posting in review" in second_page and "Older posting" not in second_page
    assert "Page 2 of 2 (2 in all)" in second_page
    assert newer.id


def test_the_queue_exports_as_csv(admin_console):
    client = ClientFactory(name="Bea Export")
    with time_machine.travel(utcnow() - timedelta(hours=3), tick=False):
        older = post_for_review(client, title="=HYPERLINK(1) posting")
    newer = post_for_review(client, title="Newer posting in review")

    response = admin_console.get("/admin/tasks/?format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:4] == ["id", "in_review_since", "title", "client"]
    assert [row[0] for row in rows[1:]] == [str(older.id), str(newer.id)]
    assert rows[1][2] == "'=HYPERLINK(1) posting"  # a formula is defused
    assert rows[2][3] == "Bea Export" and rows[2][5] == "new_client"


def test_the_review_page_shows_the_client_history_the_posting_and_the_blocklist_match(
    admin_console,
):
    team = make_company(name="Quillfeather Ltd", owner=True)
    owner = team.owner
    assert owner is not None
    # The client's history: one task approved after review, one rejected, one still a draft.
    approved = post_for_review(owner, title="Earlier approved task")
    lifecycle.approve_task(admin=AdminFactory(), task_id=approved.id)
    rejected = post_for_review(owner, title="Earlier rejected task")
    lifecycle.reject_task(admin=AdminFactory(), task_id=rejected.id, reason="No contact details.")
    tasks.create_task(user=owner, draft=task_draft(title="A draft never published"))
    task = post_for_review(
        owner,
        title="Weekend support desk",
        summary=FLAGGED_SUMMARY,
        confidential_details="Write to boss@quill.example for the logins.",
    )

    response = admin_console.get(f"/admin/tasks/{task.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Review: Weekend support desk</h1>" in html
    # The client: name, e-mail, organization, account age and history.
    assert owner.name in html and owner.email in html
    assert "Quillfeather Ltd (a client company)" in html
    assert "0 days (opened" in html
    assert "3 other tasks: 1 approved by a moderator, 1 rejected." in html
    assert "Earlier rejected task" in html and "No contact details." in html
    # The whole posting.
    for text in (
        "Tier-one customer support tickets",
        "level 3 or above",
        "Hourly: $8.00 to $15.00 an hour",
        task.deadline.isoformat(),
        task.start_date.isoformat(),
        "sop.pdf",
    ):
        assert text in html, text
    # Why, and where the blocklist matched: the expressions, fields and lines, highlighted.
    assert "Its text matched the blocklist" in html
    places = re.findall(
        r'<td class="num">(\d+)</td>\s*<td class="wrap"><code>[^<]*</code></td>\s*'
        r'<td>([^<]+)</td>\s*<td class="num">(\d+)</td>\s*<td class="num">([^<]+)</td>\s*'
        r'<td class="wrap"><mark>([^<]+)</mark></td>',
        html,
    )
    assert [place[1:] for place in places] == [
        ("Summary", "2", "1", "Pay me via PayPal"),
        ("Summary", "2", "48", "WhatsApp"),
        ("Confidential details", "1", "10", "boss@quill.example"),
    ]
    assert [place[0] for place in places] == ["1", "2", "3"]  # the expressions' numbers
    assert "<mark>Pay me via PayPal</mark>" in html.split('id="posting"')[1]
    assert "<mark>boss@quill.example</mark>" in html.split('id="posting"')[1]
    assert 'action="/admin/tasks/' + str(task.id) + '/approve"' in html


def test_blocklist_matches_place_each_match_where_publishing_found_it(app, monkeypatch):
    monkeypatch.setitem(
        app.config, "TASK_BLOCKLIST", [r"paypal", r"store\s+answer", r"never matches"]
    )
    client = ClientFactory()
    task = tasks.create_task(
        user=client,
        draft=task_draft(
            title="Support for a store",
            summary="Answer tickets.\nNo PayPal, no paypal.",
            confidential_details="",
        ),
    )
    matches = blocklist_matches(task)
    assert blocklist_hits(task) == [r"paypal", r"store\s+answer"]
    assert [(m.pattern, m.field, m.start, m.end, m.text) for m in matches] == [
        ("paypal", "summary", 19, 25, "PayPal"),
        ("paypal", "summary", 30, 36, "paypal"),
        # A match over the newline between two fields is placed in each.
        (r"store\s+answer", "title", 14, 19, "store"),
        (r"store\s+answer", "summary", 0, 6, "Answer"),
    ]
    assert sorted({m.pattern for m in matches}) == sorted(blocklist_hits(task))


def test_approving_opens_the_task_tells_the_client_and_is_audited(admin_console, login):
    client = ClientFactory()
    task = post_for_review(client, title="Bookkeeping catch-up")

    response = admin_console.post(f"/admin/tasks/{task.id}/approve")
    assert response.status_code == 302
    assert response.headers["Location"] == "/admin/tasks/"
    queue = admin_console.get("/admin/tasks/").get_data(as_text=True)
    assert "Approved: the task is open to providers" in queue
    assert "Bookkeeping catch-up" not in queue

    assert status_of(task) == TaskStatus.OPEN
    assert login(client).get(f"tasks/{task.id}").get_json()["status"] == "open"
    assert notifications_of(client) == ["Your task is live: Bookkeeping catch-up"]
    assert [action for action, _ in audit_actions()] == ["approve_task"]
    page = admin_console.get(f"/admin/tasks/{task.id}").get_data(as_text=True)
    assert "there is nothing to decide" in page and "Approve the task" not in page
    admin = db.session.scalar(sa.select(User).where(User.role == "admin"))
    assert admin is not None and "It became open" in page and admin.email in page


def test_rejecting_tells_the_client_the_reason_and_is_audited(admin_console, login):
    client = ClientFactory()
    task = post_for_review(client, title="Data entry", summary=FLAGGED_SUMMARY)

    reason = "  Please keep payments on the platform; remove the PayPal request.  "
    response = admin_console.post(f"/admin/tasks/{task.id}/reject", {"reason": reason})
    assert response.status_code == 302 and response.headers["Location"] == "/admin/tasks/"

    db.session.expire_all()
    stored = db.session.get(Task, task.id)
    assert stored is not None and stored.status == TaskStatus.REJECTED
    assert stored.rejection_reason == reason.strip()
    assert notifications_of(client) == ["Your task was not approved: Data entry"]
    assert audit_actions() == [("reject_task", {"reason": reason.strip()})]
    body = login(client).get(f"tasks/{task.id}").get_json()
    assert (body["status"], body["rejection_reason"]) == ("rejected", reason.strip())


@pytest.mark.parametrize(
    ("reason", "message"),
    [("", "Write the reason"), ("   \n ", "Write the reason"), ("no", "at least 3 characters")],
)
def test_a_rejection_without_a_reason_is_refused_on_the_page(admin_console, reason, message):
    client = ClientFactory()
    task = post_for_review(client)

    response = admin_console.post(f"/admin/tasks/{task.id}/reject", {"reason": reason})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html and 'id="reason-error"' in html
    assert status_of(task) == TaskStatus.PENDING_REVIEW
    assert notifications_of(client) == []
    assert audit_actions() == []


def test_the_service_refuses_a_blank_rejection_reason_from_the_api_too(login):
    client = ClientFactory()
    task = post_for_review(client)
    admin = login(AdminFactory())
    response = admin.post(f"admin/tasks/{task.id}/reject", json={"reason": "     "})
    assert response.status_code == 422
    assert status_of(task) == TaskStatus.PENDING_REVIEW


def test_approving_a_task_no_longer_in_review_says_why_and_changes_nothing(admin_console):
    client = ClientFactory()
    task = post_for_review(client)
    lifecycle.approve_task(admin=AdminFactory(), task_id=task.id)

    response = admin_console.post(f"/admin/tasks/{task.id}/approve")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/tasks/{task.id}"
    page = admin_console.get(response.headers["Location"])
    assert 'class="flash flash-error"' in page.get_data(as_text=True)
    assert status_of(task) == TaskStatus.OPEN
    assert [a for a, _ in audit_actions()] == ["approve_task"]  # the first approval only


def test_an_unknown_task_is_the_consoles_404_page(admin_console):
    response = admin_console.get("/admin/tasks/00000000-0000-4000-8000-000000000000")
    assert response.status_code == 404
    assert response.mimetype == "text/html" and "Task not found." in response.get_data(as_text=True)


@pytest.mark.parametrize("factory", [ClientFactory, ProviderFactory])
def test_a_non_admin_gets_404_on_every_page_and_action(api, factory):
    owner = ClientFactory()
    task = post_for_review(owner)
    user = factory() if factory is ProviderFactory else owner  # even the task's own client
    api.login(user)
    console = Console(api.client)
    for path in ("/admin/tasks/", f"/admin/tasks/{task.id}"):
        response = api.client.get(path)
        assert response.status_code == 404 and response.is_json, path
    for path, form in (
        (f"/admin/tasks/{task.id}/approve", {}),
        (f"/admin/tasks/{task.id}/reject", {"reason": "Spam, spam, spam."}),
    ):
        response = console.post(path, form)
        assert response.status_code == 404 and response.is_json, path
    assert status_of(task) == TaskStatus.PENDING_REVIEW
    assert audit_actions() == []


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/tasks/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/admin/login?next=")


def test_a_decision_without_its_csrf_token_is_refused(admin_console):
    client = ClientFactory()
    task = post_for_review(client)
    for path, form in (
        (f"/admin/tasks/{task.id}/approve", {}),
        (f"/admin/tasks/{task.id}/reject", {"reason": "Spam, spam, spam."}),
    ):
        response = admin_console.post(path, form, csrf=False)
        assert response.status_code == 400, path
        assert "The form has expired" in response.get_data(as_text=True)
    assert status_of(task) == TaskStatus.PENDING_REVIEW
    assert notifications_of(client) == []
    assert audit_actions() == []


def test_the_demo_leaves_tasks_in_review_and_open_reports_for_the_console(app, client):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    admin = db.session.scalar(
        sa.select(User).where(User.email == f"{demo_data.ADMIN[0]}@{demo_data.DOMAIN}")
    )
    assert admin is not None
    console = Console(client)
    assert console.sign_in(admin, password=demo_data.PASSWORD).status_code == 302

    queue = console.get("/admin/tasks/").get_data(as_text=True)
    assert "Page 1 of 1 (2 in all)" in queue
    flagged = db.session.scalar(
        sa.select(Task).where(Task.title == "Lead list for a rebrand campaign")
    )
    assert flagged is not None and flagged.review_reasons == ["new_client", "flagged_text"]
    review = console.get(f"/admin/tasks/{flagged.id}").get_data(as_text=True)
    assert "<mark>pay you by PayPal</mark>" in review and "<mark>WhatsApp</mark>" in review

    reports = console.get("/admin/reports/").get_data(as_text=True)
    assert "2 reports" in reports
    assert "Task: Competitor pricing and market research" in reports
    assert "User: Sophie Clarke" in reports
