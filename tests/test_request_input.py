"""What a request may carry: only the body fields and query parameters its endpoint
declares (anything else is a 422), as JSON."""

from __future__ import annotations

import re
import uuid
from datetime import date
from typing import Any

import sqlalchemy as sa

from marketplace.bids.models import Bid
from marketplace.contracts.models import Milestone
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.payments import delivery, funding
from marketplace.tasks.inputs import CoverageNeed
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, task_payload
from tests.matching_world import client, open_task
from tests.money import make_deal, money_post

SPEC_PATH = "/api/v1/openapi.json"
# Stripe signs the raw bytes of its webhook; the endpoint reads them itself.
RAW_BODY_ROUTES = {"/api/v1/webhooks/stripe"}


def assert_unknown(response: Any, name: str) -> None:
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["details"][name] == ["Unknown field."]


def _bid(login: Any) -> tuple[Any, Any, dict[str, Any]]:
    """A client's open public task with one bid; their signed-in clients and the bid."""
    owner, bidder = ClientFactory(), ProviderFactory()
    client_api, provider_api = login(owner), login(bidder)
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
    return client_api, provider_api, bid


def test_approving_a_milestone_takes_no_amount(login):
    deal = make_deal((40_000,))
    milestone_id = deal.milestone_ids[0]
    funding.fund(user=deal.client, milestone_id=milestone_id)
    delivery.submit(user=deal.provider, milestone_id=milestone_id, note="Done.", deliverables=[])
    api = login(deal.client)

    response = money_post(api, f"milestones/{milestone_id}/approve", json={"amount": 999_999})

    assert_unknown(response, "amount")
    assert db.session.get(Milestone, milestone_id).status == "submitted"
    assert money_post(api, f"milestones/{milestone_id}/approve").status_code == 200


def test_shortlisting_takes_no_body(login):
    client_api, _, bid = _bid(login)

    assert_unknown(client_api.post(f"bids/{bid['id']}/shortlist", json={"note": "x"}), "note")
    assert db.session.get(Bid, uuid.UUID(bid["id"])).status == "submitted"
    assert client_api.post(f"bids/{bid['id']}/shortlist").status_code == 200


def test_payout_onboarding_takes_no_body(login):
    api = login(ProviderFactory())

    response = api.post("providers/me/payouts/onboarding", json={"country": "PH"})

    assert_unknown(response, "country")
    assert api.post("providers/me/payouts/onboarding").status_code == 200


def test_marking_notifications_read_takes_no_body(login):
    client_api, _, _ = _bid(login)  # the client is told about the bid
    notification_id = db.session.scalars(sa.select(Notification.id)).one()

    assert_unknown(client_api.post("notifications/read", json={"ids": []}), "ids")
    assert_unknown(client_api.post(f"notifications/{notification_id}/read", json={"x": 1}), "x")
    assert db.session.get(Notification, notification_id).read_at is None
    assert client_api.post("notifications/read").get_json() == {"marked": 1}


def test_coverage_plans_take_no_body(login):
    owner = client("America/New_York", "US")
    task = open_task(
        owner,
        timezone_need=CoverageNeed({"mon": [["00:00", "24:00"]]}),
        start_date=date(2027, 1, 4),
        deadline=date(2027, 1, 29),
    )
    api = login(owner)

    assert_unknown(api.post(f"tasks/{task.id}/coverage-plan", json={"providers": 2}), "providers")
    assert api.post(f"tasks/{task.id}/coverage-plan").status_code == 200


def test_admin_user_list_refuses_an_unknown_filter(login):
    ClientFactory(name="Grace Hopper")
    ProviderFactory()
    api = login(AdminFactory())

    assert_unknown(api.get("admin/users?q=grace"), "q")
    assert api.get("admin/users?role=client").get_json()["total"] == 1


def test_an_empty_body_is_accepted_where_none_is_declared(login):
    client_api, _, _ = _bid(login)
    for data in ("", "{}"):
        response = client_api.post("notifications/read", data=data, content_type="application/json")
        assert response.status_code == 200, response.get_json()


def test_a_body_that_is_not_json_is_refused(login):
    client_api, _, bid = _bid(login)

    response = client_api.post(f"bids/{bid['id']}/shortlist", data={"note": "x"})

    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"
    assert db.session.get(Bid, uuid.UUID(bid["id"])).status == "submitted"


def _routes(app: Any) -> list[tuple[str, str]]:
    """Every API route and method, with random ids in the path."""
    return sorted(
        (re.sub(r"<(?:[^:<>]+:)?[^<>]+>", str(uuid.uuid4()), rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != SPEC_PATH
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
    )


def test_every_endpoint_refuses_undeclared_query_parameters(app, bearer):
    """Enforced for every route of the project's Blueprint, declared or not."""
    api = bearer(AdminFactory())
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    accepted = {}
    for path, method in _routes(app):
        response = api.request(method, f"{path}?unexpected_param=1", headers=headers)
        body = response.get_json(silent=True) or {}
        if body.get("error", {}).get("details", {}).get("unexpected_param") != ["Unknown field."]:
            accepted[f"{method} {path}"] = (response.status_code, body)
    assert accepted == {}


def test_every_endpoint_refuses_undeclared_body_fields(app, bearer):
    api = bearer(AdminFactory())
    accepted = {}
    for path, method in _routes(app):
        if re.sub(r"[0-9a-f-]{36}", "", path) in RAW_BODY_ROUTES:
            continue
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        response = api.request(method, path, json={"unexpected_field": 1}, headers=headers)
        body = response.get_json(silent=True) or {}
        if body.get("error", {}).get("details", {}).get("unexpected_field") != ["Unknown field."]:
            accepted[f"{method} {path}"] = (response.status_code, body)
    assert accepted == {}
