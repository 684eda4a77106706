"""Benchmark of the HTTP API under gunicorn, as a share of a minimal Flask app's throughput.

Loads into PostgreSQL, once, N providers (10,000 by default; users, profiles with their
matching index and skills by COPY, as bench/matching.py does), 1,000 clients in six zones,
one provider in Manila who searches, and open tasks (as bench/discovery.py does). Then it
serves the project and bench/minimal_app.py with the same gunicorn command line
(`gunicorn -w 2 -k sync --bind 127.0.0.1:PORT`) and runs `wrk` against each request of the
table, each run between two runs against the minimal app: a request's *share* is its
requests per second over the mean of the minimal app's just before and just after, so a
busy machine moves both. (Not by the same factor: a request that waits on PostgreSQL
several times suffers more from a crowded CPU than one that does not, so compare shares
measured at a similar load average.) The open tasks grow between phases (2,000, then
20,000, then 100,000) by adding tasks.

    apt-get install -y wrk                          # Debian's package
    .venv/bin/python bench/api.py                   # database bench_api, made if missing
    .venv/bin/python bench/api.py --quick --tasks 2000              # smoke run, ~2 minutes
    .venv/bin/python bench/api.py --providers 100000 --tasks 2000   # matches at 100k

Requests: `GET /healthz`, `GET /api/v1/skills`, a task as its owner sees it, then at each
size a page of 20 open tasks, the same with `min_overlap=2` and with `shoring=nearshore`
(as the provider in Manila), then the top 20 matches of a task needing a common skill pair
(as its client) and a new bid (`wrk` cycles through pre-made tokens of 500 providers and
fresh tasks, so each request places a real bid: each provider bids once per task). Every
request authenticates with a bearer API token. The statement counts come from one request
of each, in this process, through the app's test client (after one untimed request, so
caches are warm; SQL sent after the response, such as the outbox delivery of a bid's
e-mail, is shown apart as "+N after").

wrk stops at its deadline, but the server still answers the requests it had accepted; each
run waits for them (a request through the queue, then the workers idle) before the next
starts. With requests of several seconds (the zone filters over 100,000 tasks) that wait is
minutes, and a run may end with no answer at all: the table then says "0 answers".

The project runs with production settings: MARKETPLACE_ENV=production, a random
SECRET_KEY, DATABASE_URL, PAYMENTS=sandbox, no REDIS_URL (outbox work runs in the worker
right after each response, as without Redis), RATELIMIT_STORAGE_URI=memory:// and
BID_RATE_LIMIT raised to 1,000,000 per minute, so the limiter still runs but never
refuses.

The data is reused by later runs against the same database: a different --providers or
--clients, or --reload, loads it again (the database is wiped); a run that starts with
fewer open tasks than the database holds deletes the newest. Bids go to tasks nobody has
bid on yet. Prints a markdown table (share, p50 / p99 latency, req/s, statements), the
RSS of the gunicorn workers after the whole run, and the load average and a CPU check (a
fixed Python loop, best of five; some 80 ms when the development machine is quiet) at
the start and the end.
"""

from __future__ import annotations

import argparse
import contextlib
import contextvars
import json
import math
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import sqlalchemy as sa
from flask import Flask, request_finished, request_started
from flask_migrate import upgrade

