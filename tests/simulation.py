"""A seeded, randomized simulation of the money flows, in the spirit of TigerBeetle's VOPR.

One run is a small world (three clients, three providers, an admin and an outsider; four
to six contracts of one to four milestones in several currencies and fee rates, more as
the old ones settle) driven step by step the way the outside world drives the backend:
the parties through the HTTP API with their `login(...)` clients and `Idempotency-Key`
headers, the periodic jobs through the `flask` commands, Stripe through signed webhooks
posted to `/api/v1/webhooks/stripe`, and a payment gateway that fails on purpose. The
clock is frozen and moved by the steps (time-machine), so auto-release, refund lapses,
the escrow age guard, outbox backoff and idempotency-key expiry all come into play.

The seed decides everything: the world, every step and the gateway. Odd seeds run with
`PAYMENTS=stripe`, Stripe answered at the SDK's HTTP boundary by `FakeStripe` (funding only
by webhook; events delivered late, out of order, twice; chargebacks, transfer reversals,
payout accounts switched off and on; refunds that settle later); even seeds run the
sandbox. Each step is chosen among those the model says apply (and, now and then, one it
says does not: that must be refused with a 4xx and change nothing).

A model of what the README promises predicts every answer and every milestone's state.
After every step the books are checked:

- `ledger_check.breaches()`: each transaction sums to zero per currency, no internal
  account is negative, each contract's escrow equals its in-escrow milestones, payables
  match the transfers and refunds not yet made (run after every step that changed
  anything it reads: the books, milestones, transfers or refunds);
- every milestone and contract is in the state the model expects, with the released and
  refunded amounts it expects;
- each milestone has at most one funding and at most one release, resolution or refund
  posting, of the kind its state calls for; unmatched payments are booked once each;
- revenue per currency is exactly the fees (rounded down) of what was released; the
  balances of all accounts sum to zero per currency;
- each released share has exactly one transfer of the right amount, each refund the right
  amount on the right payment, never more than the payment;
- at the gateway (a recording wrapper around the app's gateway): each `transfer-<id>` and
  `refund-<id>` key succeeded at most once, every paid transfer and made refund is backed by
  exactly one successful call of the same amount (to the provider's account, on the
  client's payment), and no call exists for one that is not;
- every payment row is one the gateway was asked for, in the state the model expects;
  every webhook event received is processed;
- a refused request, a replayed `Idempotency-Key` and a redelivered webhook change nothing.

At the end the gateway recovers and the outbox is drained: every transfer and refund must
then be made (money never gets stuck). A failing run is shrunk (steps removed, replayed on
a fresh database) and reported with its seed and the shortest list of steps found.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import traceback
import types
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import argon2
import sqlalchemy as sa
import time_machine
from flask import Flask

from marketplace.extensions import db, limiter
from marketplace.jobs.mail import MemoryBackend
from marketplace.payments.gateways.base import GatewayError, PermanentGatewayError
from marketplace.payments.gateways.sandbox import SandboxGateway
from marketplace.payments.gateways.stripe import StripeGateway
from marketplace.reporting import ledger_check
from tests.conftest import KEEP_TABLES
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, task_payload
from tests.stripe_support import WEBHOOK_SECRET, Sent, StripeHTTP, event, signed, stripe_error

START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
STEP_SECONDS = 2  # every step moves the clock a little
# Session cookies last PERMANENT_SESSION_LIFETIME; runs stretch it (signing in hashes the
# password with argon2, slow on purpose) and sign in again before it runs out all the same.
SESSION_LIFETIME = timedelta(days=3650)
MAX_CONTRACTS = 150

CURRENCIES = ("usd", "eur", "gbp")
FEES_BPS = (0, 1, 333, 1000, 1000, 2500, 9999)
AUTO_RELEASE_DAYS = (1, 3, 14, 14)
AMOUNTS = (1, 2, 3, 7, 99, 100, 1_001, 9_999, 12_345, 40_000, 99_999)
SAVED_CARD = "pm_card_visa"
DECLINED_CARD = "pm_card_chargeDeclined"

PENDING, FUNDED, SUBMITTED = "pending", "funded", "submitted"
CHANGES, REFUND_REQUESTED = "changes_requested", "refund_requested"
RELEASED, CANCELLED, REFUNDED = "released", "cancelled", "refunded"
SPLIT = ("release_amount", "refund_amount")  # a dispute's resolution, money each
DISPUTED, RESOLVED = "disputed", "resolved"
WAITING = frozenset({FUNDED, SUBMITTED, CHANGES, REFUND_REQUESTED})  # may be disputed
IN_ESCROW = WAITING | {DISPUTED}
SETTLED = frozenset({RELEASED, CANCELLED, REFUNDED, RESOLVED})
EXIT_KIND = {RELEASED: "release", RESOLVED: "resolution", REFUNDED: "refund"}
LIVE_CONTRACT = ("active", "paused")


@dataclass(frozen=True)
class Action:
    """A milestone action of the API: where, who may, from which states."""

    path: str
    actors: frozenset[str]
    sources: frozenset[str]
    money: bool = False
    created: bool = False

    @property
    def success(self) -> int:
        return 201 if self.created else 200


def _action(path: str, actors: str, sources: set[str] | frozenset[str], **kw: bool) -> Action:
    return Action(path, frozenset(actors.split()), frozenset(sources), **kw)


ACTIONS: dict[str, Action] = {
    "fund": _action("milestones/{id}/fund", "client", {PENDING}, money=True),
    "submit": _action("milestones/{id}/submit", "provider", {FUNDED, CHANGES}),
    "approve": _action("milestones/{id}/approve", "client", {SUBMITTED}, money=True),
    "request_changes": _action("milestones/{id}/request-changes", "client", {SUBMITTED}),
    "refund_request": _action(
        "milestones/{id}/refund-request", "client", {FUNDED, CHANGES}, created=True
    ),
    "approve_refund": _action(
        "milestones/{id}/refund-request/approve", "provider", {REFUND_REQUESTED}, money=True
    ),
    "dispute": _action("milestones/{id}/dispute", "client provider", WAITING, created=True),
    "resolve": _action("admin/disputes/{id}/resolve", "admin", {DISPUTED}, money=True),
}
BODIES: dict[str, Any] = {
    "submit": {"note": "Delivered as agreed; the report is attached.", "deliverables": []},
    "request_changes": {"reason": "Three tickets got no answer yet."},
    "refund_request": {"reason": "We hired in house after all."},
    "dispute": {"reason": "The work does not match what was agreed."},
}


#: Bugs the simulation found, which the generated steps steer around unless asked to
#: expose them (so that a run keeps looking for new ones); each has a regression test in
#: tests/test_money_simulation.py replaying its shortest failing steps.
KNOWN_BUGS: dict[str, str] = {}
#: How each known bug shows: the start of the failure's signature.
KNOWN_BUG_SIGNATURES: dict[str, str] = {}


def fee(amount: int, bps: int) -> int:
    """The platform's fee of a released amount: rounded down (README, "The fee")."""
    return amount * bps // 10_000


# The tables the checks read, by name (not through the models, which are being moved).
def _table(name: str, **columns: Any) -> sa.TableClause:
    return sa.table(name, *(sa.column(column, kind) for column, kind in columns.items()))


_ID, _INT, _STR = sa.Uuid(), sa.BigInteger(), sa.String()
MILESTONES = _table(
    "milestones",
    id=_ID,
    status=_STR,
    amount=_INT,
    released_amount=_INT,
    refunded_amount=_INT,
    escrow_warned_at=_STR,
)
CONTRACTS = _table("contracts", id=_ID, status=_STR)
TRANSACTIONS = _table("ledger_transactions", id=_ID, kind=_STR, milestone_id=_ID)
ENTRIES = _table("ledger_entries", transaction_id=_ID, account_id=_ID, amount=_INT)
ACCOUNTS = _table("ledger_accounts", id=_ID, kind=_STR, currency=_STR)
PAYMENTS = _table("payments", id=_ID, milestone_id=_ID, amount=_INT, status=_STR, gateway_id=_STR)
TRANSFERS = _table(
    "transfers",
    id=_ID,
    milestone_id=_ID,
    amount=_INT,
    status=_STR,
    gateway_id=_STR,
    reversed_amount=_INT,
)
REFUNDS = _table(
    "refunds", id=_ID, milestone_id=_ID, payment_id=_ID, amount=_INT, status=_STR, gateway_id=_STR
)
DISPUTES = _table("disputes", id=_ID, status=_STR)
REFUND_REQUESTS = _table("refund_requests", id=_ID, status=_STR)
NOTIFICATIONS = _table("notifications", id=_ID)
OUTBOX = _table("outbox_entries", id=_ID, kind=_STR, status=_STR)
EVENTS = _table("webhook_events", id=_ID, event_id=_STR, status=_STR)


def describe_change(name: str, was: Any, now: Any) -> str:
    """What changed in one part of a snapshot, briefly."""
    if isinstance(was, list):
        gone, new = sorted(set(was) - set(now)), sorted(set(now) - set(was))
        return f"{name}: {gone[:4]} became {new[:4]}"
    return f"{name}: {was} -> {now}"


class SimFailure(AssertionError):
    """A step broke a promise. `signature` names the kind of failure, so that shrinking
    keeps looking for the same one."""

    def __init__(self, signature: str, message: str) -> None:
        super().__init__(message)
        self.signature = signature
        self.message = message
        self.step: Step | None = None


@dataclass
class Step:
    """One step: an action and its arguments, all chosen when it was generated (logical
    names only, c0.m1 and the like, so a step replays on a fresh database)."""

    index: int
    kind: str
    args: dict[str, Any]

    def __str__(self) -> str:
        where = ""
        if "c" in self.args:
            where = f" c{self.args['c']}" + (f".m{self.args['m']}" if "m" in self.args else "")
        rest = ", ".join(f"{k}={v!r}" for k, v in self.args.items() if k not in ("c", "m"))
        return f"#{self.index} {self.kind}{where}" + (f" ({rest})" if rest else "")

    def to_json(self) -> list[Any]:
        return [self.index, self.kind, self.args]


# --- the world, as the model sees it --------------------------------------------------


@dataclass(eq=False)
class Party:
    """Someone using the API: a client, a provider, the admin or an outsider."""

    label: str
    email: str
    api: Any = None
    login_at: datetime | None = None
    account_id: str | None = None  # providers: the payout account at the gateway
    payouts: bool = False  # providers: payouts enabled, as the app was told


@dataclass(eq=False)
class MContract:
    index: int
    id: str
    client: Party
    provider: Party
    currency: str
    bps: int
    days: int
    status: str = "active"
    milestones: list[MMilestone] = field(default_factory=list)


