"""Benchmark of matching: the top-20 providers for a task, among N synthetic providers.

Loads N providers (users, profiles and skills by COPY, with the matching index computed
as the app computes it) with Zipf-like skill frequencies into PostgreSQL, once: a later
run with the same N reuses the data (`--reload` loads it again). Then times, for skill
pairs of three frequency classes (common, mid-frequency, rare) and for the skill most
providers have asked for alone at any level (*widest*: some 71 % of providers qualify),
the matching service for page 1 of 20 (SQL candidates, exact re-ranking, the page's
profiles and explanations) and, apart, the SQL candidate stage alone. `--classes` picks
some of them.

    createdb -h 127.0.0.1 -U postgres issue5_bench_100k
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/issue5_bench_100k \
        .venv/bin/python bench/matching.py --providers 100000
    DATABASE_URL=... .venv/bin/python bench/matching.py --providers 1000000 --classes widest

Each timed call starts like a request: a new session holding only the signed-in user.
Prints p50/p95 latency per class in milliseconds, how many providers pass the filters,
and a CPU check (a fixed Python loop, best of five: some 80 ms when the development
machine is quiet), since on a shared machine the figures move with it.
"""

from __future__ import annotations

import argparse
import itertools
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
from marketplace.catalog.models import Skill
from marketplace.config import TestingConfig
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.matching import candidates, ranking, services
from marketplace.matching import statistics as match_stats
from marketplace.profiles.models import ClientProfile, ProviderSkill

# The frequency classes of skill pairs (bench/_shared.py defines them for every bench).
CLASSES, PAIRS_PER_CLASS = data.CLASSES, data.PAIRS_PER_CLASS
WIDEST = "widest"  # the skill most providers have, alone, at any level


def _shares(count: int, level: int = 3) -> dict[tuple[str, int], float]:
    """Share of providers at or above `level` in each skill, from the loaded data."""
    rows = db.session.execute(
        sa.select(Skill.slug, sa.func.count())
        .join(ProviderSkill, ProviderSkill.skill_id == Skill.id)
        .where(ProviderSkill.level >= level)
        .group_by(Skill.slug)
    )
    return {(slug, level): n / count for slug, n in rows}


def _widest(count: int) -> tuple[str, float]:
    """The skill most providers have (at any level), and their share."""
    (slug, _), share = max(_shares(count, level=1).items(), key=lambda item: item[1])
    return slug, share


def _pairs(count: int) -> dict[str, list[tuple[str, ...]]]:
    """Skill pairs (at level 3 or above) whose expected share falls in each class."""
    shares = _shares(count)
    found: dict[str, list[tuple[str, ...]]] = {name: [] for name in CLASSES}
    used: set[str] = set()
    for (a, _), (b, _) in itertools.combinations(sorted(shares, key=shares.get, reverse=True), 2):
        share = shares[(a, 3)] * shares[(b, 3)] * 0.9  # most speak English
        for name, (low, high) in CLASSES.items():
            fresh = not {a, b} & used  # varied pairs, not one skill with many partners
            if low <= share < high and len(found[name]) < PAIRS_PER_CLASS and fresh:
                found[name].append((a, b))
                used |= {a, b}
    return found


def _client() -> User:
    user = db.session.scalar(sa.select(User).filter_by(email="client@bench.example"))
    if user is None:
        user = User(email="client@bench.example", password_hash="x", name="C", role="client",
                    timezone="America/New_York", country="US",
                    email_verified_at=utcnow())  # fmt: skip
        weekdays = {d: [["09:00", "17:00"]] for d in data.WEEKDAYS}
        db.session.add(ClientProfile(user=user, timezone=user.timezone, country="US",
                                     working_hours=weekdays))  # fmt: skip
        db.session.commit()
    return user


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
    parser.add_argument(
        "--classes",
        default=",".join([*CLASSES, WIDEST]),
        help=f"comma-separated classes to time (default: {', '.join([*CLASSES, WIDEST])})",
    )
    args = parser.parse_args()
    wanted = args.classes.split(",")
    if unknown := set(wanted) - {*CLASSES, WIDEST}:
        sys.exit(f"Unknown classes: {', '.join(sorted(unknown))}")
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
        else:
            upgrade()  # data loaded by older code: its schema brought up to date
        db.session.execute(sa.text("DELETE FROM tasks"))  # tasks of earlier runs
        db.session.commit()
        match_stats.forget()
        owner = _client()
        widest, share = _widest(args.providers)
        asked: dict[str, list[tuple[str, ...]]] = {**_pairs(args.providers), WIDEST: [(widest,)]}
        classes = {
            name: [(skills, data.publish_bench_task(owner, skills, shoring))
                   for skills in asked[name] for shoring in ("any", "offshore")]
            for name in wanted
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
            asked_for = ", ".join("+".join(skills) for skills, _ in made[::2])
            if name == WIDEST:
                asked_for += f" (any level: {share:.0%} of providers)"
            print(f"{name:<6} ms: {figures} | candidates {passing} | {asked_for}")
        print(f"load average at the end {os.getloadavg()[0]:.2f}; CPU check {data.cpu_ms():.0f} ms")


if __name__ == "__main__":
    main()
