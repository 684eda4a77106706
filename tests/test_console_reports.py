"""The console's reports, with the test client: the list (filters, pages, CSV), a report's
page (the reported content, who reported it and why, the other reports on it), resolving
(with an action on the target) and dismissing through the API's services, the outcome
after, and the refusals."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from marketplace.accounts.models import User, UserStatus
from marketplace.audit import AuditEntry
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.moderation import services as moderation
from marketplace.moderation.models import Report, ReportStatus
from marketplace.notifications.models import Notification
from marketplace.tasks.models import Task, TaskStatus
from tests.console_support import Console, signed_in
from tests.factories import AdminFactory, ClientFactory, ProviderFactory
from tests.money import make_bid

NOTE = "Asked a provider to pay outside the platform; warned before."


@pytest.fixture
def market() -> dict[str, Any]:
    """An open task of a client with a provider's bid on it, and a message in its thread."""
    client = ClientFactory(name="Carla Client")
    provider = ProviderFactory(name="Pedro Provider")
    bid = make_bid((40_000,), client=client, provider=provider)
    thread = messaging.bid_conversation(user=client, bid_id=bid.id)
    message = messaging.post_message(thread, user=provider, body="Pay me by wire, it is cheaper.")
    return {
        "client": client,
        "provider": provider,
        "task_id": bid.task_id,
        "bid_id": bid.id,
        "message_id": message.id,
    }


def file_report(reporter: Any, target_type: str, target_id: uuid.UUID, reason: str) -> Report:
    return moderation.report(
        reporter=reporter, target_type=target_type, target_id=target_id, reason=reason
    )


def report_of(report_id: uuid.UUID) -> Report:
    db.session.expire_all()
    found = db.session.get(Report, report_id)
    assert found is not None
    return found


def audit_actions() -> list[str]:
    entries = db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.at))
    return [e.action for e in entries if not e.action.startswith("console.")]


def notifications_of(user: Any) -> list[str]:
    return list(
        db.session.scalars(sa.select(Notification.kind).where(Notification.user_id == user.id))
    )


@pytest.fixture
def admin() -> User:
    return AdminFactory(name="Mo Derator")


@pytest.fixture
def admin_console(client, admin) -> Console:
    return signed_in(client, admin)


def test_the_list_shows_open_reports_oldest_first_and_filters(app, admin_console, market):
    with time_machine.travel(utcnow() - timedelta(hours=2), tick=False):
        on_user = file_report(market["provider"], "user", market["client"].id, "Rude in chat.")
    on_message = file_report(
        market["client"], "message", market["message_id"], "Asks for a wire transfer."
    )
    closed = file_report(ProviderFactory(), "task", market["task_id"], "Looks like spam.")
    moderation.dismiss_report(admin=AdminFactory(), report_id=closed.id, note="It is fine.")

    html = admin_console.get("/admin/reports/").get_data(as_text=True)
    assert "<h1>Reports</h1>" in html
    assert html.index("Rude in chat.") < html.index("Asks for a wire transfer.")
    assert "Looks like spam." not in html
    assert "User: Carla Client" in html
    assert "Message: Message from Pedro Provider" in html
    assert f'href="/admin/reports/{on_user.id}"' in html
    assert "2 reports" in html

    only_messages = admin_console.get("/admin/reports/?target_type=message").get_data(as_text=True)
    assert "Asks for a wire transfer." in only_messages and "Rude in chat." not in only_messages
    dismissed = admin_console.get("/admin/reports/?status=dismissed").get_data(as_text=True)
    assert "Looks like spam." in dismissed and "Rude in chat." not in dismissed
    everything = admin_console.get("/admin/reports/?status=all&target_type=nonsense")
    assert everything.status_code == 200
    assert "3 reports" in everything.get_data(as_text=True)

    app.config["PAGE_SIZE_DEFAULT"] = 1
    try:
        second = admin_console.get("/admin/reports/?page=2").get_data(as_text=True)
    finally:
        app.config["PAGE_SIZE_DEFAULT"] = 20
    assert "Asks for a wire transfer." in second and "Rude in chat." not in second
    assert on_message.id


