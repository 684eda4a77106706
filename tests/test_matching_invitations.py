"""Inviting matched providers to bid: who, how many, once, and what the invitee sees."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.flows import tasks as task_flows
from marketplace.matching import invitations
from marketplace.matching.invitations import MAX_INVITATIONS
from marketplace.matching.models import TaskInvitation
from marketplace.profiles.models import ServiceModel
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import RequiredSkill
from marketplace.tasks.models import Task, TaskStatus
from tests.factories import AdminFactory, ClientFactory
from tests.matching_world import client, open_task, provider

SKILL = "customer-support-tier1"


def _task(owner: Any, **overrides: Any) -> Any:
    return open_task(
        owner, service_model=ServiceModel.VA, skills=(RequiredSkill(SKILL, 3),), **overrides
    )


def test_invited_providers_are_notified_and_see_the_public_task(login, sent_mail):
    owner = client("America/New_York", "US")
    invitee = provider(skills={SKILL: (4, 2)})
    task = _task(owner)
    response = login(owner).post(
        f"tasks/{task.id}/invitations", json={"provider_ids": [str(invitee.id)]}
    )
    assert response.status_code == 201, response.get_json()
    assert [i["provider_profile_id"] for i in response.get_json()["items"]] == [str(invitee.id)]
    assert invitee.user is not None
    assert [m.to for m in sent_mail] == [invitee.user.email]
    listed = login(invitee.user).get("providers/me/invitations").get_json()
    assert listed["total"] == 1
    shown = listed["items"][0]["task"]
    assert shown["id"] == str(task.id)
    assert "confidential_details" not in shown and "attachments" not in shown
    assert "Macros" not in str(listed)  # the factory task's confidential text
    notices = login(invitee.user).get("notifications").get_json()["items"]
    assert [n["kind"] for n in notices] == ["task_invitation"]


def test_inviting_twice_changes_nothing(login, sent_mail):
    owner = client("America/New_York", "US")
    invitee = provider(skills={SKILL: (4, 2)})
    task = _task(owner)
    api = login(owner)
    first = api.post(f"tasks/{task.id}/invitations", json={"provider_ids": [str(invitee.id)]})
    again = api.post(f"tasks/{task.id}/invitations", json={"provider_ids": [str(invitee.id)]})
    assert again.status_code == 201
    assert again.get_json()["items"][0]["id"] == first.get_json()["items"][0]["id"]
    assert len(sent_mail) == 1


def test_only_matching_providers_can_be_invited(login):
    owner = client("America/New_York", "US")
    fits = provider(skills={SKILL: (4, 2)})
    weak = provider(skills={SKILL: (2, 2)})
    task = _task(owner)
    response = login(owner).post(
        f"tasks/{task.id}/invitations", json={"provider_ids": [str(fits.id), str(weak.id)]}
    )
    assert response.status_code == 422
    assert str(weak.id) in str(response.get_json()["error"]["details"])
    assert (
        login(owner)
        .post(
            f"tasks/{task.id}/invitations",
            json={"provider_ids": ["00000000-0000-0000-0000-000000000000"]},
        )
        .status_code
        == 422
    )


def test_at_most_twenty_invitations_a_task(login):
    owner = client("America/New_York", "US")
    task = _task(owner)
    many = [str(provider(skills={SKILL: (3, 0)}).id) for _ in range(MAX_INVITATIONS + 1)]
    api = login(owner)
    assert api.post(f"tasks/{task.id}/invitations", json={"provider_ids": many}).status_code == 422
    first = api.post(f"tasks/{task.id}/invitations", json={"provider_ids": many[:20]})
    assert first.status_code == 201
    last = api.post(f"tasks/{task.id}/invitations", json={"provider_ids": many[20:]})
    assert last.status_code == 422


def test_only_open_tasks_take_invitations(login):
    owner = client("America/New_York", "US")
    invitee = provider(skills={SKILL: (4, 2)})
    task = _task(owner)
    task_flows.cancel_task(user=owner, task_id=task.id, reason="No longer needed")
    response = login(owner).post(
        f"tasks/{task.id}/invitations", json={"provider_ids": [str(invitee.id)]}
    )
    assert response.status_code == 409


@pytest.mark.parametrize(("who", "status"), [("admin", 403), ("other_client", 404),
                                             ("provider", 404), ("anonymous", 401)])  # fmt: skip
def test_only_the_client_invites(api, login, who, status):
    owner = client("America/New_York", "US")
    invitee = provider(skills={SKILL: (4, 2)})
    task = _task(owner)
    users = {"admin": AdminFactory(), "other_client": ClientFactory(), "provider": invitee.user}
    caller = login(users[who]) if who in users else api
    response = caller.post(f"tasks/{task.id}/invitations", json={"provider_ids": [str(invitee.id)]})
    assert response.status_code == status


def test_clients_have_no_invitations_to_list(login):
    assert login(ClientFactory()).get("providers/me/invitations").status_code == 403


def test_a_provider_lists_only_its_own_invitations(api, login):
    owner = client("America/New_York", "US")
    invitee = provider(skills={SKILL: (4, 2)})
    other = provider(skills={SKILL: (4, 2)})
    task = _task(owner)
    invited = login(owner).post(
        f"tasks/{task.id}/invitations", json={"provider_ids": [str(invitee.id)]}
    )
    assert invited.status_code == 201

    assert login(invitee.user).get("providers/me/invitations").get_json()["total"] == 1
    assert login(other.user).get("providers/me/invitations").get_json() == {
        "items": [],
        "page": 1,
        "page_size": 20,
        "total": 0,
    }
    assert api.get("providers/me/invitations").status_code == 401


@pytest.mark.postgres  # SQLite has one writer: the other request would wait for this one
def test_a_task_closed_while_inviting_takes_no_invitations(app, monkeypatch):
    """The task is locked and read afresh before the status check, so a task that another
    request cancelled after this one loaded it is not invited to."""
    owner = client("America/New_York", "US")
    invitee = provider(skills={SKILL: (4, 2)})
    task = _task(owner)
    real_is_owner = tasks.is_owner

    def cancelled_meanwhile(user: Any, loaded: Task) -> bool:
        with db.engine.begin() as other:  # another request, on its own connection
            other.execute(
                sa.update(Task).where(Task.id == loaded.id).values(status=TaskStatus.CANCELLED)
            )
        return real_is_owner(user, loaded)

    monkeypatch.setattr(tasks, "is_owner", cancelled_meanwhile)
    with pytest.raises(DomainError):
        invitations.invite(user=owner, task_id=task.id, provider_ids=[invitee.id])
    db.session.rollback()
    assert db.session.scalars(sa.select(TaskInvitation)).all() == []
