"""Benchmark of `GET /api/v1/contracts/{id}/kpis` on PostgreSQL (issue 17: p95 <= 20 ms).

Wipes and migrates a PostgreSQL database, builds one active contract through the services
(users, task, bid, award, accept), with milestone steps (funded, submitted, changes requested,
submitted again) inserted directly,
and gives it 26 weeks of history by bulk inserts: 5,000 messages in its thread (the client
asks, the provider answers within the provider's working hours or the next morning), 100
confirmed daily work reports and 20 announced changes (most adopted). Then it asks for the
contract's KPIs through the app's test client as the client (a bearer API token), after a
few untimed requests, twice: as served from the KPIs' snapshot (nothing changed since the
last read), and computed (the snapshot deleted before each read; the stored response
samples stay). It prints p50 / p95 / max, the app's CPU time a read and the statements a
served read sends.

    createdb -h 127.0.0.1 -U postgres bench_kpis   # or let the script create it
    .venv/bin/python bench/kpis.py --requests 300
    .venv/bin/python bench/kpis.py --database-url postgresql+psycopg://.../other --messages 20000

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
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa
from argon2 import PasswordHasher

from bench._shared import bench_parties
from bench.escrow import bench_config, ensure_database, wipe_and_migrate
from marketplace import create_app
from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.contracts.inputs import AwardTerms
from marketplace.contracts.models import Contract, MilestoneStatus, MilestoneTransition
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.inputs import Money
from marketplace.messaging.models import Message, Thread
from marketplace.profiles.models import ServiceModel
from marketplace.record.models import Change, KpiSnapshot, WorkReport, WorkReportStatus
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import Budget, RequiredSkill, TaskDraft
from marketplace.tasks.models import BudgetType

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_kpis"
TARGET_P95_MS = 20.0


def make_contract(password_hash: str) -> Contract:
    """A client in New York and a BPO provider in Manila (09:00-17:00 on weekdays), a
    fixed-price task, a bid of five milestones, awarded and accepted."""
    client, provider = bench_parties(
        password_hash,
        client_age_days=400,
        service_model=ServiceModel.BPO,
        headline="Support desk",
        bio="Tier-one support for online shops.",
    )
    task = tasks.create_task(
        user=client,
        draft=TaskDraft(
            title="Tier-one support for a Shopify store",
            summary="Answer order-status and returns tickets, 500 a week.",
            confidential_details="Macros are in the shared drive.",
            service_model=ServiceModel.BPO,
            tier=3,
            skills=(RequiredSkill("customer-support-tier1", 3),),
            budget=Budget(BudgetType.FIXED, 1, 500_000, "usd"),
            start_date=date.today() + timedelta(days=7),
            deadline=date.today() + timedelta(days=90),
            languages=("en",),
        ),
    )
    lifecycle.publish_task(user=client, task_id=task.id, confirm_strategic=False)
    bid = bids.place_bid(
        user=provider,
        task_id=task.id,
        proposal=BidProposal(
            price=Money(500_000, "usd"),
            milestones=tuple(
                MilestoneProposal(title=f"Month {k}", amount=100_000) for k in range(1, 6)
            ),
            timeline_days=180,
            cover_letter="We run support queues for online shops every day.",
        ),
    )
    contract = contract_flows.award(user=client, bid_id=bid.id, terms=AwardTerms())
    contract_flows.accept_offer(user=provider, contract_id=contract.id)
    return contract


def build_history(contract: Contract, messages: int, reports: int, seed: int = 17) -> None:
    """Messages, reports and changes over the last 26 weeks, by bulk inserts."""
    rng = random.Random(seed)
    now = utcnow()
    start = now - timedelta(weeks=26)
    contract.accepted_at = start
    client_id = contract.client_profile.user_id
    provider_id = contract.provider_profile.user_id
    thread = Thread(contract_id=contract.id)
    db.session.add(thread)
    db.session.flush()
    rows, at = [], start
    step = (now - start) / (messages + 1)
    for n in range(messages):
        at = at + step * rng.uniform(0.5, 1.5)
        at = min(at, now - timedelta(minutes=1))
        sender = client_id if n % 2 == 0 else provider_id
        rows.append({"id": uuid.uuid4(), "thread_id": thread.id, "sender_id": sender,
                     "body": f"Message {n}", "files": [], "created_at": at})  # fmt: skip
    db.session.execute(sa.insert(Message), rows)
    first_day = start.date()
    report_rows = [
        {
            "id": uuid.uuid4(),
            "contract_id": contract.id,
            "submitted_by_id": provider_id,
            "period_start": first_day + timedelta(days=k),
            "period_end": first_day + timedelta(days=k),
            "items_received": 100,
            "items_completed": rng.randint(90, 100),
            "items_with_errors": rng.randint(0, 3),
            "items_reworked": 0,
            "escalations": 0,
            "satisfaction_responses": rng.randint(0, 20),
            "satisfaction_average": round(rng.uniform(3.5, 5.0), 2),
            "improvement_suggestions": ["Merge duplicate tickets"] if k % 10 == 0 else [],
            "sop_adherence": rng.choice([1.0, 1.0, 0.98]),
            "notes": "",
            "files": [],
            "status": WorkReportStatus.CONFIRMED,
            "created_at": datetime.combine(
                first_day + timedelta(days=k + 1), datetime.min.time(), UTC
            ),
        }
        for k in range(reports)
    ]
    db.session.execute(sa.insert(WorkReport), report_rows)
    for k, milestone in enumerate(sorted(contract.milestones, key=lambda m: m.position)):
        funded = start + timedelta(weeks=5 * k, hours=2)
        milestone.due_date = (funded + timedelta(weeks=4)).date()
        for status, at in ((MilestoneStatus.FUNDED, funded),
                           (MilestoneStatus.SUBMITTED, funded + timedelta(days=25)),
                           (MilestoneStatus.CHANGES_REQUESTED, funded + timedelta(days=26)),
                           (MilestoneStatus.SUBMITTED, funded + timedelta(days=27))):  # fmt: skip
            db.session.add(MilestoneTransition(milestone_id=milestone.id, to_status=status, at=at))
    for k in range(20):
        announced = start + timedelta(days=7 * k + 1, hours=3)
        adopted = announced + timedelta(hours=rng.randint(2, 40)) if k < 18 else None
        db.session.add(
            Change(
                contract_id=contract.id,
                announced_by_id=client_id,
                title=f"Change {k}",
                description="A new rule.",
                to_adopt="Follow it.",
                announced_at=announced,
                adopted_at=adopted,
            )
        )
    db.session.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--messages", type=int, default=5_000)
    parser.add_argument("--reports", type=int, default=100)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument(
        "--profile", type=int, default=0, metavar="N",
        help="after timing, profile N more requests and print the top functions",
    )  # fmt: skip
    args = parser.parse_args()

    url = sa.make_url(args.database_url)
    ensure_database(url)
    app = create_app(bench_config(args.database_url))
    wipe_and_migrate(app)
    with app.app_context():
        contract = make_contract(PasswordHasher().hash("bench-password-1"))
        build_history(contract, args.messages, args.reports)
        contract_id = contract.id
        user = db.session.scalar(sa.select(User).where(User.role == Role.CLIENT))
        assert user is not None
        raw = accounts.create_token(user=user, name="bench")[1]
        db.session.remove()

    client = app.test_client()
    headers = {"Authorization": f"Bearer {raw}"}
    path = f"/api/v1/contracts/{contract_id}/kpis"
    statements: list[str] = []
    with app.app_context():
        engine = db.engine

    def count(conn: object, cursor: object, statement: str, *rest: object) -> None:
        statements.append(statement)

    for _ in range(args.warmup):
        response = client.get(path, headers=headers)
        if response.status_code != 200:
            print(f"{response.status_code}: {response.get_data(as_text=True)}")
            return 1
    sa.event.listen(engine, "before_cursor_execute", count)
    client.get(path, headers=headers)
    sa.event.remove(engine, "before_cursor_execute", count)
    warm = timed(client, path, headers, args.requests)
    if warm is None:
        return 1

    # Cold: the snapshot deleted before each read, so each one computes the KPIs (from the
    # stored response samples, which stay).
    def forget() -> None:
        with app.app_context():
            db.session.execute(sa.delete(KpiSnapshot))
            db.session.commit()

    cold = timed(client, path, headers, args.requests, before=forget)
    if cold is None:
        return 1
    response = client.get(path, headers=headers)
    metrics = response.get_json()["metrics"]
    print(
        f"GET /contracts/{{id}}/kpis: {args.messages} messages, {args.reports} reports, "
        f"{args.requests} requests on {url.render_as_string(hide_password=True)}"
    )
    for name, (p50, p95, top, cpu_ms) in (("snapshot", warm), ("computed", cold)):
        print(f"{name:9} p50 {p50:.1f} ms  p95 {p95:.1f} ms  max {top:.1f} ms  "
              f"app CPU {cpu_ms:.1f} ms  (target p95 <= {TARGET_P95_MS:.0f} ms: "
              f"{'met' if p95 <= TARGET_P95_MS else 'missed'})")  # fmt: skip
    print(f"{len(statements)} statements a request (snapshot served); load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    for metric in metrics:
        print(f"  {metric['key']:16} {metric['status']:9} actual {metric['actual']} "
              f"({metric['samples']} samples), {len(metric['series'])} periods")  # fmt: skip
    if args.profile:
        profile(client, path, headers, args.profile)
    return 0


def timed(
    client: Any,
    path: str,
    headers: dict[str, str],
    requests: int,
    before: Callable[[], None] | None = None,
) -> tuple[float, float, float, float] | None:
    """p50, p95 and max latency of `requests` reads in ms, and the app's CPU time a read
    (`before` runs ahead of each read, untimed); None when a read fails."""
    latencies, cpu = [], 0.0
    for _ in range(requests):
        if before is not None:
            before()
        started, cpu_started = time.perf_counter(), time.process_time()
        response = client.get(path, headers=headers)
        latencies.append((time.perf_counter() - started) * 1000)
        cpu += time.process_time() - cpu_started
        if response.status_code != 200:
            print(f"{response.status_code}: {response.get_data(as_text=True)}")
            return None
    latencies.sort()
    p95 = latencies[int(0.95 * (len(latencies) - 1))]
    return statistics.median(latencies), p95, latencies[-1], cpu * 1000 / requests


def profile(client: Any, path: str, headers: dict[str, str], requests: int) -> None:
    """cProfile over `requests` more requests: where a request's time goes."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(requests):
        client.get(path, headers=headers)
    profiler.disable()
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(45)


if __name__ == "__main__":
    sys.exit(main())
