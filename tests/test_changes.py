"""Changes and learning speed: the client announces, the provider acknowledges and adopts,
and the time to adoption is counted in the contract's service hours."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa

from marketplace.contracts.inputs import SlaTargets
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.profiles.models import ServiceModel
from marketplace.record.models import Change
from tests.factories import AdminFactory, ClientFactory, ProviderFactory
from tests.reports_support import Engagement, engagement

#: The firm works 09:00-17:00 Monday to Friday in Berlin (CET, UTC+1, in early March).
STARTED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FRIDAY_16_00 = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)
MONDAY_10_00 = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
CHANGE = {
    "title": "New refund policy",
    "description": "From Monday refunds up to $50 need no approval.",
    "to_adopt": "Refund up to $50 without escalating; tag the ticket `refund-auto`.",
}


@pytest.fixture
def deal(time_machine: Any) -> Engagement:
    time_machine.move_to(STARTED, tick=False)
    return engagement()


def _announce(api: Any, deal: Engagement, **overrides: Any) -> Any:
    return api.post(f"contracts/{deal.contract.id}/changes", json={**CHANGE, **overrides})


def _announced(login: Any, deal: Engagement) -> dict[str, Any]:
    response = _announce(login(deal.client_agent), deal)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _told(kind: str) -> list[Any]:
    return list(
        db.session.scalars(sa.select(Notification.user_id).where(Notification.kind == kind))
    )


def test_a_change_announced_on_friday_afternoon_adopted_on_monday_took_two_service_hours(
    login, deal, time_machine, sent_mail
):
    time_machine.move_to(FRIDAY_16_00, tick=False)
    announced = _announce(login(deal.client_agent), deal)
    assert announced.status_code == 201, announced.get_json()
    change = announced.get_json()
    assert {k: change[k] for k in CHANGE} == CHANGE
    assert change["announced_at"] == "2026-03-06T15:00:00+00:00"
    assert change["acknowledged_at"] is None and change["adopted_at"] is None
    assert change["adoption_minutes"] is None
    assert change["learning_speed_hours"] == 8  # the BPO default
    assert sorted(_told("change.announced")) == [deal.firm_owner.id]
    assert any(
        m.to == deal.firm_owner.email and m.subject.startswith("Change to adopt") for m in sent_mail
    )

    time_machine.move_to(MONDAY_10_00, tick=False)
    adopted = login(deal.firm_agent).post(f"changes/{change['id']}/adopted")

    assert adopted.status_code == 200, adopted.get_json()
    body = adopted.get_json()
    assert body["adoption_minutes"] == 120
    assert body["adopted_at"] == body["acknowledged_at"] == "2026-03-09T09:00:00+00:00"
    assert body["adopted_by_id"] == body["acknowledged_by_id"] == str(deal.firm_agent.id)
    stored = db.session.get(Change, UUID(change["id"]))
    assert stored.adoption_minutes == 120
    assert sorted(_told("change.progress")) == sorted(
        [deal.client_owner.id, deal.client_manager.id]
    )
    assert any(
        m.to == deal.client_owner.email
        and m.subject.startswith("Change adopted")
        and "120 service minutes" in m.body
        for m in sent_mail
    )


def test_the_clock_is_exact_across_the_european_clock_change(login, deal, time_machine):
    # Berlin moves to CEST on Sunday 29 March: Friday 16:00 CET to Monday 10:00 CEST is 65
    # hours on the wall clock, and still 2 service hours.
    time_machine.move_to(datetime(2026, 3, 27, 15, 0, tzinfo=UTC), tick=False)
    change = _announced(login, deal)
    time_machine.move_to(datetime(2026, 3, 30, 8, 0, tzinfo=UTC), tick=False)

    body = login(deal.firm_owner).post(f"changes/{change['id']}/adopted").get_json()

    assert body["adoption_minutes"] == 120


def test_acknowledge_then_adopt_each_once(login, deal, time_machine):
    time_machine.move_to(datetime(2026, 3, 3, 8, 0, tzinfo=UTC), tick=False)  # Tue 09:00
    change = _announced(login, deal)
    provider = login(deal.firm_owner)

    time_machine.move_to(datetime(2026, 3, 3, 8, 30, tzinfo=UTC), tick=False)
    acknowledged = provider.post(f"changes/{change['id']}/acknowledge")
    assert acknowledged.status_code == 200
    assert acknowledged.get_json()["acknowledged_at"] == "2026-03-03T08:30:00+00:00"
    assert acknowledged.get_json()["adopted_at"] is None
    assert sorted(_told("change.progress")) == sorted(
        [deal.client_owner.id, deal.client_manager.id]
    )
    assert provider.post(f"changes/{change['id']}/acknowledge").status_code == 409

    # Wednesday 16:30 Berlin: Tuesday 09:00-17:00 (480) and Wednesday 09:00-16:30 (450).
    time_machine.move_to(datetime(2026, 3, 4, 15, 30, tzinfo=UTC), tick=False)
    adopted = provider.post(f"changes/{change['id']}/adopted").get_json()
    assert adopted["adoption_minutes"] == 930
    assert adopted["acknowledged_at"] == "2026-03-03T08:30:00+00:00"
    again = provider.post(f"changes/{change['id']}/adopted")
    assert again.status_code == 409 and "adopted already" in again.get_json()["error"]["message"]
    assert provider.post(f"changes/{change['id']}/acknowledge").status_code == 409


def test_the_target_is_the_terms_or_the_service_models_default(login, time_machine):
    time_machine.move_to(STARTED, tick=False)
    kpo = engagement(ServiceModel.KPO)
    assert _announced(login, kpo)["learning_speed_hours"] == 24
    assert kpo.contract.current_terms.content["sla"]["learning_speed_hours"] == 24
    custom = engagement(sla=SlaTargets())
    terms = custom.contract.current_terms
    terms.content = {**terms.content, "sla": {**terms.content["sla"], "learning_speed_hours": 16}}
    db.session.commit()
    assert _announced(login, custom)["learning_speed_hours"] == 16
    older = engagement()
    terms = older.contract.current_terms
    terms.content = {**terms.content, "sla": {"first_response_hours": 1}}  # before the target
    db.session.commit()
    assert _announced(login, older)["learning_speed_hours"] == 8  # the BPO default


def test_who_announces_adopts_and_reads(login, deal):
    assert _announce(login(deal.firm_owner), deal).status_code == 403
    assert _announce(login(AdminFactory()), deal).status_code == 403
    assert _announce(login(ClientFactory()), deal).status_code == 404
    assert _announce(login(ProviderFactory()), deal).status_code == 404
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Change)) == 0
    change = _announced(login, deal)

    for who in (deal.client_owner, AdminFactory()):
        assert login(who).post(f"changes/{change['id']}/adopted").status_code == 403
        assert login(who).post(f"changes/{change['id']}/acknowledge").status_code == 403
    for who in (ClientFactory(), ProviderFactory()):
        assert login(who).post(f"changes/{change['id']}/adopted").status_code == 404
    assert db.session.get(Change, UUID(change["id"])).acknowledged_at is None

    path = f"contracts/{deal.contract.id}/changes"
    for who in (deal.client_agent, deal.firm_agent, AdminFactory()):
        listed = login(who).get(path)
        assert listed.status_code == 200
        assert [c["id"] for c in listed.get_json()["items"]] == [change["id"]]
    assert login(ClientFactory()).get(path).status_code == 404
    assert login(ProviderFactory()).get(path).status_code == 404


def test_the_list_is_newest_first_and_paginated(login, deal, time_machine):
    titles = []
    for day in (3, 4, 5):
        time_machine.move_to(datetime(2026, 3, day, 10, 0, tzinfo=UTC), tick=False)
        title = f"Change of the {day}th"
        _announce(login(deal.client_owner), deal, title=title)
        titles.append(title)

    page = (
        login(deal.firm_owner)
        .get(f"contracts/{deal.contract.id}/changes", query_string={"page_size": 2})
        .get_json()
    )

    assert page["total"] == 3
    assert [c["title"] for c in page["items"]] == titles[::-1][:2]


def test_bad_input_and_ended_contracts(login, deal):
    bad = _announce(login(deal.client_owner), deal, title="", to_adopt=None)
    assert bad.status_code == 422
    assert set(bad.get_json()["error"]["details"]) == {"title", "to_adopt"}
    change = _announced(login, deal)
    login(deal.client_owner).post(
        f"contracts/{deal.contract.id}/terminate", json={"reason": "We closed the store."}
    )

    assert _announce(login(deal.client_owner), deal).status_code == 409
    assert login(deal.firm_owner).post(f"changes/{change['id']}/adopted").status_code == 409
