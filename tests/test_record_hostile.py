"""The measured record's endpoints used by hostile or careless people: outsiders of every
kind get the 404 an unknown id gets and see nothing; agents, admins and suspended users
are refused what they may not do; malformed, mistyped, oversized and padded input is a 4xx
in the one error format that stores and tells nothing; replays and double submits are
409s. None of it is ever a 500."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.contracts import offers
from marketplace.contracts.inputs import AwardTerms
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.notifications.models import Notification
from marketplace.record.models import Change, Review, SlaEvent, WorkReport
from marketplace.statemachine import StatusChange
from tests.factories import (
    AdminFactory,
    ClientFactory,
    ProviderFactory,
    make_company,
    make_firm,
)
from tests.money import make_bid
from tests.reports_support import Engagement, engagement

#: The contract starts on Monday 2 March 2026; the tests run a week on.
STARTED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
NOW = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
FIGURES = {
    "period_start": "2026-03-02",
    "period_end": "2026-03-03",
    "items_received": 20,
    "items_completed": 18,
}
CHANGE = {
    "title": "New refund policy",
    "description": "Refunds within 30 days.",
    "to_adopt": "Macro",
}
OF_PROVIDER = {"quality": 5, "communication": 4, "timeliness": 4, "expertise": 5}
REVIEW = {"rating": 5, "sub_ratings": OF_PROVIDER, "text": "Careful work."}
UNKNOWN = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


@pytest.fixture
def deal(time_machine: Any) -> Engagement:
    time_machine.move_to(STARTED, tick=False)
    made = engagement()
    time_machine.move_to(NOW, tick=False)
    return made


@pytest.fixture
def filed(login: Any, deal: Engagement) -> dict[str, str]:
    """A work report and a change waiting for their answers."""
    report = login(deal.firm_agent).post(f"contracts/{deal.contract.id}/work-reports", json=FIGURES)
    change = login(deal.client_owner).post(f"contracts/{deal.contract.id}/changes", json=CHANGE)
    assert report.status_code == 201 and change.status_code == 201
    return {"report": report.get_json()["id"], "change": change.get_json()["id"]}


def stored() -> dict[str, int]:
    """How many rows each table a record endpoint writes holds."""
    return {
        model.__name__: db.session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
        for model in (WorkReport, Change, Review, SlaEvent, Notification, StatusChange)
    }


def error_of(response: Any, status: int) -> dict[str, Any]:
    """The response's error, checked to be the one JSON error format with `status`."""
    body = response.get_json()
    assert response.status_code == status, body
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return dict(body["error"])


def writes(deal: Engagement, ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any] | None]]:
    c = deal.contract.id
    return [
        ("POST", f"contracts/{c}/work-reports", {**FIGURES, "period_start": "2026-03-04"}),
        ("POST", f"work-reports/{ids['report']}/confirm", None),
        ("POST", f"work-reports/{ids['report']}/contest", {"reason": "Wrong counts."}),
        ("POST", f"contracts/{c}/changes", CHANGE),
        ("POST", f"changes/{ids['change']}/acknowledge", None),
        ("POST", f"changes/{ids['change']}/adopted", None),
        ("POST", f"contracts/{c}/reviews", REVIEW),
    ]


def reads(deal: Engagement) -> list[str]:
    c = deal.contract.id
    return [
        f"contracts/{c}/kpis",
        f"contracts/{c}/sla-events",
        f"contracts/{c}/work-reports",
        f"contracts/{c}/changes",
        f"contracts/{c}/reviews",
    ]


# --- outsiders ----------------------------------------------------------------------------