@dataclass(eq=False)
class MMilestone:
    contract: MContract
    index: int
    id: str
    amount: int
    status: str = PENDING
    funded_at: datetime | None = None
    auto_release_at: datetime | None = None
    refund_expires_at: datetime | None = None  # the open refund request's deadline
    warned: bool = False
    released: int = 0  # before the fee
    refunded: int = 0
    unmatched: int = 0  # payments that arrived when it no longer needed them

    @property
    def label(self) -> str:
        return f"c{self.contract.index}.m{self.index}"


@dataclass(eq=False)
class MPayment:
    id: str
    milestone: MMilestone
    amount: int
    method: str | None
    status: str = "pending"
    unmatched: bool = False


@dataclass
class MoneyRequest:
    """A money request sent with an Idempotency-Key, for replays."""

    kind: str
    milestone: MMilestone
    party: Party
    who: str
    path: str
    body: Any
    key: str
    outcome: str
    status: int
    answer: Any
    at: datetime

    @property
    def stored(self) -> bool:
        """Whether the key holds this answer: not after a 5xx (which frees it), nor when the
        request was refused before the key was looked at (non-admins resolving)."""
        return self.status < 500 and not (self.kind == "resolve" and self.who != "admin")


@dataclass
class GatewayCall:
    op: str
    key: str
    amount: int
    params: dict[str, Any]
    ok: bool
    result_id: str | None = None


class Faults:
    """What the gateway does wrong now: per operation (payment, transfer, refund) a kind
    (retryable: an outage; permanent: refused) and how many calls more (None: until
    `clear`)."""

    def __init__(self) -> None:
        self.active: dict[str, list[Any]] = {}

    def start(self, ops: list[str], kind: str, count: int | None) -> None:
        for op in ops:
            self.active[op] = [kind, count]

    def clear(self) -> None:
        self.active.clear()

    def window(self, op: str) -> str | None:
        spec = self.active.get(op)
        return spec[0] if spec and spec[1] is None else None

    def hit(self, op: str) -> str | None:
        spec = self.active.get(op)
        if spec is None:
            return None
        kind, left = spec
        if left is not None:
            spec[1] = left - 1
            if spec[1] <= 0:
                del self.active[op]
        return str(kind)


class RecordingGateway:
    """The app's gateway, with every payment, transfer and refund call recorded (and, in
    sandbox runs, failed on purpose while a fault is active)."""

    def __init__(self, inner: Any, sim: Simulation) -> None:
        self.inner, self.sim = inner, sim
        self.calls: list[GatewayCall] = []
        self.succeeded: dict[str, GatewayCall] = {}
        self.repeated: list[str] = []  # keys that succeeded more than once

    @property
    def name(self) -> str:
        return str(self.inner.name)

    @property
    def confirms_by_webhook(self) -> bool:
        return bool(self.inner.confirms_by_webhook)

    @property
    def in_process(self) -> bool:
        return bool(self.inner.in_process)

    def _run(self, op: str, params: dict[str, Any], call: Callable[[], Any]) -> Any:
        record = GatewayCall(op, params["idempotency_key"], params["amount"], params, ok=False)
        self.calls.append(record)
        if not self.sim.stripe:
            kind = self.sim.faults.hit(op)
            if kind == "permanent":
                raise PermanentGatewayError(f"the gateway refused the {op} (simulated)")
            if kind:
                raise GatewayError(f"connection reset by the gateway during the {op} (simulated)")
        result = call()
        record.ok, record.result_id = True, result.id
        if op in ("transfer", "refund"):
            if record.key in self.succeeded:
                self.repeated.append(record.key)
            self.succeeded[record.key] = record
        return result

    def create_payment(self, **params: Any) -> Any:
        self.sim.saw_payment(params)
        return self._run("payment", params, lambda: self.inner.create_payment(**params))

    def refund(self, **params: Any) -> Any:
        return self._run("refund", params, lambda: self.inner.refund(**params))

    def transfer(self, **params: Any) -> Any:
        return self._run("transfer", params, lambda: self.inner.transfer(**params))

    def create_payout_account(self, **params: Any) -> Any:
        return self.inner.create_payout_account(**params)

    def onboarding_link(self, **params: Any) -> Any:
        return self.inner.onboarding_link(**params)


