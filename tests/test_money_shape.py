"""One money shape: every amount the API takes or gives is `{"amount", "currency"}`.

The spec test is the rule a new field must pass; the others check that answers really
carry the shape and that a request naming the wrong currency is refused, not ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from marketplace.contracts.models import MilestoneStatus
from marketplace.payments import delivery, disputes, funding
from tests.factories import AdminFactory, ClientFactory, ProviderFactory
from tests.money import make_bid, make_deal, money_post, usd

SPEC_PATH = "/api/v1/openapi.json"

#: Words that make an integer property money, matched against the `_`-separated parts of
#: its name: `released_amount`, `fees`, `pending_payout`, `escrow_held`, `owed_to_clients`...
MONEY_WORDS = frozenset(
    {
        "amount",
        "price",
        "fee",
        "fees",
        "total",
        "balance",
        "paid",
        "pending",
        "payout",
        "held",
        "escrow",
        "released",
        "refunded",
        "funded",
        "spend",
        "earned",
        "revenue",
        "owed",
        "cost",
    }
)
#: Counts of a list page, not money.
PAGE_COUNTS = frozenset({"total", "total_pages"})
#: Query filters that are bounds of a task's budget, which keeps its own shape
#: (`{"type", "min", "max", "currency"}`); the filter's currency is its own parameter.
BUDGET_FILTERS = frozenset({"budget_min", "budget_max"})


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _alternatives(spec: dict[str, Any], schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The schema and what it may be through `allOf`/`anyOf`/`oneOf`, references followed."""
    schema = _resolve(spec, schema)
    yield schema
    for key in ("allOf", "anyOf", "oneOf"):
        for part in schema.get(key, []):
            yield from _alternatives(spec, part)


def _is_money(schema: dict[str, Any]) -> bool:
    """The money shape: exactly an integer `amount` and a string `currency`."""
    properties = schema.get("properties", {})
    return (
        set(properties) == {"amount", "currency"}
        and properties["amount"].get("type") == "integer"
        and properties["currency"].get("type") == "string"
    )


def _is_budget(schema: dict[str, Any]) -> bool:
    return set(schema.get("properties", {})) == {"type", "min", "max", "currency"}


def _is_page(schema: dict[str, Any]) -> bool:
    """A list page (`items` and their count) or flask-smorest's pagination header."""
    properties = schema.get("properties", {})
    return "items" in properties or "total_pages" in properties