from bench import _shared as data
from marketplace import create_app
from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.bids.models import Bid
from marketplace.config import TestingConfig
from marketplace.extensions import db
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks.models import Task
from marketplace.tasks.states import TaskStatus

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/bench_api"
WORKERS = 2
GUNICORN = ["-w", str(WORKERS), "-k", "sync"]
BIDDERS = 500  # providers whose tokens the bid script cycles through
FEW = 100  # answers in a run below which the table says how many
MAX_BID_RATE = 1_000  # bids per second the bid script has fresh (provider, task) pairs for
BID_BODY = {
    "price": {"amount": 1500, "currency": "usd"},
    "timeline_days": 30,
    "cover_letter": "I have prepared weekly reports for three clients since 2021.",
}
WRK_INSTALL = (
    "wrk is not installed. On Debian or Ubuntu: `apt-get install -y wrk` (as root); "
    "elsewhere see https://github.com/wg/wrk."
)
# Appended to every wrk script: one line of JSON with the figures, whatever wrk prints.
REPORT_LUA = """
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH {"requests": %d, "seconds": %.6f, "p50_ms": %.3f, "p99_ms": %.3f, '
      .. '"status_errors": %d, "socket_errors": %d}\\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000, e.status, e.connect + e.read + e.write + e.timeout))
end
"""
# Each request a new bid: pair k is task k mod T and provider floor(k / T), and the wrk
# threads take every other k, so no provider bids twice on a task.
BIDS_LUA = """
local tokens = {%(tokens)s}
local tasks = {%(tasks)s}
local body = [[%(body)s]]
local threads = %(threads)d
local next_thread = 0
function setup(thread)
  thread:set("thread_number", next_thread)
  next_thread = next_thread + 1
end
local sent = 0
function request()
  local k = sent * threads + thread_number
  sent = sent + 1
  local task = tasks[k %% #tasks + 1]
  local token = tokens[math.floor(k / #tasks) %% #tokens + 1]
  return wrk.format("POST", "/api/v1/tasks/" .. task .. "/bids",
    {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}, body)
end
"""


@dataclass(frozen=True)
class Endpoint:
    """A request of the table: a GET of `path`, or with `bid_tasks` a new bid per request."""

    label: str
    path: str
    token: str | None = None
    bid_tokens: tuple[str, ...] = ()
    bid_tasks: tuple[uuid.UUID, ...] = ()  # for wrk; the in-process count bids elsewhere


