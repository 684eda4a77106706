"""Who may call what: every rule of the URL map, every method, as every kind of caller.

The rules come from `app.url_map` itself, so a new endpoint joins the matrix without
anyone writing its path here, and fails it until it has an entry in EXPECT (and its URL
variables one in VARIABLES). Each cell calls one endpoint on real objects of one world:

- a client company (owner and agent) with an open task and a draft; a provider firm
  (owner and agent) that accepted the terms, bid, and holds an active contract from that
  bid with a funded milestone, a disputed one and a pending one; messages in the bid's and
  the contract's threads, a work report the firm filed and a change the client announced,
  notifications, an amendment the client proposed, an API token of
  the company's owner, an invitation to join the firm, a report, a failed outbox entry
  and a workflow the company audits.

The callers: nobody signed in, a foreign client and a foreign provider (accounts with no
part in the world), an agent of the firm, an agent of the company, and an admin. The
owners, who sign for the parties, are covered by each area's own tests.

What each cell expects is docs/design.md's "API conventions" (and, where it is silent on what
an organization's agent may do, the README: any member of a firm bids, edits and withdraws
its bids, submits work and talks; any member of a company posts and manages its tasks,
shortlists and declines bids and talks; only owners and managers commit either to terms
or money), not what the code does today:

- 401: nobody signed in, on everything but the public endpoints;
- 404: the caller may not see that side of the object: another's draft, bid, contract,
  milestone, thread, amendment, token, notification or invitation, an organization they
  are not in, a task's client side (its editing, bids, matches, access log,
  invitations) for anyone outside the company, and a client's workflow audit for anyone
  outside it, admins too. Never a 403, which would confirm it exists;
- 403: the caller sees it, but may not act: an agent committing the firm or company, an
  admin acting for a party (admins see every side but personal inboxes and a client's
  workflow audit), anyone but an admin on /admin, a provider bidding before accepting the
  terms; and an account of the wrong kind (a client bidding, a provider posting),
  whatever the object, as that refusal says nothing about it;
- OK: the request passes authorization: any answer but 401, 403, 404 (2xx, 409, 422
  all count) and never a 5xx.

Cells where the code deviates from docs/design.md are in DEFECTS: they run as strict xfails,
so they turn into failures (to be removed from DEFECTS) once the code is fixed.

A refused request (401, 403, 404) writes nothing at all, and no request by a foreign
caller moves money: both are checked on the database after every cell. The requests carry
valid bodies; what a foreign caller learns from an invalid one is checked apart.

The world is built through the services once per session; each cell writes its rows back
(the suite empties the database after every test), so no cell sees another's writes.
"""

from __future__ import annotations

import io
import itertools
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace import create_app
from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.config import TestingConfig
from marketplace.contracts.inputs import AmendmentChanges, AwardTerms, SlaTargets
from marketplace.database import clock_at, utcnow
from marketplace.extensions import db
from marketplace.files import services as files
from marketplace.files.models import FilePurpose
from marketplace.flows import amendments
from marketplace.flows import contracts as contract_flows
from marketplace.hourly import entries as hourly_entries
from marketplace.hourly import invoices as hourly_invoices
from marketplace.hourly.inputs import NewEntry
from marketplace.inputs import Money
from marketplace.jobs import outbox
from marketplace.jobs.models import OutboxEntry, OutboxStatus
from marketplace.messaging import services as messaging
from marketplace.moderation import services as moderation
from marketplace.notifications.models import Notification
from marketplace.organizations import services as organizations
from marketplace.organizations.models import MemberRole, OrganizationKind
from marketplace.payments import disputes, funding, payouts
from marketplace.profiles.models import ServiceModel
from marketplace.record import changes as record_changes
from marketplace.record import reports as record_reports
from marketplace.tasks import confidentiality, lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks import terms as task_terms
from marketplace.tasks.inputs import Budget
from marketplace.tasks.models import BudgetType, Confidentiality
from marketplace.workflows import services as workflows
from marketplace.workflows.inputs import AnswerChanges, WorkflowDraft
from marketplace.workflows.models import Level, TimeNeed
from tests.conftest import KEEP_TABLES, Api
from tests.factories import (
    PASSWORD,
    AdminFactory,
    ClientFactory,
    ClientProfileFactory,
    MembershipFactory,
    OrganizationFactory,
    ProviderFactory,
    ProviderProfileFactory,
    UserFactory,
    task_draft,
    task_payload,
    terms_acceptance,
)
from tests.money import usd

IDENTITIES = (
    "anonymous",
    "foreign_client",
    "foreign_provider",
    "firm_agent",
    "client_agent",
    "admin",
)
V1 = "/api/v1"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

#: Rules left out of the matrix, each with the reason.
SKIPPED = {
    "/static/<path:filename>": "Flask's static files, no data",
    "/api/docs": "the Swagger UI page (public documentation)",
    "/api/docs/assets/<path:filename>": "the Swagger UI's files (public documentation)",
    "/api/v1/openapi.json": "the OpenAPI spec (public documentation, tests/test_openapi.py)",
    "/healthz": "the load balancer's health check (public, no data)",
    "/api/v1/webhooks/stripe": "authenticates Stripe by signature, not a user (test_stripe.py)",
}
#: The console's HTML pages (every rule under it): admins only, in a browser session;
#: tests/test_console_browser.py refuses a non-admin on every one of them.
CONSOLE = "/admin"

#: URL variable -> the objects of the world it takes (one case per object).
VARIABLES: dict[str, tuple[str, ...]] = {
    "task_id": ("task", "draft_task"),
    "bid_id": ("bid",),
    "contract_id": ("contract",),
    "milestone_id": ("milestone",),
    "amendment_id": ("amendment",),
    "dispute_id": ("dispute",),
    "notification_id": ("notification",),
    "token_id": ("token",),
    "organization_id": ("firm",),
    "invitation_id": ("invitation",),
    "user_id": ("firm_owner",),
    "profile_id": ("firm_profile",),
    "entry_id": ("outbox_entry",),
    "file_id": ("message_file", "task_file"),
    "report_id": ("work_report",),
    "moderation_report_id": ("report",),
    "change_id": ("change",),
    "time_entry_id": ("time_entry",),
    "invoice_id": ("invoice",),
    "workflow_id": ("workflow",),
}


# The world ------------------------------------------------------------------------------


@dataclass
class World:
    """Ids of the world's objects, and a bearer token per signed-in caller."""

    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)


def _bid_body() -> dict[str, Any]:
    """A fixed-price bid of three milestones, within the task's budget."""
    return {
        "price": {"amount": 60_000, "currency": "usd"},
        "milestones": [
            {"title": "Set-up", "amount": usd(20_000)},
            {"title": "Month one", "amount": usd(20_000)},
            {"title": "Month two", "amount": usd(20_000)},
        ],
        "timeline_days": 60,
        "cover_letter": "We run support queues like this one every day.",
    }


