"""What the spec tells the tools that read it: who may call each operation, the
operations' names, and the links from one step of the workflow to the next.

The docs page (tests/test_docs_browser.py), a generated client
(tests/test_typescript_client.py) and stateful testers act on these alone, so each is
checked against what the API does: the security against the access matrix, the links
by following them through a whole contract, from a posted task to a released payment.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from flask import Flask

from tests.factories import ClientFactory, ProviderFactory, task_payload
from tests.money import usd
from tests.test_access_matrix import EXPECT, OK, UNSAFE_METHODS

SPEC_PATH = "/api/v1/openapi.json"
HTTP_METHODS = {"get", "put", "post", "patch", "delete"}
WEBHOOK = ("POST", "/api/v1/webhooks/stripe")


@pytest.fixture
def spec(client: Any) -> dict[str, Any]:
    return dict(client.get(SPEC_PATH).get_json())


def operations(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """Every operation of the spec by (METHOD, path)."""
    return {
        (method.upper(), path): operation
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def spec_path(rule: str) -> str:
    """A Flask rule (`/tasks/<uuid:task_id>`) as an OpenAPI path (`/tasks/{task_id}`)."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def anyone_may_call(method: str, rule: str) -> bool:
    """Whether the access matrix lets a caller who is not signed in through."""
    entry = EXPECT[(method, rule)]
    rows = entry.values() if isinstance(entry, dict) else [entry]
    return all(row[0] == OK for row in rows)


def test_each_operation_asks_for_what_the_api_checks(spec):
    documented = operations(spec)
    session_with_csrf = {"cookieAuth": [], "csrfToken": []}
    for method, rule in EXPECT:
        security = documented[(method, spec_path(rule))]["security"]
        unsafe = method in UNSAFE_METHODS
        session = session_with_csrf if unsafe else {"cookieAuth": []}
        if not anyone_may_call(method, rule):
            expected = [{"bearerAuth": []}, session]
        else:  # no lock for public reads; public writes still need the CSRF token
            expected = [session_with_csrf] if unsafe else []
        assert security == expected, (method, rule)
    # Stripe signs its calls: no user, no cookie, no CSRF token.
    assert documented[WEBHOOK]["security"] == []
    assert "security" not in spec, "no operation falls back to a default"


def test_the_csrf_header_is_a_declared_scheme(spec):
    schemes = spec["components"]["securitySchemes"]
    assert schemes["csrfToken"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-CSRFToken",
        "description": schemes["csrfToken"]["description"],
    }
    assert schemes["cookieAuth"]["name"] == "marketplace_session"
    used = {
        name
        for operation in operations(spec).values()
        for requirement in operation["security"]
        for name in requirement
    }
    assert used == set(schemes)


def test_operations_are_named_after_their_endpoints(app: Flask, spec):
    documented = operations(spec)
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.rule == SPEC_PATH:
            continue
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            assert documented[(method, spec_path(rule.rule))]["operationId"] == rule.endpoint


def test_every_link_names_an_operation_and_fills_its_path(spec):
    by_id = {operation["operationId"]: path for (_, path), operation in operations(spec).items()}
    links = [
        link
        for operation in operations(spec).values()
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    ]
    assert len(links) >= 6
    for link in links:
        target = by_id[link["operationId"]]
        assert set(link["parameters"]) == set(re.findall(r"{(\w+)}", target)), link


def follow(spec: dict[str, Any], source: str, answer: Any, name: str) -> tuple[str, str]:
    """Where the link `name` of an answer of operation `source` leads: (method, path),
    its parameters taken from the answer's body as the link says."""
    documented = operations(spec)
    (operation,) = [op for op in documented.values() if op["operationId"] == source]
    link = operation["responses"][str(answer.status_code)]["links"][name]
    ((method, path),) = [
        key for key, op in documented.items() if op["operationId"] == link["operationId"]
    ]
    for parameter, expression in link["parameters"].items():
        prefix = "$response.body#/"
        assert expression.startswith(prefix), f"unsupported runtime expression {expression}"
        value: Any = answer.get_json()
        for step in expression.removeprefix(prefix).split("/"):
            value = value[int(step)] if isinstance(value, list) else value[step]
        path = path.replace("{" + parameter + "}", str(value))
    return method, path


def test_links_lead_from_a_new_task_to_a_released_payment(spec, bearer):
    client = bearer(ClientFactory())
    provider = bearer(ProviderFactory())
    assert provider.post("providers/me/payouts/onboarding").status_code == 200

    def money() -> dict[str, str]:
        return {"Idempotency-Key": str(uuid.uuid4())}

    task = client.post(
        "tasks",
        json=task_payload(
            confidentiality="public",
            budget={"type": "fixed", "min": 1, "max": 60_000, "currency": "usd"},
            positions=1,
            timezone_need=None,
        ),
    )
    assert task.status_code == 201, task.get_json()
    published = client.request(*follow(spec, "tasks.create_task", task, "publish"), json={})
    assert published.get_json()["task"]["status"] == "open", published.get_json()

    bid = provider.post(
        f"tasks/{task.get_json()['id']}/bids",
        json={
            "price": {"amount": 60_000, "currency": "usd"},
            "milestones": [{"title": "Set-up", "amount": usd(60_000)}],
            "timeline_days": 30,
            "cover_letter": "We run support queues like this one every day.",
        },
    )
    assert bid.status_code == 201, bid.get_json()
    offer = client.request(*follow(spec, "bids.place_bid", bid, "award"), json={})
    assert offer.status_code == 201, offer.get_json()
    contract = provider.request(*follow(spec, "contracts.award", offer, "accept"))
    assert contract.get_json()["status"] == "active", contract.get_json()

    funded = client.request(
        *follow(spec, "contracts.accept_offer", contract, "fund"), json={}, headers=money()
    )
    assert funded.get_json()["milestone"]["status"] == "funded", funded.get_json()
    submitted = provider.request(
        *follow(spec, "payments.fund", funded, "submit"), json={"note": "Done."}
    )
    assert submitted.get_json()["status"] == "submitted", submitted.get_json()
    approved = client.request(
        *follow(spec, "payments.submit", submitted, "approve"), headers=money()
    )
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["id"] == funded.get_json()["milestone"]["id"]
    assert approved.get_json()["status"] == "released"
