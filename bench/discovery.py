"""Benchmark of task discovery: `GET /api/v1/tasks` with every kind of filter.

Loads N open tasks from C clients in zones around the world (a third without a start
date, some coverage tasks; the zone-fit figures computed as the app computes them) into
a database, once: a later run with the same N reuses it (`--reload` loads it again).
Then times requests of two providers (a Manila night-shift VA and a Bogota firm) through
the WSGI app, page 1 and a later page (by cursor), and counts their SQL statements.

    createdb -h 127.0.0.1 -U postgres wt_discovery_bench_100k
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/wt_discovery_bench_100k \
        .venv/bin/python bench/discovery.py --tasks 100000
    .venv/bin/python bench/discovery.py --tasks 2000    # a throwaway SQLite file

Prints p50/p95 latency per query in milliseconds, the statements of one request, the
page's `total` (capped at 1000: "1000+") and a CPU check (a fixed Python loop, best of
five), since on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa
from argon2 import PasswordHasher
from flask_migrate import upgrade

from marketplace import create_app
from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.catalog.models import Skill
from marketplace.config import TestingConfig
from marketplace.database import new_id, utcnow
from marketplace.extensions import db
from marketplace.matching import task_fit
from marketplace.profiles.models import ClientProfile, ProviderProfile, ServiceModel
from marketplace.tasks.models import Task, TaskLanguage, TaskSkill, TaskStatus

ZONES = [
    ("America/New_York", "US"), ("America/Chicago", "US"), ("America/Los_Angeles", "US"),
    ("Europe/London", "GB"), ("Europe/Berlin", "DE"), ("Europe/Paris", "FR"),
    ("Australia/Sydney", "AU"), ("Asia/Singapore", "SG"), ("America/Toronto", "CA"),
    ("Asia/Tokyo", "JP"), ("America/Sao_Paulo", "BR"), ("Asia/Dubai", "AE"),
]  # fmt: skip
SHIFTS = [("09:00", "17:00"), ("08:00", "16:00"), ("10:00", "18:00"), ("07:00", "15:00")]
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
QUERIES = {
    "newest": "",
    "sort=deadline": "sort=deadline",
    "sort=budget_desc": "sort=budget_desc",
    "search": "q=reports",
    "skills any": "skills=bookkeeping,data-entry",
    "skills all + budget": "skills=bookkeeping,data-entry&skills_match=all&currency=usd"
    "&budget_min=2000",
    "language + trial": "language=es&trial=true",
    "shoring=onshore": "shoring=onshore",
    "shoring=nearshore": "shoring=nearshore",
    "shoring=offshore": "shoring=offshore",
    "min_overlap=2": "min_overlap=2",
    "min_overlap=6": "min_overlap=6",
    "min_overlap=8": "min_overlap=8",
    "overlap + skills": "min_overlap=4&skills=bookkeeping&sort=budget_desc",
    "offshore + overlap": "shoring=offshore&min_overlap=3&sort=deadline",
}
PROVIDERS = {
    "manila": ("Asia/Manila", "PH", {d: [["21:00", "05:00"]] for d in WEEKDAYS}),
    "bogota": ("America/Bogota", "CO", {d: [["08:00", "17:00"]] for d in WEEKDAYS}),
}


def _users(rng: random.Random, clients: int) -> list[ClientProfile]:
    password = PasswordHasher().hash("bench-password-1")
    profiles = []
    for n in range(clients):
        zone, country = ZONES[n % len(ZONES)]
        start, end = rng.choice(SHIFTS)
        user = User(
            email=f"client{n}@bench.example",
            password_hash=password,
            name=f"C{n}",
            role=Role.CLIENT,
            timezone=zone,
            country=country,
            email_verified_at=utcnow(),
        )
        hours = {d: [[start, end]] for d in WEEKDAYS}
        profiles.append(
            ClientProfile(user=user, timezone=zone, country=country, working_hours=hours)
        )
    for name, (zone, country, hours) in PROVIDERS.items():
        user = User(
            email=f"{name}@bench.example",
            password_hash=password,
            name=name,
            role=Role.PROVIDER,
            timezone=zone,
            country=country,
            email_verified_at=utcnow(),
        )
        db.session.add(
            ProviderProfile(
                user=user,
                service_model=ServiceModel.VA,
                timezone=zone,
                country=country,
                working_hours=hours,
            )
        )
    db.session.add_all(profiles)
    db.session.commit()
    return profiles


def load(tasks: int, clients: int) -> None:
    """Clients and providers through the ORM; tasks by bulk inserts, their zone-fit figures
    computed by `task_fit.figures` as a flush would."""
    rng = random.Random(7)
    profiles = _users(rng, clients)
    skills = list(db.session.scalars(sa.select(Skill).order_by(Skill.slug)))
    now, today = datetime.now(UTC), date.today()
    night = {"sat": [["22:00", "06:00"]], "sun": [["22:00", "06:00"]]}
    for first in range(0, tasks, 5000):
        rows, skill_rows, language_rows = [], [], []
        for n in range(first, min(first + 5000, tasks)):
            client = rng.choice(profiles)
            task = Task(
                id=new_id(),
                start_date=None if n % 3 == 0 else today + timedelta(days=rng.randint(0, 30)),
                deadline=today + timedelta(days=rng.randint(40, 200)),
                timezone_need={"mode": "coverage", "window": night} if n % 10 == 0 else None,
            )
            rows.append(
                {
                    "id": task.id,
                    "client_profile_id": client.id,
                    "created_by_id": client.user_id,
                    "title": f"Weekly reports and bookkeeping {n}",
                    "summary": "Prepare reports.",
                    "confidential_details": "",
                    "attachments": [],
                    "confidentiality": "public",
                    "terms_version": 1,
                    "terms_hash": "x",
                    "service_model": rng.choice(list(ServiceModel)),
                    "tier": 3,
                    "budget_type": "hourly",
                    "budget_min": 500,
                    "budget_max": rng.randint(600, 5000),
                    "currency": "usd" if n % 4 else "eur",
                    "start_date": task.start_date,
                    "deadline": task.deadline,
                    "timezone_need": task.timezone_need,
                    "shoring": "any",
                    "positions": 1,
                    "trial": n % 7 == 0,
                    "status": TaskStatus.OPEN,
                    "review_reasons": [],
                    "opened_at": now - timedelta(seconds=30 * n),
                    "expires_at": now + timedelta(days=30),
                    "created_at": now,
                    "updated_at": now,
                    **task_fit.figures(task, client, today),
                }
            )
            skill_rows += [
                {"id": new_id(), "task_id": task.id, "skill_id": s.id, "min_level": 2}
                for s in rng.sample(skills, 2)
            ]
            language_rows += [
                {"task_id": task.id, "code": code} for code in (["en", "es"] if n % 5 else ["en"])
            ]
        db.session.execute(sa.insert(Task), rows)
        db.session.execute(sa.insert(TaskSkill), skill_rows)
        db.session.execute(sa.insert(TaskLanguage), language_rows)
        db.session.commit()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()


def _cpu_check() -> float:
    best = float("inf")
    for _ in range(5):
        started, total = time.perf_counter(), 0
        for n in range(1_000_000):
            total += n % 7
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def _prepare(url: str, tasks: int, clients: int, reload: bool) -> Any:
    config = type("Bench", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        present = sa.inspect(db.engine).has_table("tasks") and db.session.scalar(
            sa.select(sa.func.count()).select_from(Task)
        )
        db.session.remove()
        if reload or present != tasks:
            if db.engine.dialect.name == "postgresql":
                with db.engine.begin() as conn:
                    conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade()
            started = time.perf_counter()
            load(tasks, clients)
            print(f"loaded {tasks} tasks in {time.perf_counter() - started:.0f} s")
        tokens = {}
        for name in PROVIDERS:
            user = db.session.scalar(sa.select(User).filter_by(email=f"{name}@bench.example"))
            tokens[name] = accounts.create_token(user=user, name="bench")[1]
        db.session.remove()
    return app, tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--reload", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    app, tokens = _prepare(url, args.tasks, args.clients, args.reload)
    statements: list[str] = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    client = app.test_client()
    print(f"{args.tasks} open tasks, {args.clients} clients, {url.split(':')[0]}, page of 20")
    print(f"CPU check {_cpu_check():.0f} ms")
    for provider, token in tokens.items():
        headers = {"Authorization": f"Bearer {token}"}
        for name, query in QUERIES.items():
            first = client.get(f"/api/v1/tasks?{query}&page_size=20", headers=headers)
            body = first.get_json()
            assert first.status_code == 200, body
            pages = {"p1": f"{query}&page_size=20"}
            if body["next_cursor"]:
                pages["p2"] = f"{query}&page_size=20&cursor={body['next_cursor']}"
            for page, path in pages.items():
                samples = []
                for _ in range(args.repeat):
                    statements.clear()
                    started = time.perf_counter()
                    response = client.get(f"/api/v1/tasks?{path}", headers=headers)
                    samples.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, response.get_json()
                samples.sort()
                p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
                total = f"{body['total']}{'+' if body['total_is_capped'] else ''}"
                print(
                    f"{provider:<7}{name:<20}{page}  p50 {statistics.median(samples):7.1f} ms"
                    f"   p95 {p95:7.1f} ms   {len(statements)} statements   total {total:>6}"
                    f"   items {len(response.get_json()['items'])}"
                )


if __name__ == "__main__":
    main()