def _member(organization: Any, role: MemberRole, user_role: Role) -> Any:
    return MembershipFactory(organization=organization, role=role, user=UserFactory(role=user_role))


@dataclass
class Hourly:
    entry_id: uuid.UUID
    invoice_id: uuid.UUID


def _hourly_contract(client_owner: Any, firm_owner: Any) -> Hourly:
    """An hourly contract of the company and the firm, running for two weeks: its first
    week invoiced, and an entry of this week the firm's owner logged."""
    task = tasks.create_task(
        user=client_owner,
        draft=task_draft(
            budget=Budget(BudgetType.HOURLY, 1_000, 5_000, "usd"),
            confidentiality=Confidentiality.PUBLIC,
            title="Tier-one tickets by the hour",
        ),
    )
    lifecycle.publish_task(user=client_owner, task_id=task.id, confirm_strategic=False)
    began = utcnow() - timedelta(days=14)
    with clock_at(began):
        bid = bids.place_bid(
            user=firm_owner,
            task_id=task.id,
            proposal=BidProposal(
                price=Money(3_000, "usd"), timeline_days=60, cover_letter="By the hour."
            ),
        )
        contract = contract_flows.award(
            user=client_owner, bid_id=bid.id, terms=AwardTerms(weekly_limit_hours=20)
        )
        contract_flows.accept_offer(user=firm_owner, contract_id=contract.id)
    with clock_at(began + timedelta(minutes=30)):
        past = hourly_entries.log(
            user=firm_owner,
            contract_id=contract.id,
            entry=NewEntry(
                start=began + timedelta(minutes=10),
                end=began + timedelta(minutes=11),
                memo="The first tickets.",
            ),
        )
    invoice = hourly_invoices.issue(contract.id, past.week)
    assert invoice is not None
    db.session.commit()
    now = utcnow()
    entry = hourly_entries.log(
        user=firm_owner,
        contract_id=contract.id,
        entry=NewEntry(
            start=now - timedelta(minutes=31), end=now - timedelta(minutes=30), memo="Tickets."
        ),
    )
    return Hourly(entry_id=entry.id, invoice_id=invoice.id)


def build_world() -> World:
    """Build the world through the services, as the flows of the app would."""
    company = OrganizationFactory(kind=OrganizationKind.CLIENT, name="Acme Stores")
    ClientProfileFactory(
        organization=company,
        user=None,
        company_name=company.name,
        country="US",
        timezone="America/New_York",
    )
    client_owner = _member(company, MemberRole.OWNER, Role.CLIENT).user
    client_agent = _member(company, MemberRole.AGENT, Role.CLIENT).user
    firm = OrganizationFactory(kind=OrganizationKind.PROVIDER, name="Manila Bay Support")
    firm_profile = ProviderProfileFactory(
        organization=firm,
        user=None,
        service_model=ServiceModel.BPO,
        country="PH",
        timezone="Asia/Manila",
    )
    firm_owner = _member(firm, MemberRole.OWNER, Role.PROVIDER).user
    firm_agent = _member(firm, MemberRole.AGENT, Role.PROVIDER).user
    foreign_client, foreign_provider, admin = ClientFactory(), ProviderFactory(), AdminFactory()

    budget = Budget(BudgetType.FIXED, 10_000, 100_000, "usd")
    task_file = files.upload(
        user=client_owner,
        purpose=FilePurpose.TASK,
        stream=io.BytesIO(b"%PDF-1.4 the macros"),
        filename="macros.pdf",
    )
    task = tasks.create_task(
        user=client_owner,
        draft=task_draft(budget=budget, confidential_files=(task_file.id,)),
    )
    lifecycle.publish_task(user=client_owner, task_id=task.id, confirm_strategic=False)
    draft = tasks.create_task(
        user=client_owner, draft=task_draft(budget=budget, title="Bookkeeping catch-up")
    )
    confidentiality.accept_terms(
        user=firm_owner,
        task_id=task.id,
        terms_hash=task_terms.terms_hash(),
        ip_address=None,
        user_agent=None,
    )
    confidentiality.read_confidential(
        reader=confidentiality.Reader(user=firm_owner, via="world"), task_id=task.id
    )
    bid = bids.place_bid(
        user=firm_owner,
        task_id=task.id,
        proposal=BidProposal(
            price=Money(60_000, "usd"),
            milestones=tuple(
                MilestoneProposal(title=title, amount=20_000)
                for title in ("Set-up", "Month one", "Month two")
            ),
            timeline_days=60,
            cover_letter="We run support queues like this one every day.",
        ),
    )
    thread = messaging.bid_conversation(user=client_owner, bid_id=bid.id)
    messaging.post_message(thread, user=client_owner, body="Can you start on Monday?")
    contract = contract_flows.award(user=client_owner, bid_id=bid.id, terms=AwardTerms())
    contract_flows.accept_offer(user=firm_owner, contract_id=contract.id)
    payouts.start_onboarding(user=firm_owner)
    funded, disputed, _pending = (m.id for m in contract.milestones)
    funding.fund(user=client_owner, milestone_id=funded)
    funding.fund(user=client_owner, milestone_id=disputed)
    dispute = disputes.open_dispute(
        user=client_owner, milestone_id=disputed, reason="The set-up is not what we agreed."
    )
    message_file = files.upload(
        user=firm_owner,
        purpose=FilePurpose.MESSAGE,
        stream=io.BytesIO(b"The first tickets, answered.\n"),
        filename="tickets.txt",
    )
    thread = messaging.contract_conversation(user=firm_owner, contract_id=contract.id)
    messaging.post_message(
        thread, user=firm_owner, body="The first tickets are answered.", files=[message_file.id]
    )

    today = utcnow().astimezone(ZoneInfo("America/New_York")).date()
    report = record_reports.file_report(
        user=firm_owner,
        contract_id=contract.id,
        figures=record_reports.ReportFigures(
            period_start=today, period_end=today, items_received=10, items_completed=9
        ),
    )
    change = record_changes.announce(
        user=client_owner,
        contract_id=contract.id,
        title="New refund policy",
        description="Refunds up to $50 need no approval.",
        to_adopt="Refund up to $50 without escalating.",
    )

    hourly = _hourly_contract(client_owner, firm_owner)
    workflow = workflows.create_workflow(
        user=client_owner,
        draft=WorkflowDraft(
            name="Tier-one support tickets",
            hours_per_week=Decimal(30),
            in_house_rate=Money(4_500, "usd"),
            skills=("customer-support-tier1",),
            answers=AnswerChanges(
                repeatable=Level.HIGH,
                error_risk=Level.LOW,
                proprietary_data=True,
                brand_central=False,
                has_sop=True,
                time_need=TimeNeed.OVERLAP,
                rule_based=False,
            ),
        ),
    )

    amendment = amendments.propose(
        user=client_owner,
        contract_id=contract.id,
        changes=AmendmentChanges(sla=SlaTargets(turnaround_hours=12)),
        note="",
    )
    token, _ = accounts.create_token(user=client_owner, name="Zapier")
    invitation, _ = organizations.invite_member(
        actor=firm_owner, organization_id=firm.id, email="new.hire@example.com", role="agent"
    )
    user_report = moderation.report(
        reporter=firm_owner, target_type="user", target_id=foreign_provider.id, reason="Spam."
    )
    notification = db.session.scalar(
        sa.select(Notification.id).where(Notification.user_id == client_owner.id).limit(1)
    )
    outbox.deliver_due()  # the world's side effects are done; the cells' own are theirs
    entry = db.session.scalar(sa.select(OutboxEntry).limit(1))
    entry.status = OutboxStatus.FAILED  # what an admin retries
    db.session.commit()

    callers = {
        "foreign_client": foreign_client,
        "foreign_provider": foreign_provider,
        "firm_agent": firm_agent,
        "client_agent": client_agent,
        "admin": admin,
    }
    return World(
        ids={
            "task": task.id,
            "draft_task": draft.id,
            "bid": bid.id,
            "contract": contract.id,
            "milestone": funded,
            "amendment": amendment.id,
            "dispute": dispute.id,
            "notification": notification,
            "token": token.id,
            "firm": firm.id,
            "invitation": invitation.id,
            "firm_owner": firm_owner.id,
            "firm_profile": firm_profile.id,
            "outbox_entry": entry.id,
            "message_file": message_file.id,
            "task_file": task_file.id,
            "work_report": report.id,
            "report": user_report.id,
            "change": change.id,
            "time_entry": hourly.entry_id,
            "invoice": hourly.invoice_id,
            "workflow": workflow.id,
        },
        tokens={
            name: accounts.create_token(user=user, name="matrix")[1]
            for name, user in callers.items()
        },
        emails={name: user.email for name, user in callers.items()},
    )


