"""Bid threads and notifications: only the parties write, read markers move, alerts go out."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.messaging.models import Message
from marketplace.notifications.models import Notification
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, task_payload


def _bid(login):
    client, bidder = ClientFactory(), ProviderFactory()
    client_api, provider_api = login(client), login(bidder)
    task = client_api.post("tasks", json=task_payload(confidentiality="public")).get_json()
    client_api.post(f"tasks/{task['id']}/publish", json={})
    bid = provider_api.post(
        f"tasks/{task['id']}/bids",
        json={
            "price": {"amount": 1200, "currency": "usd"},
            "timeline_days": 10,
            "cover_letter": "Happy to start next Monday on your queue.",
        },
    ).get_json()
    return client, bidder, client_api, provider_api, bid


def test_parties_talk_and_read_markers_follow(login, sent_mail):
    client, bidder, client_api, provider_api, bid = _bid(login)
    path = f"bids/{bid['id']}/messages"

    response = client_api.post(path, json={"body": "Can you cover Saturdays too?"})
    assert response.status_code == 201
    assert response.get_json()["sender_id"] == str(client.id)
    provider_api.post(path, json={"body": "Yes, 10:00-14:00 New York time."})

    page = provider_api.get(path).get_json()
    assert [m["body"] for m in page["items"]] == [
        "Can you cover Saturdays too?",
        "Yes, 10:00-14:00 New York time.",
    ]
    assert page["total"] == 2
    assert set(page["read_markers"]) == {str(client.id), str(bidder.id)}
    assert any(m.to == bidder.email and "New message" in m.subject for m in sent_mail)
    assert any(m.to == client.email and "New message" in m.subject for m in sent_mail)
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.kind == "message.new")
        )
        == 2
    )


def test_outsiders_cannot_read_or_write_and_admins_only_read(login):
    *_, bid = _bid(login)
    path = f"bids/{bid['id']}/messages"
    for outsider in (login(ClientFactory()), login(ProviderFactory())):
        assert outsider.get(path).status_code == 404
        assert outsider.post(path, json={"body": "hello"}).status_code == 404
    admin = login(AdminFactory())
    assert admin.get(path).status_code == 200
    assert admin.post(path, json={"body": "hello"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Message)) == 0


def test_message_bodies_are_limited(login):
    _, _, client_api, _, bid = _bid(login)
    path = f"bids/{bid['id']}/messages"
    assert client_api.post(path, json={"body": ""}).status_code == 422
    assert client_api.post(path, json={"body": "x" * 10_001}).status_code == 422


def test_notifications_list_and_mark_read(login):
    _, _, client_api, provider_api, bid = _bid(login)
    listed = client_api.get("notifications?unread=true").get_json()
    assert [n["kind"] for n in listed["items"]] == ["bid.new"]
    first = listed["items"][0]["id"]

    assert client_api.post(f"notifications/{first}/read").get_json()["read_at"] is not None
    assert client_api.get("notifications?unread=true").get_json()["total"] == 0
    assert provider_api.post(f"notifications/{first}/read").status_code == 404
    provider_api.post(f"bids/{bid['id']}/messages", json={"body": "Hello there"})
    assert client_api.post("notifications/read").get_json() == {"marked": 1}


def test_blank_messages_are_refused(login):
    _, _, client_api, _, bid = _bid(login)
    assert client_api.post(f"bids/{bid['id']}/messages", json={"body": "   \n "}).status_code == 422