def _is_integer(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    return any(part.get("type") == "integer" for part in _alternatives(spec, schema))


def _named_like_money(name: str) -> bool:
    return bool(MONEY_WORDS & set(name.lower().split("_")))


def _schemas(node: Any, where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in the spec (components and inline, bodies and answers), with
    where it is."""
    if isinstance(node, dict):
        if "properties" in node or "items" in node or "type" in node:
            yield where, node
        for key, value in node.items():
            yield from _schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schemas(value, f"{where}/{index}")


def money_shape_violations(spec: dict[str, Any]) -> list[str]:
    """Where the spec carries money in another shape than `{"amount", "currency"}`.

    The rule, for every object schema that is not the money shape itself:
    - an integer property named like money (a part of its name in MONEY_WORDS) is a
      violation, except the counts of a list page (`total`, `total_pages`);
    - an object with a `currency` property and an integer property beside it carries an
      amount and its currency side by side: a violation, except the task budget, which
      keeps its shape `{"type", "min", "max", "currency"}`;
    - a query parameter named like money is a violation, except the budget filters.
    Money is integer minor units, so float properties (scores, hours) are never money.
    """
    violations = []
    for where, schema in _schemas(spec, "#"):
        properties = schema.get("properties")
        if not isinstance(properties, dict) or _is_money(schema):
            continue
        for name, prop in properties.items():
            if not isinstance(prop, dict) or not _is_integer(spec, prop):
                continue
            if name in PAGE_COUNTS and _is_page(schema):
                continue
            if _named_like_money(name):
                violations.append(f"{where}: {name} is a bare integer")
            elif "currency" in properties and not _is_budget(schema):
                violations.append(f"{where}: {name} sits beside a currency")
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                name = parameter.get("name", "")
                if _named_like_money(name) and name not in BUDGET_FILTERS:
                    violations.append(f"{method.upper()} {path}: parameter {name}")
    return violations


def test_every_amount_in_the_spec_is_money(client):
    spec = client.get(SPEC_PATH).get_json()
    assert money_shape_violations(spec) == []
    # Requests and answers both use the shape (not only one schema somewhere).
    schemas = spec["components"]["schemas"]
    for schema, field in [
        ("Milestone", "amount"),
        ("Milestone", "released_amount"),
        ("MilestoneProposal", "amount"),
        ("MilestoneChange", "amount"),
        ("Resolve", "release_amount"),
        ("Dispute", "release_amount"),
        ("Payment", "amount"),
        ("Entry", "amount"),
        ("StatementLine", "spend"),
    ]:
        refs = re.findall(r"#/components/schemas/(\w+)", str(schemas[schema]["properties"][field]))
        assert refs and all(_is_money(schemas[ref]) for ref in refs), (schema, field)


def test_the_rule_catches_money_in_other_shapes():
    """The rule flags what the API used to answer (and a few new ways to go wrong)."""
    ref = {"$ref": "#/components/schemas/Money"}
    integer = {"type": "integer"}
    spec = {
        "paths": {
            "/tasks": {"get": {"parameters": [{"name": "budget_min"}, {"name": "max_price"}]}},
        },
        "components": {
            "schemas": {
                "Money": {
                    "properties": {"amount": integer, "currency": {"type": "string"}},
                },
                "Budget": {
                    "properties": {
                        "type": {"type": "string"},
                        "min": integer,
                        "max": integer,
                        "currency": {"type": "string"},
                    }
                },
                "OldMilestone": {
                    "properties": {
                        "amount": integer,
                        "currency": {"type": "string"},
                        "position": integer,
                        "released_amount": integer,
                    }
                },
                "OldDispute": {
                    "properties": {"release_amount": {"anyOf": [{"nullable": True}, integer]}}
                },
                "OldStatementLine": {
                    "properties": {"currency": {"type": "string"}, "pending_payout": integer}
                },
                "Page": {"properties": {"items": {"type": "array"}, "total": integer}},
                "Good": {"properties": {"amount": ref, "fees": {"allOf": [ref]}}},
                "Inline": {
                    "properties": {"line": {"type": "object", "properties": {"fee": integer}}}
                },
            }
        },
    }

    found = money_shape_violations(spec)

    assert found == [
        "#/components/schemas/OldMilestone: amount is a bare integer",
        "#/components/schemas/OldMilestone: position sits beside a currency",
        "#/components/schemas/OldMilestone: released_amount is a bare integer",
        "#/components/schemas/OldDispute: release_amount is a bare integer",
        "#/components/schemas/OldStatementLine: pending_payout is a bare integer",
        "#/components/schemas/Inline/properties/line: fee is a bare integer",
        "GET /tasks: parameter max_price",
    ]


@pytest.fixture
def deal():
    return make_deal((40_000, 60_000))


def test_milestones_payments_and_the_ledger_answer_money(deal, login):
    client_api, provider_api = login(deal.client), login(deal.provider)
    first = deal.milestone_ids[0]

    funded = money_post(client_api, f"milestones/{first}/fund", json={})

    assert funded.status_code == 200, funded.get_json()
    body = funded.get_json()
    assert body["payment"]["amount"] == usd(40_000)
    assert body["milestone"]["amount"] == usd(40_000)
    assert body["milestone"]["released_amount"] == usd(0)
    assert body["milestone"]["refunded_amount"] == usd(0)
    assert "currency" not in body["milestone"]
    contract = provider_api.get(f"contracts/{deal.contract_id}").get_json()
    assert [m["amount"] for m in contract["milestones"]] == [usd(40_000), usd(60_000)]

    delivery.submit(user=deal.provider, milestone_id=first, note="Done.", deliverables=[])
    released = money_post(client_api, f"milestones/{first}/approve")
    assert released.get_json()["released_amount"] == usd(40_000)
    detail = client_api.get(f"milestones/{first}").get_json()
    assert [p["amount"] for p in detail["payments"]] == [usd(40_000)]

    ledger = client_api.get(f"contracts/{deal.contract_id}/ledger").get_json()
    assert ledger["escrow"] == [usd(0)]
    funding_lines = ledger["items"][0]["entries"]
    assert sorted((e["account_kind"], e["amount"]["amount"]) for e in funding_lines) == [
        ("escrow", 40_000),
        ("external", -40_000),
    ]
    for transaction in ledger["items"]:
        for entry in transaction["entries"]:
            assert set(entry["amount"]) == {"amount", "currency"}
            assert entry["amount"]["currency"] == "usd"
            assert "currency" not in entry


def test_statements_give_every_figure_as_money(deal, login):
    first = deal.milestone_ids[0]
    funding.fund(user=deal.client, milestone_id=first)
    delivery.submit(user=deal.provider, milestone_id=first, note="Done.", deliverables=[])
    delivery.approve(user=deal.client, milestone_id=first)

    client = login(deal.client).get("statements/me").get_json()
    provider = login(deal.provider).get("statements/me").get_json()
    admin = login(AdminFactory()).get("statements/me").get_json()

    assert client["totals"] == [
        {
            "funded": usd(40_000),
            "refunded": usd(0),
            "released": usd(40_000),
            "spend": usd(40_000),
            "in_escrow": usd(0),
        }
    ]
    assert provider["contracts"][0]["earned"] == usd(36_000)
    assert provider["contracts"][0]["fees"] == usd(4_000)
    assert admin["months"][0]["revenue"] == usd(4_000)
    assert admin["totals"][0]["escrow_held"] == usd(0)


def test_a_dispute_resolution_answers_its_split_as_money(deal, login):
    first = deal.milestone_ids[0]
    funding.fund(user=deal.client, milestone_id=first)
    dispute = disputes.open_dispute(
        user=deal.client, milestone_id=first, reason="Nothing was delivered this week."
    )
    admin_api = login(AdminFactory())
    before = admin_api.get(f"admin/disputes/{dispute.id}").get_json()
    assert before["amount"] == usd(40_000)
    assert before["release_amount"] is None and before["refund_amount"] is None

    resolved = money_post(
        admin_api,
        f"admin/disputes/{dispute.id}/resolve",
        json={"release_amount": usd(30_000), "refund_amount": usd(10_000), "note": "Most of it."},
    )

    assert resolved.status_code == 200, resolved.get_json()
    body = resolved.get_json()
    assert (body["release_amount"], body["refund_amount"]) == (usd(30_000), usd(10_000))
    assert body["amount"] == usd(40_000)
    milestone = login(deal.client).get(f"milestones/{first}").get_json()
    assert milestone["released_amount"] == usd(30_000)
    assert milestone["refunded_amount"] == usd(10_000)
    assert milestone["dispute"]["release_amount"] == usd(30_000)


def _details(response: Any, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    return error["details"]


def test_a_split_in_another_currency_is_refused(deal, login):
    first = deal.milestone_ids[0]
    funding.fund(user=deal.client, milestone_id=first)
    dispute = disputes.open_dispute(
        user=deal.client, milestone_id=first, reason="Nothing was delivered this week."
    )
    eur = {"amount": 10_000, "currency": "eur"}

    response = money_post(
        login(AdminFactory()),
        f"admin/disputes/{dispute.id}/resolve",
        json={"release_amount": usd(30_000), "refund_amount": eur, "note": "Most of it."},
    )

    assert _details(response) == {
        "refund_amount": {"currency": ["Must be usd, the milestone's currency."]}
    }
    assert deal.milestone(0).status == MilestoneStatus.DISPUTED


def test_a_bid_with_milestones_in_another_currency_is_refused(login):
    client = ClientFactory()
    bid = make_bid((40_000,), client=client, provider=ProviderFactory())
    task_id = bid.task_id
    body = {
        "price": usd(40_000),
        "milestones": [{"title": "All of it", "amount": {"amount": 40_000, "currency": "eur"}}],
        "timeline_days": 30,
        "cover_letter": "We run this kind of work every day.",
    }

    response = login(ProviderFactory()).post(f"tasks/{task_id}/bids", json=body)

    assert _details(response) == {
        "milestones": {"0": {"amount": {"currency": ["Must be usd, the currency of the task."]}}}
    }
    in_euros = {**body, "price": {"amount": 40_000, "currency": "eur"}}
    response = login(ProviderFactory()).post(f"tasks/{task_id}/bids", json=in_euros)
    assert _details(response)["price"] == ["Bid in the task's currency (usd)."]


def test_an_award_with_milestones_in_another_currency_is_refused(login):
    client = ClientFactory()
    bid = make_bid((40_000,), client=client, provider=ProviderFactory())
    milestones = [
        {"title": "Half", "amount": usd(20_000)},
        {"title": "Other half", "amount": {"amount": 20_000, "currency": "gbp"}},
    ]

    response = login(client).post(f"bids/{bid.id}/accept", json={"milestones": milestones})

    assert _details(response) == {
        "milestones": {
            "1": {"amount": {"currency": ["Must be usd, the currency of the contract."]}}
        }
    }
    assert login(client).get(f"bids/{bid.id}").get_json()["status"] == "submitted"


def test_an_amendment_in_another_currency_is_refused(deal, login):
    client_api = login(deal.client)
    second = str(deal.milestone_ids[1])
    changes = {
        "milestones": {
            "change": [{"id": second, "amount": {"amount": 50_000, "currency": "eur"}}],
            "add": [{"title": "Extra", "amount": usd(10_000)}],
        }
    }

    response = client_api.post(
        f"contracts/{deal.contract_id}/amendments", json={"changes": changes}
    )

    message = ["Must be usd, the currency of the contract."]
    assert _details(response) == {
        "changes": {"milestones": {"change": {"0": {"amount": {"currency": message}}}}}
    }
    listed = client_api.get(f"contracts/{deal.contract_id}/amendments").get_json()
    assert listed["items"] == []


def test_an_amendment_echoes_its_amounts_as_money(deal, login):
    client_api = login(deal.client)
    second = str(deal.milestone_ids[1])
    changes = {"milestones": {"change": [{"id": second, "amount": usd(50_000)}]}}

    response = client_api.post(
        f"contracts/{deal.contract_id}/amendments", json={"changes": changes}
    )

    assert response.status_code == 201, response.get_json()
    assert response.get_json()["changes"]["milestones"]["change"] == [
        {"id": second, "amount": usd(50_000)}
    ]
