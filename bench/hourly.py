"""Benchmark of `POST /api/v1/contracts/{id}/time-entries` on PostgreSQL (p95 <= 15 ms).

Wipes and migrates a PostgreSQL database, builds one active hourly contract through the
services (users, task, bid, award with a weekly limit, accept), and gives its worker a long
past by bulk inserts: 50,000 time entries spread evenly over the 250 weeks before the week
the benchmark logs in (about 200 a week, none overlapping). Then the worker logs fresh
entries of their open week through the app's test client (a bearer API token), each after
the one before, none overlapping: a few untimed, one counted (the statements it sends), then
N timed. The week is the current billing week, or the one before while it is still open
(Monday before 12:00 UTC) if the current one has not enough minutes behind it yet. It
prints p50 / p95 / max, the app's CPU time a request and the statements a request sends;
`--explain` prints the plan of every SELECT of one more request (EXPLAIN ANALYZE, run in a
transaction that is rolled back).

    createdb -h 127.0.0.1 -U postgres bench_hourly   # or let the script create it
    .venv/bin/python bench/hourly.py --requests 300
    .venv/bin/python bench/hourly.py --database-url postgresql+psycopg://.../other --explain

Exits 0 whether the target is met or not (1 when a request fails).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa
from argon2 import PasswordHasher

from bench._shared import bench_parties, vacuum_analyze
from bench.escrow import bench_config, ensure_database, wipe_and_migrate
from marketplace import create_app
from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal
from marketplace.contracts.inputs import AwardTerms
from marketplace.contracts.models import Contract
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.hourly.entries import adjustment_closes
from marketplace.hourly.models import TimeEntry
from marketplace.hours import billing_week, week_bounds
from marketplace.inputs import Money
from marketplace.profiles.models import ServiceModel
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import Budget, RequiredSkill, TaskDraft
from marketplace.tasks.models import BudgetType

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_hourly"
TARGET_P95_MS = 15.0
#: The longest fresh entry: shorter when the open week has fewer minutes behind it.
LONGEST_SLOT = 30
BATCH = 5_000


def make_contract(password_hash: str, weekly_limit: int) -> Contract:
    """A client in New York and a VA in Manila (09:00-17:00 on weekdays), an hourly task,
    a bid of 15.00 an hour, awarded with `weekly_limit` hours a week and accepted."""
    client, provider = bench_parties(
        password_hash,
        client_age_days=2000,
        service_model=ServiceModel.VA,
        headline="Inbox and calendar",
        bio="Executive assistance for small firms.",
    )
    task = tasks.create_task(
        user=client,
        draft=TaskDraft(
            title="Inbox and calendar for a founder",
            summary="Keep the inbox at zero and the calendar clean, every weekday.",
            service_model=ServiceModel.VA,
            tier=3,
            skills=(RequiredSkill("inbox-management", 3),),
            budget=Budget(BudgetType.HOURLY, 1000, 3000, "usd"),
            start_date=date.today() + timedelta(days=7),
            deadline=date.today() + timedelta(days=365),
            languages=("en",),
        ),
    )
    lifecycle.publish_task(user=client, task_id=task.id, confirm_strategic=False)
    bid = bids.place_bid(
        user=provider,
        task_id=task.id,
        proposal=BidProposal(
            price=Money(1500, "usd"),
            timeline_days=365,
            cover_letter="I keep founders' inboxes at zero, every weekday.",
        ),
    )
    contract = contract_flows.award(
        user=client, bid_id=bid.id, terms=AwardTerms(weekly_limit_hours=weekly_limit)
    )
    contract_flows.accept_offer(user=provider, contract_id=contract.id)
    return contract


def open_week(needed: int) -> tuple[date, datetime, int]:
    """The week the fresh entries go in, where the first starts, and each one's minutes:
    the current week if `needed` entries of a minute fit behind now, else the one before
    (still open: the current one is only minutes old)."""
    now = utcnow().replace(second=0, microsecond=0) - timedelta(minutes=1)
    week = billing_week(now)
    start = week_bounds(week)[0]
    if (now - start) // timedelta(minutes=1) < needed:
        week -= timedelta(days=7)
        start = week_bounds(week)[0]
        assert adjustment_closes(week) > utcnow(), "the week before is closed too"
    room = int((min(now, week_bounds(week)[1]) - start) // timedelta(minutes=1))
    return week, start, min(LONGEST_SLOT, room // needed)


def past_entries(
    contract: Contract, before: date, count: int, weeks: int, seed: int = 17
) -> Iterator[list[dict[str, Any]]]:
    """`count` entries of the contract's worker over the `weeks` weeks before `before`,
    evenly spaced in each week and 10 to 45 minutes long, in batches."""
    rng = random.Random(seed)
    worker_id = contract.provider_profile.user_id
    per_week, extra = divmod(count, weeks)
    created = utcnow()
    rows: list[dict[str, Any]] = []
    for w in range(weeks):
        week = before - timedelta(days=7 * (weeks - w))
        monday = week_bounds(week)[0]
        here = per_week + (1 if w < extra else 0)
        slot = timedelta(days=7) / max(here, 1)
        for k in range(here):
            started = (monday + slot * k).replace(second=0, microsecond=0)
            minutes = rng.randint(10, 45)
            rows.append({
                "id": uuid.uuid4(), "contract_id": contract.id, "worker_id": worker_id,
                "started_at": started, "ended_at": started + timedelta(minutes=minutes),
                "minutes": minutes, "week": week, "memo": f"Inbox and calendar {k}",
                "files": [], "created_at": created, "updated_at": created,
            })  # fmt: skip
            if len(rows) == BATCH:
                yield rows
                rows = []
    if rows:
        yield rows


def build_history(contract: Contract, before: date, count: int, weeks: int) -> None:
    """The worker's past: `count` entries by bulk inserts, the contract accepted a day
    before the first; then fresh planner statistics."""
    first = week_bounds(before - timedelta(days=7 * weeks))[0]
    contract.accepted_at = first - timedelta(days=1)
    for rows in past_entries(contract, before, count, weeks):
        db.session.execute(sa.insert(TimeEntry), rows)
    db.session.commit()
    vacuum_analyze()


class Entries:
    """The fresh entries' bodies, one slot after another from the week's start."""

    def __init__(self, start: datetime, minutes: int) -> None:
        self.next, self.minutes = start, minutes

    def body(self) -> dict[str, str]:
        start, self.next = self.next, self.next + timedelta(minutes=self.minutes)
        return {"start": start.isoformat(), "end": self.next.isoformat(), "memo": "Inbox"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--entries", type=int, default=50_000, help="past entries of the worker")
    parser.add_argument("--weeks", type=int, default=250, help="weeks the past entries span")
    parser.add_argument("--weekly-limit", type=int, default=40)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--explain", action="store_true",
                        help="print the plan of each SELECT of one more request")  # fmt: skip
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N",
        help="after timing, profile N more requests and print the top functions",
    )  # fmt: skip
    args = parser.parse_args()

    url = sa.make_url(args.database_url)
    ensure_database(url)
    app = create_app(bench_config(args.database_url))
    wipe_and_migrate(app)
    needed = args.warmup + 1 + args.requests + int(args.explain) + args.profile
    with app.app_context():
        week, first, minutes = open_week(needed)
        contract = make_contract(PasswordHasher().hash("bench-password-1"), args.weekly_limit)
        build_history(contract, week, args.entries, args.weeks)
        contract_id = contract.id
        user = db.session.scalar(sa.select(User).where(User.role == Role.PROVIDER))
        assert user is not None
        raw = accounts.create_token(user=user, name="bench")[1]
        db.session.remove()

    client = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    path = f"/api/v1/contracts/{contract_id}/time-entries"
    entries = Entries(first, minutes)
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    for _ in range(args.warmup):
        if not posted(client.post(path, headers=headers, json=entries.body())):
            return 1
    sa.event.listen(engine, "before_cursor_execute", count)
    ok = posted(client.post(path, headers=headers, json=entries.body()))
    sa.event.remove(engine, "before_cursor_execute", count)
    if not ok:
        return 1
    result = timed(client, path, headers, entries, args.requests)
    if result is None:
        return 1
    p50, p95, top, cpu_ms = result
    print(
        f"POST /contracts/{{id}}/time-entries: {args.entries} past entries over {args.weeks} "
        f"weeks, {args.requests} requests of {minutes} min in the week of {week.isoformat()} "
        f"on {url.render_as_string(hide_password=True)}"
    )
    print(f"log entry p50 {p50:.1f} ms  p95 {p95:.1f} ms  max {top:.1f} ms  "
          f"app CPU {cpu_ms:.1f} ms  (target p95 <= {TARGET_P95_MS:.0f} ms: "
          f"{'met' if p95 <= TARGET_P95_MS else 'missed'})")  # fmt: skip
    print(f"{len(statements)} statements a request; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    for n, statement in enumerate(statements, 1):
        print(f"  {n:2} {' '.join(statement.split())[:150]}")
    if args.explain:
        explain(engine, client, path, headers, entries)
    if args.profile:
        profile(client, path, headers, entries, args.profile)
    return 0


def posted(response: Any) -> bool:
    """Whether the entry was logged (what went wrong is printed when not)."""
    if response.status_code != 201:
        print(f"{response.status_code}: {response.get_data(as_text=True)}")
        return False
    return True


def timed(
    client: Any, path: str, headers: dict[str, str], entries: Entries, requests: int
) -> tuple[float, float, float, float] | None:
    """p50, p95 and max latency of `requests` entries logged in ms, and the app's CPU time
    a request; None when a request fails."""
    latencies, cpu = [], 0.0
    for _ in range(requests):
        body = entries.body()
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.post(path, headers=headers, json=body)
        latencies.append((time.perf_counter() - started) * 1000)
        cpu += time.process_time() - cpu_started
        if not posted(response):
            return None
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    return statistics.median(latencies), p95, latencies[-1], cpu * 1000 / requests


def explain(
    engine: sa.Engine, client: Any, path: str, headers: dict[str, str], entries: Entries
) -> None:
    """Log one more entry, then run each SELECT it sent again under EXPLAIN ANALYZE."""
    sent: list[tuple[str, Any]] = []

    def keep(conn: object, cursor: object, statement: str, parameters: Any, *rest: object) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            sent.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", keep)
    ok = posted(client.post(path, headers=headers, json=entries.body()))
    sa.event.remove(engine, "before_cursor_execute", keep)
    if not ok:
        return
    with engine.connect() as conn:
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for statement, parameters in sent:
            print("\n" + " ".join(statement.split())[:400])
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
            for (line,) in cursor.fetchall():
                print("   ", line)
        conn.rollback()


def profile(
    client: Any, path: str, headers: dict[str, str], entries: Entries, requests: int
) -> None:
    """cProfile over `requests` more entries: where a request's time goes."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.post(path, headers=headers, json=entries.body())
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    sys.exit(main())
