"""Benchmark of the record job: every provider's measured record recomputed, on PostgreSQL.

Loads N providers (bench/_shared.py, by COPY) and, for a share of them (`--with-contracts`,
20 % by default), a history by COPY: 1 to 12 contracts each (completed, terminated or
active, some pilots with their extension), two or three milestones per contract with due
dates and submissions (some late, some sent back), SLA events, client reviews (published,
or past their 14 days), and disputes. Then times `matching.records.recompute_records()`,
the periodic job (`flask recompute-records`): the grouped statements over the whole
history, storing the records and moving the matching index's record term, in one
transaction. Prints the seconds, the statements sent and the rows written.

    createdb -h 127.0.0.1 -U postgres record_bench
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/record_bench \
        .venv/bin/python bench/record.py --providers 100000
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa
from flask_migrate import upgrade

from bench import _shared as data
from marketplace import create_app
from marketplace.config import TestingConfig
from marketplace.database import new_id
from marketplace.extensions import db
from marketplace.matching import records as match_records
from marketplace.profiles.models import ClientProfile
from marketplace.tasks.models import Task


def _history(share: float, seed: int) -> dict[str, int]:
    """COPY a history of contracts for `share` of the providers; returns the rows made."""
    rng = random.Random(seed)
    owner = data.bench_client()
    client_id = db.session.scalar(sa.select(ClientProfile.id).filter_by(user_id=owner.id))
    task_id = data.publish_bench_task(owner, ("customer-support-tier1",), "any")
    trial_id = data.publish_bench_task(owner, ("data-entry",), "any")
    db.session.get(Task, trial_id).trial = True  # type: ignore[union-attr]
    db.session.commit()
    providers = list(db.session.scalars(sa.text("SELECT id FROM provider_profiles ORDER BY id")))
    chosen = rng.sample(providers, int(len(providers) * share))
    now = datetime.now(UTC)
    rows: dict[str, list[tuple[Any, ...]]] = {
        name: []
        for name in (
            "contracts", "milestones", "milestone_submissions", "milestone_transitions",
            "reviews", "disputes", "sla_events",
        )
    }  # fmt: skip
    for provider_id in chosen:
        for _ in range(rng.randint(1, 12)):
            accepted = now - timedelta(days=rng.randint(10, 900))
            status = rng.choices(["completed", "terminated", "active"], [0.75, 0.1, 0.15])[0]
            ended = accepted + timedelta(days=rng.randint(7, 120)) if status != "active" else None
            if ended is not None and ended > now:
                ended = now - timedelta(days=1)
            pilot = status == "completed" and rng.random() < 0.1
            contract_id = new_id()
            rows["contracts"].append((
                contract_id, trial_id if pilot else task_id, client_id, provider_id, None,
                status, 1, accepted, ended, accepted, accepted,
            ))  # fmt: skip
            if pilot and rng.random() < 0.5:
                rows["contracts"].append((
                    new_id(), trial_id, client_id, provider_id, contract_id, "active", 1,
                    ended, None, ended, ended,
                ))  # fmt: skip
            for position in range(1, rng.randint(2, 3) + 1):
                milestone_id = new_id()
                due = accepted + timedelta(days=7 * position)
                late = rng.random() < 0.15
                submitted = due + timedelta(days=2 if late else -1)
                done = submitted < now and (ended is None or submitted < ended + timedelta(7))
                rows["milestones"].append((
                    milestone_id, contract_id, position, "Work", "", 40_000, "usd", due.date(),
                    "released" if done else "funded", 0, 0, 0, accepted, accepted,
                ))  # fmt: skip
                if not done:
                    continue
                rows["milestone_submissions"].append(
                    (new_id(), milestone_id, 1, "done", "[]", "[]", owner.id, submitted)
                )
                if rng.random() < 0.2:
                    again = submitted + timedelta(days=1)
                    rows["milestone_transitions"].append(
                        (new_id(), milestone_id, "submitted", "changes_requested", again)
                    )
                    rows["milestone_submissions"].append(
                        (new_id(), milestone_id, 2, "again", "[]", "[]", owner.id, again)
                    )
                if rng.random() < 0.01:
                    refund = rng.choice([10_000, 30_000])
                    rows["disputes"].append((
                        new_id(), milestone_id, contract_id, "client", "Not as agreed.", "[]",
                        "submitted", "resolved", 40_000 - refund, refund, submitted,
                        submitted + timedelta(days=5),
                    ))  # fmt: skip
            if rng.random() < 0.1:
                rows["sla_events"].append((
                    new_id(), contract_id, "first_response", "bench", "breached",
                    accepted + timedelta(days=rng.randint(0, 20)), "{}", accepted,
                ))  # fmt: skip
            if ended is not None and rng.random() < 0.7:
                rows["reviews"].append((
                    new_id(), contract_id, "client", owner.id, provider_id, client_id,
                    rng.choices([5, 4, 3, 2, 1], [0.55, 0.3, 0.08, 0.04, 0.03])[0], "{}", "",
                    ended + timedelta(days=1), ended + timedelta(days=2),
                ))  # fmt: skip
    columns = {
        "contracts": ["id", "task_id", "client_profile_id", "provider_profile_id",
                      "pilot_of_id", "status", "terms_version", "accepted_at", "ended_at",
                      "created_at", "updated_at"],
        "milestones": ["id", "contract_id", "position", "title", "description", "amount",
                       "currency", "due_date", "status", "revisions", "released_amount",
                       "refunded_amount", "created_at", "updated_at"],
        "milestone_submissions": ["id", "milestone_id", "revision", "note", "deliverables",
                                  "files", "submitted_by_id", "at"],
        "milestone_transitions": ["id", "milestone_id", "from_status", "to_status", "at"],
        "reviews": ["id", "contract_id", "side", "author_id", "provider_profile_id",
                    "client_profile_id", "rating", "sub_ratings", "text", "created_at",
                    "published_at"],
        "disputes": ["id", "milestone_id", "contract_id", "side", "reason", "files",
                     "milestone_status", "status", "release_amount", "refund_amount",
                     "created_at", "resolved_at"],
        "sla_events": ["id", "contract_id", "metric", "key", "kind", "at", "details",
                       "created_at"],
    }  # fmt: skip
    conn = db.session.connection().connection.driver_connection
    assert conn is not None
    # Pilots first: an extension's `pilot_of_id` refers to a contract loaded before it.
    rows["contracts"].sort(key=lambda row: row[4] is not None)
    for table, made in rows.items():
        data._copy(conn, table, columns[table], made)
    db.session.commit()
    data.vacuum_analyze()
    return {table: len(made) for table, made in rows.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=100_000)
    parser.add_argument("--with-contracts", type=float, default=0.2, help="share of providers")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--reuse", action="store_true", help="keep the data a run loaded")
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        sys.exit("Set DATABASE_URL to a PostgreSQL database (it is wiped).")
    config = type("Bench", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": url})
    app = create_app(config)
    with app.app_context():
        started = time.perf_counter()
        if not args.reuse:
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            upgrade()
            data.load_providers(args.providers)
            made = _history(args.with_contracts, args.providers)
            print(f"loaded {args.providers} providers and {made} in "
                  f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        counts = {
            table: db.session.scalar(sa.text(f"SELECT count(*) FROM {table}"))
            for table in ("provider_profiles", "contracts", "milestones", "reviews")
        }
        print(f"rows: {counts}")
        statements = [0]

        def count(*_: Any) -> None:
            statements[0] += 1

        sa.event.listen(db.engine, "before_cursor_execute", count)
        print(f"load average {os.getloadavg()[0]:.2f}; CPU check {data.cpu_ms():.0f} ms")
        for run in range(args.runs):
            db.session.remove()
            statements[0] = 0
            started = time.perf_counter()
            stored, changed = match_records.recompute_records()
            seconds = time.perf_counter() - started
            print(f"run {run + 1}: {seconds:.2f} s, {statements[0]} statements, "
                  f"{stored} records stored, {changed} match scores changed")  # fmt: skip
        print(f"load average at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
