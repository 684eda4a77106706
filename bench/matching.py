"""Benchmark of matching: the top-20 providers for a task, among N synthetic providers.

Loads N providers (users, profiles and skills by COPY, with the matching index computed
as the app computes it) with Zipf-like skill frequencies into PostgreSQL, once: a later
run with the same N reuses the data (`--reload` loads it again). Then times, for skill
pairs of three frequency classes (common, mid-frequency, rare), the matching service for
page 1 of 20 (SQL candidates, exact re-ranking, the page's profiles and explanations) and,
apart, the SQL candidate stage alone.

    createdb -h 127.0.0.1 -U postgres issue5_bench_100k
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/issue5_bench_100k \
        .venv/bin/python bench/matching.py --providers 100000

Each timed call starts like a request: a new session holding only the signed-in user.
Prints p50/p95 latency per class in milliseconds, how many providers pass the filters,
and a CPU check (a fixed Python loop, best of five: some 80 ms when the development
machine is quiet), since on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa
from flask_migrate import upgrade

from bench import _shared as data
from marketplace import create_app
from marketplace.accounts.models import User
from marketplace.config import TestingConfig
from marketplace.extensions import db
from marketplace.matching import candidates, ranking, services
from marketplace.matching import statistics as match_stats


def _signed_in(user_id: uuid.UUID) -> User:
    """The user, as a request starts: a new session holding only the signed-in user (Flask-
    Login loads it before the view runs, so it is not part of the time measured)."""
    db.session.remove()
    user = db.session.get(User, user_id)
    assert user is not None
    return user


def _percentiles(samples: list[float]) -> tuple[float, float]:
    samples = sorted(samples)
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.95) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=25, help="timed passes over the tasks")
    parser.add_argument("--reload", action="store_true", help="wipe and load the data again")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is wiped when loading).")
    config = type("Bench", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        present = sa.inspect(db.engine).has_table("provider_profiles") and db.session.scalar(
            sa.text("SELECT count(*) FROM provider_profiles")
        )
        if args.reload or present != args.providers:
            started = time.perf_counter()
            db.session.remove()
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade()
            data.load_providers(args.providers)
            print(f"loaded {args.providers} providers in {time.perf_counter() - started:.0f} s")
        db.session.execute(sa.text("DELETE FROM tasks"))  # tasks of earlier runs
        db.session.commit()
        match_stats.forget()
        owner = data.bench_client()
        classes = {
            name: [(pair, data.publish_pair_task(owner, pair, shoring)) for pair in pairs
                   for shoring in ("any", "offshore")]
            for name, pairs in data.skill_pairs(args.providers).items()
        }  # fmt: skip
        owner_id = owner.id
        print(f"{args.providers} providers on PostgreSQL; top 20 of at most "
              f"{candidates.MAX_CANDIDATES} ranked; {args.rounds} rounds; load average "
              f"{os.getloadavg()[0]:.2f}; CPU check {data.cpu_ms():.0f} ms")  # fmt: skip
        for name, made in classes.items():
            timings: dict[str, list[float]] = {"service": [], "engine": [], "sql": []}
            passing = []
            for round_ in range(args.rounds + 1):
                for _, task_id in made:
                    user = _signed_in(owner_id)
                    started = time.perf_counter()
                    page = services.matches(user=user, task_id=task_id, page_size=20)
                    _ = [m.explanation for m in page.items]
                    service_ms = (time.perf_counter() - started) * 1000
                    user = _signed_in(owner_id)
                    started = time.perf_counter()
                    task = services.matchable_task(user=user, task_id=task_id)
                    top = ranking.rank_providers(ranking.TaskView.of(task))[:20]
                    engine_ms = (time.perf_counter() - started) * 1000
                    view = ranking.TaskView.of(task)
                    started = time.perf_counter()
                    found = candidates.candidates(view.needs)
                    sql_ms = (time.perf_counter() - started) * 1000
                    assert [r.provider_id for r in top] == [m.provider.id for m in page.items]
                    if round_:  # the first pass warms caches
                        timings["service"].append(service_ms)
                        timings["engine"].append(engine_ms)
                        timings["sql"].append(sql_ms)
                    else:
                        passing.append(len(found))
            figures = " | ".join(
                "{} p50 {:5.1f} p95 {:5.1f}".format(part, *_percentiles(samples))
                for part, samples in timings.items()
            )
            pairs = ", ".join(f"{a}+{b}" for (a, b), _ in made[::2])
            print(f"{name:<6} ms: {figures} | candidates {passing} | {pairs}")
        print(f"load average at the end {os.getloadavg()[0]:.2f}; CPU check {data.cpu_ms():.0f} ms")


if __name__ == "__main__":
    main()