@dataclass(frozen=True)
class Result:
    """What one wrk run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    status_errors: int
    socket_errors: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


@dataclass
class Row:
    """A line of the table."""

    endpoint: Endpoint
    open_tasks: int
    statements: str
    result: Result
    minimal: tuple[float, float]  # the minimal app's req/s just before and just after

    @property
    def share(self) -> float:
        return self.result.per_second / (sum(self.minimal) / 2)


@dataclass
class Fixtures:
    """Who makes each request, and on what: tokens are made afresh on each run."""

    searcher: str
    detail_task: uuid.UUID
    detail_owner: str
    matches_task: uuid.UUID
    matches_owner: str
    bidders: tuple[str, ...]
    count_bids: tuple[uuid.UUID, uuid.UUID]  # for the in-process count, by the searcher
    warmup_bid_tasks: tuple[uuid.UUID, ...]
    bid_tasks: tuple[uuid.UUID, ...]


# --- data --------------------------------------------------------------------------------


def ensure_database(url: str) -> None:
    """Create the database of `url` if it does not exist yet."""
    target = sa.make_url(url)
    engine = sa.create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(
            sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": target.database}
        )
        if not exists:
            conn.execute(sa.text(f'CREATE DATABASE "{target.database}"'))
    engine.dispose()


def base_present(providers: int, clients: int) -> bool:
    """Whether the database holds the providers and clients this run asks for."""
    if not sa.inspect(db.engine).has_table("provider_profiles"):
        return False
    profiles = db.session.scalar(sa.select(sa.func.count()).select_from(ProviderProfile))
    return profiles == providers + 1 and len(data.loaded_clients()) == clients  # + the searcher


def load_base(providers: int, clients: int) -> None:
    """Wipe the database, migrate it and load the providers, the clients and the searcher."""
    db.session.remove()
    with db.engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    upgrade()
    data.load_providers(providers)
    data.add_clients(clients)
    data.add_searching_provider()
    db.session.commit()


def open_tasks() -> int:
    return db.session.scalar(sa.select(sa.func.count()).where(Task.status == TaskStatus.OPEN)) or 0


def set_open_tasks(size: int) -> None:
    """Add tasks up to `size` open ones, or delete the newest beyond it."""
    present = open_tasks()
    if present < size:
        started = time.perf_counter()
        data.add_open_tasks(size - present, data.loaded_clients(), first=present)
        print(f"added {size - present:,} open tasks in {time.perf_counter() - started:.0f} s")
    elif present > size:
        newest = (
            sa.select(Task.id)
            .where(Task.status == TaskStatus.OPEN)
            .order_by(Task.id.desc())  # time-ordered ids
            .limit(present - size)
        )
        db.session.execute(sa.delete(Task).where(Task.id.in_(newest.scalar_subquery())))
        db.session.commit()
        print(f"deleted the {present - size:,} newest open tasks")
    if present != size:
        data.vacuum_analyze()


def matches_task(owner: User) -> uuid.UUID:
    """The task whose matches are read: a common skill pair, any shoring (made once)."""
    task_id = db.session.scalar(
        sa.select(Task.id)
        .join(ClientProfile, ClientProfile.id == Task.client_profile_id)
        .where(ClientProfile.user_id == owner.id)
    )
    if task_id is None:
        providers = db.session.scalar(sa.select(sa.func.count()).select_from(ProviderProfile))
        pair = data.skill_pairs(providers or 1)["common"][0]
        task_id = data.publish_bench_task(owner, pair, "any")
    return task_id


def token(user: User) -> str:
    return accounts.create_token(user=user, name="bench")[1]


def user_by_email(email: str) -> User:
    user: User | None = db.session.scalar(sa.select(User).where(User.email == email))
    assert user is not None, f"{email} is missing: run with --reload"
    return user


def fixtures(providers: int, seconds: float, warmup: float) -> Fixtures:
    """Tokens for each request, the tasks they read, and fresh tasks for the bids: enough
    (provider, task) pairs for `MAX_BID_RATE` bids a second, for the warm-up and the run."""
    matches_owner = data.bench_client()
    matches = matches_task(matches_owner)
    detail = db.session.scalar(
        sa.select(Task.id).where(Task.status == TaskStatus.OPEN).order_by(Task.id).limit(1)
    )
    assert detail is not None
    detail_task = db.session.get(Task, detail)
    assert detail_task is not None
    bidders = min(BIDDERS, providers)
    warmup_tasks, run_tasks = (math.ceil(s * MAX_BID_RATE / bidders) for s in (warmup, seconds))
    unbid = list(
        db.session.scalars(
            sa.select(Task.id)
            .where(
                Task.status == TaskStatus.OPEN,
                Task.id != detail,
                ~sa.exists().where(Bid.task_id == Task.id),
            )
            .order_by(Task.id)
            .limit(2 + warmup_tasks + run_tasks)
        )
    )
    if len(unbid) < 2 + warmup_tasks + run_tasks:
        sys.exit("Too few open tasks without bids left: run with --reload.")
    return Fixtures(
        searcher=token(user_by_email("provider@bench.example")),
        detail_task=detail,
        detail_owner=token(detail_task.created_by),
        matches_task=matches,
        matches_owner=token(matches_owner),
        bidders=tuple(token(user_by_email(f"p{n}@bench.example")) for n in range(bidders)),
        count_bids=(unbid[0], unbid[1]),
        warmup_bid_tasks=tuple(unbid[2 : 2 + warmup_tasks]),
        bid_tasks=tuple(unbid[2 + warmup_tasks :]),
    )


# --- statements, in process --------------------------------------------------------------


@contextmanager
def statements(app: Flask, engine: sa.Engine) -> Iterator[dict[str, int]]:
    """Counts the SQL statements (not BEGIN) sent while the requests inside were answered
    (`during`) and after their responses (`after`), between Flask's request signals."""
    counts = {"during": 0, "after": 0}
    phase: list[str] = []

    def started(sender: Any, **extra: Any) -> None:
        phase[:] = ["during"]

    def finished(sender: Any, **extra: Any) -> None:
        phase[:] = ["after"]

    def executed(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if phase and not statement.startswith("BEGIN"):
            counts[phase[0]] += 1

    sa.event.listen(engine, "before_cursor_execute", executed)
    request_started.connect(started, app)
    request_finished.connect(finished, app)
    try:
        yield counts
    finally:
        request_finished.disconnect(finished, app)
        request_started.disconnect(started, app)
        sa.event.remove(engine, "before_cursor_execute", executed)


def count_statements(
    app: Flask, engine: sa.Engine, method: str, paths: Sequence[str], bearer: str, body: Any
) -> str:
    """The statements of the last of `paths` (those before it warm caches up), through the
    test client in a fresh context each, as a server runs a request."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {bearer}"}
    for path in paths:
        with statements(app, engine) as counts:
            response = contextvars.Context().run(
                client.open, path, method=method, headers=headers, json=body, buffered=True
            )
        if response.status_code >= 300:
            sys.exit(f"{method} {path}: {response.status_code} {response.get_data(as_text=True)}")
    after = f" (+{counts['after']} after)" if counts["after"] else ""
    return f"{counts['during']}{after}"


# --- servers and wrk ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """A gunicorn master with its workers, started with the bench's command line."""

    def __init__(
        self, name: str, app: str, *, probe: str, cwd: Path, env: dict[str, str], log: Path
    ) -> None:
        self.name, self.probe, self.port, self.log = name, probe, free_port(), log
        command = [sys.executable, "-m", "gunicorn", *GUNICORN,
                   "--bind", f"127.0.0.1:{self.port}", app]  # fmt: skip
        with log.open("w") as out:
            self.process = subprocess.Popen(
                command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT
            )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_ready(self, timeout: float = 60) -> None:
        """Until the probe answers 200; exits with the server's log if it dies or never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                with urllib.request.urlopen(self.url(self.probe), timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:  # not listening yet, or busy starting its workers
                pass
            time.sleep(0.2)
        self.stop()
        sys.exit(f"{self.name} did not start; its log:\n{self.log.read_text()[-3000:]}")

    def _workers(self) -> list[tuple[int, str]]:
        """Each worker (a child of the master): its pid and /proc status."""
        found = []
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:  # the process ended meanwhile
                continue
            if re.search(rf"^PPid:\s+{self.process.pid}$", text, re.MULTILINE):
                found.append((int(status.parent.name), text))
        return found

    def workers_rss_mb(self) -> list[float]:
        """VmRSS of each worker, in MB."""
        sizes = []
        for _, status in self._workers():
            rss = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
            if rss:
                sizes.append(int(rss.group(1)) / 1024)
        return sorted(sizes)

    def _workers_cpu(self) -> int:
        """CPU time the workers have used so far, in clock ticks."""
        total = 0
        for pid, _ in self._workers():
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total

    def settle(self, quiet: float = 0.3) -> None:
        """Wait until the requests a finished wrk run left queued are answered: wrk stops
        at the deadline, but the server still works through the connections it accepted,
        which would slow the next run. A request through the queue, then workers idle."""
        probe = self.url(self.probe)
        with contextlib.suppress(OSError), urllib.request.urlopen(probe, timeout=120):
            pass
        used = self._workers_cpu()
        while True:
            time.sleep(quiet)
            now = self._workers_cpu()
            if now == used:
                return
            used = now

    def stop(self) -> None:
        self.process.terminate()  # gunicorn stops its workers gracefully
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def project_env(url: str) -> dict[str, str]:
    """The environment of the project's server: production, PostgreSQL, sandbox payments,
    jobs in-process, rate limits counted per worker and raised out of the way of bids."""
    env = {name: value for name, value in os.environ.items() if name != "REDIS_URL"}
    env.update(
        MARKETPLACE_ENV="production",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=url,
        PAYMENTS="sandbox",
        RATELIMIT_STORAGE_URI="memory://",
        BID_RATE_LIMIT="1000000 per minute",
    )
    return env


class Wrk:
    """Runs wrk with the bench's threads, connections and duration."""

    def __init__(self, threads: int, connections: int, workdir: Path) -> None:
        self.threads, self.connections, self.workdir = threads, connections, workdir
        self.report = workdir / "report.lua"
        self.report.write_text(REPORT_LUA)

    def run(self, server: Server, endpoint: Endpoint, seconds: float) -> Result:
        if endpoint.bid_tasks:
            script = self.workdir / f"bids-{uuid.uuid4().hex}.lua"
            script.write_text(
                BIDS_LUA
                % {
                    "tokens": ", ".join(f'"{t}"' for t in endpoint.bid_tokens),
                    "tasks": ", ".join(f'"{t}"' for t in endpoint.bid_tasks),
                    "body": json.dumps(BID_BODY),
                    "threads": self.threads,
                }
                + REPORT_LUA
            )
        else:
            script = self.report
        command = ["wrk", f"-t{self.threads}", f"-c{self.connections}", f"-d{seconds:g}s",
                   "--timeout", "60s", "-s", str(script)]  # fmt: skip
        if endpoint.token:
            command += ["-H", f"Authorization: Bearer {endpoint.token}"]
        output = subprocess.run(
            [*command, server.url(endpoint.path)], capture_output=True, text=True, check=True
        ).stdout
        server.settle()
        line = next(line for line in output.splitlines() if line.startswith("BENCH "))
        return Result(**json.loads(line.removeprefix("BENCH ")))


# --- the run -----------------------------------------------------------------------------


def endpoints_for(phase: int, size: int, f: Fixtures, providers: int) -> list[Endpoint]:
    """The requests measured at this size: the lists at every size, the rest at the first."""
    page = "page_size=20"
    lists = [
        Endpoint("GET /api/v1/tasks (page of 20)", f"/api/v1/tasks?{page}", f.searcher),
        Endpoint("GET /api/v1/tasks?min_overlap=2 (provider)",
                 f"/api/v1/tasks?min_overlap=2&{page}", f.searcher),
        Endpoint("GET /api/v1/tasks?shoring=nearshore (provider)",
                 f"/api/v1/tasks?shoring=nearshore&{page}", f.searcher),
    ]  # fmt: skip
    if phase:
        return lists
    return [
        Endpoint("GET /healthz", "/healthz"),
        Endpoint("GET /api/v1/skills", "/api/v1/skills"),
        Endpoint("GET /api/v1/tasks/{id} (owner)", f"/api/v1/tasks/{f.detail_task}",
                 f.detail_owner),
        *lists,
        Endpoint(f"GET /api/v1/tasks/{{id}}/matches (owner, {providers:,} providers)",
                 f"/api/v1/tasks/{f.matches_task}/matches", f.matches_owner),
        Endpoint("POST /api/v1/tasks/{id}/bids (provider, new bid)",
                 "/api/v1/tasks/{id}/bids", bid_tokens=f.bidders, bid_tasks=f.bid_tasks),
    ]  # fmt: skip


def statements_of(app: Flask, engine: sa.Engine, endpoint: Endpoint, f: Fixtures) -> str:
    if endpoint.bid_tasks:
        paths = [f"/api/v1/tasks/{task}/bids" for task in f.count_bids]
        return count_statements(app, engine, "POST", paths, f.searcher, BID_BODY)
    bearer = endpoint.token or ""
    return count_statements(app, engine, "GET", [endpoint.path] * 2, bearer, None)


def bids_placed() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(Bid)) or 0


