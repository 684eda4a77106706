"""The service shell: health, errors, CORS, configuration and the admin command."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace import create_app
from marketplace.accounts.models import Role, User
from marketplace.config import DEV_SECRET_KEY, ProductionConfig, TestingConfig
from marketplace.extensions import db
from marketplace.jobs.celery import PERIODIC


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "checks": {"database": "ok"}}


def test_healthz_is_503_when_dependencies_are_down(tmp_path):
    config = type(
        "Down",
        (TestingConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing-dir/x.db",
            "REDIS_URL": "redis://127.0.0.1:1/0",
        },
    )
    response = create_app(config).test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json() == {
        "status": "unavailable",
        "checks": {"database": "unavailable", "redis": "unavailable"},
    }


def test_unknown_route_and_wrong_method_answer_json(client):
    response = client.get("/api/v1/nope")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"

    response = client.get("/api/v1/auth/logout")
    assert response.status_code == 405
    assert response.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_a_clear_error(api):
    response = api.post("auth/login", data="{not json", content_type="application/json")
    assert response.status_code in (400, 422)
    assert response.get_json()["error"]["code"] in {"bad_request", "validation_error"}


def test_nul_characters_are_refused(api):
    response = api.post(
        "auth/signup",
        json={
            "email": "a@example.com",
            "password": "x" * 12,
            "name": "Bad\x00Name",
            "role": "client",
        },
    )
    assert response.status_code == 422


def test_unexpected_errors_are_json_without_a_stack_trace(app, client, monkeypatch):
    from marketplace.catalog import services

    def boom(**_):
        raise RuntimeError("secret internals")

    monkeypatch.setattr(services, "skill_page", boom)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = client.get("/api/v1/skills")
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    assert response.get_json() == {
        "error": {
            "code": "internal_error",
            "message": "An unexpected error occurred.",
            "details": {},
        }
    }


@pytest.fixture
def cors_client():
    config = type("Cors", (TestingConfig,), {"FRONTEND_ORIGINS": ["https://app.example.com"]})
    return create_app(config).test_client()


def test_cors_allows_listed_frontend_origins_with_credentials(cors_client):
    response = cors_client.options(
        "/api/v1/auth/me",
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "X-CSRFToken, Content-Type",
        },
    )
    assert response.headers["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert response.headers["Access-Control-Allow-Credentials"] == "true"
    assert "x-csrftoken" in response.headers["Access-Control-Allow-Headers"].lower()


def test_cors_says_nothing_to_other_origins(cors_client):
    response = cors_client.get("/api/v1/auth/csrf", headers={"Origin": "https://evil.example.net"})
    assert response.status_code == 200
    assert "Access-Control-Allow-Origin" not in response.headers


def test_production_refuses_the_development_secret():
    config = type(
        "Prod",
        (ProductionConfig,),
        {"SECRET_KEY": DEV_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": "sqlite://"},
    )
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config)
    config.SECRET_KEY = ""
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(config)


@pytest.mark.parametrize(
    ("settings", "missing"),
    [
        ({"STRIPE_WEBHOOK_SECRET": "whsec_x"}, "STRIPE_SECRET_KEY"),
        ({"STRIPE_SECRET_KEY": "sk_test_x"}, "STRIPE_WEBHOOK_SECRET"),
    ],
)
def test_stripe_payments_need_the_key_and_the_webhook_secret(settings, missing):
    """Only the signed webhook funds a milestone, so Stripe without its secret is refused."""
    config = type("Stripe", (TestingConfig,), {"PAYMENTS": "stripe", **settings})
    with pytest.raises(RuntimeError, match=missing):
        create_app(config)
    both = {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}
    app = create_app(type("Stripe", (TestingConfig,), {"PAYMENTS": "stripe", **both}))
    assert app.extensions["payment_gateway"].name == "stripe"


def test_production_cookies_are_secure(monkeypatch):
    config = type(
        "Prod",
        (ProductionConfig,),
        {
            "SECRET_KEY": "x" * 40,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "RATELIMIT_STORAGE_URI": "memory://",
        },
    )
    app = create_app(config)
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


@pytest.mark.parametrize(("raw", "expected"), [("true", True), ("0", False), ("", True)])
def test_boolean_settings_are_parsed_explicitly(monkeypatch, raw, expected):
    from marketplace.config import env_bool

    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", True) is expected
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ValueError):
        env_bool("FLAG", True)


def test_create_admin_command(app):
    runner = app.test_cli_runner()

    result = runner.invoke(
        args=["create-admin", "--email", "Root@Example.com", "--password", "a-strong-admin-pw"]
    )

    assert result.exit_code == 0, result.output
    admin = db.session.scalar(sa.select(User).where(User.email == "root@example.com"))
    assert admin.role == Role.ADMIN
    again = runner.invoke(
        args=["create-admin", "--email", "root@example.com", "--password", "a-strong-admin-pw"]
    )
    assert again.exit_code != 0
    assert "already registered" in again.output
    weak = runner.invoke(args=["create-admin", "--email", "x@example.com", "--password", "short"])
    assert weak.exit_code != 0
    assert "at least 10 characters" in weak.output


def test_create_admin_prompts_for_missing_options(app):
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", "ops@example.com"],
        input="a-strong-admin-pw\na-strong-admin-pw\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(User.role).where(User.email == "ops@example.com")) == "admin"


def test_skills_taxonomy_is_listed_and_paginated(client):
    body = client.get("/api/v1/skills?page_size=100").get_json()
    assert body["total"] >= 40
    categories = {skill["category"] for skill in body["items"]}
    assert {"finance", "customer-service", "it", "knowledge", "admin", "data"} <= categories
    first = client.get("/api/v1/skills?page=1&page_size=10").get_json()["items"]
    second = client.get("/api/v1/skills?page=2&page_size=10").get_json()["items"]
    assert len(first) == len(second) == 10
    assert not {s["slug"] for s in first} & {s["slug"] for s in second}
    finance = client.get("/api/v1/skills?category=finance").get_json()
    assert {s["slug"] for s in finance["items"]} >= {"bookkeeping", "payroll"}
    assert client.get("/api/v1/skills?page_size=1000").status_code == 422


def test_deeply_nested_json_is_a_400(api):
    body = "[" * 100_000 + "]" * 100_000
    response = api.post("auth/login", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "bad_request"


def test_oversized_bodies_are_refused(api):
    response = api.post("auth/login", data="x" * (2 * 1024 * 1024), content_type="application/json")
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("depth", [400, 900])
def test_json_nested_past_the_checks_is_a_clear_error(api, depth):
    body = '{"email": "a@b.co", "password": ' + "[" * depth + "]" * depth + "}"
    response = api.post("auth/signup", data=body, content_type="application/json")
    assert response.status_code in (400, 422)
    assert "error" in response.get_json()


def test_integers_too_long_to_read_are_a_400(api):
    body = '{"email": "a@b.co", "password": ' + "1" * 5000 + "}"
    response = api.post("auth/login", data=body, content_type="application/json")
    assert response.status_code == 400


def test_every_periodic_job_is_a_registered_task(app):
    """Beat and `flask run-periodic` name each job's task: a task no module registered
    would fail at its first run."""
    registered = app.extensions["celery"].tasks
    assert [name for name, (task, _) in PERIODIC.items() if task not in registered] == []