OUTSIDERS = {
    "another firm's owner": lambda: make_firm(owner=True).owner,
    "another company's owner": lambda: make_company(owner=True).owner,
    "another provider": ProviderFactory,
    "another client": ClientFactory,
}


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_outsiders_get_404_on_every_record_endpoint_and_change_nothing(
    login, deal, filed, outsider
):
    api = login(OUTSIDERS[outsider]())
    before = stored()

    for path in reads(deal):
        error = error_of(api.get(path), 404)
        assert error["code"] == "not_found" and error["details"] == {}
    for method, path, body in writes(deal, filed):
        error = error_of(api.request(method, path, json=body), 404)
        assert str(deal.contract.id) not in str(error)

    assert stored() == before
    report = db.session.get(WorkReport, uuid.UUID(filed["report"]))
    change = db.session.get(Change, uuid.UUID(filed["change"]))
    assert report.answered_at is None and change.acknowledged_at is None


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("report", "work-reports/{}/confirm"),
        ("report", "work-reports/{}/contest"),
        ("change", "changes/{}/acknowledge"),
        ("change", "changes/{}/adopted"),
    ],
)
def test_an_outsider_cannot_tell_anothers_report_or_change_from_an_unknown_id(
    login, deal, filed, kind, path
):
    # The 404 for someone else's report named the contract, the one for an unknown id the
    # report: the difference told outsiders which ids exist.
    api = login(ProviderFactory())
    body = {"reason": "Wrong counts."} if path.endswith("contest") else None

    theirs = api.post(path.format(filed[kind]), json=body)
    unknown = api.post(path.format(UNKNOWN), json=body)

    assert error_of(theirs, 404) == error_of(unknown, 404)


def test_ids_that_are_not_uuids_or_not_known_are_404s(login, deal):
    client, firm = login(deal.client_owner), login(deal.firm_owner)
    for path in (
        "contracts/not-a-uuid/kpis",
        "contracts/1/sla-events",
        "contracts/../work-reports",
        "providers/me/record",
        "providers/0x10/reviews",
        f"providers/{UNKNOWN}/record",
        f"providers/{UNKNOWN}/reviews",
        f"contracts/{UNKNOWN}/kpis",
        f"contracts/{UNKNOWN.upper()}/changes",
    ):
        assert error_of(client.get(path), 404)["code"] == "not_found", path
    for path in (
        "work-reports/123/confirm",
        "changes/%00/adopted",
        f"changes/{UNKNOWN}/acknowledge",
    ):
        assert error_of(firm.post(path), 404)["code"] == "not_found", path


def test_a_client_profile_has_no_provider_record_or_reviews(login, deal):
    api = login(deal.client_owner)
    for path in ("record", "reviews"):
        error_of(api.get(f"providers/{deal.contract.client_profile_id}/{path}"), 404)


# --- who of the parties ------------------------------------------------------------------


def test_the_clients_agent_reads_and_announces_but_answers_no_report(login, deal, filed):
    agent = login(deal.client_agent)
    before = stored()

    for path in reads(deal):
        assert agent.get(path).status_code == 200, path
    for action, body in (("confirm", None), ("contest", {"reason": "Wrong counts."})):
        error = error_of(agent.post(f"work-reports/{filed['report']}/{action}", json=body), 403)
        assert "owner or managers" in error["message"]
    review = agent.post(f"contracts/{deal.contract.id}/reviews", json=REVIEW)
    error_of(review, 403)
    assert stored() == before
    assert db.session.get(WorkReport, uuid.UUID(filed["report"])).answered_at is None


def test_the_firms_agent_files_and_adopts_but_neither_answers_nor_reviews(login, deal, filed):
    agent = login(deal.firm_agent)
    before = stored()

    for action, body in (("confirm", None), ("contest", {"reason": "Wrong counts."})):
        error_of(agent.post(f"work-reports/{filed['report']}/{action}", json=body), 403)
    error_of(agent.post(f"contracts/{deal.contract.id}/changes", json=CHANGE), 403)
    error_of(agent.post(f"contracts/{deal.contract.id}/reviews", json=REVIEW), 403)

    assert stored() == before
    assert agent.post(f"changes/{filed['change']}/adopted").status_code == 200


def test_admins_read_everything_and_write_nothing(login, deal, filed):
    admin = login(AdminFactory())
    before = stored()

    for path in reads(deal):
        assert admin.get(path).status_code == 200, path
    assert admin.get("admin/stats/slas").status_code == 200
    for method, path, body in writes(deal, filed):
        error = error_of(admin.request(method, path, json=body), 403)
        assert error["code"] == "forbidden"

    assert stored() == before