def measure(
    app: Flask, args: argparse.Namespace, servers: tuple[Server, Server], f: Fixtures
) -> list[Row]:
    """Each phase: set the open tasks, count statements, then run wrk on the minimal app
    and on each request in turn, ending on the minimal app."""
    project, minimal = servers
    baseline = Endpoint("GET / (minimal app)", "/")
    runner = Wrk(args.threads, args.connections, Path(tempfile.mkdtemp(prefix="bench-api-")))
    with app.app_context():
        engine = db.engine
    rows: list[Row] = []
    runner.run(minimal, baseline, args.warmup)
    for phase, size in enumerate(args.tasks):
        with app.app_context():
            set_open_tasks(size)
        todo = endpoints_for(phase, size, f, args.providers)
        counts = [statements_of(app, engine, e, f) for e in todo]
        before = runner.run(minimal, baseline, args.duration).per_second
        for endpoint, count in zip(todo, counts, strict=True):
            if endpoint.bid_tasks:  # the warm-up bids on tasks of its own
                warmup = Endpoint(endpoint.label, endpoint.path, bid_tokens=f.bidders,
                                  bid_tasks=f.warmup_bid_tasks)  # fmt: skip
                runner.run(project, warmup, args.warmup)
            else:
                runner.run(project, endpoint, args.warmup)
            with app.app_context():
                placed = bids_placed()
            result = runner.run(project, endpoint, args.duration)
            with app.app_context():
                placed = bids_placed() - placed
            after = runner.run(minimal, baseline, args.duration).per_second
            rows.append(Row(endpoint, size, count, result, (before, after)))
            print(f"  {endpoint.label}, {size:,} open tasks: {result.per_second:,.1f} req/s, "
                  f"minimal app {before:,.0f} / {after:,.0f}", flush=True)  # fmt: skip
            if endpoint.bid_tasks:  # wrk stops at the deadline; the server answers the rest
                print(f"  bids placed: {placed:,} for {result.requests:,} answers in the run "
                      "and the requests still queued at its end")  # fmt: skip
            before = after
    return rows


