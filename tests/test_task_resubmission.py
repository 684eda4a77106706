"""A rejected task is no dead end: the client takes it back to a draft, edits it with the
moderator's reason in view, and publishes it to review again."""

from __future__ import annotations

from typing import Any

from marketplace.database import utcnow
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, task_payload

REASON = "Asks for contact details outside the marketplace."


def _rejected(login: Any, client: Any) -> tuple[Any, Any, dict[str, Any]]:
    """A task of `client` sent to review (its summary gives a phone number) and rejected."""
    api, admin = login(client), login(AdminFactory())
    task = api.post(
        "tasks", json=task_payload(summary="Call me on +1 415 555 0100 about the tickets.")
    ).get_json()
    published = api.post(f"tasks/{task['id']}/publish", json={}).get_json()["task"]
    assert published["status"] == "pending_review"
    response = admin.post(f"admin/tasks/{task['id']}/reject", json={"reason": REASON})
    assert response.get_json()["status"] == "rejected"
    return api, admin, task


def test_a_rejected_task_goes_back_to_a_draft_and_to_review_again(login):
    api, admin, task = _rejected(login, ClientFactory())
    path = f"tasks/{task['id']}"
    rejected = api.get(path).get_json()
    assert rejected["allowed_actions"] == ["revise"]
    assert rejected["rejection_reason"] == REASON

    revised = api.post(f"{path}/revise")

    assert revised.status_code == 200, revised.get_json()
    assert revised.get_json()["status"] == "draft"
    assert revised.get_json()["rejection_reason"] == REASON  # in view while editing
    assert "edit" in revised.get_json()["allowed_actions"]
    edited = api.patch(path, json={"summary": "Answer order-status tickets in Gorgias."})
    assert edited.status_code == 200, edited.get_json()

    # The text no longer trips the blocklist and the client is not new, yet a moderator
    # who refused the task sees it again before providers do.
    result = api.post(f"{path}/publish", json={}).get_json()
    assert result["task"]["status"] == "pending_review"
    assert result["task"]["review_reasons"] == ["resubmitted"]
    assert login(ProviderFactory()).get(path).status_code == 404

    approved = admin.post(f"admin/tasks/{task['id']}/approve").get_json()
    assert approved["status"] == "open"
    assert approved["rejection_reason"] is None
    steps = [(t["from_status"], t["to_status"]) for t in approved["transitions"]]
    assert steps == [
        (None, "draft"),
        ("draft", "pending_review"),
        ("pending_review", "rejected"),
        ("rejected", "draft"),
        ("draft", "pending_review"),
        ("pending_review", "open"),
    ]


def test_only_the_client_revises_and_only_a_rejected_task(login):
    client = ClientFactory(profile__created_at=utcnow())
    api, admin, task = _rejected(login, client)
    path = f"tasks/{task['id']}/revise"

    assert login(ClientFactory()).post(path).status_code == 404
    assert admin.post(path).status_code == 403  # admins read the task but do not act for it
    assert api.post(path).status_code == 200
    again = api.post(path)
    assert again.status_code == 409
    assert again.get_json()["error"]["code"] == "invalid_transition"


def test_a_revised_task_can_be_deleted_like_any_draft(login):
    api, _, task = _rejected(login, ClientFactory())
    assert api.delete(f"tasks/{task['id']}").status_code == 409
    api.post(f"tasks/{task['id']}/revise")
    assert api.delete(f"tasks/{task['id']}").status_code == 204


def test_a_task_rejected_after_it_was_open_keeps_its_bids_when_revised(login):
    api, admin = login(ClientFactory()), login(AdminFactory())
    task = api.post("tasks", json=task_payload(confidentiality="public")).get_json()
    api.post(f"tasks/{task['id']}/publish", json={})
    bid = login(ProviderFactory()).post(
        f"tasks/{task['id']}/bids",
        json={"price": {"amount": 1200, "currency": "usd"}, "timeline_days": 10,
              "cover_letter": "Happy to start next Monday on your queue."},
    )  # fmt: skip
    assert bid.status_code == 201
    flagged = api.patch(f"tasks/{task['id']}", json={"summary": "Reach me on telegram."})
    assert flagged.get_json()["status"] == "pending_review"
    admin.post(f"admin/tasks/{task['id']}/reject", json={"reason": REASON})
    api.post(f"tasks/{task['id']}/revise")

    refused = api.delete(f"tasks/{task['id']}")

    assert refused.status_code == 409
    assert "cancel it" in refused.get_json()["error"]["message"]
    assert api.post(f"tasks/{task['id']}/cancel", json={}).get_json()["status"] == "cancelled"
    assert api.get(f"tasks/{task['id']}/bids").get_json()["items"][0]["status"] == "expired"
