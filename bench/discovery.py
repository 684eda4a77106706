"""Benchmark of task discovery: `GET /api/v1/tasks` with SQL-only and zone-rule filters.

Loads N open tasks from C clients in different zones (with different work periods)
into a fresh database, then times requests of one provider through the WSGI app.

    .venv/bin/python bench/discovery.py --tasks 2000 --clients 100
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench .venv/bin/python \
        bench/discovery.py --tasks 2000        # the database is wiped and migrated

Prints p50/p95 latency per query in milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa
from flask_migrate import upgrade

from bench import _shared as data
from marketplace import create_app
from marketplace.accounts import services as accounts
from marketplace.config import TestingConfig
from marketplace.extensions import db

QUERIES = {
    "newest": "",
    "skill + budget": "skills=bookkeeping,data-entry&currency=usd&budget_min=500",
    "search": "q=reports",
    "min_overlap=2": "min_overlap=2",
    "shoring=offshore": "shoring=offshore",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    config = type("Bench", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        clients = data.add_clients(args.clients)
        provider = data.add_searching_provider()
        data.add_open_tasks(args.tasks, clients)
        _, token = accounts.create_token(user=provider, name="bench")
        db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    print(f"{args.tasks} open tasks from {args.clients} clients on {url.split(':')[0]}")
    for name, query in QUERIES.items():
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            response = client.get(f"/api/v1/tasks?{query}&page_size=20", headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.get_json()
        samples.sort()
        p95 = samples[int(len(samples) * 0.95) - 1]
        print(
            f"{name:<18} p50 {statistics.median(samples):7.1f} ms   p95 {p95:7.1f} ms   "
            f"total {response.get_json()['total']}"
        )


if __name__ == "__main__":
    main()