def table(rows: list[Row]) -> str:
    """The markdown table; a rate from fewer than `FEW` answers says how many it had."""
    lines = [
        "| request | open tasks | share | p50 / p99 ms | req/s | statements | minimal app req/s |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        r = row.result
        notes = []
        if r.requests < FEW:
            notes.append(f"{r.requests} answers")
        if r.status_errors + r.socket_errors:
            notes.append(f"{r.status_errors + r.socket_errors:,} errors")
        rate = f"{r.per_second:,.1f}" + (f" ({', '.join(notes)})" if notes else "")
        latency = f"{r.p50_ms:,.1f} / {r.p99_ms:,.1f}" if r.requests else "-"
        lines.append(
            f"| {row.endpoint.label} | {row.open_tasks:,} | {row.share:.3f} | {latency} | "
            f"{rate} | {row.statements} | {row.minimal[0]:,.0f} / {row.minimal[1]:,.0f} |"
        )
    return "\n".join(lines)


def machine_check() -> str:
    return f"load average {os.getloadavg()[0]:.2f}, CPU check {data.cpu_ms():.0f} ms"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=DEFAULT_URL, help="PostgreSQL; made if missing")
    parser.add_argument("--providers", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=1_000)
    parser.add_argument(
        "--tasks", default="2000,20000,100000", help="open tasks of each phase, comma-separated"
    )
    parser.add_argument("--duration", type=float, default=15, help="seconds of each wrk run")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of an untimed run first")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="3 s runs, 1 s warm-ups: a smoke run")
    parser.add_argument("--reload", action="store_true", help="wipe and load the data again")
    args = parser.parse_args()
    args.tasks = sorted(int(size) for size in args.tasks.split(","))
    if args.quick:
        args.duration, args.warmup = 3, 1
    if not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a PostgreSQL URL")
    return args


