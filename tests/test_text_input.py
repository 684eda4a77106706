"""Text the database cannot store (lone surrogates, NUL) is a 422 naming the field, everywhere."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import ApiToken, User
from marketplace.extensions import db
from marketplace.messaging.models import Message
from marketplace.schemas import BaseSchema
from marketplace.tasks.models import Task
from tests.factories import ClientFactory, ProviderFactory, task_payload

# JSON's own escape for a UTF-16 half with no partner: valid JSON, but no UTF-8 can hold it.
LONE = "\udc00"


def _count(model: type[Any]) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model))


def _signed_out(api: Any, login: Any) -> Any:
    return api


def _client(api: Any, login: Any) -> Any:
    return login(ClientFactory())


def _bid_thread(login: Any) -> tuple[Any, str]:
    client_api, provider_api = login(ClientFactory()), login(ProviderFactory())
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
    return client_api, f"bids/{bid['id']}/messages"


Case = tuple[Callable[[Any, Any], Any], str, dict[str, Any], str, type[Any]]

CASES: dict[str, Case] = {
    "login": (
        _signed_out,
        "auth/login",
        {"email": "x@example.com", "password": f"{LONE} surrogate text"},
        "password",
        User,
    ),
    "signup": (
        _signed_out,
        "auth/signup",
        {
            "email": "new@example.com",
            "password": "a-long-enough-password",
            "name": f"Ana {LONE}",
            "role": "client",
        },
        "name",
        User,
    ),
    "token name": (_client, "auth/tokens", {"name": f"zapier {LONE}"}, "name", ApiToken),
    "task title": (_client, "tasks", task_payload(title=f"Support {LONE} tickets"), "title", Task),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_lone_surrogate_is_a_422_naming_the_field(api, login, case):
    who, path, body, field, model = case
    caller = who(api, login)
    before = _count(model)

    response = caller.post(path, json=body)

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    assert _count(model) == before


def test_a_lone_surrogate_in_a_message_body_is_a_422(login):
    client_api, path = _bid_thread(login)

    response = client_api.post(path, json={"body": f"Can you start {LONE} Monday?"})

    assert response.status_code == 422
    assert "body" in response.get_json()["error"]["details"]
    assert _count(Message) == 0


def test_a_nested_field_is_named_by_its_path(login):
    skills = [{"slug": f"customer-support{LONE}", "min_level": 3}]

    response = login(ClientFactory()).post("tasks", json=task_payload(skills=skills))

    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["skills"] == {
        "0": {"slug": ["Text must be valid Unicode: it has a lone surrogate code point."]}
    }
    assert _count(Task) == 0


def test_raw_surrogate_bytes_in_the_body_are_not_json(api):
    # UTF-8-encoded surrogates (ED B0 80) are not UTF-8: the body is refused before any schema.
    body = b'{"email": "x@example.com", "password": "\xed\xb0\x80 surrogate"}'

    response = api.post("auth/login", data=body, content_type="application/json")

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_a_nul_character_names_its_field_too(api):
    response = api.post(
        "auth/signup",
        json={"email": "a@example.com", "password": "x" * 12, "name": "B\x00d", "role": "client"},
    )

    assert response.status_code == 422
    assert response.get_json()["error"]["details"]["name"] == [
        "Text must not contain NUL characters."
    ]


def test_every_endpoint_loads_its_input_through_the_base_schema(app):
    # The check above lives in BaseSchema; an input schema outside it would let such text in.
    loaded = [
        (endpoint, parameter["schema"])
        for endpoint, view in app.view_functions.items()
        for parameter in getattr(view, "_apidoc", {}).get("arguments", {}).get("parameters", [])
    ]

    assert loaded
    outside = [(endpoint, schema) for endpoint, schema in loaded if not _is_base(schema)]
    assert outside == []


def _is_base(schema: Any) -> bool:
    # The empty schemas of endpoints that take no input have no field to carry text in.
    cls = schema if isinstance(schema, type) else type(schema)
    return issubclass(cls, BaseSchema) or not cls._declared_fields
