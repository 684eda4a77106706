"""The OpenAPI spec: valid, complete, and true to what the API answers.

`test_api_conforms_to_spec` lets schemathesis generate requests for every
operation in /api/v1/openapi.json (so endpoints added later are covered
without touching this file) and sends them in-process, authenticated with a
bearer token of a signed-in client and, in a second run, a provider. It fails
on any 5xx and on any response whose status code, content type, headers or
body are not what the spec declares.
"""

from __future__ import annotations

import contextvars
import re
from collections.abc import Callable, Iterable
from typing import Any

import pytest
import schemathesis
from flask import Flask
from schemathesis.config import SchemathesisConfig

from tests.factories import ClientFactory, ProviderFactory

SPEC_PATH = "/api/v1/openapi.json"
MAX_EXAMPLES = 25
SEED = 20240601

ROLES: dict[str, Callable[[], Any]] = {"client": ClientFactory, "provider": ProviderFactory}


class FreshContextApp:
    """Run each request in an empty `contextvars` context, as a real server does.

    The tests hold an app context open (see conftest), and Flask 3.1 reuses an
    already-pushed app context for a request, so `g` (Flask-Login's cached user)
    and the SQLAlchemy session would leak from one request into the next.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        def run() -> list[bytes]:
            body = self.app(environ, start_response)
            try:
                return list(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

        return contextvars.Context().run(run)


@pytest.fixture(params=sorted(ROLES))
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def api_schema(app: Flask, bearer: Any, role: str) -> Any:
    """The spec, served by the app, with every request signed in as a `role` user."""
    token = bearer(ROLES[role]()).token
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {token}"},
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
        }
    )
    return schemathesis.openapi.from_wsgi(SPEC_PATH, FreshContextApp(app), config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_conforms_to_spec(case: Any) -> None:
    case.call_and_validate()


def _spec(app: Flask) -> dict[str, Any]:
    response = FreshContextApp(app)
    loaded = schemathesis.openapi.from_wsgi(SPEC_PATH, response)
    loaded.validate()
    return loaded.raw_schema  # type: ignore[no-any-return]


def test_spec_is_valid_and_documents_every_endpoint(app: Flask) -> None:
    spec = _spec(app)
    assert spec["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "put", "post", "patch", "delete"}
    }
    routed = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != SPEC_PATH
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert routed, "no API routes found"
    assert routed - documented == set(), "endpoints missing from the OpenAPI spec"
    assert documented - routed == set(), "documented endpoints that the app does not route"
