"""Benchmark of the request path: requests per second through the WSGI app, in one process.

Builds a small world through the API on a fresh database (a client with a task of five
skills and three languages, three providers who match it, one of whom bid), then sends
each request many times with Flask's test client and compares the rate with a minimal
Flask app answering JSON (the ratio is what the plumbing leaves of Flask's own speed).
Rates are per second of the process's CPU, SQLite's included (it runs in-process):

    .venv/bin/python bench/requests.py --requests 2000
    .venv/bin/python bench/requests.py --profile "task detail (session)"   # cProfile, top 30

SQLite in a temporary file by default; DATABASE_URL (PostgreSQL) is wiped and migrated.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa
from flask import Flask, jsonify
from flask.testing import FlaskClient
from flask_migrate import upgrade

from marketplace import create_app
from marketplace.config import TestingConfig
from marketplace.extensions import db

PASSWORD = "bench-password-2026 horse"
SKILLS = ["customer-support-tier1", "data-entry", "inbox-management", "crm-updates", "web-research"]


def build_app(database_url: str) -> Flask:
    """The app on a freshly migrated database, limits off, every client established."""
    settings = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "RATELIMIT_ENABLED": False,
        "NEW_CLIENT_DAYS": 0,
    }
    app = create_app(type("BenchConfig", (TestingConfig,), settings))
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.session.remove()
    return app


class Session:
    """A signed-in test client sending the CSRF token, as the frontend does."""

    def __init__(self, app: Flask, email: str, role: str, name: str) -> None:
        self.client: FlaskClient = app.test_client()
        self.csrf = self.client.get("/api/v1/auth/csrf").get_json()["csrf_token"]
        body = {"email": email, "password": PASSWORD, "name": name, "role": role}
        self.call("POST", "auth/signup", json=body, expect=202)
        self.call("POST", "auth/login", json={"email": email, "password": PASSWORD})

    def call(self, method: str, path: str, expect: int = 200, **kwargs: Any) -> Any:
        response = self.client.open(
            f"/api/v1/{path}", method=method, headers={"X-CSRFToken": self.csrf}, **kwargs
        )
        assert response.status_code == expect, (path, response.get_json())
        return response.get_json()


def build_world(app: Flask) -> dict[str, Callable[[], Any]]:
    """The world through the API; returns the requests to time, by name."""
    client = Session(app, "client@bench.example", "client", "Client")
    task = client.call(
        "POST",
        "tasks",
        expect=201,
        json={
            "title": "Support tickets and CRM hygiene",
            "summary": "Answer tickets and keep the CRM clean, 200 a week.",
            "confidential_details": "Macros live in the shared drive.",
            "confidentiality": "terms_required",
            "service_model": "va",
            "tier": 3,
            "skills": [{"slug": slug, "min_level": 2} for slug in SKILLS],
            "budget": {"type": "fixed", "min": 50_000, "max": 120_000, "currency": "usd"},
            "deadline": (date.today() + timedelta(days=90)).isoformat(),
            "languages": ["en", "es", "fr"],
        },
    )
    client.call("POST", f"tasks/{task['id']}/publish", json={})
    token = client.call("POST", "auth/tokens", expect=201, json={"name": "bench"})["token"]
    providers = []
    for n in range(3):
        provider = Session(app, f"provider{n}@bench.example", "provider", f"Provider {n}")
        provider.call(
            "PUT",
            "providers/me",
            json={
                "languages": ["en", "es", "fr"],
                "skills": [{"slug": s, "level": 4, "years": 3} for s in [*SKILLS, "payroll"]],
            },
        )
        providers.append(provider)
    providers[0].call(
        "POST", f"tasks/{task['id']}/confidentiality", expect=201, json=_terms(client, task)
    )
    matches = client.call("GET", f"tasks/{task['id']}/matches")
    assert matches["total"] == len(providers), matches
    bearer = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    minimal = Flask("minimal")
    minimal.add_url_rule("/", "index", lambda: jsonify({"id": 1, "name": "minimal"}))
    plain = minimal.test_client()
    detail = f"/api/v1/tasks/{task['id']}"
    etag = {"If-None-Match": bearer.get("/api/v1/skills").headers.get("ETag", "")}
    return {
        "minimal Flask app": lambda: plain.get("/"),
        "skills": lambda: bearer.get("/api/v1/skills"),
        "skills (revalidated: 304)": lambda: bearer.get("/api/v1/skills", headers=etag),
        "me (session)": lambda: client.client.get("/api/v1/auth/me"),
        "me (bearer)": lambda: bearer.get("/api/v1/auth/me", headers=headers),
        "task detail (session)": lambda: client.client.get(detail),
        "task detail (bearer)": lambda: bearer.get(detail, headers=headers),
        "task detail (provider)": lambda: providers[1].client.get(detail),
        "matches": lambda: client.client.get(f"{detail}/matches"),
    }


def _terms(client: Session, task: dict[str, Any]) -> dict[str, Any]:
    terms = client.call("GET", f"tasks/{task['id']}")["confidentiality_terms"]
    return {"terms_hash": terms["hash"]}


def rate(request: Callable[[], Any], count: int) -> float:
    """Requests per second of this process's CPU time (other load on the machine barely
    moves it, unlike wall time) over `count` requests, after a warm-up."""
    for _ in range(min(count // 10, 50)):
        assert request().status_code in (200, 304)
    start = time.process_time()
    for _ in range(count):
        request()
    return count / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint")
    parser.add_argument("--profile", metavar="NAME", help="profile one request (cProfile)")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        app = build_app(url or f"sqlite:///{tmp}/bench.db")
        requests = build_world(app)
        if args.profile:
            request = requests[args.profile]
            rate(request, 100)
            profiler = cProfile.Profile()
            profiler.runcall(lambda: [request() for _ in range(args.requests)])
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            return
        baseline = rate(requests["minimal Flask app"], args.requests)
        print(f"{'request':28} {'req/s':>8} {'CPU ms':>6} {'ratio':>6}")
        for name, request in requests.items():
            per_second = baseline if name == "minimal Flask app" else rate(request, args.requests)
            print(
                f"{name:28} {per_second:8.0f} {1000 / per_second:6.2f} {per_second / baseline:6.2f}"
            )


if __name__ == "__main__":
    main()
