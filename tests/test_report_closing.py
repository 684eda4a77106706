"""Reports close: admins resolve (optionally suspending the user or cancelling the task)
or dismiss them with a note, in one audited transaction, and the reporter is told.
Reports may target tasks, bids, messages, users and organizations the reporter can see;
admins read each case beside its target and the other reports on it."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import UserStatus
from marketplace.audit import AuditEntry
from marketplace.bids.models import Bid, BidStatus
from marketplace.database import utcnow
from marketplace.errors import BusinessRuleViolation, Forbidden, InvalidTransition
from marketplace.extensions import db
from marketplace.flows import moderation as moderation_flows
from marketplace.flows import tasks as task_flows
from marketplace.messaging import services as messaging
from marketplace.moderation import services as moderation
from marketplace.moderation.models import Report, ReportStatus
from marketplace.notifications.models import Notification
from marketplace.statemachine import StatusChange
from marketplace.tasks.models import Task, TaskStatus
from tests.factories import (
    AdminFactory,
    ClientFactory,
    ProviderFactory,
    make_firm,
)
from tests.money import make_bid

NOTE = "Asks providers to pay outside the platform."


def _report(reporter: Any, target_type: str, target_id: uuid.UUID) -> Report:
    return moderation.report(
        reporter=reporter, target_type=target_type, target_id=target_id, reason="Looks wrong."
    )


@pytest.fixture
def market() -> dict[str, Any]:
    """An open task of a client with a provider's bid on it, and a message in its thread."""
    client, provider = ClientFactory(), ProviderFactory()
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


def _notifications(user: Any) -> list[Notification]:
    return list(db.session.scalars(sa.select(Notification).filter_by(user_id=user.id)))


def _audit(action: str | None = None) -> list[AuditEntry]:
    stmt = sa.select(AuditEntry).order_by(AuditEntry.at)
    if action is not None:
        stmt = stmt.where(AuditEntry.action == action)
    return list(db.session.scalars(stmt))


def _nothing_changed(item: Report, reporter: Any) -> None:
    """A refused closing left the report open and wrote no audit, change or notice."""
    db.session.expire_all()
    assert db.session.get(Report, item.id).status == ReportStatus.OPEN
    assert db.session.get(Report, item.id).resolved_by_id is None
    assert _audit() == []
    assert (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(StatusChange).filter_by(entity="reports")
        )
        == 0
    )
    assert [n for n in _notifications(reporter) if n.kind == "report.outcome"] == []


# --- closing ------------------------------------------------------------------------------


def test_an_admin_dismisses_a_report_and_the_reporter_is_told(market, login):
    reporter = ProviderFactory()
    item = _report(reporter, "task", market["task_id"])
    admin = AdminFactory()
    api = login(admin)

    response = api.post(f"admin/reports/{item.id}/dismiss", json={"note": "  Nothing wrong.  "})

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["status"] == "dismissed"
    assert body["resolved_by_id"] == str(admin.id)
    assert body["resolution_note"] == "Nothing wrong."
    assert body["resolved_at"] is not None
    db.session.expire_all()
    stored = db.session.get(Report, item.id)
    assert (stored.status, stored.resolved_by_id) == (ReportStatus.DISMISSED, admin.id)
    change = db.session.scalars(sa.select(StatusChange).filter_by(entity_id=item.id)).one()
    assert (change.from_status, change.to_status, change.actor_id) == (
        "open",
        "dismissed",
        admin.id,
    )
    (entry,) = _audit()
    assert (entry.actor_id, entry.action, entry.target_type, entry.target_id) == (
        admin.id,
        "dismiss_report",
        "report",
        item.id,
    )
    assert entry.details == {
        "reason": "Nothing wrong.",
        "action": None,
        "report_target_type": "task",
        "report_target_id": str(market["task_id"]),
    }
    (told,) = _notifications(reporter)
    assert (told.kind, told.subject, told.data) == (
        "report.outcome",
        "Your report was reviewed",
        {"report_id": str(item.id)},
    )
    assert db.session.get(Task, market["task_id"]).status == TaskStatus.OPEN

    for verb in ("dismiss", "resolve"):
        again = api.post(f"admin/reports/{item.id}/{verb}", json={"note": "Again."})
        assert again.status_code == 409, again.get_json()
    assert len(_audit()) == 1 and len(_notifications(reporter)) == 1