def test_only_admins_see_the_sla_stats(login, deal):
    for who in (deal.client_owner, deal.firm_owner, ProviderFactory()):
        error_of(login(who).get("admin/stats/slas"), 403)


@pytest.mark.parametrize("how", ["session", "token"])
def test_a_suspended_member_is_signed_out_of_the_record(login, bearer, deal, filed, how):
    api = login(deal.firm_agent) if how == "session" else bearer(deal.firm_agent)
    accounts.suspend_user(admin=AdminFactory(), user=deal.firm_agent, reason="Fake figures.")
    db.session.commit()
    before = stored()

    for path in reads(deal):
        error_of(api.get(path), 401)
    error_of(api.post(f"contracts/{deal.contract.id}/work-reports", json=FIGURES), 401)
    error_of(api.post(f"changes/{filed['change']}/adopted"), 401)

    assert stored() == before


# --- bad input ----------------------------------------------------------------------------


MALFORMED = [
    ({**FIGURES, "items_received": 10**30}, "items_received"),
    ({**FIGURES, "items_received": -(10**30)}, "items_received"),
    ({**FIGURES, "items_completed": "18"}, "items_completed"),
    ({**FIGURES, "items_completed": True}, "items_completed"),
    ({**FIGURES, "items_completed": 18.5}, "items_completed"),
    ({**FIGURES, "escalations": None}, "escalations"),
    (
        {**FIGURES, "satisfaction_responses": 1, "satisfaction_average": 1e308},
        "satisfaction_average",
    ),
    (
        {**FIGURES, "satisfaction_responses": 1, "satisfaction_average": True},
        "satisfaction_average",
    ),
    ({**FIGURES, "sop_adherence": -0.01}, "sop_adherence"),
    ({**FIGURES, "sop_adherence": [1]}, "sop_adherence"),
    ({**FIGURES, "period_start": "03/02/2026"}, "period_start"),
    ({**FIGURES, "period_start": "2026-3-2"}, "period_start"),
    ({**FIGURES, "period_start": "2026-03-02T00:00:00Z"}, "period_start"),
    ({**FIGURES, "period_start": "2026-02-30"}, "period_start"),
    ({**FIGURES, "period_start": 20260302}, "period_start"),
    ({**FIGURES, "period_start": "0001-01-01"}, "period_start"),
    ({**FIGURES, "period_end": "9999-12-31"}, "period_end"),
    ({**FIGURES, "period_start": "2026-03-03", "period_end": "2026-03-02"}, "period_end"),
    ({**FIGURES, "status": "confirmed"}, "status"),
    ({**FIGURES, "contract_id": UNKNOWN}, "contract_id"),
    ({**FIGURES, "notes": "x" * 10_001}, "notes"),
    ({**FIGURES, "notes": "a\u0000b"}, "notes"),
    ({**FIGURES, "improvement_suggestions": "one idea"}, "improvement_suggestions"),
    ({**FIGURES, "improvement_suggestions": [["nested"]]}, "improvement_suggestions"),
    ({**FIGURES, "improvement_suggestions": ["x"] * 51}, "improvement_suggestions"),
    # A repeat among items that are not text: one list of messages, not mixed keys (a 500).
    ({**FIGURES, "improvement_suggestions": ["x", 1, "x", None]}, "improvement_suggestions"),
    ({**FIGURES, "files": ["not-a-uuid"]}, "files"),
    ({**FIGURES, "files": [UNKNOWN]}, "files"),
    ({**FIGURES, "files": {"id": UNKNOWN}}, "files"),
    ([FIGURES], "_schema"),
    ("figures", "_schema"),
    (42, "_schema"),
]


def test_malformed_report_figures_are_422s_that_store_and_tell_nothing(login, deal):
    api = login(deal.firm_owner)
    before = stored()

    for body, field in MALFORMED:
        response = api.post(f"contracts/{deal.contract.id}/work-reports", json=body)

        error = error_of(response, 422)
        assert error["code"] == "validation_error"
        assert field in error["details"], (body, error)
    assert stored() == before


