"""Benchmark of milestone escrow releases (approve) on PostgreSQL, next to pgbench's TPC-B TPS.

Wipes and migrates a PostgreSQL database, then W worker processes (each with its own app
and engine) each build their share of C active contracts of M milestones through the
services (task, bid, award, accept, payouts, then fund and submit every milestone). After
a few untimed warm-up approvals per worker, `pgbench` runs TPC-B on its own database
while the workers wait, then all workers approve their remaining milestones at once through
`delivery.approve`; workers own disjoint contracts, as real clients mostly do. Each approve
runs in its own app context (a fresh session, the user loaded again), as a request would.
The outbox (transfers and e-mails) is not delivered while timing: that is the job worker's
work. Afterwards every milestone must be released once and ledger-check must pass.

    .venv/bin/python bench/escrow.py --contracts 100 --milestones 20 --workers 4
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_escrow .venv/bin/python \
        bench/escrow.py --trace            # the database is wiped and migrated

Prints releases per second, approve latency p50/p95, pgbench's TPS and their ratio against
the target (0.1), and, when the server runs on this machine, the CPU the database spends per
approve and per TPC-B transaction (from /proc; the app's own CPU is printed too). `--trace`
also counts and times SQL statements per approve (slower; not the figure to compare). A bid
or an award takes at most 20 milestones, so --milestones is at most 20. Exits 0 whether the
target is met or not; 1 when a worker fails or the books are wrong afterwards.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
import traceback
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa
from argon2 import PasswordHasher
from flask import Flask
from flask_migrate import upgrade

from marketplace import create_app
from marketplace.accounts.models import Role, User
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.config import TestingConfig
from marketplace.contracts.inputs import AwardTerms
from marketplace.contracts.models import Contract, ContractStatus, Milestone, MilestoneStatus
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.inputs import Money
from marketplace.ledger.models import LedgerTransaction, TransactionKind
from marketplace.payments import delivery, funding, payouts
from marketplace.profiles.models import ClientProfile, ProviderProfile, ServiceModel
from marketplace.reporting import ledger_check as checks
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import Budget, RequiredSkill, TaskDraft
from marketplace.tasks.models import BudgetType

DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_escrow"
TARGET = 0.1  # issue 14: an approve at least a tenth of a TPC-B transaction
AMOUNT = 10_000  # minor units per milestone
MAX_MILESTONES = 20  # what a bid (and an award) may carry
TPS_LINE = re.compile(r"tps = ([0-9.]+) \(without initial connection time\)")
PROCESSED_LINE = re.compile(r"number of transactions actually processed: ([0-9]+)")


def bench_config(url: str) -> type[TestingConfig]:
    """The test settings on `url`: e-mail kept in memory, no rate limits, sandbox payments."""
    return type(
        "BenchEscrow",
        (TestingConfig,),
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "MAIL_BACKEND": "memory",
            "RATELIMIT_ENABLED": False,
            "PAYMENTS": "sandbox",
        },
    )


def ensure_database(url: sa.URL) -> None:
    """Create the database of `url` on its server when it does not exist yet."""
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        exists = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": url.database}
        )
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def wipe_and_migrate(app: Flask) -> None:
    """An empty schema built by the migrations, as in production."""
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        db.session.remove()
        db.engine.dispose()


def make_pair(n: int, password_hash: str) -> tuple[User, User]:
    """An established client and a VA with payouts onboarded, committed."""
    weekdays = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    client = User(
        email=f"client{n}@bench.example",
        password_hash=password_hash,
        name=f"Client {n}",
        role=Role.CLIENT,
        timezone="America/New_York",
        country="US",
        email_verified_at=utcnow(),
    )
    provider = User(
        email=f"provider{n}@bench.example",
        password_hash=password_hash,
        name=f"Provider {n}",
        role=Role.PROVIDER,
        timezone="Asia/Manila",
        country="PH",
        email_verified_at=utcnow(),
    )
    # An established client (older than NEW_CLIENT_DAYS) publishes straight to open.
    db.session.add(
        ClientProfile(
            user=client,
            company_name=f"Company {n}",
            country="US",
            timezone="America/New_York",
            working_hours=weekdays,
            created_at=utcnow() - timedelta(days=60),
        )
    )
    db.session.add(
        ProviderProfile(
            user=provider,
            service_model=ServiceModel.VA,
            headline="Reliable virtual assistant",
            bio="Five years of admin support for small businesses.",
            hourly_rate_amount=1500,
            hourly_rate_currency="usd",
            languages=["en"],
            country="PH",
            timezone="Asia/Manila",
            working_hours=weekdays,
        )
    )
    db.session.commit()
    payouts.start_onboarding(user=provider)
    return client, provider


def make_contract(n: int, milestones: int, password_hash: str) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """Post, bid, award and accept: an active fixed-price contract; then fund and submit
    each milestone. Returns the client's id and the submitted milestones' ids."""
    client, provider = make_pair(n, password_hash)
    total = AMOUNT * milestones
    task = tasks.create_task(
        user=client,
        draft=TaskDraft(
            title=f"Month-end bookkeeping {n}",
            summary="Reconcile the accounts and prepare the monthly reports.",
            confidential_details="Logins are in the shared vault.",
            service_model=ServiceModel.VA,
            tier=3,
            skills=(RequiredSkill("customer-support-tier1", 3),),
            budget=Budget(BudgetType.FIXED, 1, total, "usd"),
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
            price=Money(total, "usd"),
            milestones=tuple(
                MilestoneProposal(title=f"Part {k}", amount=AMOUNT)
                for k in range(1, milestones + 1)
            ),
            timeline_days=30,
            cover_letter="We run this kind of work every day.",
        ),
    )
    contract = contract_flows.award(user=client, bid_id=bid.id, terms=AwardTerms())
    contract_flows.accept_offer(user=provider, contract_id=contract.id)
    milestone_ids = [m.id for m in contract.milestones]
    for milestone_id in milestone_ids:
        funding.fund(user=client, milestone_id=milestone_id)
        delivery.submit(
            user=provider, milestone_id=milestone_id, note="Done, see the report.", deliverables=[]
        )
    return client.id, milestone_ids


class StatementTrace:
    """Counts and times the SQL statements an engine runs while `on` (for --trace)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.on = False
        self.count = 0
        self.per_statement: dict[str, list[float]] = {}
        sa.event.listen(engine, "before_cursor_execute", self._before)
        sa.event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info["bench_started"] = time.perf_counter()

    def _after(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not self.on:
            return
        elapsed = time.perf_counter() - conn.info.pop("bench_started")
        self.count += 1
        key = " ".join(statement.split())[:160]
        self.per_statement.setdefault(key, []).append(elapsed)


def backend_cpu(pid: int) -> float | None:
    """CPU seconds a PostgreSQL backend on this machine has used; None when it is not here."""
    try:
        with open(f"/proc/{pid}/comm") as comm, open(f"/proc/{pid}/stat") as stat:
            if comm.read().strip() != "postgres":
                return None
            fields = stat.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def approve_one(app: Flask, client_id: uuid.UUID, milestone_id: uuid.UUID) -> float:
    """Approve one milestone in a fresh app context, as one request; returns seconds."""
    started = time.perf_counter()
    with app.app_context():
        user = db.session.get(User, client_id)
        assert user is not None
        delivery.approve(user=user, milestone_id=milestone_id)
    return time.perf_counter() - started


def worker(
    index: int,
    url: str,
    numbers: list[int],
    milestones: int,
    warmup: int,
    trace: bool,
    ready: Any,
    go: Any,
    results: Any,
) -> None:
    """Build this worker's contracts, warm up, wait for the start, approve, report."""
    try:
        app = create_app(bench_config(url))
        password_hash = PasswordHasher().hash("bench-password-1")
        per_contract = []
        with app.app_context():
            for n in numbers:
                per_contract.append(make_contract(n, milestones, password_hash))
            tracer = StatementTrace(db.engine) if trace else None
        # Round-robin over this worker's contracts: consecutive approvals hit different ones.
        work = [
            (client_id, ids[k])
            for k in range(milestones)
            for client_id, ids in per_contract
            if k < len(ids)
        ]
        for client_id, milestone_id in work[:warmup]:
            approve_one(app, client_id, milestone_id)
        with app.app_context():  # approvals one after another: the pool's one connection
            backend = db.session.scalar(sa.text("SELECT pg_backend_pid()"))
        ready.put(index)
        go.wait()
        if tracer:
            tracer.on = True
        cpu, db_cpu = time.process_time(), backend_cpu(backend)
        latencies = [approve_one(app, c, m) for c, m in work[warmup:]]
        finished = time.monotonic()
        cpu = time.process_time() - cpu
        db_after = backend_cpu(backend)
        db_cpu = None if db_cpu is None or db_after is None else db_after - db_cpu
        results.put(
            {
                "index": index,
                "latencies": latencies,
                "finished": finished,
                "cpu": cpu,
                "db_cpu": db_cpu,
                "statements": tracer.count if tracer else 0,
                "per_statement": tracer.per_statement if tracer else {},
            }
        )
    except BaseException:
        ready.put(index)
        results.put({"index": index, "error": traceback.format_exc()})


def verify(app: Flask, contracts_total: int, milestones_total: int) -> list[str]:
    """Every milestone released once on the ledger, every contract completed, the books
    right; returns what is wrong."""
    problems = []
    with app.app_context():
        statuses = Counter(db.session.scalars(sa.select(Milestone.status)))
        if statuses != {MilestoneStatus.RELEASED: milestones_total}:
            problems.append(f"milestone statuses {dict(statuses)}")
        per_milestone = Counter(
            db.session.scalars(
                sa.select(LedgerTransaction.milestone_id).where(
                    LedgerTransaction.kind == TransactionKind.RELEASE
                )
            )
        )
        if len(per_milestone) != milestones_total or set(per_milestone.values()) != {1}:
            problems.append(
                f"{sum(per_milestone.values())} release transactions for "
                f"{len(per_milestone)} milestones (expected one each for {milestones_total})"
            )
        completed = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Contract)
            .where(Contract.status == ContractStatus.COMPLETED)
        )
        if completed != contracts_total:
            problems.append(f"{completed} of {contracts_total} contracts completed")
        found = checks.breaches()
        print(f"ledger-check breaches: {found}")
        problems += found
        db.session.remove()
    return problems