def test_resolving_can_suspend_the_reported_user_in_the_same_transaction(login):
    reporter, offender = ProviderFactory(), ClientFactory()
    offender_api = login(offender)
    item = _report(reporter, "user", offender.id)
    admin = AdminFactory()

    response = login(admin).post(
        f"admin/reports/{item.id}/resolve", json={"note": NOTE, "action": "suspend_user"}
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["status"] == "resolved"
    db.session.expire_all()
    assert db.session.get(type(offender), offender.id).status == UserStatus.SUSPENDED
    assert offender_api.get("auth/me").status_code == 401  # signed out everywhere
    assert [(e.action, e.target_type, e.target_id) for e in _audit()] == [
        ("resolve_report", "report", item.id),
        ("suspend_user", "user", offender.id),
    ]
    assert _audit("resolve_report")[0].details["action"] == "suspend_user"
    assert _audit("suspend_user")[0].details == {"reason": NOTE}
    (told,) = _notifications(reporter)
    assert (told.kind, told.subject) == ("report.outcome", "Your report was acted on")


def test_resolving_can_cancel_the_reported_task_closing_its_bids(market, login):
    reporter = ProviderFactory()
    item = _report(reporter, "task", market["task_id"])

    response = login(AdminFactory()).post(
        f"admin/reports/{item.id}/resolve", json={"note": NOTE, "action": "cancel_task"}
    )

    assert response.status_code == 200, response.get_json()
    db.session.expire_all()
    assert db.session.get(Task, market["task_id"]).status == TaskStatus.CANCELLED
    assert db.session.get(Bid, market["bid_id"]).status == BidStatus.EXPIRED
    assert [e.action for e in _audit()] == ["resolve_report", "cancel_task"]
    client_kinds = {(n.kind, n.subject) for n in _notifications(market["client"])}
    assert ("task.status", f"Your task was cancelled by a moderator: {_title(market)}") in (
        client_kinds
    )
    assert [n.kind for n in _notifications(reporter)] == ["report.outcome"]


def _title(market: dict[str, Any]) -> str:
    return db.session.get(Task, market["task_id"]).title


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("task", {"note": NOTE, "action": "suspend_user"}),  # an action for another target
        ("user", {"note": NOTE, "action": "cancel_task"}),
        ("user", {"note": NOTE, "action": "delete_everything"}),  # no such action
        ("user", {"note": "   "}),  # a blank note
        ("user", {"note": ""}),
        ("user", {}),  # no note
    ],
)
def test_a_bad_action_or_note_is_a_422_and_changes_nothing(market, login, target, body):
    reporter = ProviderFactory()
    target_id = market["task_id"] if target == "task" else market["client"].id
    item = _report(reporter, target, target_id)
    api = login(AdminFactory())

    response = api.post(f"admin/reports/{item.id}/resolve", json=body)

    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["error"]["details"]) <= {"note", "action"}
    if "action" not in body:
        assert api.post(f"admin/reports/{item.id}/dismiss", json=body).status_code == 422
    _nothing_changed(item, reporter)
    assert db.session.get(Task, market["task_id"]).status == TaskStatus.OPEN
    assert market["client"].status == UserStatus.ACTIVE


