"""The production wiring on a real Redis: rate-limit storage, the Celery broker, health.

These run when TEST_REDIS_URL is set (CI sets it); without Redis they skip.
"""

from __future__ import annotations

import os

import pytest
import redis

from marketplace import create_app
from marketplace.config import TestingConfig
from marketplace.extensions import db, limiter
from marketplace.jobs import outbox
from marketplace.jobs.celery import run_task

REDIS_URL = os.environ.get("TEST_REDIS_URL")
pytestmark = pytest.mark.skipif(not REDIS_URL, reason="needs Redis: set TEST_REDIS_URL")


@pytest.fixture
def redis_app(app):
    """An app wired for production jobs and limits, sharing the suite's database.

    Flask-Limiter keeps one storage per Limiter, not per app: building this app points the
    shared limiter at Redis, so the suite's app gets it back afterwards (later tests move
    the clock, which a Redis window does not follow)."""
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    config = type(
        "WithRedis",
        (TestingConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "REDIS_URL": REDIS_URL,
            "RATELIMIT_STORAGE_URI": REDIS_URL,
            "AUTH_RATE_LIMIT": "2 per minute",
        },
    )
    app_with_redis = create_app(config)
    yield app_with_redis
    client.flushdb()
    limiter.init_app(app)  # its hooks are registered once; this only restores the storage
    with app_with_redis.app_context():
        db.engine.dispose()  # close its own PostgreSQL connections before they are collected


def test_healthz_checks_redis(redis_app):
    response = redis_app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["checks"] == {"database": "ok", "redis": "ok"}


def test_rate_limits_are_counted_in_redis(redis_app):
    client = redis_app.test_client()
    headers = {"X-CSRFToken": client.get("/api/v1/auth/csrf").get_json()["csrf_token"]}
    statuses = [
        client.post("/api/v1/auth/login", json={}, headers=headers).status_code for _ in range(3)
    ]
    assert statuses == [422, 422, 429]
    assert any(
        b"LIMITS" in key or b"login" in key for key in redis.Redis.from_url(REDIS_URL).keys("*")
    )


def test_jobs_are_queued_on_the_redis_broker_not_run_in_process(redis_app, sent_mail):
    with redis_app.app_context():
        outbox.enqueue_email(to="q@example.com", subject="Queued", body="...")
        db.session.commit()
        celery = redis_app.extensions["celery"]
        assert celery.conf.task_always_eager is False
        run_task("marketplace.jobs.tasks.deliver_outbox")
        db.session.remove()

    assert sent_mail == [], "a worker, not this process, delivers"
    assert redis.Redis.from_url(REDIS_URL).llen("celery") == 1
