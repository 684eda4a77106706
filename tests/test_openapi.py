"""The OpenAPI spec: valid, complete, and true to what the API answers.

`test_api_conforms_to_spec` lets schemathesis generate requests for every
operation in /api/v1/openapi.json, so endpoints added later are covered without
touching this file. Requests go to the app in-process with the bearer token of
a client (who owns a company), of an individual provider, and of an admin: one
test per role, one subtest per operation. Path parameters, e-mails and
passwords are drawn half of the time from real rows, so success answers (a
login, a new member, a suspension...) are checked as well as 404s and 422s.

Any 5xx fails, and so does a response whose status code, content type, headers
or body the spec does not declare (with a 405's `Allow` header). Not enforced:
whether the API accepts every schema-valid request and rejects every
schema-violating one (`positive_data_acceptance`, `negative_data_rejection`);
business rules rightly answer 422 to some schema-valid input. Nor who may call
what (`ignored_auth`): that is the access matrix's (tests/test_access_matrix.py,
with tests/test_api_docs.py holding the spec to it). Schemathesis' probes without
credentials expect 401, while an anonymous write here is refused first for its
missing CSRF token (400); and the bearer token that signs every request in lifts
the CSRF token that the public writes (sign-up, login, logout) otherwise require.
"""

from __future__ import annotations

import contextvars
import io
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import Any

import pytest
import schemathesis
import sqlalchemy as sa
from flask import Flask
from schemathesis.config import SchemathesisConfig

from marketplace.accounts import services as accounts
from marketplace.accounts.models import User
from marketplace.bids import services as bids
from marketplace.bids.inputs import BidProposal, MilestoneProposal
from marketplace.contracts.inputs import AwardTerms
from marketplace.extensions import db
from marketplace.files import services as file_services
from marketplace.files.models import FilePurpose
from marketplace.flows import contracts as contract_flows
from marketplace.inputs import Money
from marketplace.jobs.models import OutboxEntry
from marketplace.messaging import services as messaging
from marketplace.payments import delivery, disputes, funding
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks import confidentiality, lifecycle, terms
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import CoverageNeed
from marketplace.workflows import services as workflows
from marketplace.workflows.inputs import AnswerChanges, WorkflowDraft
from marketplace.workflows.models import Level, TimeNeed
from tests.factories import (
    PASSWORD,
    AdminFactory,
    ClientFactory,
    ProviderFactory,
    make_company,
    task_draft,
)
from tests.money import make_deal

SPEC_PATH = "/api/v1/openapi.json"
ROLES = ("client", "provider", "admin")
MAX_EXAMPLES = 25  # per operation in the fuzzing phase; the coverage phase adds its own cases
SEED = 20240601  # with `deterministic`, every run sends the same requests
REAL_VALUE_PROBABILITY = 0.5
BODY_FIELDS = frozenset({"email", "password"})  # other names in `_world` are path parameters
UNENFORCED_CHECKS = ("positive_data_acceptance", "negative_data_rejection", "ignored_auth")
# Public writes that need the CSRF token only because no bearer token is sent.
PUBLIC_WRITES = [
    "auth.signup",
    "auth.login",
    "auth.logout",
    "auth.verify_email",
    "auth.request_password_reset",
    "auth.confirm_password_reset",
]


class FreshContextApp:
    """The app, with each request run in an empty `contextvars` context, as a server does.

    Tests hold an app context open (conftest), and Flask 3.1 reuses it for a
    request, sharing `g` (Flask-Login's user) and the database session between
    requests. conftest's IsolatedClient avoids that for `app.test_client()`;
    schemathesis brings its own WSGI client, so it gets this wrapper instead.
    """

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        def run() -> list[bytes]:
            body = self.app(environ, start_response)
            try:
                return list(body)
            finally:
                close = getattr(body, "close", None)
                if close is not None:
                    close()

        return contextvars.Context().run(run)