def test_an_action_the_target_refuses_rolls_the_whole_resolution_back(market, login):
    reporter = ProviderFactory()
    on_task = _report(reporter, "task", market["task_id"])
    on_user = _report(reporter, "user", market["provider"].id)
    task_flows.cancel_task(user=market["client"], task_id=market["task_id"], reason=None)
    admin = AdminFactory()
    api = login(admin)
    assert (
        api.post(
            f"admin/users/{market['provider'].id}/suspend", json={"reason": "Spam."}
        ).status_code
        == 200
    )
    db.session.execute(sa.delete(AuditEntry))
    db.session.commit()

    cancelled = api.post(
        f"admin/reports/{on_task.id}/resolve", json={"note": NOTE, "action": "cancel_task"}
    )
    suspended = api.post(
        f"admin/reports/{on_user.id}/resolve", json={"note": NOTE, "action": "suspend_user"}
    )

    assert (cancelled.status_code, suspended.status_code) == (409, 409)
    _nothing_changed(on_task, reporter)
    _nothing_changed(on_user, reporter)


def test_the_services_serve_a_console_view(market):
    reporter = ProviderFactory()
    first = _report(reporter, "user", market["client"].id)
    second = _report(reporter, "task", market["task_id"])
    admin = AdminFactory()

    with pytest.raises(Forbidden):
        moderation.dismiss_report(admin=reporter, report_id=first.id, note="Fine.")
    with pytest.raises(BusinessRuleViolation):
        moderation_flows.resolve_report(admin=admin, report_id=first.id, note=" ")
    with pytest.raises(BusinessRuleViolation):
        moderation_flows.resolve_report(
            admin=admin, report_id=first.id, note=NOTE, action="cancel_task"
        )
    _nothing_changed(first, reporter)

    resolved = moderation_flows.resolve_report(
        admin=admin, report_id=first.id, note=NOTE, action="suspend_user"
    )
    dismissed = moderation.dismiss_report(admin=admin, report_id=second.id, note="Fine.")

    assert (resolved.status, dismissed.status) == (ReportStatus.RESOLVED, ReportStatus.DISMISSED)
    assert market["client"].status == UserStatus.SUSPENDED
    with pytest.raises(InvalidTransition):
        moderation.dismiss_report(admin=admin, report_id=first.id, note="Again.")
    assert set(moderation.ACTIONS) == set(moderation_flows.ACTIONS)


@pytest.mark.parametrize("verb", ["resolve", "dismiss"])
def test_only_admins_close_reports(market, login, api, verb):
    reporter = ProviderFactory()
    item = _report(reporter, "user", market["client"].id)
    path = f"admin/reports/{item.id}/{verb}"

    for caller in (reporter, market["client"], market["provider"]):
        assert login(caller).post(path, json={"note": NOTE}).status_code == 403
        assert login(caller).get(f"admin/reports/{item.id}").status_code == 403
    assert api.post(path, json={"note": NOTE}).status_code in (400, 401)  # no CSRF, no session
    assert api.get(f"admin/reports/{item.id}").status_code == 401
    unknown = login(AdminFactory()).post(
        f"admin/reports/{uuid.uuid4()}/{verb}", json={"note": NOTE}
    )
    assert unknown.status_code == 404
    _nothing_changed(item, reporter)


# --- targets ------------------------------------------------------------------------------


def _members_firm() -> Any:
    return make_firm(name="Manila Bay Support", owner=True, agent=True)


@pytest.mark.parametrize(
    ("target_type", "who_sees", "outsider"),
    [
        ("bid", "client", "other_provider"),  # the task's client sees the bid
        ("bid", "provider", "other_client"),  # and so does its bidder
        ("message", "client", "other_provider"),  # the people of the bid's thread
        ("organization", "agent", "other_provider"),  # members, as GET /organizations/{id}
    ],
)
def test_reports_on_bids_messages_and_organizations(market, login, target_type, who_sees, outsider):
    firm = _members_firm()
    people = {
        "client": market["client"],
        "provider": market["provider"],
        "agent": firm.agent,
        "other_provider": ProviderFactory(),
        "other_client": ClientFactory(),
    }
    target_id = {
        "bid": market["bid_id"],
        "message": market["message_id"],
        "organization": firm.organization.id,
    }[target_type]

    def report(who: str, target: uuid.UUID) -> Any:
        return login(people[who]).post(
            "reports",
            json={"target_type": target_type, "target_id": str(target), "reason": "Spam here."},
        )

    unseen, unknown = report(outsider, target_id), report(outsider, uuid.uuid4())
    assert unseen.status_code == unknown.status_code == 404
    assert unseen.get_json() == unknown.get_json()  # nothing tells one from the other
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0

    filed = report(who_sees, target_id)

    assert filed.status_code == 201, filed.get_json()
    assert (filed.get_json()["target_type"], filed.get_json()["target_id"]) == (
        target_type,
        str(target_id),
    )
    queue = login(AdminFactory()).get(f"admin/reports?target_type={target_type}").get_json()
    assert [r["id"] for r in queue["items"]] == [filed.get_json()["id"]]