NON_NUMBERS = [
    ('"satisfaction_responses": 1, "satisfaction_average": NaN', "satisfaction_average"),
    ('"satisfaction_responses": 1, "satisfaction_average": Infinity', "satisfaction_average"),
    ('"sop_adherence": NaN', "sop_adherence"),
    ('"sop_adherence": -Infinity', "sop_adherence"),
    ('"sop_adherence": 1e400', "sop_adherence"),
    ('"escalations": NaN', "escalations"),
    ('"escalations": 1e400', "escalations"),
]


def test_nan_and_infinity_are_422s(login, deal):
    api = login(deal.firm_owner)
    before = stored()

    for raw, field in NON_NUMBERS:
        body = (
            '{"period_start": "2026-03-02", "period_end": "2026-03-03", '
            f'"items_received": 20, "items_completed": 18, {raw}}}'
        )
        response = api.post(
            f"contracts/{deal.contract.id}/work-reports", data=body, content_type="application/json"
        )

        assert field in error_of(response, 422)["details"], raw
    assert stored() == before


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": '{"period_start": ', "content_type": "application/json"}, 400),
        ({"data": "", "content_type": "application/json"}, 422),
        ({"data": "period_start=2026-03-02"}, 415),
        ({"data": '{"items_received": 1}', "content_type": "text/plain"}, 415),
        ({"json": {**FIGURES, "notes": "x" * 2_000_000}}, 413),
    ],
)
def test_bodies_that_are_not_json_or_too_large_are_4xx(login, deal, kwargs, status):
    before = stored()

    response = login(deal.firm_owner).post(f"contracts/{deal.contract.id}/work-reports", **kwargs)

    error_of(response, status)
    assert stored() == before


@pytest.mark.parametrize(
    "suggestions",
    [["   "], ["A macro for refunds", "\n\t"], ["A macro for refunds", "a macro for refunds "]],
)
def test_blank_or_repeated_suggestions_do_not_pad_the_improvements_kpi(login, deal, suggestions):
    # They were stored, and each counted as an improvement in the monthly KPI.
    before = stored()

    response = login(deal.firm_owner).post(
        f"contracts/{deal.contract.id}/work-reports",
        json={**FIGURES, "improvement_suggestions": suggestions},
    )

    assert "improvement_suggestions" in error_of(response, 422)["details"]
    assert stored() == before


@pytest.mark.parametrize("reason", ["   ", "\n\n\n", " \t \u00a0 "])
def test_a_blank_contest_reason_is_refused(login, deal, filed, reason):
    # Three spaces passed the length check: a report was contested for no stated reason.
    before = stored()

    response = login(deal.client_owner).post(
        f"work-reports/{filed['report']}/contest", json={"reason": reason}
    )

    assert "reason" in error_of(response, 422)["details"]
    assert stored() == before
    report = db.session.get(WorkReport, uuid.UUID(filed["report"]))
    assert report.contest_reason is None and report.answered_at is None


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"title": "   ", "description": " ", "to_adopt": "\n"},
            {"title", "description", "to_adopt"},
        ),
        ({**CHANGE, "to_adopt": "   "}, {"to_adopt"}),
        ({**CHANGE, "title": 7}, {"title"}),
        ({**CHANGE, "title": "x" * 201}, {"title"}),
        ({**CHANGE, "files": []}, {"files"}),
        ({"title": "New refund policy"}, {"description", "to_adopt"}),
    ],
)
def test_a_change_must_say_what_to_adopt(login, deal, body, fields):
    before = stored()

    response = login(deal.client_owner).post(f"contracts/{deal.contract.id}/changes", json=body)

    assert set(error_of(response, 422)["details"]) == fields
    assert stored() == before


OUT_OF_RANGE = [
    ({"page": 0}, "page"),
    ({"page": -1}, "page"),
    ({"page": "abc"}, "page"),
    ({"page": "1.5"}, "page"),
    ({"page": ""}, "page"),
    ({"page": 10**30}, "page"),
    ({"page": 100_001}, "page"),
    ({"page_size": 0}, "page_size"),
    ({"page_size": 101}, "page_size"),
    ({"page_size": "NaN"}, "page_size"),
    ({"sort": "id"}, "sort"),
]


