"""Consistent answers: foreign bid lists are 404s, admins read threads without a marker,
confirmed strategic work gets no reminder, and a past deadline is called past."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.messaging.models import Message, ReadMarker
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, task_payload
from tests.money import usd

BID = {
    "price": {"amount": 1200, "currency": "usd"},
    "timeline_days": 10,
    "cover_letter": "Happy to start next Monday on your queue.",
}


def _open_task(api: Any, **overrides: Any) -> dict[str, Any]:
    task = api.post("tasks", json=task_payload(confidentiality="public", **overrides)).get_json()
    assert api.post(f"tasks/{task['id']}/publish", json={}).status_code == 200
    return task


def test_another_client_reading_a_tasks_bids_gets_the_usual_404(login):
    owner = login(ClientFactory())
    task = _open_task(owner)
    login(ProviderFactory()).post(f"tasks/{task['id']}/bids", json=BID)

    response = login(ClientFactory()).get(f"tasks/{task['id']}/bids")

    assert response.status_code == 404
    assert response.get_json() == {
        "error": {"code": "not_found", "message": "Task not found.", "details": {}}
    }
    assert owner.get(f"tasks/{task['id']}/bids").get_json()["total"] == 1
    assert login(AdminFactory()).get(f"tasks/{task['id']}/bids").get_json()["total"] == 1


def test_an_admin_reads_a_contracts_messages_without_a_read_marker(login):
    client, provider = ClientFactory(), ProviderFactory()
    client_api, provider_api = login(client), login(provider)
    task = _open_task(client_api)
    bid = provider_api.post(f"tasks/{task['id']}/bids", json=BID).get_json()
    contract = client_api.post(
        f"bids/{bid['id']}/accept", json={"milestones": [{"title": "All", "amount": usd(5000)}]}
    ).get_json()
    path = f"contracts/{contract['id']}/messages"
    client_api.post(path, json={"body": "Welcome aboard"})
    provider_api.get(path)

    admin_page = login(AdminFactory()).get(path)

    assert admin_page.status_code == 200
    assert [m["body"] for m in admin_page.get_json()["items"]] == ["Welcome aboard"]
    expected = {str(client.id), str(provider.id)}
    assert set(admin_page.get_json()["read_markers"]) == expected
    assert set(client_api.get(path).get_json()["read_markers"]) == expected


def test_confirmed_strategic_work_publishes_without_the_reminder(login):
    api = login(ClientFactory())
    task = api.post("tasks", json=task_payload(tier=1, title="Set our pricing")).get_json()

    response = api.post(f"tasks/{task['id']}/publish", json={"confirm_strategic": True})

    assert response.status_code == 200
    assert response.get_json()["task"]["status"] == "open"
    assert response.get_json()["notices"] == []


def test_dates_in_2020_are_called_past(login):
    response = login(ClientFactory()).post(
        "tasks", json=task_payload(start_date="2020-01-01", deadline="2020-03-01")
    )

    assert response.status_code == 422
    assert response.get_json()["error"]["details"] == {
        "start_date": ["The start date is in the past."],
        "deadline": ["The deadline is in the past."],
    }


def test_read_markers_admins_left_before_are_not_shown(login):
    client, provider = ClientFactory(), ProviderFactory()
    client_api = login(client)
    task = _open_task(client_api)
    bid = login(provider).post(f"tasks/{task['id']}/bids", json=BID).get_json()
    client_api.post(f"bids/{bid['id']}/messages", json={"body": "Hello"})
    thread_id = db.session.scalars(sa.select(Message.thread_id)).one()
    db.session.add(ReadMarker(thread_id=thread_id, user_id=AdminFactory().id))
    db.session.commit()

    markers = client_api.get(f"bids/{bid['id']}/messages").get_json()["read_markers"]

    assert set(markers) == {str(client.id)}