def _tables() -> list[sa.Table]:
    return [t for t in db.metadata.sorted_tables if t.name not in KEEP_TABLES]


def dump_rows(tables: list[sa.Table] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every row of the tables the suite empties, by table, in a stable order."""
    db.session.commit()
    with db.engine.connect() as conn:
        return {
            table.name: [
                dict(row)
                for row in conn.execute(
                    sa.select(table).order_by(*table.primary_key.columns)
                ).mappings()
            ]
            for table in tables or _tables()
        }


@pytest.fixture(scope="session")
def world_cache() -> dict[str, Any]:
    """The world's ids and rows, built once for the session."""
    return {}


@pytest.fixture
def world(world_cache: dict[str, Any]) -> World:
    """The world in the database: built through the services the first time, then written
    back row by row (the suite empties the database after every test)."""
    if not world_cache:
        world_cache["world"] = build_world()
        world_cache["rows"] = dump_rows()
    else:
        rows = dict(world_cache["rows"])
        # Tokens record their use at most once a minute: restored as used just now, the
        # callers' reads write nothing.
        rows["api_tokens"] = [{**row, "last_used_at": utcnow()} for row in rows["api_tokens"]]
        db.session.commit()
        with db.engine.begin() as conn:
            for table in _tables():
                if rows[table.name]:
                    conn.execute(table.insert(), rows[table.name])
    return world_cache["world"]


# The cells ------------------------------------------------------------------------------

VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def app_rules() -> list[tuple[str, str]]:
    """(method, rule) for every rule of a freshly built app but the skipped ones."""
    config = type("MatrixConfig", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return rules_of(create_app(config))


def rules_of(app: Flask) -> list[tuple[str, str]]:
    """(method, rule) for every rule of `app` but the skipped ones, HEAD and OPTIONS."""
    return sorted(
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule not in SKIPPED and not rule.rule.startswith(CONSOLE)
        for method in rule.methods - IGNORED_METHODS
    )


@dataclass(frozen=True)
class Cell:
    """One endpoint, its URL variables bound to objects of the world, and one caller."""

    method: str
    rule: str
    objects: tuple[tuple[str, str], ...]  # (variable, world object), in path order
    unknown: tuple[str, ...]  # variables that VARIABLES cannot fill
    identity: str

    @property
    def label(self) -> str:
        """Which objects, where a variable takes several (else empty)."""
        return "/".join(obj for var, obj in self.objects if len(VARIABLES[var]) > 1)

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.method, self.rule, self.label, self.identity)

    def path(self, world: World, *, ids: dict[str, uuid.UUID] | None = None) -> str:
        """The URL, each variable the id of its object (or of `ids`)."""
        values = {var: world.ids[obj] for var, obj in self.objects} | (ids or {})
        return VARIABLE.sub(lambda m: str(values[m.group(1)]), self.rule)


def cells_of(rules: list[tuple[str, str]]) -> Iterator[Cell]:
    """Every (rule, method), once per combination of its variables' objects, per caller."""
    for method, rule in rules:
        names = VARIABLE.findall(rule)
        unknown = tuple(name for name in names if name not in VARIABLES)
        known = [name for name in names if name in VARIABLES]
        for choice in itertools.product(*(VARIABLES[name] for name in known)):
            objects = tuple(zip(known, choice, strict=True))
            for identity in IDENTITIES:
                yield Cell(method, rule, objects, unknown, identity)


def cell_id(cell: Cell) -> str:
    """`POST /tasks/{task_id}/bids [draft_task] foreign_client`"""
    short = VARIABLE.sub(lambda m: "{" + m.group(1) + "}", cell.rule.removeprefix(V1))
    label = f"[{cell.label}]" if cell.label else ""
    return " ".join(part for part in (cell.method, short, label, cell.identity) if part)


# What docs/design.md promises ----------------------------------------------------------------

OK = "ok"  # passes authorization: anything but 401, 403, 404 (and never a 5xx)
Row = tuple[int | str, int | str, int | str, int | str, int | str, int | str]

# fmt: off
#                        anonymous foreign  foreign  firm    client  admin
#                                  client   provider agent   agent
PUBLIC: Row            = (OK,      OK,      OK,      OK,     OK,     OK)
SIGNED_IN: Row         = (401,     OK,      OK,      OK,     OK,     OK)
ADMINS: Row            = (401,     403,     403,     403,    403,    OK)
# Someone else's own things: a token, a notification, an invitation to another address.
NOBODY_ELSE: Row       = (401,     404,     404,     404,    404,    404)
# Accounts of a kind (the refusal is about the account, whatever the object).
CLIENTS: Row           = (401,     OK,      403,     403,    OK,     403)
PROVIDERS: Row         = (401,     403,     OK,      OK,     403,    403)
CLIENT_EDITORS: Row    = (401,     OK,      403,     403,    403,    403)
PROVIDER_EDITORS: Row  = (401,     403,     OK,      403,    403,    403)
CLIENTS_PROVIDERS: Row = (401,     OK,      OK,      OK,     OK,     403)
# The task's client (the company's people) and admins see its private side.
TASK_CLIENT_READS: Row = (401,     404,     404,     404,    OK,     OK)
TASK_CLIENT_ACTS: Row  = (401,     404,     404,     404,    OK,     403)
# The parties to a bid or contract (any member of the firm or company) and admins; one
# side acts, the other sees.
PARTIES_READ: Row      = (401,     404,     404,     OK,     OK,     OK)
PARTIES_TALK: Row      = (401,     404,     404,     OK,     OK,     403)
PROVIDER_SIDE: Row     = (401,     404,     404,     OK,     403,    403)
CLIENT_SIDE: Row       = (401,     404,     404,     403,    OK,     403)
# Committing a party to terms or money: its owner or managers only.
SIGNERS: Row           = (401,     404,     404,     403,    403,    403)
# The firm (organization_id): its members read it, its owner manages it.
FIRM_READS: Row        = (401,     404,     404,     OK,     404,    OK)
FIRM_OWNER: Row        = (401,     404,     404,     403,    404,    403)
# A client's private papers (its workflow audit): its people only, admins included out.
CLIENT_PRIVATE: Row    = (401,     404,     404,     404,    OK,     404)
# fmt: on

#: (method, rule) -> what each caller gets, or per object where a variable takes several.
EXPECT: dict[tuple[str, str], Row | dict[str, Row]] = {
    # accounts
    ("POST", V1 + "/auth/signup"): PUBLIC,
    ("POST", V1 + "/auth/login"): PUBLIC,
    ("POST", V1 + "/auth/logout"): PUBLIC,
    ("POST", V1 + "/auth/verify-email"): PUBLIC,
    ("POST", V1 + "/auth/verify-email/resend"): SIGNED_IN,
    ("POST", V1 + "/auth/password-reset"): PUBLIC,
    ("POST", V1 + "/auth/password-reset/confirm"): PUBLIC,
    ("POST", V1 + "/auth/password"): SIGNED_IN,
    ("GET", V1 + "/auth/csrf"): PUBLIC,
    ("GET", V1 + "/auth/me"): SIGNED_IN,
    ("PATCH", V1 + "/auth/me"): SIGNED_IN,
    ("GET", V1 + "/auth/tokens"): SIGNED_IN,
    ("POST", V1 + "/auth/tokens"): SIGNED_IN,
    ("DELETE", V1 + "/auth/tokens/<uuid:token_id>"): NOBODY_ELSE,
    # one's own two-factor sign-in (the admins of the world use it: setup is a 409)
    ("POST", V1 + "/auth/2fa/setup"): SIGNED_IN,
    ("POST", V1 + "/auth/2fa/enable"): SIGNED_IN,
    ("POST", V1 + "/auth/2fa/disable"): SIGNED_IN,
    ("GET", V1 + "/notifications"): SIGNED_IN,
    ("GET", V1 + "/notifications/unread-count"): SIGNED_IN,
    ("POST", V1 + "/notifications/read"): SIGNED_IN,
    ("POST", V1 + "/notifications/<uuid:notification_id>/read"): NOBODY_ELSE,
    # people
    ("GET", V1 + "/skills"): PUBLIC,
    ("GET", V1 + "/providers/<uuid:profile_id>"): PUBLIC,
    # the measured record (issue 17)
    ("GET", V1 + "/providers/<uuid:profile_id>/record"): PUBLIC,
    ("GET", V1 + "/providers/me"): PROVIDERS,
    ("PUT", V1 + "/providers/me"): PROVIDER_EDITORS,
    ("GET", V1 + "/clients/me"): CLIENTS,
    ("PUT", V1 + "/clients/me"): CLIENT_EDITORS,
    ("POST", V1 + "/organizations"): CLIENTS_PROVIDERS,
    ("GET", V1 + "/organizations/<uuid:organization_id>"): FIRM_READS,
    ("POST", V1 + "/organizations/<uuid:organization_id>/members"): FIRM_OWNER,
    ("DELETE", V1 + "/organizations/<uuid:organization_id>/members/<uuid:user_id>"): FIRM_OWNER,
    (
        "DELETE",
        V1 + "/organizations/<uuid:organization_id>/invitations/<uuid:invitation_id>",
    ): FIRM_OWNER,
    ("GET", V1 + "/organizations/invitations"): SIGNED_IN,
    ("POST", V1 + "/organizations/invitations/<uuid:invitation_id>/accept"): NOBODY_ELSE,
    ("POST", V1 + "/organizations/invitations/<uuid:invitation_id>/decline"): NOBODY_ELSE,
    ("POST", V1 + "/reports"): SIGNED_IN,
    # tasks
    ("GET", V1 + "/tasks"): SIGNED_IN,
    ("POST", V1 + "/tasks"): CLIENTS,
    ("GET", V1 + "/tasks/<uuid:task_id>"): {"task": SIGNED_IN, "draft_task": TASK_CLIENT_READS},
    ("PATCH", V1 + "/tasks/<uuid:task_id>"): TASK_CLIENT_ACTS,
    ("DELETE", V1 + "/tasks/<uuid:task_id>"): TASK_CLIENT_ACTS,
    ("POST", V1 + "/tasks/<uuid:task_id>/publish"): TASK_CLIENT_ACTS,
    ("POST", V1 + "/tasks/<uuid:task_id>/cancel"): TASK_CLIENT_ACTS,
    ("POST", V1 + "/tasks/<uuid:task_id>/revise"): TASK_CLIENT_ACTS,
    ("POST", V1 + "/tasks/<uuid:task_id>/confidentiality"): {
        "task": (401, 403, OK, OK, 403, 403),
        "draft_task": (401, 403, 404, 404, 403, 403),
    },
    ("GET", V1 + "/tasks/<uuid:task_id>/confidential"): {
        "task": (401, 404, 404, OK, OK, OK),  # the firm accepted the terms; the other did not
        "draft_task": TASK_CLIENT_READS,
    },
    ("GET", V1 + "/tasks/<uuid:task_id>/confidential/access-log"): TASK_CLIENT_READS,
    # matching
    ("GET", V1 + "/tasks/<uuid:task_id>/matches"): TASK_CLIENT_READS,
    ("POST", V1 + "/tasks/<uuid:task_id>/coverage-plan"): TASK_CLIENT_READS,
    ("POST", V1 + "/tasks/<uuid:task_id>/invitations"): TASK_CLIENT_ACTS,
    ("GET", V1 + "/tasks/<uuid:task_id>/invitations"): TASK_CLIENT_READS,
    ("GET", V1 + "/providers/me/recommended-tasks"): PROVIDERS,
    ("GET", V1 + "/providers/me/invitations"): PROVIDERS,
    # bids
    ("POST", V1 + "/tasks/<uuid:task_id>/bids"): {
        "task": (401, 403, 403, OK, 403, 403),  # the other provider did not accept the terms
        "draft_task": (401, 403, 404, 404, 403, 403),
    },
    ("GET", V1 + "/tasks/<uuid:task_id>/bids"): {
        "task": (401, 404, OK, OK, OK, OK),  # a provider sees its own bids only
        "draft_task": TASK_CLIENT_READS,
    },
    ("GET", V1 + "/bids"): SIGNED_IN,  # a provider's own; others get an empty list
    ("GET", V1 + "/bids/<uuid:bid_id>"): PARTIES_READ,
    ("PATCH", V1 + "/bids/<uuid:bid_id>"): PROVIDER_SIDE,
    ("POST", V1 + "/bids/<uuid:bid_id>/withdraw"): PROVIDER_SIDE,
    ("POST", V1 + "/bids/<uuid:bid_id>/shortlist"): CLIENT_SIDE,
    ("POST", V1 + "/bids/<uuid:bid_id>/decline"): CLIENT_SIDE,
    ("POST", V1 + "/bids/<uuid:bid_id>/accept"): SIGNERS,
    ("GET", V1 + "/bids/<uuid:bid_id>/messages"): PARTIES_READ,
    ("POST", V1 + "/bids/<uuid:bid_id>/messages"): PARTIES_TALK,
    # contracts
    ("GET", V1 + "/contracts"): SIGNED_IN,
    ("GET", V1 + "/contracts/<uuid:contract_id>"): PARTIES_READ,
    ("GET", V1 + "/contracts/<uuid:contract_id>/terms"): PARTIES_READ,
    ("GET", V1 + "/contracts/<uuid:contract_id>/kpis"): PARTIES_READ,
    ("POST", V1 + "/contracts/<uuid:contract_id>/accept"): SIGNERS,
    ("POST", V1 + "/contracts/<uuid:contract_id>/decline"): SIGNERS,
    ("POST", V1 + "/contracts/<uuid:contract_id>/pause"): SIGNERS,
    ("POST", V1 + "/contracts/<uuid:contract_id>/resume"): SIGNERS,
    ("POST", V1 + "/contracts/<uuid:contract_id>/terminate"): SIGNERS,
    ("POST", V1 + "/contracts/<uuid:contract_id>/extend"): SIGNERS,
    ("GET", V1 + "/contracts/<uuid:contract_id>/amendments"): PARTIES_READ,
    ("POST", V1 + "/contracts/<uuid:contract_id>/amendments"): SIGNERS,
    ("POST", V1 + "/amendments/<uuid:amendment_id>/accept"): SIGNERS,
    ("POST", V1 + "/amendments/<uuid:amendment_id>/decline"): SIGNERS,
    ("POST", V1 + "/amendments/<uuid:amendment_id>/withdraw"): SIGNERS,
    ("GET", V1 + "/contracts/<uuid:contract_id>/messages"): PARTIES_READ,
    # reviews: the parties' signers review (the world's contract is active: a 409 for
    # them); its parties and admins read; a provider's published reviews are public
    ("POST", V1 + "/contracts/<uuid:contract_id>/reviews"): SIGNERS,
    ("GET", V1 + "/contracts/<uuid:contract_id>/reviews"): PARTIES_READ,
    ("GET", V1 + "/providers/<uuid:profile_id>/reviews"): PUBLIC,
    # the measured record
    ("GET", V1 + "/contracts/<uuid:contract_id>/sla-events"): PARTIES_READ,
    # files: anyone signed in uploads; a file is read by whoever may see what it is
    # attached to (a task's: as its confidential details, which the firm accepted)
    ("POST", V1 + "/files"): SIGNED_IN,
    ("GET", V1 + "/files/<uuid:file_id>"): PARTIES_READ,
    ("GET", V1 + "/files/<uuid:file_id>/download"): PARTIES_READ,
    ("GET", V1 + "/conversations"): SIGNED_IN,  # one's own threads; admins: an empty list
    ("POST", V1 + "/contracts/<uuid:contract_id>/messages"): PARTIES_TALK,
    # money
    ("GET", V1 + "/milestones"): SIGNED_IN,  # one's own contracts'; admins: an empty list
    ("GET", V1 + "/milestones/<uuid:milestone_id>"): PARTIES_READ,
    ("POST", V1 + "/milestones/<uuid:milestone_id>/fund"): SIGNERS,
    ("POST", V1 + "/milestones/<uuid:milestone_id>/submit"): PROVIDER_SIDE,
    ("POST", V1 + "/milestones/<uuid:milestone_id>/approve"): SIGNERS,
    ("POST", V1 + "/milestones/<uuid:milestone_id>/request-changes"): SIGNERS,
    ("POST", V1 + "/milestones/<uuid:milestone_id>/refund-request"): SIGNERS,
    ("POST", V1 + "/milestones/<uuid:milestone_id>/refund-request/approve"): SIGNERS,
    ("POST", V1 + "/milestones/<uuid:milestone_id>/dispute"): SIGNERS,
    # a dispute: any member of either side reads it and adds evidence (no money moves);
    # admins read it, settle it (admin, below), and take no side
    ("GET", V1 + "/disputes/<uuid:dispute_id>"): PARTIES_READ,
    ("POST", V1 + "/disputes/<uuid:dispute_id>/evidence"): PARTIES_TALK,
    ("GET", V1 + "/contracts/<uuid:contract_id>/ledger"): PARTIES_READ,
    # the measured record: work reports (the provider files, the client's signers answer)
    # and changes (the client announces, the provider adopts)
    ("GET", V1 + "/contracts/<uuid:contract_id>/work-reports"): PARTIES_READ,
    ("POST", V1 + "/contracts/<uuid:contract_id>/work-reports"): PROVIDER_SIDE,
    ("POST", V1 + "/work-reports/<uuid:report_id>/confirm"): SIGNERS,
    ("POST", V1 + "/work-reports/<uuid:report_id>/contest"): SIGNERS,
    ("GET", V1 + "/contracts/<uuid:contract_id>/changes"): PARTIES_READ,
    ("POST", V1 + "/contracts/<uuid:contract_id>/changes"): CLIENT_SIDE,
    ("POST", V1 + "/changes/<uuid:change_id>/acknowledge"): PROVIDER_SIDE,
    ("POST", V1 + "/changes/<uuid:change_id>/adopted"): PROVIDER_SIDE,
    ("GET", V1 + "/statements/me"): SIGNED_IN,
    ("POST", V1 + "/providers/me/payouts/onboarding"): PROVIDER_EDITORS,
    ("GET", V1 + "/providers/me/payouts"): PROVIDERS,
    # admin
    # hourly contracts: the provider's people log time (the world's milestone contract
    # answers 409 past authorization); an entry is changed by whoever logged it or the
    # firm's signers; the client's signers set the limit, dispute invoices, pay bonuses
    ("POST", V1 + "/contracts/<uuid:contract_id>/time-entries"): PROVIDER_SIDE,
    ("GET", V1 + "/contracts/<uuid:contract_id>/time-entries"): PARTIES_READ,
    ("PATCH", V1 + "/time-entries/<uuid:time_entry_id>"): SIGNERS,
    ("DELETE", V1 + "/time-entries/<uuid:time_entry_id>"): SIGNERS,
    ("PUT", V1 + "/contracts/<uuid:contract_id>/weekly-limit"): SIGNERS,
    ("GET", V1 + "/contracts/<uuid:contract_id>/invoices"): PARTIES_READ,
    ("GET", V1 + "/invoices"): SIGNED_IN,  # one's own contracts'; others get an empty list
    ("GET", V1 + "/invoices/<uuid:invoice_id>"): PARTIES_READ,
    ("POST", V1 + "/invoices/<uuid:invoice_id>/dispute"): SIGNERS,
    ("POST", V1 + "/contracts/<uuid:contract_id>/bonuses"): SIGNERS,
    ("POST", V1 + "/clients/me/payment-method"): CLIENT_EDITORS,
    # one's own saved card: no client of the world saved one, so theirs is a 404
    ("GET", V1 + "/clients/me/payment-method"): (401, 404, 403, 403, 404, 403),
    # the workflow audit: the client's own, any member of its company (as its tasks)
    ("POST", V1 + "/workflows"): CLIENTS,
    ("GET", V1 + "/workflows"): CLIENTS,
    ("GET", V1 + "/clients/me/roi"): CLIENTS,  # the realised return of its workflows
    ("GET", V1 + "/workflows/<uuid:workflow_id>"): CLIENT_PRIVATE,
    ("PATCH", V1 + "/workflows/<uuid:workflow_id>"): CLIENT_PRIVATE,
    ("DELETE", V1 + "/workflows/<uuid:workflow_id>"): CLIENT_PRIVATE,
    ("GET", V1 + "/workflows/<uuid:workflow_id>/recommendation"): CLIENT_PRIVATE,
    ("POST", V1 + "/workflows/<uuid:workflow_id>/pilot"): CLIENT_PRIVATE,
    ("GET", V1 + "/admin/audit-log"): ADMINS,
    ("GET", V1 + "/admin/reports"): ADMINS,
    ("GET", V1 + "/admin/reports/<uuid:moderation_report_id>"): ADMINS,
    ("POST", V1 + "/admin/reports/<uuid:moderation_report_id>/resolve"): ADMINS,
    ("POST", V1 + "/admin/reports/<uuid:moderation_report_id>/dismiss"): ADMINS,
    ("GET", V1 + "/admin/users"): ADMINS,
    ("POST", V1 + "/admin/users/<uuid:user_id>/suspend"): ADMINS,
    ("POST", V1 + "/admin/users/<uuid:user_id>/reinstate"): ADMINS,
    ("GET", V1 + "/admin/tasks"): ADMINS,
    ("POST", V1 + "/admin/tasks/<uuid:task_id>/approve"): ADMINS,
    ("POST", V1 + "/admin/tasks/<uuid:task_id>/reject"): ADMINS,
    ("GET", V1 + "/admin/disputes"): ADMINS,
    ("GET", V1 + "/admin/disputes/<uuid:dispute_id>"): ADMINS,
    ("POST", V1 + "/admin/disputes/<uuid:dispute_id>/resolve"): ADMINS,
    ("GET", V1 + "/admin/outbox"): ADMINS,
    ("POST", V1 + "/admin/outbox/<uuid:entry_id>/retry"): ADMINS,
    ("GET", V1 + "/admin/stats/pilots"): ADMINS,
    ("GET", V1 + "/admin/stats/slas"): ADMINS,
}

#: Cells where the code deviates from docs/design.md today: (method, rule, objects, caller).
DEFECTS: dict[tuple[str, str, str, str], str] = {}


def expected(cell: Cell) -> int | str:
    """What docs/design.md promises the cell's caller; fails for an endpoint without an entry."""
    entry = EXPECT.get((cell.method, cell.rule))
    if entry is None:
        pytest.fail(f"{cell.method} {cell.rule} has no entry in EXPECT: say who may call it")
    row = entry[cell.label] if isinstance(entry, dict) else entry
    return row[IDENTITIES.index(cell.identity)]


def outcome(status: int) -> int | str:
    """A refusal's status, or OK for anything that passed authorization."""
    return status if status in (401, 403, 404) else OK


# Requests -------------------------------------------------------------------------------

Body = dict[str, Any] | Callable[[World], dict[str, Any]]

#: A valid body per unsafe endpoint, so that the answer is about who calls;
#: endpoints not listed get `{}`.
BODIES: dict[tuple[str, str], Body] = {
    ("POST", V1 + "/auth/signup"): lambda w: {
        "email": f"{uuid.uuid4().hex}@example.com",
        "password": "a long enough passphrase",
        "name": "New Person",
        "role": "client",
    },
    ("POST", V1 + "/auth/login"): lambda w: {
        "email": w.emails["foreign_client"],
        "password": PASSWORD,
    },
    ("POST", V1 + "/auth/tokens"): {"name": "CI"},
    ("POST", V1 + "/contracts/<uuid:contract_id>/time-entries"): lambda w: {
        "start": (utcnow() - timedelta(minutes=3)).isoformat(),
        "end": (utcnow() - timedelta(minutes=2)).isoformat(),
        "memo": "Tickets answered.",
    },
    ("PATCH", V1 + "/time-entries/<uuid:time_entry_id>"): {"memo": "Tickets answered."},
    ("PUT", V1 + "/contracts/<uuid:contract_id>/weekly-limit"): {"hours": 30},
    ("POST", V1 + "/invoices/<uuid:invoice_id>/dispute"): {"reason": "Not worked."},
    ("POST", V1 + "/contracts/<uuid:contract_id>/bonuses"): {
        "amount": usd(1_000),
        "reason": "For the overtime.",
    },
    ("POST", V1 + "/clients/me/payment-method"): {"payment_method": "pm_card_visa"},
    # Links' tokens that are not ours (400) and a wrong current password (422): the answers
    # are about the request, past who may make it.
    ("POST", V1 + "/auth/verify-email"): {"token": "not-the-token-from-the-mail"},
    ("POST", V1 + "/auth/password-reset"): {"email": "nobody@example.com"},
    ("POST", V1 + "/auth/password-reset/confirm"): {
        "token": "not-the-token-from-the-mail",
        "password": "a long enough passphrase",
    },
    ("POST", V1 + "/auth/password"): {
        "current_password": "not the current password",
        "new_password": "a long enough passphrase",
    },
    ("PATCH", V1 + "/auth/me"): {"timezone": "Europe/Berlin"},
    ("POST", V1 + "/auth/2fa/enable"): {"code": "000000"},
    ("POST", V1 + "/auth/2fa/disable"): {"password": "not the password", "code": "000000"},
    ("PUT", V1 + "/providers/me"): {"headline": "Reliable support, day and night"},
    ("PUT", V1 + "/clients/me"): {"company_name": "Renamed Ltd"},
    ("POST", V1 + "/organizations"): {"name": "A new organization"},
    ("POST", V1 + "/organizations/<uuid:organization_id>/members"): {
        "email": "someone@example.com",
        "role": "agent",
    },
    ("POST", V1 + "/organizations/invitations/<uuid:invitation_id>/accept"): {
        "token": "not-the-token-from-the-mail"
    },
    ("POST", V1 + "/reports"): lambda w: {
        "target_type": "task",
        "target_id": str(w.ids["task"]),
        "reason": "Looks like spam.",
    },
    ("POST", V1 + "/tasks"): lambda w: task_payload(),
    ("POST", V1 + "/workflows"): {
        "name": "Bookkeeping",
        "hours_per_week": 6,
        "in_house_rate": usd(6_000),
    },
    ("PATCH", V1 + "/workflows/<uuid:workflow_id>"): {"answers": {"has_sop": False}},
    ("PATCH", V1 + "/tasks/<uuid:task_id>"): {"title": "Tier-one support, weekends too"},
    ("POST", V1 + "/tasks/<uuid:task_id>/bids"): lambda w: _bid_body(),
    ("POST", V1 + "/tasks/<uuid:task_id>/confidentiality"): lambda w: terms_acceptance(),
    ("POST", V1 + "/amendments/<uuid:amendment_id>/decline"): {"reason": "Not this month."},
    ("POST", V1 + "/tasks/<uuid:task_id>/invitations"): lambda w: {
        "provider_ids": [str(w.ids["firm_profile"])]
    },
    ("PATCH", V1 + "/bids/<uuid:bid_id>"): {"timeline_days": 45},
    ("POST", V1 + "/bids/<uuid:bid_id>/decline"): {"reason": "We chose another firm."},
    ("POST", V1 + "/bids/<uuid:bid_id>/messages"): {"body": "Hello"},
    ("POST", V1 + "/contracts/<uuid:contract_id>/amendments"): {
        "changes": {"sla": {"turnaround_hours": 6}}
    },
    ("POST", V1 + "/contracts/<uuid:contract_id>/extend"): {
        "milestones": [{"title": "More of the same", "amount": usd(1_000)}]
    },
    ("POST", V1 + "/contracts/<uuid:contract_id>/messages"): {"body": "Hello"},
    ("POST", V1 + "/contracts/<uuid:contract_id>/reviews"): {
        "rating": 5,
        "sub_ratings": {"quality": 5, "communication": 5, "timeliness": 4, "expertise": 5},
        "text": "Careful work.",
    },
    ("POST", V1 + "/contracts/<uuid:contract_id>/terminate"): {"reason": "Not needed now."},
    ("POST", V1 + "/contracts/<uuid:contract_id>/work-reports"): lambda w: {
        "period_start": utcnow().astimezone(ZoneInfo("America/New_York")).date().isoformat(),
        "period_end": utcnow().astimezone(ZoneInfo("America/New_York")).date().isoformat(),
        "items_received": 12,
        "items_completed": 12,
    },
    ("POST", V1 + "/work-reports/<uuid:report_id>/contest"): {"reason": "We counted fewer."},
    ("POST", V1 + "/contracts/<uuid:contract_id>/changes"): {
        "title": "New escalation rule",
        "description": "Escalate chargebacks to us at once.",
        "to_adopt": "Escalate every chargeback within the hour.",
    },
    ("POST", V1 + "/milestones/<uuid:milestone_id>/submit"): {"note": "Done, see the report."},
    ("POST", V1 + "/milestones/<uuid:milestone_id>/request-changes"): {"reason": "Redo it."},
    ("POST", V1 + "/milestones/<uuid:milestone_id>/refund-request"): {"reason": "Not needed."},
    ("POST", V1 + "/milestones/<uuid:milestone_id>/dispute"): {
        "reason": "This is not what the contract says."
    },
    ("POST", V1 + "/admin/disputes/<uuid:dispute_id>/resolve"): {
        "release_amount": usd(10_000),
        "refund_amount": usd(10_000),
        "note": "Half each.",
    },
    ("POST", V1 + "/admin/tasks/<uuid:task_id>/reject"): {"reason": "Not allowed here."},
    ("POST", V1 + "/disputes/<uuid:dispute_id>/evidence"): {"text": "The log shows it done."},
    ("POST", V1 + "/admin/reports/<uuid:moderation_report_id>/resolve"): {"note": "Warned."},
    ("POST", V1 + "/admin/reports/<uuid:moderation_report_id>/dismiss"): {"note": "No spam."},
    ("POST", V1 + "/admin/users/<uuid:user_id>/suspend"): {"reason": "Spam."},
}


def call(
    app: Flask,
    world: World,
    cell: Cell,
    *,
    body: Body | None = None,
    ids: dict[str, uuid.UUID] | None = None,
) -> Any:
    """Send the cell's request as a frontend would: anonymous with the session cookie and
    its CSRF token, signed in with the caller's API token. Unsafe requests carry a body and
    a fresh Idempotency-Key."""
    client = Api(app.test_client())
    client.token = world.tokens.get(cell.identity)
    kwargs: dict[str, Any] = {}
    if cell.method in UNSAFE_METHODS:
        body = BODIES.get((cell.method, cell.rule), {}) if body is None else body
        kwargs["json"] = body(world) if callable(body) else body
        kwargs["headers"] = {"Idempotency-Key": str(uuid.uuid4())}
    return client.request(cell.method, cell.path(world, ids=ids), **kwargs)


# The checks -----------------------------------------------------------------------------

#: What a refused request may still write: a money request's answer is kept for its
#: Idempotency-Key (with the key's recorded status change), and a token records when it
#: was used.
VOLATILE = {"idempotency_keys": None, "api_tokens": {"last_used_at"}}
VOLATILE_ENTITIES = {"status_changes": "idempotency_keys"}
MONEY_TABLES = [
    "ledger_accounts",
    "ledger_transactions",
    "ledger_entries",
    "payments",
    "transfers",
    "refunds",
    "refund_requests",
    "disputes",
    "milestones",
    "milestone_transitions",
]


def _stable(rows: dict[str, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    stable = {}
    for name, table_rows in rows.items():
        if name in VOLATILE and VOLATILE[name] is None:
            continue
        drop = VOLATILE.get(name) or set()
        table_rows = [r for r in table_rows if r.get("entity") != VOLATILE_ENTITIES.get(name)]
        stable[name] = [{k: v for k, v in row.items() if k not in drop} for row in table_rows]
    return stable


def changed_tables(before: dict[str, list[Any]], tables: list[str] | None = None) -> list[str]:
    """The tables (of `tables`, else all but the volatile) whose rows differ from `before`."""
    names = tables or [t.name for t in _tables()]
    after = _stable(dump_rows([db.metadata.tables[name] for name in names]))
    before = _stable({name: before[name] for name in names})
    return sorted(name for name in after if after[name] != before[name])


RULES = app_rules()
CELLS = [
    pytest.param(
        cell,
        id=cell_id(cell),
        marks=[pytest.mark.xfail(strict=True, reason=DEFECTS[cell.key])]
        if cell.key in DEFECTS
        else [],
    )
    for cell in cells_of(RULES)
]


@pytest.mark.parametrize("cell", CELLS)
def test_access(app: Flask, world: World, world_cache: dict[str, Any], cell: Cell) -> None:
    """The caller gets what docs/design.md promises; a refusal writes nothing, and a foreign
    caller moves no money; errors have the one shape."""
    assert not cell.unknown, f"{cell.rule}: add {cell.unknown} to VARIABLES"
    want = expected(cell)
    response = call(app, world, cell)
    status, body = response.status_code, response.get_json(silent=True)
    where = f"{cell.method} {cell.path(world)} as {cell.identity}"
    assert status < 500, f"{where}: {status} {body}"
    if status >= 400:
        error = (body or {}).get("error")
        assert isinstance(error, dict), f"{where}: {status} without the error shape: {body}"
        assert isinstance(error.get("code"), str), f"{where}: {body}"
        assert isinstance(error.get("message"), str), f"{where}: {body}"
        assert isinstance(error.get("details"), dict), f"{where}: {body}"
    if outcome(status) != OK:
        changed = changed_tables(world_cache["rows"])
        assert changed == [], f"{where} was refused ({status}) but wrote to {changed}"
    elif cell.identity.startswith("foreign_"):
        changed = changed_tables(world_cache["rows"], MONEY_TABLES)
        assert changed == [], f"{where} ({status}) touched money: {changed}"
    assert outcome(status) == want, f"{where}: expected {want}, got {status} {body}"


#: Endpoints that validate the body before they authorize the caller: a foreign caller
#: sending `{}` gets 422 where a valid body gets 404 (the same 422 as for an unknown id,
#: so nothing leaks; but the matrix above needs valid bodies to reach the check).
VALIDATED_BEFORE_AUTHORIZED = {
    ("PATCH", V1 + "/tasks/<uuid:task_id>"),
    ("PATCH", V1 + "/workflows/<uuid:workflow_id>"),
    ("POST", V1 + "/tasks/<uuid:task_id>/confidentiality"),
    ("POST", V1 + "/amendments/<uuid:amendment_id>/decline"),
    ("POST", V1 + "/tasks/<uuid:task_id>/bids"),
    ("POST", V1 + "/tasks/<uuid:task_id>/invitations"),
    ("PATCH", V1 + "/bids/<uuid:bid_id>"),
    ("POST", V1 + "/bids/<uuid:bid_id>/decline"),
    ("POST", V1 + "/bids/<uuid:bid_id>/messages"),
    ("POST", V1 + "/contracts/<uuid:contract_id>/amendments"),
    ("POST", V1 + "/contracts/<uuid:contract_id>/extend"),
    ("POST", V1 + "/contracts/<uuid:contract_id>/messages"),
    ("POST", V1 + "/contracts/<uuid:contract_id>/reviews"),
    ("POST", V1 + "/contracts/<uuid:contract_id>/terminate"),
    ("POST", V1 + "/contracts/<uuid:contract_id>/work-reports"),
    ("POST", V1 + "/work-reports/<uuid:report_id>/contest"),
    ("POST", V1 + "/contracts/<uuid:contract_id>/changes"),
    ("POST", V1 + "/milestones/<uuid:milestone_id>/submit"),
    ("POST", V1 + "/milestones/<uuid:milestone_id>/request-changes"),
    ("POST", V1 + "/milestones/<uuid:milestone_id>/refund-request"),
    ("POST", V1 + "/milestones/<uuid:milestone_id>/dispute"),
    ("POST", V1 + "/disputes/<uuid:dispute_id>/evidence"),
    ("POST", V1 + "/contracts/<uuid:contract_id>/time-entries"),
    ("PATCH", V1 + "/time-entries/<uuid:time_entry_id>"),
    ("PUT", V1 + "/contracts/<uuid:contract_id>/weekly-limit"),
    ("POST", V1 + "/invoices/<uuid:invoice_id>/dispute"),
    ("POST", V1 + "/contracts/<uuid:contract_id>/bonuses"),
    ("POST", V1 + "/organizations/<uuid:organization_id>/members"),
    ("POST", V1 + "/organizations/invitations/<uuid:invitation_id>/accept"),
}


def test_a_foreign_caller_with_an_invalid_body_learns_nothing(
    app: Flask, world: World, world_cache: dict[str, Any]
) -> None:
    """A foreign caller's `{}` gets 404, or the same answer as for an unknown id; which
    endpoints validate first is listed in VALIDATED_BEFORE_AUTHORIZED."""
    validated_first = set()
    for cell in cells_of(RULES):
        if not (cell.identity.startswith("foreign_") and cell.method in UNSAFE_METHODS):
            continue
        if cell.unknown or (cell.method, cell.rule) not in EXPECT or expected(cell) != 404:
            continue
        real = call(app, world, cell, body={})
        if real.status_code == 404:
            continue
        unknown = call(app, world, cell, body={}, ids={var: uuid.uuid4() for var in VARIABLES})
        where = f"{cell.method} {cell.rule} as {cell.identity}"
        assert (real.status_code, real.get_json()) == (unknown.status_code, unknown.get_json()), (
            f"{where}: the answer tells a real object from an unknown one"
        )
        validated_first.add((cell.method, cell.rule))
    assert changed_tables(world_cache["rows"]) == []
    assert sorted(validated_first) == sorted(VALIDATED_BEFORE_AUTHORIZED)


def test_the_tables_name_only_real_endpoints_and_objects(app: Flask) -> None:
    """The app under test has the rules the matrix was collected from, and every entry of
    SKIPPED, EXPECT, DEFECTS, BODIES and VARIABLES names something that exists."""
    assert rules_of(app) == RULES
    every_rule = {rule.rule for rule in app.url_map.iter_rules()}
    assert set(SKIPPED) <= every_rule, set(SKIPPED) - every_rule
    assert set(EXPECT) <= set(RULES), set(EXPECT) - set(RULES)
    assert set(BODIES) <= set(RULES), set(BODIES) - set(RULES)
    cells = list(cells_of(RULES))
    for (method, rule), entry in EXPECT.items():
        labels = {c.label for c in cells if (c.method, c.rule) == (method, rule)}
        assert isinstance(entry, tuple) or set(entry) == labels, (method, rule, labels)
    assert set(DEFECTS) <= {c.key for c in cells}, set(DEFECTS) - {c.key for c in cells}
    used = {name for _, rule in RULES for name in VARIABLE.findall(rule)}
    assert set(VARIABLES) <= used, set(VARIABLES) - used