@pytest.mark.parametrize("endpoint", ["work-reports", "changes", "sla-events"])
def test_pagination_out_of_range_is_a_422(login, deal, endpoint):
    api = login(deal.client_owner)

    for query, field in OUT_OF_RANGE:
        response = api.get(f"contracts/{deal.contract.id}/{endpoint}", query_string=query)

        assert field in error_of(response, 422)["details"], query


def test_the_providers_reviews_page_out_of_range_is_a_422(api, deal):
    path = f"providers/{deal.contract.provider_profile_id}/reviews"
    for query, field in OUT_OF_RANGE:
        assert field in error_of(api.get(path, query_string=query), 422)["details"], query


def test_a_page_past_the_end_is_empty(login, deal, filed):
    page = login(deal.client_owner).get(
        f"contracts/{deal.contract.id}/work-reports", query_string={"page": 100_000}
    )
    assert page.status_code == 200
    assert page.get_json()["items"] == [] and page.get_json()["total"] == 1


def test_bad_sla_event_filters_are_422s(login, deal):
    api = login(deal.client_owner)

    for query in (
        {"metric": "bogus"},
        {"metric": ""},
        {"metric": "FIRST_RESPONSE"},
        {"kind": "breach"},
        {"kind": "x" * 10_000},
    ):
        response = api.get(f"contracts/{deal.contract.id}/sla-events", query_string=query)

        assert set(query) <= set(error_of(response, 422)["details"]), query


# --- replays and double submits ------------------------------------------------------------


def test_answering_a_report_twice_is_a_409_and_tells_once(login, deal, filed):
    client = login(deal.client_owner)
    path = f"work-reports/{filed['report']}"
    assert client.post(f"{path}/confirm").status_code == 200
    before = stored()

    assert error_of(client.post(f"{path}/confirm"), 409)["code"] == "invalid_transition"
    error_of(login(deal.client_manager).post(f"{path}/contest", json={"reason": "Late."}), 409)
    assert stored() == before


def test_a_replayed_report_is_a_409(login, deal, filed):
    before = stored()

    replay = login(deal.firm_agent).post(f"contracts/{deal.contract.id}/work-reports", json=FIGURES)

    assert error_of(replay, 409)["details"] == {"work_report_id": filed["report"]}
    assert stored() == before


def test_adopting_or_acknowledging_twice_is_a_409(login, deal, filed):
    firm = login(deal.firm_owner)
    assert firm.post(f"changes/{filed['change']}/adopted").status_code == 200
    before = stored()

    error_of(firm.post(f"changes/{filed['change']}/adopted"), 409)
    error_of(login(deal.firm_agent).post(f"changes/{filed['change']}/acknowledge"), 409)
    assert stored() == before


def test_a_second_review_by_the_other_signer_of_a_side_is_a_409(login, deal):
    contract_flows.terminate(
        user=deal.client_owner, contract_id=deal.contract.id, reason="We closed the store."
    )
    path = f"contracts/{deal.contract.id}/reviews"
    assert login(deal.client_owner).post(path, json=REVIEW).status_code == 201
    before = stored()

    again = login(deal.client_manager).post(path, json={**REVIEW, "rating": 1})

    error_of(again, 409)
    assert stored() == before
    assert db.session.scalars(sa.select(Review.rating)).all() == [5]


# --- contracts that never started ----------------------------------------------------------


def test_a_declined_offer_has_no_review_window(login, time_machine):
    # GET said the window closed 14 days after the decline, while POST said the contract
    # never started: a frontend offered a review that could not be written.
    time_machine.move_to(NOW, tick=False)
    client, provider = ClientFactory(), ProviderFactory()
    bid = make_bid((10_000,), client=client, provider=provider)
    contract = contract_flows.award(user=client, bid_id=bid.id, terms=AwardTerms())
    offers.decline_offer(user=provider, contract_id=contract.id, reason=None)
    db.session.commit()
    path = f"contracts/{contract.id}/reviews"

    shown = login(client).get(path)
    refused = login(client).post(path, json=REVIEW)

    assert shown.status_code == 200
    assert shown.get_json() == {"items": [], "window_closes_at": None}
    assert "never started" in error_of(refused, 409)["message"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Review)) == 0
