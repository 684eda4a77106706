"""Reports: any signed-in user flags a task or a user; only admins read the queue."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.moderation.models import Report
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, task_payload


def _open_task(login):
    api = login(ClientFactory())
    task = api.post("tasks", json=task_payload()).get_json()
    api.post(f"tasks/{task['id']}/publish", json={})
    return task


def test_a_provider_reports_a_task_and_admins_see_it(login):
    task = _open_task(login)
    reporter = ProviderFactory()
    api = login(reporter)

    response = api.post(
        "reports",
        json={
            "target_type": "task",
            "target_id": task["id"],
            "reason": "Asks for payment off the platform",
        },
    )

    assert response.status_code == 201
    assert response.get_json()["status"] == "open"
    assert "reporter_id" not in response.get_json()
    queue = login(AdminFactory()).get("admin/reports").get_json()
    assert [(r["target_id"], r["reporter_id"]) for r in queue["items"]] == [
        (task["id"], str(reporter.id))
    ]
    again = api.post(
        "reports", json={"target_type": "task", "target_id": task["id"], "reason": "Still there"}
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("target_type", "target"),
    [("task", "draft"), ("task", "missing"), ("user", "missing"), ("user", "self")],
)
def test_reports_on_what_you_cannot_see_or_on_yourself_are_refused(login, target_type, target):
    reporter = ProviderFactory()
    api = login(reporter)
    ids = {
        "draft": login(ClientFactory()).post("tasks", json=task_payload()).get_json()["id"],
        "missing": str(uuid.uuid4()),
        "self": str(reporter.id),
    }

    response = api.post(
        "reports",
        json={"target_type": target_type, "target_id": ids[target], "reason": "Looks wrong"},
    )

    assert response.status_code == (422 if target == "self" else 404)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Report)) == 0


def test_reports_need_sign_in_and_a_known_target_type(api, login):
    assert api.post(
        "reports", json={"target_type": "user", "target_id": str(uuid.uuid4()), "reason": "spam"}
    ).status_code in (400, 401)
    response = login(ClientFactory()).post(
        "reports", json={"target_type": "planet", "target_id": str(uuid.uuid4()), "reason": "spam"}
    )
    assert response.status_code == 422


@pytest.mark.parametrize("factory", [ClientFactory, ProviderFactory])
def test_only_admins_read_the_report_queue(login, factory):
    assert login(factory()).get("admin/reports").status_code == 403