def watch_backends(url: sa.URL, database: str, stop: threading.Event) -> dict[int, float]:
    """CPU seconds of each pgbench backend on `database`, sampled until `stop`."""
    seen: dict[int, float] = {}
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    query = sa.text(
        "SELECT pid FROM pg_stat_activity WHERE datname = :db AND application_name = 'pgbench'"
    )
    with engine.connect() as conn:
        while not stop.wait(0.2):
            for pid in conn.scalars(query, {"db": database}):
                used = backend_cpu(pid)
                if used is not None:
                    seen[pid] = used
    engine.dispose()
    return seen


def run_pgbench(
    url: sa.URL, database: str, scale: int, clients: int, seconds: int
) -> tuple[float, float | None]:
    """Initialise `database` at `scale` and run TPC-B; returns the TPS without connecting
    and the database's CPU milliseconds per transaction (None unless the server is here)."""
    binary = shutil.which("pgbench") or "/usr/bin/pgbench"
    ensure_database(url.set(database=database))
    conn = ["-h", url.host or "127.0.0.1", "-p", str(url.port or 5432), "-U", url.username or ""]
    env = {**os.environ, **({"PGPASSWORD": url.password} if url.password else {})}
    subprocess.run(
        [binary, *conn, "-i", "-q", "-s", str(scale), database],
        check=True,
        env=env,
        capture_output=True,
    )
    jobs = min(2, clients)
    command = [binary, *conn, "-c", str(clients), "-j", str(jobs), "-T", str(seconds)]
    stop, backends = threading.Event(), {}
    watcher = threading.Thread(
        target=lambda: backends.update(watch_backends(url, database, stop)), daemon=True
    )
    watcher.start()
    try:
        output = subprocess.run(
            [*command, "-M", "prepared", database],
            check=True,
            env=env,
            capture_output=True,
            text=True,
        ).stdout
    finally:
        stop.set()
        watcher.join()
    found, processed = TPS_LINE.search(output), PROCESSED_LINE.search(output)
    if not found or not processed:
        raise RuntimeError(f"no TPS line in pgbench's output:\n{output}")
    print(f"pgbench -s {scale} -c {clients} -j {jobs} -T {seconds} -M prepared: {found.group(0)}")
    db_ms = sum(backends.values()) / int(processed.group(1)) * 1000 if backends else None
    return float(found.group(1)), db_ms


