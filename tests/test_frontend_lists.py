"""The lists a frontend needs (issue 15): your bids across tasks, your milestones, the
invitations a task's client sent, the unread notification count.

Each list is checked for who sees what (a foreign user sees nothing), its filters, its
order, and its cost: the same number of statements at 2 and at 20 items.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from marketplace.bids import services as bids
from marketplace.bids.models import Bid
from marketplace.contracts.models import Milestone
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.flows import tasks as task_flows
from marketplace.matching import invitations
from marketplace.matching.models import TaskInvitation
from marketplace.notifications.models import Notification
from marketplace.payments import funding
from marketplace.profiles.models import ServiceModel
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import Budget, RequiredSkill
from marketplace.tasks.models import BudgetType, Confidentiality
from tests.factories import (
    AdminFactory,
    ClientFactory,
    ProviderFactory,
    make_company,
    make_firm,
    task_draft,
)
from tests.matching_world import open_task, provider
from tests.money import make_deal
from tests.test_payloads import place_bid

SKILL = "customer-support-tier1"


def _task(owner: Any, title: str = "Inbox triage for a busy founder", **overrides: Any) -> Any:
    """An open, public, fixed-price task of `owner` that VAs match."""
    return open_task(
        owner,
        title=title,
        confidentiality=Confidentiality.PUBLIC,
        budget=Budget(BudgetType.FIXED, 1, 100_000, "usd"),
        service_model=ServiceModel.VA,
        skills=(RequiredSkill(SKILL, 3),),
        positions=1,
        timezone_need=None,
        **overrides,
    )


def _ids(api: Any, path: str) -> list[str]:
    response = api.get(path)
    assert response.status_code == 200, response.get_json()
    return [item["id"] for item in response.get_json()["items"]]


def _statements(count_statements: Any, api: Any, path: str) -> tuple[dict[str, Any], Any]:
    """The body of `GET path` and the log of its statements, after one untimed call warms
    it up (the first use of a session records it)."""
    api.get(path)
    with count_statements() as log:
        response = api.get(path)
    assert response.status_code == 200, response.get_json()
    return response.get_json(), log


EMPTY = {"items": [], "total": 0}


def _empty(api: Any, path: str) -> dict[str, Any]:
    body = api.get(path).get_json()
    return {"items": body["items"], "total": body["total"]}


# GET /bids ----------------------------------------------------------------------------


def test_a_firms_members_see_its_bids_newest_first_with_their_tasks(login, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    firm = make_firm(owner=True, agent=True)
    company = make_company(owner=True)
    va = ProviderFactory()
    triage, entry = _task(company.owner), _task(company.owner, title="CRM data entry")
    older = place_bid(firm.agent, triage)
    time_machine.shift(timedelta(minutes=5))
    newer = place_bid(firm.owner, entry)
    va_bid = place_bid(va, triage)

    for member in (firm.owner, firm.agent):
        body = login(member).get("bids").get_json()
        assert body["total"] == 2
        assert [i["id"] for i in body["items"]] == [str(newer.id), str(older.id)]
        first = body["items"][0]
        assert first["task"] == {"id": str(entry.id), "title": "CRM data entry", "status": "open"}
        assert first["provider_name"] == firm.organization.name
        assert first["price"] == {"amount": 50_000, "currency": "usd"}
        assert "explanation" not in first  # the fit is on the bid's own page
    assert _ids(login(va), "bids") == [str(va_bid.id)]


def test_nobody_else_sees_a_providers_bids(login):
    company = make_company(owner=True, agent=True)
    va = ProviderFactory()
    place_bid(va, _task(company.owner))

    for user in (company.owner, company.agent, ProviderFactory(), ClientFactory(), AdminFactory()):
        assert _empty(login(user), "bids") == EMPTY


def test_bids_filter_by_status_and_task(login):
    client, va = ClientFactory(), ProviderFactory()
    first, second, third = (_task(client, title=f"Task {n}") for n in range(3))
    submitted = place_bid(va, first)
    withdrawn = bids.withdraw_bid(user=va, bid_id=place_bid(va, second).id)
    shortlisted = bids.shortlist_bid(user=client, bid_id=place_bid(va, third).id)
    api = login(va)

    assert _ids(api, "bids?status=submitted") == [str(submitted.id)]
    assert set(_ids(api, "bids?status=submitted&status=shortlisted")) == {
        str(submitted.id),
        str(shortlisted.id),
    }
    assert _ids(api, f"bids?task_id={second.id}") == [str(withdrawn.id)]
    assert _ids(api, f"bids?task_id={second.id}&status=submitted") == []
    for bad in ("status=won", "task_id=42", "page_size=101"):
        response = api.get(f"bids?{bad}")
        assert response.status_code == 422, bad
        assert response.get_json()["error"]["code"] == "validation_error"


def test_bids_cost_the_same_statements_at_two_and_twenty(login, count_statements):
    client = ClientFactory()
    firm = make_firm(agent=True)
    api = login(firm.agent)
    logs: list[Any] = []
    for wanted in (2, 20):
        while len(db.session.scalars(sa.select(Bid.id)).all()) < wanted:
            place_bid(firm.agent, _task(client))
        body, log = _statements(count_statements, api, "bids?page_size=50")
        assert body["total"] == wanted and len(body["items"]) == wanted
        assert all(item["task"]["title"] for item in body["items"])
        logs.append(log)
    assert logs[0].count == logs[1].count <= 3, logs[1].report()  # sign-in, page, count


# GET /milestones ----------------------------------------------------------------------


def _due(deal: Any, *dates: date | None) -> None:
    for milestone_id, due in zip(deal.milestone_ids, dates, strict=True):
        milestone = db.session.get(Milestone, milestone_id)
        assert milestone is not None
        milestone.due_date = due
    db.session.commit()


def test_both_sides_people_see_their_contracts_milestones_and_nobody_else(login):
    company = make_company(owner=True, agent=True)
    firm = make_firm(owner=True, agent=True)
    ours = make_deal((10_000, 20_000), client=company.owner, provider=firm.owner)
    theirs = make_deal((30_000,))

    for user in (company.owner, company.agent, firm.owner, firm.agent):
        body = login(user).get("milestones").get_json()
        assert body["total"] == 2
        assert [i["id"] for i in body["items"]] == [str(m) for m in ours.milestone_ids]
        for item in body["items"]:
            assert item["contract_id"] == str(ours.contract_id)
            assert item["task_id"] == str(ours.contract.task_id)
            assert item["task_title"] == task_draft().title
    for user in (theirs.client, theirs.provider):
        assert _ids(login(user), "milestones") == [str(theirs.milestone_ids[0])]
    for user in (ClientFactory(), ProviderFactory(), AdminFactory()):
        assert _empty(login(user), "milestones") == EMPTY


def test_milestones_come_by_due_date_then_creation(login, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    client, va = ClientFactory(), ProviderFactory()
    today = date.today()
    first = make_deal((1_000, 2_000, 3_000, 4_000), client=client, provider=va)
    _due(first, today + timedelta(days=10), None, today + timedelta(days=3), today)
    time_machine.shift(timedelta(hours=1))
    later = make_deal((5_000,), client=client, provider=va)
    _due(later, today + timedelta(days=3))

    a, b, c, d = (str(m) for m in first.milestone_ids)
    assert _ids(login(client), "milestones") == [d, c, str(later.milestone_ids[0]), a, b]


def test_milestones_filter_by_status_due_dates_and_contract(login):
    client, va = ClientFactory(), ProviderFactory()
    today = date.today()
    deal = make_deal((1_000, 2_000, 3_000), client=client, provider=va)
    other = make_deal((4_000,), client=client, provider=va)
    _due(deal, today, today + timedelta(days=6), today + timedelta(days=7))
    funding.fund(user=client, milestone_id=deal.milestone_ids[1])
    funding.fund(user=client, milestone_id=other.milestone_ids[0])
    monday, sunday = today.isoformat(), (today + timedelta(days=6)).isoformat()
    first, second, third = (str(m) for m in deal.milestone_ids)
    api = login(va)

    assert _ids(api, f"milestones?due_after={monday}&due_before={sunday}") == [first, second]
    assert _ids(api, f"milestones?due_after={sunday}") == [second, third]
    assert _ids(api, f"milestones?due_before={monday}") == [first]
    assert _ids(api, "milestones?status=funded") == [second, str(other.milestone_ids[0])]
    assert _ids(api, "milestones?status=funded&status=pending") == [
        first,
        second,
        third,
        str(other.milestone_ids[0]),
    ]
    assert _ids(api, f"milestones?contract_id={other.contract_id}") == [str(other.milestone_ids[0])]
    assert _ids(api, f"milestones?contract_id={deal.contract_id}&status=funded") == [second]
    foreign = make_deal((5_000,))
    assert _ids(api, f"milestones?contract_id={foreign.contract_id}") == []
    for bad in (f"due_after={sunday}&due_before={monday}", "due_before=soon", "status=paid"):
        response = api.get(f"milestones?{bad}")
        assert response.status_code == 422, bad
        assert response.get_json()["error"]["code"] == "validation_error"


def test_milestones_cost_the_same_statements_at_two_and_twenty(login, count_statements):
    logs: list[Any] = []
    for size in (2, 20):
        deal = make_deal(tuple(1_000 for _ in range(size)))
        body, log = _statements(count_statements, login(deal.provider), "milestones?page_size=50")
        assert body["total"] == size
        assert {i["task_title"] for i in body["items"]} == {task_draft().title}
        logs.append(log)
    assert logs[0].count == logs[1].count <= 3, logs[1].report()  # sign-in, page, count


# GET /tasks/{id}/invitations ----------------------------------------------------------


def _invite(owner: Any, task: Any, *invitees: Any) -> None:
    invitations.invite(user=owner, task_id=task.id, provider_ids=[p.id for p in invitees])


def test_the_client_sees_whom_it_invited_newest_first_and_what_came_of_it(login, time_machine):
    time_machine.move_to(utcnow(), tick=False)
    company = make_company(owner=True, agent=True)
    quiet, bidder, firm = (
        provider(skills={SKILL: (4, 2)}),
        provider(skills={SKILL: (4, 2)}),
        make_firm(owner=True, skills=[]),
    )
    task = _task(company.owner)
    _invite(company.owner, task, quiet)
    time_machine.shift(timedelta(minutes=1))
    _invite(company.owner, task, bidder)
    bid = place_bid(bidder.user, task)
    time_machine.shift(timedelta(minutes=1))
    db.session.add(
        TaskInvitation(
            task_id=task.id, provider_profile_id=firm.profile.id, invited_by_id=company.owner.id
        )
    )
    db.session.commit()

    for user in (company.owner, company.agent, AdminFactory()):
        body = login(user).get(f"tasks/{task.id}/invitations").get_json()
        assert body["total"] == 3
        assert [(i["provider_name"], i["status"], i["bid"]) for i in body["items"]] == [
            (firm.organization.name, "invited", None),
            (bidder.user.name, "bid", {"id": str(bid.id), "status": "submitted"}),
            (quiet.user.name, "invited", None),
        ]
        assert body["items"][1]["provider_profile_id"] == str(bidder.id)
        assert body["items"][1]["invited_by_id"] == str(company.owner.id)

    task_flows.cancel_task(user=company.owner, task_id=task.id, reason="Done in house")
    body = login(company.owner).get(f"tasks/{task.id}/invitations").get_json()
    assert [(i["status"], i["bid"]) for i in body["items"]] == [
        ("lapsed", None),
        ("bid", {"id": str(bid.id), "status": "expired"}),
        ("lapsed", None),
    ]


def test_nobody_but_the_tasks_client_sees_its_invitations(login):
    owner = ClientFactory()
    invitee = provider(skills={SKILL: (4, 2)})
    task = _task(owner)
    _invite(owner, task, invitee)
    draft = tasks.create_task(user=owner, draft=task_draft())

    for user in (invitee.user, ClientFactory(), ProviderFactory(), make_firm(agent=True).agent):
        for subject in (task, draft):
            response = login(user).get(f"tasks/{subject.id}/invitations")
            assert response.status_code == 404, (user.role, subject.status)
            assert response.get_json()["error"]["code"] == "not_found"
    assert _empty(login(owner), f"tasks/{draft.id}/invitations") == EMPTY
    missing = login(owner).get("tasks/00000000-0000-7000-8000-000000000000/invitations")
    assert missing.status_code == 404
    assert login(owner).get(f"tasks/{task.id}/invitations?page=0").status_code == 422


def test_invitations_cost_the_same_statements_at_two_and_twenty(login, count_statements):
    owner = ClientFactory()
    task = _task(owner)
    api = login(owner)
    logs: list[Any] = []
    invited = 0
    for wanted in (2, 20):
        while invited < wanted:
            if invited % 2:  # firms and VAs; every other VA bids
                profile_id = make_firm().profile.id
            else:
                va = provider()
                profile_id = va.id
                if invited % 4 == 0:
                    place_bid(va.user, task)
            db.session.add(
                TaskInvitation(
                    task_id=task.id, provider_profile_id=profile_id, invited_by_id=owner.id
                )
            )
            db.session.commit()
            invited += 1
        body, log = _statements(count_statements, api, f"tasks/{task.id}/invitations?page_size=50")
        assert body["total"] == wanted
        assert all(item["provider_name"] for item in body["items"])
        assert {item["status"] for item in body["items"]} == {"invited", "bid"}
        logs.append(log)
    assert logs[0].count == logs[1].count <= 5, logs[1].report()  # sign-in, task, page, count, bids


# GET /notifications/unread-count ------------------------------------------------------


def test_the_unread_count_is_the_users_own_unread_notifications(login, count_statements):
    user, other = ClientFactory(), ClientFactory()
    for n in range(3):
        db.session.add(Notification(user_id=user.id, kind="test", subject=f"Note {n}", data={}))
    db.session.add(Notification(user_id=other.id, kind="test", subject="Not yours", data={}))
    db.session.commit()
    api = login(user)

    body, log = _statements(count_statements, api, "notifications/unread-count")
    assert body == {"unread": 3}
    assert log.count <= 2, log.report()  # sign-in, the count
    first = db.session.scalar(sa.select(Notification.id).where(Notification.user_id == user.id))
    assert api.post(f"notifications/{first}/read").status_code == 200
    assert api.get("notifications/unread-count").get_json() == {"unread": 2}
    assert api.post("notifications/read").status_code == 200
    assert api.get("notifications/unread-count").get_json() == {"unread": 0}
    assert login(other).get("notifications/unread-count").get_json() == {"unread": 1}
    assert login(AdminFactory()).get("notifications/unread-count").get_json() == {"unread": 0}
