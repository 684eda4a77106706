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
import random
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa
from argon2 import PasswordHasher
from flask_migrate import upgrade

from marketplace import create_app
from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.catalog.models import Skill
from marketplace.config import TestingConfig
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.profiles.models import ClientProfile, ProviderProfile, ServiceModel
from marketplace.tasks.models import Task, TaskLanguage, TaskSkill, TaskStatus

ZONES = [
    ("America/New_York", "US"),
    ("Europe/London", "GB"),
    ("Europe/Berlin", "DE"),
    ("Australia/Sydney", "AU"),
    ("America/Chicago", "US"),
    ("Asia/Singapore", "SG"),
]
QUERIES = {
    "newest": "",
    "skill + budget": "skills=bookkeeping,data-entry&currency=usd&budget_min=500",
    "search": "q=reports",
    "min_overlap=2": "min_overlap=2",
    "shoring=offshore": "shoring=offshore",
}


def load(tasks: int, clients: int) -> None:
    """Insert clients, one provider and open tasks directly (fast, no HTTP)."""
    rng = random.Random(7)
    password = PasswordHasher().hash("bench-password-1")
    skills = list(db.session.scalars(sa.select(Skill)))
    weekdays = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    profiles = []
    for n in range(clients):
        zone, country = ZONES[n % len(ZONES)]
        user = User(
            email=f"client{n}@bench.example",
            password_hash=password,
            name=f"C{n}",
            role=Role.CLIENT,
            timezone=zone,
            country=country,
        )
        profile = ClientProfile(user=user, timezone=zone, country=country, working_hours=weekdays)
        db.session.add(profile)
        profiles.append(profile)
    provider = User(
        email="provider@bench.example",
        password_hash=password,
        name="P",
        role=Role.PROVIDER,
        timezone="Asia/Manila",
        country="PH",
    )
    db.session.add(
        ProviderProfile(
            user=provider,
            service_model=ServiceModel.VA,
            timezone="Asia/Manila",
            country="PH",
            working_hours={d: [["21:00", "05:00"]] for d in weekdays},
        )
    )
    db.session.flush()
    now, today = utcnow(), date.today()
    for n in range(tasks):
        client_profile = rng.choice(profiles)
        task = Task(
            client_profile=client_profile,
            created_by=client_profile.user,
            terms_hash="x",
            title=f"Weekly reports and bookkeeping {n}",
            summary="Prepare reports.",
            tier=3,
            budget_type="hourly",
            budget_min=500,
            budget_max=rng.randint(600, 5000),
            currency="usd",
            status=TaskStatus.OPEN,
            start_date=today + timedelta(days=rng.randint(0, 30)),
            deadline=today + timedelta(days=rng.randint(40, 200)),
            opened_at=now - timedelta(minutes=n),
            expires_at=now + timedelta(days=30),
        )
        task.skills = [TaskSkill(skill=s, min_level=2) for s in rng.sample(skills, 2)]
        task.language_rows = [TaskLanguage(code="en")]
        db.session.add(task)
    db.session.commit()


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
        load(args.tasks, args.clients)
        provider = db.session.scalar(sa.select(User).where(User.role == Role.PROVIDER))
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