def print_trace(results: list[dict[str, Any]], approvals: int) -> None:
    """Statements per approve and the statements that took the most time in all."""
    merged: dict[str, list[float]] = {}
    for result in results:
        for statement, times in result["per_statement"].items():
            merged.setdefault(statement, []).extend(times)
    total = sum(r["statements"] for r in results)
    seconds = sum(sum(times) for times in merged.values())
    print(
        f"\nSQL per approve: {total / approvals:.1f} statements (plus COMMIT), "
        f"{seconds / approvals * 1000:.2f} ms waiting on them"
    )
    kinds: Counter[str] = Counter()
    for statement, times in merged.items():
        kinds[statement.split()[0]] += len(times)
    print("  by verb: " + ", ".join(f"{v} {n / approvals:.1f}" for v, n in kinds.most_common()))
    print("  per approve   ms each   ms total  statement")
    ranked = sorted(merged.items(), key=lambda item: -sum(item[1]))
    for statement, times in ranked[:20]:
        print(
            f"  {len(times) / approvals:11.2f}  {statistics.mean(times) * 1000:8.3f}  "
            f"{sum(times) / approvals * 1000:9.3f}  {statement}"
        )


def approve_all(
    args: argparse.Namespace, url: str, between: Callable[[], None]
) -> tuple[list[dict[str, Any]], float]:
    """Start the workers, let them set up, call `between` while they wait, then time their
    approvals; returns their reports and the wall time of the approve phase."""
    started = time.monotonic()
    context = mp.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(
            target=worker,
            args=(
                index,
                url,
                list(range(index, args.contracts, args.workers)),
                args.milestones,
                args.warmup,
                args.trace,
                ready,
                go,
                results,
            ),
        )
        for index in range(args.workers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.get()
    print(
        f"set up {args.contracts} contracts x {args.milestones} milestones, funded and "
        f"submitted, in {time.monotonic() - started:.0f} s"
    )
    between()
    begin = time.monotonic()
    go.set()
    reports = [results.get() for _ in processes]
    for process in processes:
        process.join()
    errors = [r["error"] for r in reports if "error" in r]
    if errors:
        sys.exit("a worker failed:\n" + "\n".join(errors))
    return reports, max(r["finished"] for r in reports) - begin


def parse_args() -> argparse.Namespace:
    """The command line, checked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL") or DEFAULT_URL)
    parser.add_argument("--contracts", type=int, default=100)
    parser.add_argument("--milestones", type=int, default=20, help="per contract, at most 20")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--warmup", type=int, default=3, help="untimed approvals per worker")
    parser.add_argument("--pgbench-database", default="bench_pgbench")
    parser.add_argument("--pgbench-scale", type=int, default=10)
    parser.add_argument("--pgbench-seconds", type=int, default=15)
    parser.add_argument("--pgbench-clients", type=int, help="default: --workers")
    parser.add_argument("--skip-pgbench", action="store_true")
    parser.add_argument("--trace", action="store_true", help="count and time SQL statements")
    args = parser.parse_args()
    backend = sa.make_url(args.database_url).get_backend_name()
    if backend != "postgresql":
        parser.error(f"needs a PostgreSQL database URL (measures row locks), got {backend!r}")
    if not 1 <= args.milestones <= MAX_MILESTONES:
        parser.error(f"--milestones must be from 1 to {MAX_MILESTONES} (a bid's limit)")
    if not 1 <= args.workers <= args.contracts:
        parser.error("--workers must be from 1 to --contracts (workers own whole contracts)")
    if args.warmup * args.workers >= args.contracts * args.milestones:
        parser.error("--warmup leaves nothing to time")
    return args


def main() -> None:
    args = parse_args()
    url = sa.make_url(args.database_url)
    raw_url = url.render_as_string(hide_password=False)
    print(f"wiping and migrating {url.render_as_string()}")
    ensure_database(url)
    app = create_app(bench_config(raw_url))
    wipe_and_migrate(app)

    tps: list[tuple[float, float | None]] = []

    def pgbench() -> None:
        # Right before the approvals (the workers wait idle), so both see the same machine.
        if not args.skip_pgbench:
            clients = args.pgbench_clients or args.workers
            tps.append(
                run_pgbench(
                    url, args.pgbench_database, args.pgbench_scale, clients, args.pgbench_seconds
                )
            )

    reports, wall = approve_all(args, raw_url, pgbench)
    latencies = sorted(t * 1000 for r in reports for t in r["latencies"])
    approvals = len(latencies)
    releases = approvals / wall
    p50, p95 = statistics.median(latencies), latencies[int(approvals * 0.95) - 1]
    cpu = sum(r["cpu"] for r in reports) / approvals * 1000
    db_cpus = [r["db_cpu"] for r in reports]
    db_cpu = None if None in db_cpus else sum(db_cpus) / approvals * 1000
    cpus = f"app CPU {cpu:.1f} ms" + ("" if db_cpu is None else f", database CPU {db_cpu:.1f} ms")
    print(
        f"approved {approvals} milestones with {args.workers} workers in {wall:.2f} s: "
        f"{releases:.1f} releases/s, p50 {p50:.1f} ms, p95 {p95:.1f} ms; {cpus} per approve"
    )
    if args.trace:
        print_trace(reports, approvals)

    problems = verify(app, args.contracts, args.contracts * args.milestones)
    if problems:
        sys.exit("VERIFICATION FAILED:\n  " + "\n  ".join(problems))
    print("verified: every milestone released once, every contract completed, books right")

    print("\nsummary")
    print(
        f"  parameters      {args.contracts} contracts x {args.milestones} milestones, "
        f"{args.workers} workers, {args.warmup} warm-up approvals each"
        + (
            ""
            if not tps
            else f"; pgbench -s {args.pgbench_scale} -c {args.pgbench_clients or args.workers}"
            f" -T {args.pgbench_seconds}"
        )
        + (", statements traced (slower)" if args.trace else "")
    )
    print(f"  releases/s      {releases:.1f}  ({approvals} approvals in {wall:.2f} s)")
    print(f"  approve         p50 {p50:.1f} ms, p95 {p95:.1f} ms; {cpus}")
    if not tps:
        print("  pgbench TPS     skipped")
        return
    (pgbench_tps, pgbench_db), ratio = tps[0], releases / tps[0][0]
    print(
        f"  pgbench TPS     {pgbench_tps:.1f}"
        + ("" if pgbench_db is None else f"  (database CPU {pgbench_db:.2f} ms per transaction)")
    )
    print(f"  ratio           {ratio:.3f}  (target {TARGET})")
    if pgbench_db and db_cpu:
        print(f"  database CPU    one approve = {db_cpu / pgbench_db:.1f} TPC-B transactions")
    print(f"  result          target {'met' if ratio >= TARGET else 'missed'}")


if __name__ == "__main__":
    main()
