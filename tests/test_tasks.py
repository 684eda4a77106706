"""Posting tasks: drafts, validation, the lifecycle, review routing and moderation."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.tasks.models import Task, TaskStatus, TaskTransition
from tests.factories import (
    AdminFactory,
    ClientFactory,
    ProviderFactory,
    make_company,
    task_payload,
    terms_acceptance,
)


def _post(api, **overrides):
    response = api.post("tasks", json=task_payload(**overrides))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _published(api, **overrides):
    task = _post(api, **overrides)
    response = api.post(f"tasks/{task['id']}/publish", json={})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["task"]


def _statuses(task_id: str) -> list[tuple[str | None, str]]:
    rows = db.session.scalars(
        sa.select(TaskTransition)
        .where(TaskTransition.task_id == uuid.UUID(task_id))
        .order_by(TaskTransition.at)
    )
    return [(r.from_status, r.to_status) for r in rows]


def test_client_posts_a_draft_with_every_field(login):
    client = ClientFactory()
    api = login(client)

    task = _post(api)

    assert task["status"] == "draft"
    assert task["budget"] == {"type": "hourly", "min": 800, "max": 1500, "currency": "usd"}
    assert task["skills"] == [{"slug": "customer-support-tier1", "min_level": 3}]
    assert "confidential_details" not in task and "attachments" not in task
    details = api.get(f"tasks/{task['id']}/confidential").get_json()
    assert details["confidential_details"].startswith("Macros")
    assert details["attachments"][0]["name"] == "sop.pdf"
    assert task["timezone_need"] == {"mode": "overlap", "hours": 3}
    assert task["confidentiality_terms"]["version"] == 1
    assert set(task["allowed_actions"]) == {"publish", "cancel", "edit", "delete"}
    stored = db.session.get(Task, uuid.UUID(task["id"]))
    assert stored.created_by_id == client.id
    assert [(t.from_status, t.to_status) for t in stored.transitions] == [(None, "draft")]


def test_drafts_are_private(login, api):
    task = _post(login(ClientFactory()))
    for viewer in (login(ClientFactory()), login(ProviderFactory())):
        assert viewer.get(f"tasks/{task['id']}").status_code == 404
        assert viewer.patch(f"tasks/{task['id']}", json={"title": "Mine now"}).status_code == 404
        assert viewer.delete(f"tasks/{task['id']}").status_code == 404
        assert viewer.post(f"tasks/{task['id']}/publish", json={}).status_code == 404
    assert api.get(f"tasks/{task['id']}").status_code == 401
    assert login(AdminFactory()).get(f"tasks/{task['id']}").status_code == 200


def test_only_clients_post_tasks(login):
    response = login(ProviderFactory()).post("tasks", json=task_payload())
    assert response.status_code == 403


TODAY = date.today()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"budget": {"type": "fixed", "min": 5000, "max": 4000, "currency": "usd"}}, "budget"),
        ({"budget": {"type": "fixed", "min": 0, "max": 4000, "currency": "usd"}}, "budget"),
        ({"budget": {"type": "fixed", "min": -5, "max": 4000, "currency": "usd"}}, "budget"),
        ({"budget": {"type": "fixed", "min": 100, "max": 400, "currency": "xyz"}}, "budget"),
        ({"budget": {"type": "weekly", "min": 100, "max": 400, "currency": "usd"}}, "budget"),
        ({"deadline": (TODAY - timedelta(days=1)).isoformat()}, "deadline"),
        (
            {
                "start_date": (TODAY + timedelta(days=30)).isoformat(),
                "deadline": (TODAY + timedelta(days=10)).isoformat(),
            },
            "deadline",
        ),
        ({"skills": [{"slug": "underwater-basket-weaving", "min_level": 2}]}, "skills"),
        ({"skills": []}, "skills"),
        ({"skills": [{"slug": "payroll", "min_level": 6}]}, "skills"),
        ({"timezone_need": {"mode": "overlap"}}, "timezone_need"),
        ({"timezone_need": {"mode": "overlap", "hours": 30}}, "timezone_need"),
        ({"timezone_need": {"mode": "overlap", "hours": "three"}}, "timezone_need"),
        (
            {"timezone_need": {"mode": "coverage", "window": {"mon": [["25:00", "02:00"]]}}},
            "timezone_need",
        ),
        ({"timezone_need": {"mode": "coverage", "window": {}}}, "timezone_need"),
        ({"timezone_need": {"mode": "follow-the-moon"}}, "timezone_need"),
        (
            {
                "trial": True,
                "budget": {"type": "fixed", "min": 10000, "max": 90000, "currency": "usd"},
            },
            "budget",
        ),
        ({"positions": 51}, "positions"),
        ({"tier": 5}, "tier"),
        ({"languages": ["english"]}, "languages"),
        ({"confidentiality": "secret"}, "confidentiality"),
        ({"shoring": "moonshore"}, "shoring"),
        (
            {"attachments": [{"name": "x", "size": 1, "content_type": "pdf", "sha256": "z"}]},
            "attachments",
        ),
        ({"owner_id": "someone"}, "owner_id"),
    ],
)
def test_each_bad_field_is_a_422(login, overrides, field):
    api = login(ClientFactory())
    response = api.post("tasks", json=task_payload(**overrides))

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"], error
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0


@pytest.mark.parametrize(
    "changes",
    [{}, {"budget": {"min": 5}}, {"skills": [{"min_level": 2}]}, {"attachments": [{"name": "x"}]}],
)
def test_a_patch_gives_each_field_whole(login, changes):
    api = login(ClientFactory())
    task = _post(api)
    response = api.patch(f"tasks/{task['id']}", json=changes)
    assert response.status_code == 422
    assert api.get(f"tasks/{task['id']}").get_json()["budget"] == task["budget"]


def test_trial_within_the_cap_is_fine(login):
    task = _post(
        login(ClientFactory()),
        trial=True,
        budget={"type": "fixed", "min": 20000, "max": 50000, "currency": "usd"},
    )
    assert task["trial"] is True


def test_edit_checks_the_merged_task_and_keeps_what_was_stored(login):
    api = login(ClientFactory())
    task = _post(api, budget={"type": "fixed", "min": 60000, "max": 90000, "currency": "usd"})

    response = api.patch(
        f"tasks/{task['id']}", json={"deadline": (TODAY + timedelta(days=2)).isoformat()}
    )
    assert response.status_code == 422
    assert "deadline" in response.get_json()["error"]["details"]
    response = api.patch(f"tasks/{task['id']}", json={"trial": True})
    assert response.status_code == 422
    assert api.get(f"tasks/{task['id']}").get_json()["deadline"] == task["deadline"]

    response = api.patch(
        f"tasks/{task['id']}",
        json={
            "title": "Inbox triage",
            "skills": [{"slug": "inbox-management", "min_level": 2}],
            "languages": ["en", "es"],
        },
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["title"] == "Inbox triage"
    assert body["skills"] == [{"slug": "inbox-management", "min_level": 2}]
    assert body["languages"] == ["en", "es"]


def test_established_client_publishes_straight_to_open(login, app):
    api = login(ClientFactory())
    task = _post(api)

    response = api.post(f"tasks/{task['id']}/publish", json={})

    assert response.status_code == 200
    body = response.get_json()
    assert body["task"]["status"] == "open"
    assert body["notices"] == []
    opened = date.fromisoformat(body["task"]["opened_at"][:10])
    expires = date.fromisoformat(body["task"]["expires_at"][:10])
    assert (expires - opened).days == app.config["TASK_EXPIRY_DAYS"]
    assert _statuses(task["id"]) == [(None, "draft"), ("draft", "open")]


def test_new_client_goes_to_review(login):
    client = ClientFactory(profile__created_at=utcnow() - timedelta(days=1))
    api = login(client)
    task = _post(api)

    body = api.post(f"tasks/{task['id']}/publish", json={}).get_json()

    assert body["task"]["status"] == "pending_review"
    assert body["task"]["review_reasons"] == ["new_client"]
    assert "review" in body["notices"][0]
    assert login(ProviderFactory()).get(f"tasks/{task['id']}").status_code == 404


@pytest.mark.parametrize(
    "text",
    [
        "Please pay me via PayPal to save fees",
        "Ping me on WhatsApp for details",
        "Contact boss@shop-example.com",
        "Call +1 415 555 0100 after hours",
        "We prefer to settle outside the platform",
    ],
)
def test_blocklisted_text_goes_to_review(login, text):
    api = login(ClientFactory())
    task = _post(api, summary=f"Weekly bookkeeping. {text}.")

    body = api.post(f"tasks/{task['id']}/publish", json={}).get_json()

    assert body["task"]["status"] == "pending_review"
    assert body["task"]["review_reasons"] == ["flagged_text"]


def test_strategic_task_needs_confirmation(login):
    api = login(ClientFactory())
    task = _post(api, tier=1, title="Set our pricing strategy")

    response = api.post(f"tasks/{task['id']}/publish", json={})
    assert response.status_code == 422
    advice = response.get_json()["error"]["details"]["confirm_strategic"][0]
    assert "kept in house" in advice
    assert api.get(f"tasks/{task['id']}").get_json()["status"] == "draft"

    response = api.post(f"tasks/{task['id']}/publish", json={"confirm_strategic": True})
    assert response.status_code == 200
    assert response.get_json()["task"]["status"] == "open"
    assert response.get_json()["notices"] == []  # confirmed: no reminder to confirm


def test_overlap_need_requires_client_working_hours(login):
    client = ClientFactory(profile__working_hours={})
    api = login(client)
    task = _post(api)
    response = api.post(f"tasks/{task['id']}/publish", json={})
    assert response.status_code == 422
    assert "timezone_need" in response.get_json()["error"]["details"]


def test_forbidden_transitions_are_409(login):
    api = login(ClientFactory())
    admin = login(AdminFactory())
    task = _published(api)

    for path, body in [
        (f"tasks/{task['id']}/publish", {}),
        (f"admin/tasks/{task['id']}/approve", None),
        (f"admin/tasks/{task['id']}/reject", {"reason": "spam"}),
    ]:
        client = admin if path.startswith("admin") else api
        response = client.post(path, json=body or {})
        assert response.status_code == 409, path
        assert response.get_json()["error"]["code"] == "invalid_transition"
    assert api.delete(f"tasks/{task['id']}").status_code == 409

    assert (
        api.post(f"tasks/{task['id']}/cancel", json={"reason": "hired in house"}).status_code == 200
    )
    assert api.post(f"tasks/{task['id']}/cancel", json={}).status_code == 409
    assert api.patch(f"tasks/{task['id']}", json={"title": "Again"}).status_code == 409
    assert api.post(f"tasks/{task['id']}/publish", json={}).status_code == 409
    assert _statuses(task["id"]) == [(None, "draft"), ("draft", "open"), ("open", "cancelled")]
    assert (
        db.session.scalar(
            sa.select(TaskTransition.reason).where(TaskTransition.to_status == TaskStatus.CANCELLED)
        )
        == "hired in house"
    )


def test_only_drafts_are_deleted(login):
    api = login(ClientFactory())
    task = _post(api)
    assert api.delete(f"tasks/{task['id']}").status_code == 204
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0


def test_cancelled_task_disappears_for_providers(login):
    api = login(ClientFactory())
    task = _published(api)
    provider = login(ProviderFactory())
    assert provider.get(f"tasks/{task['id']}").status_code == 200
    api.post(f"tasks/{task['id']}/cancel", json={})
    assert provider.get(f"tasks/{task['id']}").status_code == 404


def test_editing_an_open_task_into_blocklisted_text_sends_it_back_to_review(login):
    api = login(ClientFactory())
    task = _published(api)
    response = api.patch(f"tasks/{task['id']}", json={"summary": "DM me on Telegram please."})
    assert response.get_json()["status"] == "pending_review"


def test_admin_review_queue_approve_and_reject(login, sent_mail):
    client = ClientFactory(profile__created_at=utcnow())
    api = login(client)
    first = _published(api)
    second = _published(api, title="Weekly reporting pack")
    admin = login(AdminFactory())

    queue = admin.get("admin/tasks?status=pending_review").get_json()
    assert [t["id"] for t in queue["items"]] == [first["id"], second["id"]]

    response = admin.post(f"admin/tasks/{first['id']}/approve")
    assert response.status_code == 200
    assert response.get_json()["status"] == "open"
    assert response.get_json()["opened_at"] is not None

    assert admin.post(f"admin/tasks/{second['id']}/reject", json={}).status_code == 422
    response = admin.post(
        f"admin/tasks/{second['id']}/reject",
        json={"reason": "Asks for payment outside the platform."},
    )
    assert response.get_json()["status"] == "rejected"
    mail = {m.subject: m for m in sent_mail if m.to == client.email}
    assert any("live" in subject for subject in mail)
    rejection = next(m for s, m in mail.items() if "not approved" in s)
    assert "Asks for payment outside the platform." in rejection.body
    assert api.get(f"tasks/{second['id']}").get_json()["rejection_reason"].startswith("Asks")
    assert admin.get("admin/tasks").get_json()["total"] == 0
    actions = [
        e["action"] for e in admin.get("admin/audit-log?target_type=task").get_json()["items"]
    ]
    assert sorted(actions) == ["approve_task", "reject_task"]


def test_review_endpoints_are_admin_only(login):
    api = login(ClientFactory(profile__created_at=utcnow()))
    task = _published(api)
    for user in (ClientFactory(), ProviderFactory()):
        other = login(user)
        assert other.get("admin/tasks").status_code == 403
        assert other.post(f"admin/tasks/{task['id']}/approve").status_code == 403
    assert api.post(f"admin/tasks/{task['id']}/approve").status_code == 403
    assert api.get(f"tasks/{task['id']}").get_json()["status"] == "pending_review"


def test_open_tasks_expire(login, app, sent_mail):
    client = ClientFactory()
    api = login(client)
    task = _published(api)
    fresh = _published(api, title="Still fresh")
    stored = db.session.get(Task, uuid.UUID(task["id"]))
    stored.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["expire-tasks"])

    assert result.exit_code == 0
    assert "expired 1 tasks" in result.output
    assert api.get(f"tasks/{task['id']}").get_json()["status"] == "expired"
    assert api.get(f"tasks/{fresh['id']}").get_json()["status"] == "open"
    app.test_cli_runner().invoke(args=["deliver-outbox"])
    assert any("expired" in m.subject for m in sent_mail if m.to == client.email)


def test_members_of_a_client_company_share_its_tasks(login):
    company = make_company(owner=True, manager=True)
    task = _post(login(company.owner))

    colleague_api = login(company.manager)
    assert colleague_api.patch(f"tasks/{task['id']}", json={"title": "Shared"}).status_code == 200
    mine = colleague_api.get("tasks?mine=true").get_json()
    assert [t["id"] for t in mine["items"]] == [task["id"]]
    assert login(ClientFactory()).get("tasks?mine=true").get_json()["total"] == 0


def test_a_suspended_clients_tasks_disappear_for_others(login):
    client = ClientFactory()
    api = login(client)
    task = _published(api)
    provider = login(ProviderFactory())
    assert provider.get(f"tasks/{task['id']}").status_code == 200
    client.status = "suspended"
    db.session.commit()

    assert provider.get(f"tasks/{task['id']}").status_code == 404
    assert provider.get("tasks").get_json()["total"] == 0
    assert (
        provider.post(f"tasks/{task['id']}/confidentiality", json=terms_acceptance()).status_code
        == 404
    )
    assert login(AdminFactory()).get(f"tasks/{task['id']}").status_code == 200


def test_a_published_task_cannot_turn_strategic(login):
    api = login(ClientFactory())
    task = _published(api)
    response = api.patch(f"tasks/{task['id']}", json={"tier": 1})
    assert response.status_code == 422
    assert "tier" in response.get_json()["error"]["details"]
    draft = _post(api)
    assert api.patch(f"tasks/{draft['id']}", json={"tier": 1}).status_code == 200


@pytest.mark.parametrize(
    "dates",
    [
        {"start_date": "9999-12-30", "deadline": "9999-12-31"},
        {"start_date": "0001-01-01"},
        {"deadline": (TODAY + timedelta(days=4 * 366)).isoformat()},
    ],
)
def test_dates_far_from_today_are_refused(login, dates):
    response = login(ClientFactory()).post("tasks", json=task_payload(**dates))
    assert response.status_code == 422


def test_a_company_whose_owner_is_suspended_disappears_with_its_tasks(login):
    owner = make_company(owner=True).owner
    task = _published(login(owner))
    provider = login(ProviderFactory())
    assert provider.get(f"tasks/{task['id']}").status_code == 200

    owner.status = "suspended"
    db.session.commit()

    assert provider.get(f"tasks/{task['id']}").status_code == 404
    assert provider.get("tasks").get_json()["total"] == 0


def test_review_mail_goes_to_the_people_acting_for_the_client(login, sent_mail):
    # A new company: its postings are reviewed.
    company = make_company(owner=True, manager=True, created_at=utcnow())
    task = _published(login(company.manager))
    login(company.owner).delete(
        f"organizations/{company.organization.id}/members/{company.manager.id}"
    )

    login(AdminFactory()).post(
        f"admin/tasks/{task['id']}/reject", json={"reason": "Asks for contact details"}
    )

    rejections = [m.to for m in sent_mail if "not approved" in m.subject]
    assert rejections == [company.owner.email]


def test_a_new_clients_edit_after_approval_goes_back_to_review(login):
    api = login(ClientFactory(profile__created_at=utcnow()))
    task = _published(api)
    login(AdminFactory()).post(f"admin/tasks/{task['id']}/approve")

    response = api.patch(f"tasks/{task['id']}", json={"summary": "Something else entirely."})

    assert response.get_json()["status"] == "pending_review"
    assert response.get_json()["review_reasons"] == ["new_client"]


def test_start_dates_in_the_past_are_refused(login):
    response = login(ClientFactory()).post(
        "tasks", json=task_payload(start_date=(TODAY - timedelta(days=3)).isoformat())
    )
    assert response.status_code == 422
    assert "start_date" in response.get_json()["error"]["details"]