def test_the_list_exports_as_csv_with_formulas_defused(admin_console, market, admin):
    first = file_report(market["provider"], "user", market["client"].id, "=HYPERLINK(evil)")
    second = file_report(market["client"], "task", market["task_id"], "Spam.")
    moderation.dismiss_report(admin=admin, report_id=second.id, note="Not spam.")

    response = admin_console.get("/admin/reports/?status=all&format=csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == [
        "id", "created_at", "status", "target_type", "target_id", "reporter", "reason",
        "closed_at", "closed_by", "note",
    ]  # fmt: skip
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[str(first.id)][2:7] == [
        "open", "user", str(market["client"].id), market["provider"].email, "'=HYPERLINK(evil)"
    ]  # fmt: skip
    assert by_id[str(second.id)][8:] == [admin.email, "Not spam."]
    only_open = admin_console.get("/admin/reports/?format=csv").get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(only_open)))) == 2


def test_a_reports_page_shows_the_content_the_reporter_and_the_other_reports(admin_console, market):
    earlier = file_report(market["client"], "message", market["message_id"], "Off-platform pay.")
    moderation.dismiss_report(admin=AdminFactory(), report_id=earlier.id, note="Only a joke.")
    item = file_report(market["client"], "message", market["message_id"], "Asks for a wire.")

    response = admin_console.get(f"/admin/reports/{item.id}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<h1>Report on a message: Message from Pedro Provider</h1>" in html
    assert "Pay me by wire, it is cheaper." in html  # the content itself
    reporter = html.split('id="reporter"')[1].split("</section>")[0]
    assert "Carla Client" in reporter and market["client"].email in reporter  # who reported
    assert "Asks for a wire." in reporter  # and why
    assert "Off-platform pay." in html and "Only a joke." in html  # the other report
    assert "Resolve the report" in html and "Dismiss the report" in html
    # A message allows no action beyond closing the report.
    assert 'name="action"' not in html


def test_resolving_with_a_note_closes_the_report_and_shows_the_outcome(
    admin_console, market, admin
):
    item = file_report(market["client"], "message", market["message_id"], "Asks for a wire.")

    response = admin_console.post(f"/admin/reports/{item.id}/resolve", {"note": f"  {NOTE} "})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/admin/reports/{item.id}"

    closed = report_of(item.id)
    assert closed.status == ReportStatus.RESOLVED
    assert (closed.resolved_by_id, closed.resolution_note) == (admin.id, NOTE)
    assert audit_actions() == ["resolve_report"]
    assert notifications_of(market["client"]).count("report.outcome") == 1  # reporter told
    page = admin_console.get(response.headers["Location"]).get_data(as_text=True)
    assert "The report is resolved; its reporter is told." in page
    outcome = page.split('id="outcome"')[1].split("</section>")[0]
    assert "resolved" in outcome and "Mo Derator" in outcome and admin.email in outcome
    assert NOTE in outcome and "None beyond closing the report." in outcome
    assert "Resolve the report" not in page


def test_resolving_a_user_report_can_suspend_the_user(admin_console, market, bearer):
    offender = market["client"]
    token = bearer(offender)
    item = file_report(market["provider"], "user", offender.id, "Threatens providers.")
    page = admin_console.get(f"/admin/reports/{item.id}").get_data(as_text=True)
    assert 'value="suspend_user"' in page and 'value="cancel_task"' not in page

    response = admin_console.post(
        f"/admin/reports/{item.id}/resolve", {"note": NOTE, "action": "suspend_user"}
    )
    assert response.status_code == 302
    assert report_of(item.id).status == ReportStatus.RESOLVED
    user = db.session.get(User, offender.id)
    assert user is not None and user.status == UserStatus.SUSPENDED
    assert user.suspension_reason == NOTE
    assert token.get("auth/me").status_code == 401
    assert sorted(audit_actions()) == ["resolve_report", "suspend_user"]
    after = admin_console.get(f"/admin/reports/{item.id}").get_data(as_text=True)
    assert "The user was suspended." in after


def test_resolving_a_task_report_can_cancel_the_task(admin_console, market):
    item = file_report(market["provider"], "task", market["task_id"], "A fake posting.")
    page = admin_console.get(f"/admin/reports/{item.id}").get_data(as_text=True)
    assert f'href="/admin/tasks/{market["task_id"]}"' in page  # its review page
    assert 'value="cancel_task"' in page and 'value="suspend_user"' not in page

    admin_console.post(f"/admin/reports/{item.id}/resolve", {"note": NOTE, "action": "cancel_task"})
    assert report_of(item.id).status == ReportStatus.RESOLVED
    task = db.session.get(Task, market["task_id"])
    assert task is not None and task.status == TaskStatus.CANCELLED
    assert sorted(audit_actions()) == ["cancel_task", "resolve_report"]


def test_an_action_that_does_not_fit_is_refused_and_nothing_changes(admin_console, market):
    item = file_report(market["provider"], "task", market["task_id"], "A fake posting.")
    response = admin_console.post(
        f"/admin/reports/{item.id}/resolve", {"note": NOTE, "action": "suspend_user"}
    )
    assert response.status_code == 302
    page = admin_console.get(response.headers["Location"]).get_data(as_text=True)
    assert "This action does not fit the report." in page
    assert report_of(item.id).status == ReportStatus.OPEN
    assert audit_actions() == []
    unknown = admin_console.post(
        f"/admin/reports/{item.id}/resolve", {"note": NOTE, "action": "delete_everything"}
    )
    assert unknown.status_code == 422
    assert "Choose one of the actions offered." in unknown.get_data(as_text=True)
    assert report_of(item.id).status == ReportStatus.OPEN


def test_dismissing_with_a_note_closes_the_report(admin_console, market, admin):
    item = file_report(market["client"], "message", market["message_id"], "Asks for a wire.")
    response = admin_console.post(f"/admin/reports/{item.id}/dismiss", {"note": "A fair ask."})
    assert response.status_code == 302
    closed = report_of(item.id)
    assert (closed.status, closed.resolved_by_id) == (ReportStatus.DISMISSED, admin.id)
    assert audit_actions() == ["dismiss_report"]
    page = admin_console.get(f"/admin/reports/{item.id}").get_data(as_text=True)
    assert "dismissed" in page.split('id="outcome"')[1] and "A fair ask." in page

    again = admin_console.post(f"/admin/reports/{item.id}/resolve", {"note": "Second thoughts."})
    assert again.status_code == 302
    refused = admin_console.get(again.headers["Location"]).get_data(as_text=True)
    assert 'class="flash flash-error"' in refused
    assert report_of(item.id).status == ReportStatus.DISMISSED
    assert audit_actions() == ["dismiss_report"]


@pytest.mark.parametrize("outcome", ["resolve", "dismiss"])
@pytest.mark.parametrize("note", ["", "   \n  "])
def test_a_blank_note_is_refused_on_the_page_and_nothing_changes(
    admin_console, market, outcome, note
):
    item = file_report(market["provider"], "user", market["client"].id, "Rude.")
    form = {"note": note, **({"action": "suspend_user"} if outcome == "resolve" else {})}
    response = admin_console.post(f"/admin/reports/{item.id}/{outcome}", form)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Write a note" in html
    assert f'id="{outcome}_note-error"' in html and 'aria-invalid="true"' in html
    assert report_of(item.id).status == ReportStatus.OPEN
    user = db.session.get(User, market["client"].id)
    assert user is not None and user.status == UserStatus.ACTIVE
    assert audit_actions() == []
    assert notifications_of(market["provider"]) == []


def test_an_unknown_report_is_the_consoles_404_page(admin_console):
    response = admin_console.get(f"/admin/reports/{uuid.uuid4()}")
    assert response.status_code == 404 and "Report not found." in response.get_data(as_text=True)


@pytest.mark.parametrize("factory", [ClientFactory, ProviderFactory])
def test_a_non_admin_gets_404_on_every_page_and_action(api, market, factory):
    item = file_report(market["provider"], "user", market["client"].id, "Rude.")
    api.login(factory())
    console = Console(api.client)
    for path in ("/admin/reports/", f"/admin/reports/{item.id}", "/admin/reports/?format=csv"):
        response = api.client.get(path)
        assert response.status_code == 404 and response.is_json, path
    for outcome in ("resolve", "dismiss"):
        response = console.post(f"/admin/reports/{item.id}/{outcome}", {"note": NOTE})
        assert response.status_code == 404 and response.is_json, outcome
    assert report_of(item.id).status == ReportStatus.OPEN
    assert audit_actions() == []


def test_closing_without_the_csrf_token_is_refused(admin_console, market):
    item = file_report(market["provider"], "user", market["client"].id, "Rude.")
    for outcome in ("resolve", "dismiss"):
        response = admin_console.post(
            f"/admin/reports/{item.id}/{outcome}", {"note": NOTE}, csrf=False
        )
        assert response.status_code == 400, outcome
        assert "The form has expired" in response.get_data(as_text=True)
    assert report_of(item.id).status == ReportStatus.OPEN
    assert audit_actions() == []