def main() -> None:
    args = parse_args()
    if shutil.which("wrk") is None:
        sys.exit(WRK_INSTALL)
    ensure_database(args.database_url)
    config = type("Bench", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": args.database_url})
    app = create_app(config)
    with app.app_context():
        if args.reload or not base_present(args.providers, args.clients):
            started = time.perf_counter()
            load_base(args.providers, args.clients)
            print(f"loaded {args.providers:,} providers and {args.clients:,} clients in "
                  f"{time.perf_counter() - started:.0f} s")  # fmt: skip
        else:
            upgrade()
        set_open_tasks(args.tasks[0])
        f = fixtures(args.providers, args.duration, args.warmup)
        db.session.remove()
    logs = Path(tempfile.mkdtemp(prefix="bench-api-logs-"))
    project = Server("the project", "wsgi:app", probe="/healthz", cwd=ROOT,
                     env=project_env(args.database_url), log=logs / "project.log")  # fmt: skip
    minimal = Server("the minimal app", "minimal_app:app", probe="/", cwd=ROOT / "bench",
                     env=dict(os.environ), log=logs / "minimal.log")  # fmt: skip
    try:
        project.wait_ready()
        minimal.wait_ready()
        start = machine_check()
        print(
            f"gunicorn {' '.join(GUNICORN)}; wrk -t{args.threads} -c{args.connections} "
            f"-d{args.duration:g}s (after {args.warmup:g} s untimed); {start}",
            flush=True,
        )
        rows = measure(app, args, (project, minimal), f)
        rss = project.workers_rss_mb()
        minimal_rss = minimal.workers_rss_mb()
    finally:
        project.stop()
        minimal.stop()
    print()
    print(table(rows))
    print()
    print(f"Worker RSS after the run: project {', '.join(f'{mb:.0f}' for mb in rss)} MB; "
          f"minimal app {', '.join(f'{mb:.0f}' for mb in minimal_rss)} MB")  # fmt: skip
    print(f"At the start: {start}; at the end: {machine_check()} (some 80 ms when quiet). "
          f"Server logs: {logs}")  # fmt: skip


if __name__ == "__main__":
    main()