def test_an_admin_reads_a_case_beside_its_target_and_the_other_reports(market, login):
    # Only the task's client and the bidder see the bid: they report it, one twice.
    client, provider = market["client"], market["provider"]
    earlier = _report(client, "bid", market["bid_id"])
    dismissed = moderation.dismiss_report(
        admin=AdminFactory(), report_id=earlier.id, note="Nothing yet."
    )
    item = _report(provider, "bid", market["bid_id"])
    later = _report(client, "bid", market["bid_id"])
    _report(ProviderFactory(), "task", market["task_id"])  # another target: not shown

    response = login(AdminFactory()).get(f"admin/reports/{item.id}")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["id"], body["status"], body["reporter_id"]) == (
        str(item.id),
        "open",
        str(provider.id),
    )
    bid = db.session.get(Bid, market["bid_id"])
    assert body["target"] == {
        "type": "bid",
        "id": str(bid.id),
        "found": True,
        "title": f"Bid on “{bid.task.title}”",
        "text": bid.cover_letter,
        "status": "submitted",
        "price": {"amount": 40_000, "currency": "usd"},
        "by": bid.provider_name,
        "author_id": str(market["provider"].id),
    }
    assert [r["id"] for r in body["earlier_reports"]] == [str(later.id), str(dismissed.id)]
    assert body["earlier_reports"][1]["status"] == "dismissed"


def test_report_target_describes_each_kind_of_target(market):
    firm = _members_firm()
    task = db.session.get(Task, market["task_id"])
    client = market["client"]
    reporter = ProviderFactory()

    def target(target_type: str, target_id: uuid.UUID, by: Any = reporter) -> dict[str, Any]:
        return moderation.report_target(_report(by, target_type, target_id))

    assert target("task", task.id) | {"id": None} == {
        "type": "task",
        "id": None,
        "found": True,
        "title": task.title,
        "text": task.summary,
        "status": "open",
        "price": None,
        "by": task.client_profile.display_name,
        "author_id": client.id,
    }
    message = target("message", market["message_id"], by=client)
    assert (message["text"], message["by"], message["author_id"]) == (
        "Pay me by wire, it is cheaper.",
        market["provider"].name,
        market["provider"].id,
    )
    user = target("user", client.id)
    assert (user["title"], user["text"], user["status"]) == (client.name, client.email, "active")
    organization = target("organization", firm.organization.id, by=firm.agent)
    assert (organization["title"], organization["text"]) == (
        "Manila Bay Support",
        "A provider firm.",
    )
    gone = Report(reporter=reporter, target_type="task", target_id=uuid.uuid4(), reason="Gone")
    assert moderation.report_target(gone)["found"] is False


def test_a_case_shows_at_most_twenty_other_reports_newest_first(market):
    reporters = [ProviderFactory() for _ in range(22)]
    items = []
    for n, reporter in enumerate(reporters):
        item = _report(reporter, "user", market["client"].id)
        item.created_at = utcnow() - timedelta(minutes=100 - n)
        items.append(item)
    db.session.commit()

    case = moderation.report_case(items[0].id)

    assert [r.id for r in case.earlier_reports] == [i.id for i in reversed(items[2:])]
    assert case.target["title"] == market["client"].name
    assert case.status == ReportStatus.OPEN  # the report's own fields pass through