def _world(role: str) -> tuple[User, dict[str, list[str]]]:
    """The user who signs in as `role`, and real values for parameters, by name."""
    other_provider = ProviderFactory()
    company = make_company(name="Acme Ltd", owner=True, agent=True)
    company_owner = company.owner
    if role == "client":
        user = company_owner
    elif role == "provider":
        user = ProviderFactory()  # an individual VA; the run may create a firm for them
    else:
        user = AdminFactory()
    spare_token, _ = accounts.create_token(user=user, name="spare")
    # Tasks: one open to everyone (from another client), and a draft of the signed-in
    # client's company, so task routes answer with real bodies, not only 404s.
    poster = ClientFactory()
    open_task = tasks.create_task(user=poster, draft=task_draft())
    lifecycle.publish_task(user=poster, task_id=open_task.id, confirm_strategic=False)
    # A bid of another provider on the open task, awarded: a bid and a contract to act on.
    bidder = ProviderFactory()
    confidentiality.accept_terms(
        user=bidder,
        task_id=open_task.id,
        terms_hash=terms.terms_hash(),
        ip_address=None,
        user_agent=None,
    )
    bid = bids.place_bid(
        user=bidder,
        task_id=open_task.id,
        proposal=BidProposal(
            price=Money(1200, "usd"),
            milestones=(MilestoneProposal(title="First week", amount=48_000),),
            timeline_days=10,
            cover_letter="Ready to start on Monday.",
        ),
    )
    contract = contract_flows.award(user=poster, bid_id=bid.id, terms=AwardTerms())
    own_task = tasks.create_task(user=company_owner, draft=task_draft(title="Own draft"))
    # Money: a contract of the signed-in user (any contract for an admin) with a
    # disputed milestone and a submitted one, so money routes answer with real bodies.
    deal = make_deal(
        (48_000, 12_000),
        client=user if role == "client" else None,
        provider=user if role == "provider" else None,
    )
    disputed, submitted = deal.milestone_ids
    for milestone_id in deal.milestone_ids:
        funding.fund(user=deal.client, milestone_id=milestone_id)
    delivery.submit(user=deal.provider, milestone_id=submitted, note="Done.", deliverables=[])
    dispute = disputes.open_dispute(
        user=deal.client, milestone_id=disputed, reason="Half of the tickets are unanswered."
    )
    entry = db.session.scalars(sa.select(OutboxEntry).limit(1)).one()
    # A coverage task of the company, so coverage plans answer with real plans too.
    coverage_task = tasks.create_task(
        user=company_owner,
        draft=task_draft(
            title="Round the clock", timezone_need=CoverageNeed({"mon": [["00:00", "24:00"]]})
        ),
    )
    profile_id = db.session.scalar(
        sa.select(ProviderProfile.id).filter_by(user_id=other_provider.id)
    )
    # Files: one of the signed-in user's own, and one in the deal's contract thread.
    own_file = file_services.upload(
        user=user, purpose=FilePurpose.MESSAGE, stream=io.BytesIO(b"%PDF-1.4 x"), filename="a.pdf"
    )
    thread = messaging.contract_conversation(user=deal.provider, contract_id=deal.contract_id)
    thread_file = file_services.upload(
        user=deal.provider,
        purpose=FilePurpose.MESSAGE,
        stream=io.BytesIO(b"Notes, plain text.\n"),
        filename="notes.txt",
    )
    messaging.post_message(thread, user=deal.provider, body="Notes.", files=[thread_file.id])
    # A workflow of the company, fully audited, so its recommendation answers with a body.
    workflow = workflows.create_workflow(
        user=company_owner,
        draft=WorkflowDraft(
            name="Tier-one tickets",
            hours_per_week=Decimal(12),
            in_house_rate=Money(4_000, "usd"),
            answers=AnswerChanges(
                repeatable=Level.HIGH,
                error_risk=Level.MEDIUM,
                proprietary_data=False,
                brand_central=False,
                has_sop=True,
                time_need=TimeNeed.COVERAGE,
                rule_based=True,
            ),
        ),
    )
    if role == "client":
        # A second workflow, whose pilot task is the deal's: the realised return
        # (`GET /clients/me/roi`) answers with a contract, its spend, KPIs and a series.
        piloted = workflows.create_workflow(
            user=company_owner,
            draft=WorkflowDraft(
                name="Order entry", hours_per_week=Decimal(8), in_house_rate=Money(4_000, "usd")
            ),
        )
        piloted.pilot_task_id = deal.contract.task_id
        db.session.commit()
    values = {
        "token_id": [str(spare_token.id)],
        "profile_id": [str(profile_id)],
        "organization_id": [str(company.organization.id)],
        "user_id": [str(company.agent.id)],
        "task_id": [str(open_task.id), str(own_task.id), str(coverage_task.id)],
        "bid_id": [str(bid.id)],
        "contract_id": [str(contract.id), str(deal.contract_id)],
        "milestone_id": [str(disputed), str(submitted)],
        "dispute_id": [str(dispute.id)],
        "entry_id": [str(entry.id)],
        "file_id": [str(own_file.id), str(thread_file.id)],
        "workflow_id": [str(workflow.id)],
        # Accounts to log in as or to add to a company or a firm, and a free address.
        "email": [ClientFactory().email, ProviderFactory().email, "new.user@example.com"],
        "password": [PASSWORD],
    }
    return user, values


@pytest.fixture(params=ROLES)
def role(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def api_schema(request: pytest.FixtureRequest, app: Flask, bearer: Any, role: str) -> Any:
    """The spec as the app serves it, set to sign every request in as a `role` user."""
    # schemathesis 4.32 renames the running test through `node._nodeid`, which
    # pytest 9 no longer has; without it, lazy schemas fail with AttributeError.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    user, values = _world(role)
    config = SchemathesisConfig.from_dict(
        {
            "seed": SEED,
            "headers": {"Authorization": f"Bearer {bearer(user).token}"},
            "generation": {
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "checks": {name: {"enabled": False} for name in UNENFORCED_CHECKS},
            "operations": [
                {
                    "include-operation-id": PUBLIC_WRITES,
                    "checks": {"missing_required_header": {"enabled": False}},
                }
            ],
            "dictionaries": {name: {"values": found} for name, found in values.items()},
            "parameters": {
                f"{'body' if name in BODY_FIELDS else 'path'}.{name}": {
                    "dictionary": name,
                    "probability": REAL_VALUE_PROBABILITY,
                }
                for name in values
            },
        }
    )
    return schemathesis.openapi.from_wsgi(SPEC_PATH, FreshContextApp(app), config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
def test_api_conforms_to_spec(case: Any) -> None:
    case.call_and_validate()


def test_spec_is_valid_and_documents_every_endpoint(app: Flask) -> None:
    loaded = schemathesis.openapi.from_wsgi(SPEC_PATH, FreshContextApp(app))
    loaded.validate()  # against the OpenAPI 3.0 meta-schema
    spec = loaded.raw_schema
    assert spec["openapi"].startswith("3.")
    documented = {
        (path, method.upper())
        for path, operations in spec["paths"].items()
        for method in operations
        if method in {"get", "put", "post", "patch", "delete"}
    }
    routed = {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/v1/") and rule.rule != SPEC_PATH
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert routed, "no API routes found"
    assert routed - documented == set(), "endpoints missing from the OpenAPI spec"
    assert documented - routed == set(), "documented endpoints that the app does not route"