class FakeStripe:
    """Stripe at the SDK's HTTP boundary: PaymentIntents, refunds, transfers and Connect
    accounts, with idempotency keys honoured as Stripe does; the events it would send go
    to the simulation's in-flight queue (the steps deliver them, in any order)."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.http = StripeHTTP(forward=False)
        self.http.answer("/v1/payment_intents", self.intent)
        self.http.answer("/v1/refunds", self.refund)
        self.http.answer("/v1/transfers", self.transfer)
        self.http.answer("/v1/account_links", self.link)
        self.http.answer("/v1/accounts", self.account)
        self.counter = itertools.count(1)
        self.answers: dict[str, tuple[int, dict[str, Any]]] = {}
        self.intents: dict[str, dict[str, Any]] = {}
        self.intent_of_key: dict[str, str] = {}
        self.transfers: dict[str, dict[str, Any]] = {}
        self.refunded: Counter[str] = Counter()  # by charge
        self.charged_back: set[str] = set()
        self.refund_pending = False
        self.violations: list[str] = []

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_sim{next(self.counter)}"

    def queue(self, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
        sent = event(kind, obj, event_id=self.new_id("evt"))
        self.sim.inflight.append(sent)
        return sent

    def fault(self, op: str) -> tuple[int, dict[str, Any]] | None:
        kind = self.sim.faults.hit(op)
        if kind == "permanent":
            return stripe_error(400, "invalid_request_error", f"The {op} was refused (simulated).")
        if kind:
            return stripe_error(
                500, "api_error", "Something went wrong on Stripe's end (simulated)."
            )
        return None

    def intent_object(self, intent: dict[str, Any], *, failed: bool = False) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "id": intent["id"],
            "object": "payment_intent",
            "amount": intent["amount"],
            "currency": intent["currency"],
            "metadata": {"payment_id": intent["payment_id"]},
        }
        if failed:
            obj["status"] = "requires_payment_method"
            obj["last_payment_error"] = {"code": "card_declined", "decline_code": "expired_card"}
        else:
            obj["status"] = "succeeded"
            obj["latest_charge"] = intent["charge"]
        return obj

    def intent(self, sent: Sent) -> tuple[int, dict[str, Any]]:
        if sent.method != "POST":
            raise AssertionError(f"unexpected Stripe request {sent.method} {sent.path}")
        refused = self.fault("payment")
        if refused:
            return refused
        key = sent.headers["Idempotency-Key"]
        if key in self.answers:  # a declined card, answered again
            return self.answers[key]
        context = self.sim.fund_context or {}
        intent_id = self.intent_of_key.get(key)
        if intent_id is None:
            intent_id = self.new_id("pi")
            self.intent_of_key[key] = intent_id
            self.intents[intent_id] = {
                "id": intent_id,
                "payment_id": sent.params["metadata[payment_id]"],
                "amount": int(sent.params["amount"]),
                "currency": sent.params["currency"],
                "charge": self.new_id("ch"),
                "state": "open",
            }
        intent = self.intents[intent_id]
        method = sent.params.get("payment_method")
        if method == DECLINED_CARD and intent["state"] == "open":
            intent["state"] = "declined"
            self.queue("payment_intent.payment_failed", self.intent_object(intent, failed=True))
            self.answers[key] = stripe_error(
                402,
                "card_error",
                "Your card was declined.",
                code="card_declined",
                decline_code="generic_decline",
                payment_intent={"id": intent_id, "object": "payment_intent"},
            )
            return self.answers[key]
        if intent["state"] == "open":
            self.confirm(intent, str(context.get("outcome", "succeed")))
        body: dict[str, Any] = {
            "id": intent_id,
            "object": "payment_intent",
            "amount": intent["amount"],
            "currency": intent["currency"],
            "client_secret": f"{intent_id}_secret_sim",
            "metadata": {"payment_id": intent["payment_id"]},
            "status": "requires_payment_method" if method is None else "processing",
        }
        if intent["state"] == "succeeded":
            body["status"], body["latest_charge"] = "succeeded", intent["charge"]
        return 200, body

    def confirm(self, intent: dict[str, Any], outcome: str) -> None:
        """The client confirms the payment (with Stripe.js or a saved card)."""
        if outcome == "abandon":
            return
        if outcome in ("fail", "fail_then_succeed"):
            self.queue("payment_intent.payment_failed", self.intent_object(intent, failed=True))
        if outcome == "fail":
            return
        intent["state"] = "succeeded"
        if outcome == "early":  # the webhook beats Stripe's answer to the request
            sent = event(
                "payment_intent.succeeded", self.intent_object(intent), event_id=self.new_id("evt")
            )
            self.sim.deliver(sent, nested=True)
        else:
            self.queue("payment_intent.succeeded", self.intent_object(intent))

    def refund(self, sent: Sent) -> tuple[int, dict[str, Any]]:
        refused = self.fault("refund")
        if refused:
            return refused
        key = sent.headers["Idempotency-Key"]
        if key in self.answers:
            return self.answers[key]
        intent = self.intents.get(sent.params["payment_intent"])
        amount = int(sent.params["amount"])
        if intent is None or intent["state"] != "succeeded":
            self.violations.append(f"refund {key} of a payment that was never made")
            return stripe_error(400, "invalid_request_error", "No such payment.")
        charge = intent["charge"]
        if self.refunded[charge] + amount > intent["amount"]:
            self.violations.append(
                f"refund {key} of {amount} on {charge}: {self.refunded[charge]} of "
                f"{intent['amount']} already refunded"
            )
            return stripe_error(400, "invalid_request_error", "Refund exceeds the charge.")
        self.refunded[charge] += amount
        status = "pending" if self.refund_pending else "succeeded"
        body = {"id": self.new_id("re"), "object": "refund", "amount": amount, "status": status}
        self.answers[key] = (200, body)
        self.queue(
            "charge.refunded",
            {
                "id": charge,
                "object": "charge",
                "payment_intent": intent["id"],
                "amount_refunded": self.refunded[charge],
            },
        )
        return self.answers[key]

    def transfer(self, sent: Sent) -> tuple[int, dict[str, Any]]:
        refused = self.fault("transfer")
        if refused:
            return refused
        key = sent.headers["Idempotency-Key"]
        if key in self.answers:
            return self.answers[key]
        transfer_id, amount = self.new_id("tr"), int(sent.params["amount"])
        self.transfers[transfer_id] = {"amount": amount, "reversed": 0}
        body = {
            "id": transfer_id,
            "object": "transfer",
            "amount": amount,
            "currency": sent.params["currency"],
            "destination": sent.params["destination"],
            "amount_reversed": 0,
        }
        self.answers[key] = (200, body)
        return self.answers[key]

    def account(self, sent: Sent) -> tuple[int, dict[str, Any]]:
        key = sent.headers.get("Idempotency-Key", "")
        if key not in self.answers:
            self.answers[key] = (
                200,
                {
                    "id": self.new_id("acct"),
                    "object": "account",
                    "type": "express",
                    "payouts_enabled": False,
                },
            )
        return self.answers[key]

    def link(self, sent: Sent) -> tuple[int, dict[str, Any]]:
        return 200, {
            "object": "account_link",
            "url": f"https://connect.example.com/setup/{sent.params['account']}",
            "expires_at": int(time.time()) + 300,
        }


# --- the database between runs ----------------------------------------------------------


def wipe_database() -> None:
    """Empty the tables as the suite does after each test (migrations' data stays)."""
    db.session.remove()
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in KEEP_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("TRUNCATE " + ", ".join(t.name for t in tables) + " CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())
    MemoryBackend.outbox.clear()
    limiter.reset()


@contextmanager
def remembered_password_checks() -> Iterator[None]:
    """Signing in verifies an argon2 hash, slow on purpose; every simulated user has the
    same password and hash, so each answer is computed once and then remembered."""
    verify = argon2.PasswordHasher.verify
    answers: dict[tuple[Any, Any], bool] = {}

    def remembered(hasher: argon2.PasswordHasher, hash: Any, password: Any) -> bool:
        if (hash, password) not in answers:
            answers[(hash, password)] = verify(hasher, hash, password)  # raises if wrong
        return answers[(hash, password)]

    argon2.PasswordHasher.verify = remembered  # type: ignore[method-assign]
    try:
        yield
    finally:
        argon2.PasswordHasher.verify = verify  # type: ignore[method-assign]


@contextmanager
def fast_commits() -> Iterator[None]:
    """Commits without waiting for the disk (SQLite `synchronous=OFF`, PostgreSQL
    `synchronous_commit=off`) on the connections opened meanwhile: a crash of the test
    machine could lose them, which the simulation never relies on; nothing else changes."""
    engine = db.engine

    def tune(dbapi_connection: Any, _: Any) -> None:
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA synchronous=OFF")
        elif engine.dialect.name == "postgresql":
            cursor.execute("SET synchronous_commit TO off")
            dbapi_connection.commit()
        cursor.close()

    db.session.remove()
    engine.dispose()
    sa.event.listen(engine, "connect", tune)
    try:
        yield
    finally:
        db.session.remove()
        sa.event.remove(engine, "connect", tune)
        engine.dispose()


# --- the simulation ---------------------------------------------------------------------


class Simulation:
    """One run of a seed: `play(count=n)` generates and runs n steps, `play(script=[...])`
    replays given ones. Raises SimFailure at the first broken promise."""

    def __init__(
        self,
        app: Flask,
        login: Callable[[Any], Any],
        seed: int,
        *,
        expose_known_bugs: bool = False,
    ) -> None:
        self.app, self.login, self.seed = app, login, seed
        self.expose_known_bugs = expose_known_bugs
        self.stripe = seed % 2 == 1
        self.mode = "stripe" if self.stripe else "sandbox"
        self.now = START
        self.faults = Faults()
        self.contracts: list[MContract] = []
        self.milestones: dict[str, MMilestone] = {}
        self.payments: dict[str, MPayment] = {}
        self.last_payment: MPayment | None = None
        self.requests: dict[int, MoneyRequest] = {}
        self.reversed: dict[str, int] = {}  # transfer (gateway id) -> reversed, as delivered
        self.inflight: list[dict[str, Any]] = []  # Stripe events not delivered yet
        self.delivered: list[dict[str, Any]] = []
        self.executed: list[Step] = []
        self.trace: list[str] = []
        self.timings: Counter[str] = Counter()  # seconds per kind of step
        self.counts: Counter[str] = Counter()
        self.stats: Counter[str] = Counter()  # what happened, for the run's summary
        self.notes: list[str] = []
        self.before: tuple[Any, ...] | None = None
        self.books: tuple[Any, ...] | None = None  # what ledger-check last passed on
        self.fund_context: dict[str, Any] | None = None
        self.step = Step(-1, "setup", {})
        self.fake: FakeStripe | None = None
        self.gateway: RecordingGateway
        self.traveller: Any = None
        # Some runs shorten the waits, so the jobs that act on them come into play sooner.
        settings = random.Random(f"settings-{seed}")
        warn, review = settings.choice(((60, 75), (60, 75), (20, 30), (6, 12)))
        self.settings = {
            "ESCROW_WARN_DAYS": warn,
            "ESCROW_REVIEW_DAYS": review,
            "REFUND_REQUEST_DAYS": settings.choice((7, 7, 2)),
            "OUTBOX_MAX_ATTEMPTS": settings.choice((8, 8, 3)),
        }
        self.refund_days = self.settings["REFUND_REQUEST_DAYS"]
        self.warn_days, self.review_days = warn, review
        self.key_hours = int(app.config["IDEMPOTENCY_KEY_HOURS"])

    # -- running ----------------------------------------------------------------------

    def play(self, *, count: int = 0, script: list[Step] | None = None) -> list[Step]:
        with self.installed():
            self.guard(self.setup)
            if script is None:
                rng = random.Random(self.seed)
                for index in range(count):
                    self.execute(self.generate(rng, index))
            else:
                for step in script:
                    self.execute(step)
            self.step = Step(len(self.executed), "quiesce", {})
            self.guard(self.quiesce)
        return self.executed

    @contextmanager
    def installed(self) -> Iterator[None]:
        """The gateway (recorded; Stripe at the HTTP boundary in stripe runs), the
        configuration and the frozen clock, put back as they were afterwards."""
        app = self.app
        keys = (
            "PAYMENTS",
            "STRIPE_WEBHOOK_SECRET",
            "PLATFORM_FEE_BPS",
            "AUTO_RELEASE_DAYS",
            "PERMANENT_SESSION_LIFETIME",
            *self.settings,
        )
        missing = object()
        saved = {key: app.config.get(key, missing) for key in keys}
        saved_gateway = app.extensions["payment_gateway"]
        try:
            if self.stripe:
                self.fake = FakeStripe(self)
                inner: Any = StripeGateway(
                    secret_key="sk_test_simulation",
                    max_network_retries=0,
                    http_client=self.fake.http,
                )
                app.config["PAYMENTS"] = "stripe"
                app.config["STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
            else:
                inner = SandboxGateway()
                app.config["PAYMENTS"] = "sandbox"
            app.config["PERMANENT_SESSION_LIFETIME"] = SESSION_LIFETIME
            app.config.update(self.settings)
            self.gateway = RecordingGateway(inner, self)
            app.extensions["payment_gateway"] = self.gateway
            with (
                fast_commits(),
                remembered_password_checks(),
                time_machine.travel(START, tick=False) as traveller,
            ):
                self.traveller = traveller
                yield
        finally:
            for key, value in saved.items():
                if value is missing:
                    app.config.pop(key, None)
                else:
                    app.config[key] = value
            app.extensions["payment_gateway"] = saved_gateway

    @contextmanager
    def config(self, **values: Any) -> Iterator[None]:
        saved = {key: self.app.config[key] for key in values}
        self.app.config.update(values)
        try:
            yield
        finally:
            self.app.config.update(saved)

    def guard(self, run: Callable[[], None]) -> None:
        try:
            run()
        except SimFailure as failure:
            failure.step = self.step
            raise
        except Exception as exc:
            frames = traceback.extract_tb(exc.__traceback__)
            ours = [f for f in frames if "/marketplace/" in f.filename or "/tests/" in f.filename]
            innermost = (ours or frames)[-1]
            where = f"{innermost.filename.rsplit('/', 1)[-1]}:{innermost.name}"
            failure = SimFailure(
                f"error:{type(exc).__name__}:{where}",
                f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-8)}",
            )
            failure.step = self.step
            raise failure from exc

    def execute(self, step: Step) -> None:
        self.executed.append(step)
        self.step, self.notes, self.before = step, [], None
        MemoryBackend.outbox.clear()
        self.http_sent_clear()

        def run() -> None:
            self.shift(STEP_SECONDS)
            getattr(self, f"do_{step.kind}")(**step.args)
            self.check()

        started = time.perf_counter()
        try:
            self.guard(run)
        finally:
            self.trace.append(f"{step}: {'; '.join(self.notes) or 'ok'}")
            self.timings[step.kind] += time.perf_counter() - started
            self.counts[step.kind] += 1

    def http_sent_clear(self) -> None:
        if self.fake is not None:
            self.fake.http.sent.clear()

    def shift(self, seconds: float) -> None:
        self.traveller.shift(timedelta(seconds=seconds))
        self.now += timedelta(seconds=seconds)

    def note(self, text: str) -> None:
        self.notes.append(text)

    def fail(self, signature: str, message: str) -> None:
        raise SimFailure(signature, message)

    # -- the world ----------------------------------------------------------------------

    def setup(self) -> None:
        rng = random.Random(f"world-{self.seed}")
        self.hooks = self.app.test_client()  # Stripe posting webhooks
        self.admin = self.party("admin", AdminFactory())
        self.outsider = self.party("outsider", ProviderFactory())
        self.clients = [self.party(f"client{i}", ClientFactory()) for i in range(3)]
        self.providers = [self.party(f"provider{i}", ProviderFactory()) for i in range(3)]
        for number, provider in enumerate(self.providers):
            if number < 2 or rng.random() < 0.5:
                self.onboard(provider, at_once=True)
        for _ in range(rng.randint(4, 6)):
            self.new_contract(**self.contract_args(rng))
        self.check()
        self.trace.append(
            f"setup ({self.mode}, {self.settings}): "
            + "; ".join(
                f"c{c.index} {c.client.label}/{c.provider.label} {c.currency} fee {c.bps} bps, "
                f"auto-release {c.days} d: {[m.amount for m in c.milestones]}"
                for c in self.contracts
            )
        )

    def party(self, label: str, user: Any) -> Party:
        party = Party(label=label, email=user.email)
        self.relogin(party)
        return party

    def relogin(self, party: Party) -> None:
        party.api = self.login(types.SimpleNamespace(email=party.email))
        party.login_at = self.now

    def api(self, party: Party) -> Any:
        assert party.login_at is not None
        if self.now - party.login_at >= SESSION_LIFETIME - timedelta(days=1):
            self.relogin(party)
        return party.api

    def call(
        self,
        party: Party,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        key: str | None = None,
    ) -> Any:
        kwargs: dict[str, Any] = {"headers": {"Idempotency-Key": key} if key else {}}
        if json_body is not None:
            kwargs["json"] = json_body
        return self.api(party).request(method, path, **kwargs)

    def ok(self, response: Any, what: str, *codes: int) -> Any:
        if response.status_code not in codes:
            self.fail(
                f"status:{what}",
                f"{what}: expected HTTP {codes}, got {response.status_code}: "
                f"{response.get_json(silent=True)}",
            )
        return response.get_json()

    def contract_args(self, rng: random.Random, parts: tuple[int, int] = (1, 4)) -> dict[str, Any]:
        return {
            "client": rng.randrange(3),
            "provider": rng.randrange(3),
            "amounts": [
                rng.choice(AMOUNTS) if rng.random() < 0.6 else rng.randint(1, 150_000)
                for _ in range(rng.randint(*parts))
            ],
            "currency": rng.choice(CURRENCIES),
            "bps": rng.choice(FEES_BPS),
            "days": rng.choice(AUTO_RELEASE_DAYS),
        }

    def new_contract(
        self, client: int, provider: int, amounts: list[int], currency: str, bps: int, days: int
    ) -> None:
        """Post a task, bid, award and accept, all through the API; the contract's terms
        take the fee and auto-release days configured at the award."""
        buyer, seller = self.clients[client], self.providers[provider]
        total = sum(amounts)
        budget = {"type": "fixed", "min": 1, "max": max(total, 2), "currency": currency}
        payload = task_payload(
            budget=budget, confidentiality="public", positions=1, timezone_need=None
        )
        with self.config(PLATFORM_FEE_BPS=bps, AUTO_RELEASE_DAYS=days):
            task = self.ok(self.call(buyer, "POST", "tasks", json_body=payload), "post", 201)
            path = f"tasks/{task['id']}"
            self.ok(self.call(buyer, "POST", f"{path}/publish", json_body={}), "publish", 200)
            bid = {
                "price": {"amount": total, "currency": currency},
                "milestones": [
                    {"title": f"Part {n}", "amount": {"amount": amount, "currency": currency}}
                    for n, amount in enumerate(amounts, start=1)
                ],
                "timeline_days": 30,
                "cover_letter": "We run this kind of work every day.",
            }
            placed = self.ok(self.call(seller, "POST", f"{path}/bids", json_body=bid), "bid", 201)
            offer = self.ok(
                self.call(buyer, "POST", f"bids/{placed['id']}/accept", json_body={}),
                "award",
                201,
            )
        accepted = self.ok(
            self.call(seller, "POST", f"contracts/{offer['id']}/accept"), "accept", 200
        )
        contract = MContract(
            index=len(self.contracts),
            id=accepted["id"],
            client=buyer,
            provider=seller,
            currency=currency,
            bps=bps,
            days=days,
        )
        rows = sorted(accepted["milestones"], key=lambda m: m["position"])
        wanted = [{"amount": amount, "currency": currency} for amount in amounts]
        if [m["amount"] for m in rows] != wanted or accepted["status"] != "active":
            self.fail("setup", f"the accepted contract is not what was bid: {accepted}")
        for index, row in enumerate(rows):
            milestone = MMilestone(contract, index, row["id"], row["amount"]["amount"])
            contract.milestones.append(milestone)
            self.milestones[milestone.id] = milestone
        self.contracts.append(contract)
        self.note(f"new contract c{contract.index}: {amounts} {currency}, {bps} bps")

    def onboard(self, provider: Party, *, at_once: bool) -> None:
        answer = self.ok(
            self.call(provider, "POST", "providers/me/payouts/onboarding"), "onboarding", 200
        )
        if provider.account_id not in (None, answer["account_id"]):
            self.fail("onboarding", f"{provider.label}'s payout account changed: {answer}")
        provider.account_id = answer["account_id"]
        if not self.stripe:
            provider.payouts = True
        if answer["payouts_enabled"] != provider.payouts:
            self.fail("onboarding", f"{provider.label}: payouts_enabled in {answer}")
        if self.stripe and not provider.payouts:
            assert self.fake is not None
            obj = {"id": provider.account_id, "object": "account", "payouts_enabled": True}
            if at_once:
                self.deliver(event("account.updated", obj, event_id=self.fake.new_id("evt")))
            else:
                self.fake.queue("account.updated", obj)

    def all_milestones(self) -> Iterator[MMilestone]:
        for contract in self.contracts:
            yield from contract.milestones

    def milestone(self, c: int, m: int) -> MMilestone:
        return self.contracts[c].milestones[m]

    def actor(self, who: str, contract: MContract) -> Party:
        return {
            "client": contract.client,
            "provider": contract.provider,
            "admin": self.admin,
            "outsider": self.outsider,
        }[who]

    # -- the model's rules ------------------------------------------------------------

    def saw_payment(self, params: dict[str, Any]) -> None:
        """The app asked the gateway for a payment (a new one, or one it retries)."""
        payment_id = params["metadata"]["payment_id"]
        if payment_id not in self.payments:
            milestone = self.milestones[params["metadata"]["milestone_id"]]
            self.payments[payment_id] = MPayment(
                payment_id, milestone, params["amount"], params.get("payment_method")
            )
        self.last_payment = self.payments[payment_id]

    def paid(self, payment: MPayment) -> None:
        """The gateway confirmed the payment: it funds its milestone if that still waits
        for it, else it is owed back and refunded."""
        if payment.status == "succeeded":
            return
        payment.status = "succeeded"
        milestone = payment.milestone
        if milestone.status == PENDING and payment.amount == milestone.amount:
            milestone.status, milestone.funded_at = FUNDED, self.now
        else:
            payment.unmatched = True
            milestone.unmatched += 1
            self.stats["payments refunded as not needed"] += 1

    def freeze(self, milestone: MMilestone) -> None:
        milestone.status = DISPUTED
        milestone.auto_release_at = milestone.refund_expires_at = None

    def settle(
        self, milestone: MMilestone, status: str, *, release: int = 0, refund: int = 0
    ) -> None:
        milestone.status, milestone.released, milestone.refunded = status, release, refund
        milestone.auto_release_at = milestone.refund_expires_at = None
        contract = milestone.contract
        if contract.status == "active" and all(m.status in SETTLED for m in contract.milestones):
            contract.status = "completed"

    def due_auto_release(self) -> list[MMilestone]:
        return [
            m
            for m in self.all_milestones()
            if m.status == SUBMITTED and m.auto_release_at and m.auto_release_at <= self.now
        ]

    def due_lapse(self) -> list[MMilestone]:
        return [
            m
            for m in self.all_milestones()
            if m.status == REFUND_REQUESTED
            and m.refund_expires_at
            and m.refund_expires_at <= self.now
        ]

    def due_review(self) -> list[MMilestone]:
        limit = self.now - timedelta(days=self.review_days)
        return [
            m
            for m in self.all_milestones()
            if m.status in WAITING and m.funded_at and m.funded_at <= limit
        ]

    def due_warning(self) -> list[MMilestone]:
        limit = self.now - timedelta(days=self.warn_days)
        return [
            m
            for m in self.all_milestones()
            if m.status in WAITING and m.funded_at and m.funded_at <= limit and not m.warned
        ]

    def predict(self, kind: str, milestone: MMilestone, who: str, body: Any, keyless: bool) -> int:
        """The answer the API owes this request (README "Money: milestones in escrow")."""
        action, contract = ACTIONS[kind], milestone.contract
        if kind == "resolve" and who != "admin":
            return 403
        if action.money and keyless:
            return 400
        if who == "outsider":
            return 404
        if who not in action.actors:
            return 403
        if milestone.status not in action.sources:
            return 409
        if kind == "fund":
            if contract.status != "active" or not contract.provider.payouts:
                return 409
            fault = self.faults.window("payment")
            if fault:
                return 502 if fault == "permanent" else 503
            if self.stripe and (body or {}).get("payment_method") == DECLINED_CARD:
                return 402
        if kind == "submit" and contract.status != "active":
            return 409
        if kind == "resolve" and sum(body[k]["amount"] for k in SPLIT) != milestone.amount:
            return 422
        return action.success

    # -- steps: milestones --------------------------------------------------------------

    def milestone_action(
        self,
        kind: str,
        milestone: MMilestone,
        who: str,
        *,
        body: Any = None,
        keyless: bool = False,
        key: str | None = None,
        outcome: str = "succeed",
        record_as: int | None = None,
    ) -> None:
        action = ACTIONS[kind]
        party = self.actor(who, milestone.contract)
        if kind == "resolve":
            dispute = self.dispute_of(milestone)
            if dispute is None:
                self.note(f"{milestone.label} was never disputed: nothing to resolve")
                return
            path = action.path.format(id=dispute)
        else:
            path = action.path.format(id=milestone.id)
        key = (key or f"sim-{self.step.index}-{kind}") if action.money and not keyless else None
        expected = self.predict(kind, milestone, who, body, keyless)
        if expected >= 400 and expected != 402:  # a declined card is recorded and told
            self.expect_unchanged()
        self.stats[f"answered {expected}"] += 1
        self.fund_context = {"outcome": outcome} if kind == "fund" else None
        self.last_payment = None
        try:
            response = self.call(party, "POST", path, json_body=body, key=key)
        finally:
            self.fund_context = None
        self.note(f"{kind} {milestone.label} as {who} -> {response.status_code}")
        if key is not None:
            self.requests[self.step.index if record_as is None else record_as] = MoneyRequest(
                kind=kind,
                milestone=milestone,
                party=party,
                who=who,
                path=path,
                body=body,
                key=key,
                outcome=outcome,
                status=response.status_code,
                answer=response.get_json(silent=True),
                at=self.now,
            )
        if response.status_code != expected:
            self.fail(
                f"status:{kind}:{expected}->{response.status_code}",
                f"{kind} of {milestone.label} ({milestone.status}, contract "
                f"{milestone.contract.status}) as {who}: the model expects HTTP {expected}, "
                f"got {response.status_code}: {response.get_json(silent=True)}",
            )
        if expected == 402:
            assert self.last_payment is not None
            self.last_payment.status = "failed"
        if expected == action.success:
            self.succeeded(kind, milestone, body, response.get_json())

    def succeeded(self, kind: str, milestone: MMilestone, body: Any, answer: Any) -> None:
        """Apply a successful milestone action to the model and check its answer."""
        contract = milestone.contract
        shown: Any = answer.get("status")
        if kind == "fund":
            payment = self.payments.get(answer["payment"]["id"])
            if payment is None:
                self.fail("model:payment", f"fund answered a payment never sent: {answer}")
                return
            if not self.stripe:
                self.paid(payment)
            if answer["payment"]["status"] != payment.status:
                self.fail("answer:fund", f"the payment should be {payment.status}: {answer}")
            shown = answer["milestone"]["status"]
        elif kind == "submit":
            milestone.status = SUBMITTED
            milestone.auto_release_at = self.now + timedelta(days=contract.days)
        elif kind == "approve":
            self.settle(milestone, RELEASED, release=milestone.amount)
            if answer["released_amount"] != self.money(milestone, milestone.amount):
                self.fail("answer:approve", f"released {answer['released_amount']}: {answer}")
        elif kind == "request_changes":
            milestone.status, milestone.auto_release_at = CHANGES, None
        elif kind == "refund_request":
            milestone.status = REFUND_REQUESTED
            milestone.refund_expires_at = self.now + timedelta(days=self.refund_days)
            shown = REFUND_REQUESTED if answer["status"] == "open" else answer["status"]
        elif kind == "approve_refund":
            self.settle(milestone, REFUNDED, refund=milestone.amount)
            if answer["refunded_amount"] != self.money(milestone, milestone.amount):
                self.fail("answer:refund", f"refunded {answer['refunded_amount']}: {answer}")
        elif kind == "dispute":
            self.freeze(milestone)
            shown = DISPUTED if answer["status"] == "open" else answer["status"]
        elif kind == "resolve":
            release, refund = body["release_amount"]["amount"], body["refund_amount"]["amount"]
            self.settle(milestone, RESOLVED, release=release, refund=refund)
            shown = RESOLVED if answer["status"] == "resolved" else answer["status"]
            split = (self.money(milestone, release), self.money(milestone, refund))
            if (answer["release_amount"], answer["refund_amount"]) != split:
                self.fail("answer:resolve", f"the split should be {release}/{refund}: {answer}")
        if shown != milestone.status:
            self.fail(
                f"answer:{kind}", f"{kind} answered {shown}, the model has {milestone.status}"
            )

    def dispute_of(self, milestone: MMilestone) -> str | None:
        detail = self.ok(
            self.call(self.admin, "GET", f"milestones/{milestone.id}"), "milestone detail", 200
        )
        return detail["dispute"]["id"] if detail.get("dispute") else None

    def resolve_body(self, milestone: MMilestone, split: Any) -> dict[str, Any]:
        if split == "bad":
            release, refund = milestone.amount, 1
        else:
            release = min(milestone.amount, max(0, round(milestone.amount * float(split))))
            refund = milestone.amount - release
        return {
            "release_amount": self.money(milestone, release),
            "refund_amount": self.money(milestone, refund),
            "note": "Split by the admin.",
        }

    @staticmethod
    def money(milestone: MMilestone, amount: int) -> dict[str, Any]:
        """`{"amount", "currency"}` in the milestone's currency, as the API carries money."""
        return {"amount": amount, "currency": milestone.contract.currency}

    def do_fund(
        self,
        c: int,
        m: int,
        who: str = "client",
        card: str | None = None,
        outcome: str = "succeed",
        keyless: bool = False,
    ) -> None:
        body = {"payment_method": card} if card else {}
        self.milestone_action(
            "fund", self.milestone(c, m), who, body=body, keyless=keyless, outcome=outcome
        )

    def do_resolve(
        self, c: int, m: int, who: str = "admin", split: Any = 0.5, keyless: bool = False
    ) -> None:
        milestone = self.milestone(c, m)
        body = self.resolve_body(milestone, split)
        self.milestone_action("resolve", milestone, who, body=body, keyless=keyless)

    def _simple(self, kind: str, c: int, m: int, who: str, keyless: bool) -> None:
        self.milestone_action(
            kind, self.milestone(c, m), who, body=BODIES.get(kind), keyless=keyless
        )

    def do_submit(self, c: int, m: int, who: str = "provider", keyless: bool = False) -> None:
        self._simple("submit", c, m, who, keyless)

    def do_approve(self, c: int, m: int, who: str = "client", keyless: bool = False) -> None:
        self._simple("approve", c, m, who, keyless)

    def do_request_changes(
        self, c: int, m: int, who: str = "client", keyless: bool = False
    ) -> None:
        self._simple("request_changes", c, m, who, keyless)

    def do_refund_request(self, c: int, m: int, who: str = "client", keyless: bool = False) -> None:
        self._simple("refund_request", c, m, who, keyless)

    def do_approve_refund(
        self, c: int, m: int, who: str = "provider", keyless: bool = False
    ) -> None:
        self._simple("approve_refund", c, m, who, keyless)

    def do_dispute(self, c: int, m: int, who: str = "client", keyless: bool = False) -> None:
        self._simple("dispute", c, m, who, keyless)

    # -- steps: contracts ---------------------------------------------------------------

    def contract_action(self, kind: str, c: int, who: str) -> None:
        contract = self.contracts[c]
        party = self.actor(who, contract)
        if who == "outsider":
            expected = 404
        elif kind in ("pause", "resume") and who != "client":
            expected = 403
        else:
            allowed = {"terminate": LIVE_CONTRACT, "pause": ("active",), "resume": ("paused",)}
            expected = 200 if contract.status in allowed[kind] else 409
        if expected != 200:
            self.expect_unchanged()
        self.stats[f"answered {expected}"] += 1
        body = {"reason": "The budget was cut."} if kind == "terminate" else {}
        if kind == "resume":
            body = None
        response = self.call(party, "POST", f"contracts/{contract.id}/{kind}", json_body=body)
        self.note(f"{kind} c{c} as {who} -> {response.status_code}")
        if response.status_code != expected:
            self.fail(
                f"status:{kind}:{expected}->{response.status_code}",
                f"{kind} of c{c} ({contract.status}) as {who}: expected HTTP {expected}, got "
                f"{response.status_code}: {response.get_json(silent=True)}",
            )
        if expected != 200:
            return
        if kind == "terminate":
            contract.status = "terminated"
            for milestone in contract.milestones:
                if milestone.status == PENDING:
                    milestone.status = CANCELLED
                elif milestone.status in (FUNDED, CHANGES):
                    milestone.status = REFUND_REQUESTED
                    milestone.refund_expires_at = self.now + timedelta(days=self.refund_days)
        else:
            contract.status = "paused" if kind == "pause" else "active"
        if response.get_json()["status"] != contract.status:
            self.fail(f"answer:{kind}", f"{kind} answered {response.get_json()['status']}")

    def do_terminate(self, c: int, who: str = "client") -> None:
        self.contract_action("terminate", c, who)

    def do_pause(self, c: int, who: str = "client") -> None:
        self.contract_action("pause", c, who)

    def do_resume(self, c: int, who: str = "client") -> None:
        self.contract_action("resume", c, who)

    def do_read_ledger(self, c: int, who: str = "client") -> None:
        """A party (or an admin) reads the contract's ledger: what its escrow holds, and
        each transaction balanced; anyone else gets a 404."""
        contract = self.contracts[c]
        response = self.call(
            self.actor(who, contract), "GET", f"contracts/{contract.id}/ledger?page_size=100"
        )
        self.note(f"ledger of c{c} as {who} -> {response.status_code}")
        if who == "outsider":
            self.ok(response, "ledger read by an outsider", 404)
            return
        body = self.ok(response, "ledger", 200)
        held = sum(e["amount"] for e in body["escrow"] if e["currency"] == contract.currency)
        owed = sum(m.amount for m in contract.milestones if m.status in IN_ESCROW)
        if held != owed or any(
            e["currency"] != contract.currency and e["amount"] for e in body["escrow"]
        ):
            self.fail(
                "reading:escrow", f"c{c}'s ledger shows escrow {body['escrow']}, the model {owed}"
            )
        for transaction in body["items"]:
            if sum(entry["amount"]["amount"] for entry in transaction["entries"]) != 0:
                self.fail("reading:ledger", f"c{c}'s ledger shows {transaction} unbalanced")

    def do_new_contract(self, **args: Any) -> None:
        self.new_contract(**args)

    def do_onboard(self, p: int) -> None:
        self.onboard(self.providers[p], at_once=False)

    # -- steps: time and jobs -----------------------------------------------------------

    def do_clock(self, seconds: int) -> None:
        self.shift(seconds)
        self.note(f"now {self.now:%Y-%m-%d %H:%M:%S}")

    def cli(self, *args: str) -> str:
        db.session.rollback()
        result = self.app.test_cli_runner().invoke(args=list(args))
        db.session.rollback()
        if result.exit_code != 0:
            self.fail(
                f"job:{args[0]}",
                f"flask {' '.join(args)} failed: {result.output} {result.exception!r}",
            )
        return str(result.output)

    def do_job(self, name: str) -> None:
        released, lapsed = self.due_auto_release(), self.due_lapse()
        if name in ("auto-release", "run-periodic"):
            for milestone in released:
                self.settle(milestone, RELEASED, release=milestone.amount)
        if name in ("lapse-refund-requests", "run-periodic"):
            for milestone in lapsed:
                self.settle(milestone, REFUNDED, refund=milestone.amount)
        reviewed: list[MMilestone] = []
        warned: list[MMilestone] = []
        if name in ("escrow-age-guard", "run-periodic"):
            reviewed = self.due_review()
            for milestone in reviewed:
                self.freeze(milestone)
            warned = self.due_warning()
            for milestone in warned:
                milestone.warned = True
        for what, happened in (
            ("auto-released", released),
            ("refund requests lapsed", lapsed),
            ("sent to review", reviewed),
            ("warned", warned),
        ):
            self.stats[what] += len(happened)
        output = self.cli(name, "--once") if name == "run-periodic" else self.cli(name)
        self.note(f"{name}: {output.strip()}")
        expected = {
            "auto-release": f"released {len(released)} milestones",
            "lapse-refund-requests": f"refunded {len(lapsed)} milestones",
            "escrow-age-guard": f"warned about {len(warned)}, sent {len(reviewed)} to review",
        }.get(name)
        if name == "run-periodic":
            lines = set(output.splitlines())
            for line in (
                f"auto-release: {len(released)}",
                f"lapse-refund-requests: {len(lapsed)}",
                f"escrow-age-guard: {{'warned': {len(warned)}, 'reviewed': {len(reviewed)}}}",
            ):
                if line not in lines:
                    self.fail("job:run-periodic", f"expected {line!r} in {output!r}")
        elif expected is not None and expected not in output:
            self.fail(f"job:{name}", f"expected {expected!r}, got {output.strip()!r}")

    # -- steps: idempotency -------------------------------------------------------------

    def do_replay(self, of: int, variant: str = "same") -> None:
        record = self.requests.get(of)
        if record is None:
            self.note(f"no money request #{of} in this run")
            return
        held = record.stored and self.now < record.at + timedelta(hours=self.key_hours)
        kind, milestone, body = record.kind, record.milestone, record.body
        if variant == "other":  # another request under the same key
            if kind == "fund":
                body = {} if body else {"payment_method": SAVED_CARD}
            elif kind == "resolve":
                note = "Split again, differently worded."
                body = {**body, "note": note if body["note"] != note else "Split once more."}
            else:
                ordered = list(self.all_milestones())
                milestone = ordered[(ordered.index(milestone) + 1) % len(ordered)]
        self.stats[f"key reused ({variant}, {'held' if held else 'free'})"] += 1
        if not held:
            self.note(f"key of #{of} is not held any more: the request runs again")
            if kind == "resolve":
                self.milestone_action(kind, milestone, record.who, body=body, key=record.key)
            else:
                self.milestone_action(
                    kind,
                    milestone,
                    record.who,
                    body=body,
                    key=record.key,
                    outcome=record.outcome,
                    record_as=of,
                )
            return
        self.expect_unchanged()
        path = record.path
        if milestone is not record.milestone:
            path = ACTIONS[kind].path.format(id=milestone.id)
        response = self.call(record.party, "POST", path, json_body=body, key=record.key)
        self.note(f"{variant} request under the key of #{of} -> {response.status_code}")
        if variant == "same":
            if (
                response.status_code != record.status
                or response.get_json(silent=True) != record.answer
                or response.headers.get("Idempotent-Replayed") != "true"
            ):
                self.fail(
                    "idempotency:replay",
                    f"replay of #{of} ({kind} {record.milestone.label}) answered "
                    f"{response.status_code} {response.get_json(silent=True)} "
                    f"(replayed: {response.headers.get('Idempotent-Replayed')}), first "
                    f"{record.status} {record.answer}",
                )
        else:
            code = (response.get_json(silent=True) or {}).get("error", {}).get("code")
            if (response.status_code, code) != (409, "idempotency_key_reused"):
                self.fail(
                    "idempotency:reused",
                    f"another request under the key of #{of} answered {response.status_code} "
                    f"{response.get_json(silent=True)}",
                )

    # -- steps: the gateway -------------------------------------------------------------

    def do_fault(self, ops: list[str], how: str, count: int | None = None) -> None:
        self.faults.start(ops, how, count)
        self.note(f"gateway {how} failures on {ops} for {count or 'ever'} calls")

    def do_recover(self) -> None:
        self.faults.clear()

    def do_admin_retry(self, pick: int) -> None:
        listing = self.ok(
            self.call(self.admin, "GET", "admin/outbox?status=failed&page_size=100"),
            "outbox list",
            200,
        )
        failed = [e for e in listing["items"] if e["kind"].startswith("payments.")]
        if not failed:
            self.note("no failed gateway call to retry")
            return
        entry = failed[pick % len(failed)]
        self.ok(
            self.call(self.admin, "POST", f"admin/outbox/{entry['id']}/retry"), "outbox retry", 200
        )
        self.note(f"admin retried {entry['kind']} ({entry['last_error']})")
        self.stats["failed gateway calls retried by an admin"] += 1

    # -- steps: Stripe --------------------------------------------------------------------

    def deliver(
        self, sent: dict[str, Any], *, duplicate: bool = False, nested: bool = False
    ) -> None:
        """Post a signed event to the webhook and apply it to the model."""
        body, headers = signed(sent)
        response = self.hooks.post(
            "/api/v1/webhooks/stripe", data=body, headers=headers, content_type="application/json"
        )
        self.note(f"{sent['type']} {sent['id']}{' again' if duplicate else ''}")
        self.stats[f"{sent['type']}{' (duplicate)' if duplicate else ''}"] += 1
        answer = response.get_json(silent=True)
        if response.status_code != 200 or answer != {"received": True, "duplicate": duplicate}:
            self.fail(
                "webhook:answer",
                f"{sent['type']} {sent['id']} answered {response.status_code} {answer}",
            )
        if not duplicate:
            self.delivered.append(sent)
            self.apply_event(sent)

    def apply_event(self, sent: dict[str, Any]) -> None:
        assert self.fake is not None
        kind, obj = sent["type"], sent["data"]["object"]
        if kind.startswith("payment_intent."):
            payment = self.payments[obj["metadata"]["payment_id"]]
            if kind == "payment_intent.succeeded":
                self.paid(payment)
            elif payment.status == "pending":
                payment.status = "failed"
        elif kind == "charge.dispute.created":
            payment_id = self.fake.intents[obj["payment_intent"]]["payment_id"]
            milestone = self.payments[payment_id].milestone
            if milestone.status in WAITING:
                self.freeze(milestone)
                self.stats["chargebacks that froze"] += 1
        elif kind == "transfer.reversed":
            amount = self.fake.transfers[obj["id"]]["amount"]
            total = min(int(obj["amount_reversed"]), amount)
            self.reversed[obj["id"]] = max(self.reversed.get(obj["id"], 0), total)
        elif kind == "account.updated":
            for provider in self.providers:
                if provider.account_id == obj["id"]:
                    provider.payouts = bool(obj["payouts_enabled"])

    def do_deliver(self, pick: int) -> None:
        if not self.inflight:
            self.note("no event in flight")
            return
        self.deliver(self.inflight.pop(pick % len(self.inflight)))

    def do_redeliver(self, pick: int) -> None:
        if not self.delivered:
            self.note("nothing delivered yet")
            return
        self.expect_unchanged()
        self.deliver(self.delivered[pick % len(self.delivered)], duplicate=True)

    def do_resend(self, pick: int) -> None:
        """Stripe sends the same object again in a new event."""
        if not self.delivered:
            self.note("nothing delivered yet")
            return
        assert self.fake is not None
        original = self.delivered[pick % len(self.delivered)]
        self.deliver(
            event(original["type"], original["data"]["object"], event_id=self.fake.new_id("evt"))
        )

    def do_chargeback(self, pick: int) -> None:
        assert self.fake is not None
        paid = [
            i
            for i in self.fake.intents.values()
            if i["state"] == "succeeded" and i["id"] not in self.fake.charged_back
        ]
        if not paid:
            self.note("no charge to dispute")
            return
        intent = paid[pick % len(paid)]
        self.fake.charged_back.add(intent["id"])
        self.fake.queue(
            "charge.dispute.created",
            {
                "id": self.fake.new_id("dp"),
                "object": "dispute",
                "charge": intent["charge"],
                "payment_intent": intent["id"],
                "amount": intent["amount"],
                "currency": intent["currency"],
                "reason": "fraudulent",
            },
        )
        self.note(f"the bank disputes {intent['charge']}")

    def do_reverse(self, pick: int, full: bool = True) -> None:
        assert self.fake is not None
        made = list(self.fake.transfers.items())
        if not made:
            self.note("no transfer to reverse")
            return
        transfer_id, transfer = made[pick % len(made)]
        total = transfer["amount"] if full else max(1, transfer["amount"] // 2)
        transfer["reversed"] = max(transfer["reversed"], total)
        self.fake.queue(
            "transfer.reversed",
            {
                "id": transfer_id,
                "object": "transfer",
                "amount": transfer["amount"],
                "amount_reversed": transfer["reversed"],
            },
        )
        self.note(f"{transfer_id} reversed to {transfer['reversed']}")

    def do_payouts(self, p: int, enabled: bool) -> None:
        provider = self.providers[p]
        if provider.account_id is None:
            self.note(f"{provider.label} has no payout account")
            return
        assert self.fake is not None
        self.fake.queue(
            "account.updated",
            {"id": provider.account_id, "object": "account", "payouts_enabled": enabled},
        )

    def do_refund_mode(self, pending: bool) -> None:
        assert self.fake is not None
        self.fake.refund_pending = pending

    def do_bad_webhook(self) -> None:
        """A forged signature (stripe runs) or any webhook at all (sandbox runs: 404)."""
        self.expect_unchanged()
        payload = event("account.updated", {"id": "acct_nobody", "payouts_enabled": True})
        body, headers = signed(payload, secret=WEBHOOK_SECRET if not self.stripe else "whsec_x")
        response = self.hooks.post(
            "/api/v1/webhooks/stripe", data=body, headers=headers, content_type="application/json"
        )
        expected = 400 if self.stripe else 404
        self.note(f"forged webhook -> {response.status_code}")
        if response.status_code != expected:
            self.fail("webhook:forged", f"a forged webhook answered {response.status_code}")

    # -- the end of a run -----------------------------------------------------------------

    def quiesce(self) -> None:
        """The gateway recovers, payout accounts work, every event arrives and the outbox
        is drained (an admin retries what failed for good): every transfer and refund
        must then be made."""
        self.notes, self.before = [], None
        self.faults.clear()
        if self.stripe:
            assert self.fake is not None
            for provider in self.providers:
                if provider.account_id is not None:
                    self.fake.queue(
                        "account.updated",
                        {"id": provider.account_id, "object": "account", "payouts_enabled": True},
                    )
        for _ in range(12):
            while self.inflight:
                self.deliver(self.inflight.pop(0))
            self.shift(7 * 3600)  # past the longest outbox backoff
            self.cli("deliver-outbox")
            listing = self.ok(
                self.call(self.admin, "GET", "admin/outbox?status=failed&page_size=100"),
                "outbox list",
                200,
            )
            for entry in listing["items"]:
                self.call(self.admin, "POST", f"admin/outbox/{entry['id']}/retry")
            self.check()
            waiting = db.session.scalar(
                sa.select(sa.func.count())
                .select_from(OUTBOX)
                .where(OUTBOX.c.status != "sent", OUTBOX.c.kind.like("payments.%"))
            )
            db.session.rollback()
            if not waiting and not self.inflight:
                break
        stuck = [
            f"transfer {r.id} {r.status}"
            for r in db.session.execute(sa.select(TRANSFERS))
            if r.status not in ("paid", "reversed")
        ] + [
            f"refund {r.id} {r.status}"
            for r in db.session.execute(sa.select(REFUNDS))
            if r.status != "succeeded"
        ]
        db.session.rollback()
        if stuck:
            self.fail("liveness", "money stuck after the gateway recovered: " + "; ".join(stuck))
        self.trace.append(f"{self.step}: {'; '.join(self.notes) or 'ok'}")

    # -- checks ---------------------------------------------------------------------------

    def expect_unchanged(self) -> None:
        if self.before is None:
            self.before = self.snapshot()

    def snapshot(self) -> tuple[Any, ...]:
        """What a refused request, a replay or a duplicate event must not change."""
        execute = db.session.execute

        def rows(table: sa.TableClause, *columns: str) -> list[tuple[Any, ...]]:
            selected = sa.select(*(table.c[c] for c in columns))
            return sorted(tuple(str(v) for v in row) for row in execute(selected))

        def count(table: sa.TableClause) -> int:
            return int(execute(sa.select(sa.func.count()).select_from(table)).scalar_one())

        parts = (
            ("milestones", rows(MILESTONES, "id", "status")),
            ("contracts", rows(CONTRACTS, "id", "status")),
            ("ledger transactions", count(TRANSACTIONS)),
            ("transfers", rows(TRANSFERS, "id", "status", "reversed_amount")),
            ("refunds", rows(REFUNDS, "id", "status", "gateway_id")),
            (
                "payments",
                sorted(
                    (str(r.id), r.status)
                    for r in execute(sa.select(PAYMENTS.c.id, PAYMENTS.c.status))
                    if r.status != "pending"  # a 5xx leaves its attempt pending
                ),
            ),
            ("disputes", rows(DISPUTES, "id", "status")),
            ("refund requests", rows(REFUND_REQUESTS, "id", "status")),
            ("notifications", count(NOTIFICATIONS)),
            ("outbox entries", count(OUTBOX)),
            ("webhook events", count(EVENTS)),
        )
        db.session.rollback()
        return parts

    def check(self) -> None:
        db.session.rollback()
        try:
            self._check()
        finally:
            db.session.rollback()

    def _check(self) -> None:
        execute = db.session.execute
        rows = {str(r.id): r for r in execute(sa.select(MILESTONES))}
        transfers = list(execute(sa.select(TRANSFERS)))
        refunds = list(execute(sa.select(REFUNDS)))
        payments = {str(r.id): r for r in execute(sa.select(PAYMENTS))}
        sums = list(
            execute(
                sa.select(ACCOUNTS.c.kind, ACCOUNTS.c.currency, sa.func.sum(ENTRIES.c.amount))
                .join(ENTRIES, ENTRIES.c.account_id == ACCOUNTS.c.id)
                .group_by(ACCOUNTS.c.kind, ACCOUNTS.c.currency)
            )
        )
        sizes = execute(
            sa.select(
                sa.select(sa.func.count()).select_from(ENTRIES).scalar_subquery(),
                sa.select(sa.func.count()).select_from(TRANSACTIONS).scalar_subquery(),
            )
        ).one()

        # ledger-check, whenever anything it reads may have changed since it last passed
        # (it is a function of the books, the milestones, the transfers and the refunds,
        # so a step that changed none of them would get the same answer).
        books = (
            tuple(sizes),
            frozenset(tuple(r) for r in sums),
            frozenset(tuple(r) for r in rows.values()),
            frozenset(tuple(r) for r in transfers),
            frozenset(tuple(r) for r in refunds),
        )
        if books != self.books:
            found = ledger_check.breaches()
            if found:
                self.fail("ledger-check", "ledger-check: " + "; ".join(found[:8]))
            self.books = books

        # Every milestone and contract is where the model expects it.
        for milestone in self.all_milestones():
            row = rows[milestone.id]
            if row.status != milestone.status:
                self.fail(
                    "model:milestone",
                    f"{milestone.label} is {row.status}, the model expects {milestone.status}",
                )
            if (row.released_amount, row.refunded_amount) != (
                milestone.released,
                milestone.refunded,
            ):
                self.fail(
                    "model:split",
                    f"{milestone.label} released {row.released_amount} and refunded "
                    f"{row.refunded_amount}; the model: {milestone.released}/{milestone.refunded}",
                )
            if (row.escrow_warned_at is not None) != milestone.warned:
                self.fail("model:warned", f"{milestone.label} escrow warning: {row}")
        statuses = {str(r.id): r.status for r in execute(sa.select(CONTRACTS))}
        for contract in self.contracts:
            if statuses[contract.id] != contract.status:
                self.fail(
                    "model:contract",
                    f"c{contract.index} is {statuses[contract.id]}, the model expects "
                    f"{contract.status}",
                )

        # Postings per milestone: funded once, out of escrow at most once, as its state says.
        posted: dict[str, Counter[str]] = defaultdict(Counter)
        for milestone_id, kind, number in execute(
            sa.select(TRANSACTIONS.c.milestone_id, TRANSACTIONS.c.kind, sa.func.count())
            .where(TRANSACTIONS.c.milestone_id.is_not(None))
            .group_by(TRANSACTIONS.c.milestone_id, TRANSACTIONS.c.kind)
        ):
            posted[str(milestone_id)][kind] = number
        transfers_of: dict[str, list[Any]] = defaultdict(list)
        for row in transfers:
            transfers_of[str(row.milestone_id)].append(row)
        refunds_of: dict[str, list[Any]] = defaultdict(list)
        for row in refunds:
            refunds_of[str(row.milestone_id)].append(row)
        unmatched: dict[str, list[int]] = defaultdict(list)
        for payment in self.payments.values():
            if payment.unmatched:
                unmatched[payment.milestone.id].append(payment.amount)
        for milestone in self.all_milestones():
            counts, label = posted[milestone.id], milestone.label
            exits = {kind: counts[kind] for kind in ("release", "resolution", "refund")}
            wanted = {kind: 0 for kind in exits}
            if milestone.status in EXIT_KIND:
                wanted[EXIT_KIND[milestone.status]] = 1
            funded = int(milestone.status not in (PENDING, CANCELLED))
            if counts["funding"] != funded or exits != wanted:
                self.fail(
                    "ledger:postings",
                    f"{label} ({milestone.status}) has postings {dict(counts)}: funding should "
                    f"be {funded}, out of escrow {wanted}",
                )
            if counts["unmatched_payment"] != milestone.unmatched:
                self.fail(
                    "ledger:unmatched",
                    f"{label}: {counts['unmatched_payment']} unmatched payments booked, "
                    f"{milestone.unmatched} arrived",
                )
            made = [t for t in transfers_of[milestone.id] if t.status in ("paid", "reversed")]
            settled = [r for r in refunds_of[milestone.id] if r.status == "succeeded"]
            if counts["payout"] != len(made) or counts["refund_payout"] != len(settled):
                self.fail(
                    "ledger:payouts",
                    f"{label}: {counts['payout']} payouts and {counts['refund_payout']} refund "
                    f"payouts booked for {len(made)} transfers and {len(settled)} refunds made",
                )
            # The transfer: the released amount less the fee, once.
            share = milestone.released - fee(milestone.released, milestone.contract.bps)
            amounts = sorted(t.amount for t in transfers_of[milestone.id])
            if amounts != ([share] if share else []):
                self.fail(
                    "transfers:amount",
                    f"{label} released {milestone.released} at {milestone.contract.bps} bps: "
                    f"transfers {amounts}, expected {[share] if share else []}",
                )
            for row in transfers_of[milestone.id]:
                back = self.reversed.get(row.gateway_id or "", 0)
                if row.reversed_amount != back or (row.status == "reversed") != (back > 0):
                    self.fail(
                        "transfers:reversal",
                        f"{label}: transfer {row.gateway_id} is {row.status}, reversed "
                        f"{row.reversed_amount}; Stripe reversed {back}",
                    )
                if (counts["reversal"] > 0) != (row.reversed_amount > 0):
                    self.fail("ledger:reversal", f"{label}: reversals {dict(counts)} for {row}")
            # Refunds: the refunded part of the milestone, and each payment it did not need.
            expected = sorted(
                ([milestone.refunded] if milestone.refunded else []) + unmatched[milestone.id]
            )
            if sorted(r.amount for r in refunds_of[milestone.id]) != expected:
                self.fail(
                    "refunds:amount",
                    f"{label}: refunds {sorted(r.amount for r in refunds_of[milestone.id])}, "
                    f"expected {expected}",
                )
        for row in refunds:
            payment = payments.get(str(row.payment_id))
            if payment is None or payment.status != "succeeded" or row.amount > payment.amount:
                self.fail("refunds:payment", f"refund {row} is not on a payment it can come from")

        # Revenue is exactly the fees; every currency's balances sum to zero.
        balances: dict[str, dict[str, int]] = defaultdict(dict)
        for kind, currency, total in sums:
            balances[currency][kind] = int(total)
        revenue: Counter[str] = Counter()
        for milestone in self.all_milestones():
            revenue[milestone.contract.currency] += fee(milestone.released, milestone.contract.bps)
        for currency in set(balances) | set(revenue):
            held = balances[currency]
            if sum(held.values()) != 0 or held.get("revenue", 0) != revenue[currency]:
                self.fail(
                    "ledger:revenue",
                    f"{currency}: balances {held}, the fees come to {revenue[currency]}",
                )

        # Every payment is one the gateway was asked for, in the state the model expects.
        for payment_id, row in payments.items():
            known = self.payments.get(payment_id)
            if known is None or known.status != row.status or known.amount != row.amount:
                self.fail(
                    "model:payment",
                    f"payment {payment_id} is {row.status} ({row.amount}); the model: "
                    f"{known and (known.status, known.amount)}",
                )

        # The gateway: each transfer and refund made once, and only those we booked.
        if self.gateway.repeated:
            self.fail("gateway:twice", f"gateway calls succeeded twice: {self.gateway.repeated}")
        calls = self.gateway.succeeded
        providers = {m.id: m.contract.provider.account_id for m in self.all_milestones()}
        booked: set[str] = set()
        for row in transfers:
            key = f"transfer-{row.id}"
            call = calls.get(key)
            if row.status in ("paid", "reversed"):
                booked.add(key)
                if call is None or call.amount != row.amount or call.result_id != row.gateway_id:
                    self.fail("gateway:transfer", f"transfer {row} made as {call}")
                if call.params["account_id"] != providers[str(row.milestone_id)]:
                    self.fail("gateway:destination", f"transfer {row} went to {call.params}")
            elif call is not None:
                self.fail("gateway:transfer", f"transfer {row} is not booked as made: {call}")
        for row in refunds:
            key = f"refund-{row.id}"
            call = calls.get(key)
            if row.gateway_id is not None:
                booked.add(key)
                intent = payments[str(row.payment_id)].gateway_id
                if (
                    call is None
                    or call.amount != row.amount
                    or call.result_id != row.gateway_id
                    or call.params["payment_id"] != intent
                ):
                    self.fail("gateway:refund", f"refund {row} made as {call}")
            elif call is not None:
                self.fail("gateway:refund", f"refund {row} is not booked as made: {call}")
        unbooked = sorted(set(calls) - booked)
        if unbooked:
            self.fail("gateway:unbooked", f"gateway calls with nothing booked: {unbooked}")
        if self.fake is not None and self.fake.violations:
            self.fail("gateway:stripe", "; ".join(self.fake.violations))

        # Every webhook event that was received has been processed.
        waiting = (
            execute(sa.select(EVENTS.c.event_id).where(EVENTS.c.status == "received"))
            .scalars()
            .all()
        )
        if waiting:
            self.fail("webhook:unprocessed", f"events received but not processed: {waiting}")

        # What had to change nothing changed nothing.
        if self.before is not None:
            after = self.snapshot()
            changed = [
                describe_change(name, was, now)
                for (name, was), (_, now) in zip(self.before, after, strict=True)
                if was != now
            ]
            if changed:
                self.fail(
                    "unchanged", "a refused or repeated request changed " + "; ".join(changed)
                )

    # -- choosing the next step -----------------------------------------------------------

    def fund_args(self, rng: random.Random) -> dict[str, Any]:
        if not self.stripe:
            return {"card": SAVED_CARD if rng.random() < 0.2 else None, "outcome": "succeed"}
        draw = rng.random()
        if draw < 0.15:
            return {"card": DECLINED_CARD, "outcome": "fail"}
        if draw < 0.4:
            return {"card": SAVED_CARD, "outcome": "early" if rng.random() < 0.2 else "succeed"}
        outcome = rng.choices(
            ("succeed", "fail", "fail_then_succeed", "early", "abandon"), (55, 10, 15, 10, 10)
        )[0]
        return {"card": None, "outcome": outcome}

    def split(self, rng: random.Random) -> float:
        draw = rng.random()
        return 0.0 if draw < 0.2 else 1.0 if draw < 0.4 else round(rng.random(), 4)

    def generate(self, rng: random.Random, index: int) -> Step:
        if rng.random() < 0.08:
            return self.generate_refused(rng, index)
        options: list[tuple[float, str, dict[str, Any]]] = []

        def add(weight: float, action: str, **args: Any) -> None:
            options.append((weight, action, args))

        live = [m for m in self.all_milestones() if m.status not in SETTLED]
        for milestone in live:
            contract, status = milestone.contract, milestone.status
            at = {"c": contract.index, "m": milestone.index}
            if status == PENDING and contract.status == "active" and contract.provider.payouts:
                waiting = any(
                    p.milestone is milestone and p.status == "pending"
                    for p in self.payments.values()
                )  # a payment on its way: paying again is rarer
                add(0.6 if waiting else 4, "fund", **at, who="client", **self.fund_args(rng))
            if status in (FUNDED, CHANGES) and contract.status == "active":
                add(4, "submit", **at, who="provider")
            if status == SUBMITTED:
                add(3, "approve", **at, who="client")
                add(1.2, "request_changes", **at, who="client")
            if status in (FUNDED, CHANGES):
                add(0.7, "refund_request", **at, who="client")
            if status == REFUND_REQUESTED:
                add(2, "approve_refund", **at, who="provider")
            if status in WAITING:
                add(0.5, "dispute", **at, who=rng.choice(("client", "provider")))
            if status == DISPUTED:
                add(2.5, "resolve", **at, who="admin", split=self.split(rng))
        for contract in self.contracts:
            open_work = any(m.status not in SETTLED for m in contract.milestones)
            if contract.status in LIVE_CONTRACT and open_work:
                add(0.25, "terminate", c=contract.index, who=rng.choice(("client", "provider")))
            if contract.status == "active" and open_work:
                add(0.2, "pause", c=contract.index, who="client")
            if contract.status == "paused":
                add(1.5, "resume", c=contract.index, who="client")
        add(4 if self.due_auto_release() else 0.4, "job", name="auto-release")
        add(4 if self.due_lapse() else 0.4, "job", name="lapse-refund-requests")
        add(2 if self.due_review() or self.due_warning() else 0.1, "job", name="escrow-age-guard")
        add(1.0, "job", name="deliver-outbox")
        add(0.1, "job", name="purge-idempotency-keys")
        add(0.05, "job", name="run-periodic")
        add(1.8, "clock", seconds=rng.choice((30, 90, 600, 3600, 4 * 3600, 13 * 3600)))
        add(1.0, "clock", seconds=rng.randint(1, 6) * 86_400 + rng.randrange(3600))
        add(0.4, "clock", seconds=rng.choice((7, 8, 14, 15)) * 86_400)
        if self.requests:
            recent = list(self.requests)[-12:]
            add(
                1.5,
                "replay",
                of=rng.choice(recent),
                variant="same" if rng.random() < 0.75 else "other",
            )
        if self.faults.active:
            add(1.2, "recover")
        else:
            ops = rng.choice(
                (
                    ["transfer"],
                    ["refund"],
                    ["transfer", "refund"],
                    ["payment"],
                    ["payment", "transfer", "refund"],
                )
            )
            count = None if "payment" in ops else rng.choice((None, 1, 2, 3, 9))
            kind = "permanent" if rng.random() < 0.2 else "retryable"
            add(0.6, "fault", ops=ops, how=kind, count=count)
        add(0.4, "admin_retry", pick=rng.randrange(1000))
        add(
            0.3,
            "read_ledger",
            c=rng.randrange(len(self.contracts)),
            who=rng.choice(("client", "provider", "admin", "outsider")),
        )
        for number, provider in enumerate(self.providers):
            if provider.account_id is None:
                add(0.5, "onboard", p=number)
        if self.stripe:
            assert self.fake is not None
            if self.inflight:
                add(min(6.0, 1.5 * len(self.inflight)), "deliver", pick=rng.randrange(1000))
            if self.delivered:
                add(0.5, "redeliver", pick=rng.randrange(1000))
                add(0.3, "resend", pick=rng.randrange(1000))
            if any(i["state"] == "succeeded" for i in self.fake.intents.values()):
                add(0.25, "chargeback", pick=rng.randrange(1000))
            if self.fake.transfers:
                add(0.25, "reverse", pick=rng.randrange(1000), full=rng.random() < 0.5)
            add(0.15, "payouts", p=rng.randrange(3), enabled=rng.random() < 0.6)
            add(0.15, "refund_mode", pending=rng.random() < 0.5)
        if len(self.contracts) < MAX_CONTRACTS:
            # The world grows as its work settles (later contracts have more milestones).
            args = self.contract_args(rng, parts=(3, 8))
            add(6 if len(live) < 4 else 0.05, "new_contract", **args)
        weights = [weight for weight, _, _ in options]
        _, kind, args = rng.choices(options, weights)[0]
        return Step(index, kind, args)

    def generate_refused(self, rng: random.Random, index: int) -> Step:
        """A step the model says must be refused (with a 4xx, changing nothing)."""
        milestone = rng.choice(list(self.all_milestones()))
        at = {"c": milestone.contract.index, "m": milestone.index}
        variant = rng.choice(("state", "state", "actor", "outsider", "keyless", "split", "other"))
        if variant == "split" and milestone.status == DISPUTED:
            return Step(index, "resolve", {**at, "who": "admin", "split": "bad"})
        if variant == "actor":
            kind = rng.choice(("fund", "submit", "approve", "request_changes", "refund_request"))
            wrong = "client" if "provider" in ACTIONS[kind].actors else "provider"
            return Step(index, kind, {**at, "who": wrong})
        if variant == "outsider":
            kind = rng.choice(sorted(ACTIONS))
            return Step(index, kind, {**at, "who": "outsider"})
        if variant == "keyless":
            kind = rng.choice(("fund", "approve", "approve_refund", "resolve"))
            who = sorted(ACTIONS[kind].actors)[0]
            return Step(index, kind, {**at, "who": who, "keyless": True})
        if variant == "other":
            contract = rng.choice(self.contracts)
            if rng.random() < 0.3:
                return Step(index, "bad_webhook", {})
            if contract.status not in LIVE_CONTRACT:
                return Step(index, "terminate", {"c": contract.index, "who": "client"})
            kind = "resume" if contract.status == "active" else "pause"
            return Step(index, kind, {"c": contract.index, "who": "client"})
        refused = [k for k, a in ACTIONS.items() if milestone.status not in a.sources]
        kind = rng.choice(refused or ["fund"])
        args: dict[str, Any] = {**at, "who": rng.choice(sorted(ACTIONS[kind].actors))}
        if kind == "fund":
            args.update(self.fund_args(rng))
        if kind == "resolve":
            args["split"] = self.split(rng)
        return Step(index, kind, args)


# --- running a seed, shrinking and reporting ---------------------------------------------


@dataclass
class Outcome:
    steps: int
    seconds: float
    failure: SimFailure | None = None
    executed: list[Step] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    timings: dict[str, tuple[int, float]] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)

    def profile(self) -> str:
        """Steps per kind and their mean time, the slowest kinds first."""
        ranked = sorted(self.timings.items(), key=lambda item: -item[1][1])
        return ", ".join(f"{k} {n}x{1000 * t / n:.0f}ms" for k, (n, t) in ranked)

    def summary(self) -> str:
        return ", ".join(f"{k}: {v}" for k, v in sorted(self.stats.items()))


def run(
    app: Flask,
    login: Callable[[Any], Any],
    seed: int,
    *,
    count: int = 0,
    script: list[Step] | None = None,
    expose_known_bugs: bool = False,
) -> Outcome:
    started, cpu = time.monotonic(), time.process_time()
    sim = Simulation(app, login, seed, expose_known_bugs=expose_known_bugs)
    failure: SimFailure | None = None
    try:
        sim.play(count=count, script=script)
    except SimFailure as failed:
        failure = failed
    timings = {kind: (sim.counts[kind], sim.timings[kind]) for kind in sim.counts}
    stats = dict(sim.stats)
    stats["gateway calls failed"] = sum(not c.ok for c in sim.gateway.calls)
    stats["simulated days"] = (sim.now - START).days
    stats["cpu ms"] = round(1000 * (time.process_time() - cpu))
    return Outcome(
        len(sim.executed),
        time.monotonic() - started,
        failure,
        sim.executed,
        sim.trace,
        timings,
        stats,
    )


def shrink(
    app: Flask,
    login: Callable[[Any], Any],
    seed: int,
    first: Outcome,
    *,
    budget: float,
    expose_known_bugs: bool = False,
) -> tuple[Outcome, int]:
    """Remove steps while the run still fails the same way (chunks of halving size, each
    candidate replayed on a fresh database), within `budget` seconds."""
    assert first.failure is not None
    signature = first.failure.signature
    deadline = time.monotonic() + budget
    best, replays = first, 0

    def cut(outcome: Outcome) -> list[Step]:
        failed = outcome.failure.step if outcome.failure else None
        if failed is None or failed.kind in ("setup", "quiesce"):
            return list(outcome.executed)
        return outcome.executed[: outcome.executed.index(failed) + 1]

    current = cut(first)
    chunk = max(1, len(current) // 2)
    while time.monotonic() < deadline:
        start, removed = 0, False
        while start < len(current) and time.monotonic() < deadline:
            candidate = current[:start] + current[start + chunk :]
            wipe_database()
            outcome = run(app, login, seed, script=candidate, expose_known_bugs=expose_known_bugs)
            replays += 1
            if outcome.failure is not None and outcome.failure.signature == signature:
                best, current, removed = outcome, cut(outcome), True
            else:
                start += chunk
        if chunk == 1 and not removed:
            break
        if not removed:
            chunk = max(1, chunk // 2)
    return best, replays


def report(seed: int, first: Outcome, best: Outcome, replays: int, spent: float) -> str:
    assert first.failure is not None and best.failure is not None
    failed = first.failure.step
    position = first.executed.index(failed) + 1 if failed in first.executed else first.steps
    mode = "stripe" if seed % 2 else "sandbox"
    minimal = [s.to_json() for s in best.executed]
    lines = [
        f"money simulation, seed {seed} ({mode}): step {failed} broke a promise "
        f"[{first.failure.signature}]",
        first.failure.message,
        "",
        f"Reproduce: SIM_SEED={seed} SIM_STEPS={position} "
        ".venv/bin/pytest -q -p no:cacheprovider tests/test_money_simulation.py",
        f"Shrunk to {len(best.executed)} of {position} steps ({replays} replays, {spent:.0f} s), "
        f"failing the same way: {best.failure.message.splitlines()[0]}",
        *("  " + line for line in best.trace),
        f"Replay exactly these: SIM_SEED={seed} SIM_REPLAY='{json.dumps(minimal)}' "
        ".venv/bin/pytest -q -p no:cacheprovider tests/test_money_simulation.py",
    ]
    return "\n".join(lines)


def steps_from_json(text: str) -> list[Step]:
    return [Step(int(index), str(kind), dict(args)) for index, kind, args in json.loads(text)]
