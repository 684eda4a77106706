"""Money endpoints: funding, delivery, release, refunds, disputes, ledger and statements.

Every request that moves money needs an `Idempotency-Key` header and is rate-limited
per user.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from flask import current_app, request
from flask_login import current_user, login_required

from marketplace.accounts.auth import csrf_exempt
from marketplace.api import Blueprint
from marketplace.contracts.models import Milestone
from marketplace.contracts.schemas import MilestoneSchema
from marketplace.extensions import limiter, per_user_limit
from marketplace.pagination import PageArgsSchema, paginate
from marketplace.payments import (
    delivery,
    disputes,
    evidence,
    funding,
    history,
    methods,
    payouts,
    refunds,
    webhooks,
)
from marketplace.payments.idempotency import HEADER_PARAMETER, idempotent
from marketplace.payments.models import (
    Dispute,
    DisputeEvidence,
    RefundRequest,
    SavedPaymentMethod,
)
from marketplace.payments.schemas import (
    ContractLedgerSchema,
    DisputeDetailSchema,
    DisputeEvidenceSchema,
    DisputeInputSchema,
    DisputeSchema,
    EvidenceInputSchema,
    FundingSchema,
    FundInputSchema,
    MilestoneDetailSchema,
    OnboardingSchema,
    PaymentMethodInputSchema,
    PaymentMethodSchema,
    PayoutsSchema,
    RefundRequestSchema,
    StatementSchema,
    SubmitSchema,
    WebhookAckSchema,
)
from marketplace.reporting import payouts as payout_figures
from marketplace.reporting import statements
from marketplace.tasks.schemas import ReasonSchema

blp = Blueprint("payments", __name__, url_prefix="/api/v1", description="Milestone payments")


def money_rate_limit() -> str:
    """The configured limit on money requests per user."""
    return str(current_app.config["MONEY_RATE_LIMIT"])


def _user_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else "anonymous"


def money(view: Callable[..., Any]) -> Callable[..., Any]:
    """A money-moving endpoint: rate-limited per user, idempotent, header documented.
    Goes right under `login_required`."""
    documented = blp.doc(parameters=[HEADER_PARAMETER])(view)
    return limiter.limit(money_rate_limit, key_func=_user_key)(idempotent(documented))


@blp.post("/milestones/<uuid:milestone_id>/fund")
@login_required
@money
@blp.arguments(FundInputSchema)
@blp.response(200, FundingSchema)
@blp.link(
    200,
    "submit",
    "payments.submit",
    "Deliver the milestone (provider).",
    milestone_id="$response.body#/milestone/id",
)
@blp.errors(400, 401, 402, 403, 404, 409, 422, 429, 502, 503)
def fund(data: dict[str, Any], milestone_id: uuid.UUID) -> dict[str, Any]:
    """Pay a milestone into escrow (client). It is funded once the gateway confirms."""
    payment = funding.fund(user=current_user, milestone_id=milestone_id, **data)
    return {"payment": payment, "milestone": payment.milestone}


@blp.post("/milestones/<uuid:milestone_id>/submit")
@login_required
@blp.arguments(SubmitSchema)
@blp.response(200, MilestoneSchema)
@blp.link(
    200,
    "approve",
    "payments.approve",
    "Accept the work (client).",
    milestone_id="$response.body#/id",
)
@blp.errors(400, 401, 403, 404, 409, 422)
def submit(data: dict[str, Any], milestone_id: uuid.UUID) -> Milestone:
    """Deliver a funded milestone for the client's review (provider)."""
    return delivery.submit(user=current_user, milestone_id=milestone_id, **data)


@blp.post("/milestones/<uuid:milestone_id>/approve")
@login_required
@money
@blp.response(200, MilestoneSchema)
@blp.errors(400, 401, 403, 404, 409, 429)
def approve(milestone_id: uuid.UUID) -> Milestone:
    """Accept the work (client): the payment is released to the provider, less the fee."""
    return delivery.approve(user=current_user, milestone_id=milestone_id)


@blp.post("/milestones/<uuid:milestone_id>/request-changes")
@login_required
@blp.arguments(ReasonSchema)
@blp.response(200, MilestoneSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def request_changes(data: dict[str, Any], milestone_id: uuid.UUID) -> Milestone:
    """Send the work back with a reason (client); the provider submits again."""
    return delivery.request_changes(user=current_user, milestone_id=milestone_id, **data)


@blp.post("/milestones/<uuid:milestone_id>/refund-request")
@login_required
@blp.arguments(ReasonSchema)
@blp.response(201, RefundRequestSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def request_refund(data: dict[str, Any], milestone_id: uuid.UUID) -> RefundRequest:
    """Ask to cancel a funded milestone that is not submitted (client)."""
    return refunds.request_refund(user=current_user, milestone_id=milestone_id, **data)


@blp.post("/milestones/<uuid:milestone_id>/refund-request/approve")
@login_required
@money
@blp.response(200, MilestoneSchema)
@blp.errors(400, 401, 403, 404, 409, 429)
def approve_refund(milestone_id: uuid.UUID) -> Milestone:
    """Agree to the client's refund request (provider): the money goes back."""
    return refunds.approve_refund(user=current_user, milestone_id=milestone_id)


@blp.post("/milestones/<uuid:milestone_id>/dispute")
@login_required
@blp.arguments(DisputeInputSchema)
@blp.response(201, DisputeSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def dispute(data: dict[str, Any], milestone_id: uuid.UUID) -> Dispute:
    """Dispute a milestone (either party): its money is frozen until an admin settles it."""
    return disputes.open_dispute(user=current_user, milestone_id=milestone_id, **data)


@blp.get("/disputes/<uuid:dispute_id>")
@login_required
@blp.response(200, DisputeDetailSchema)
@blp.errors(401, 404)
def get_dispute(dispute_id: uuid.UUID) -> evidence.DisputeView:
    """A dispute of your contract: the milestone, the amounts, both parties' evidence and
    until when more is taken."""
    return evidence.detail(user=current_user, dispute_id=dispute_id)


@blp.post("/disputes/<uuid:dispute_id>/evidence")
@login_required
@per_user_limit("MESSAGE_RATE_LIMIT")  # each piece e-mails the other party
@blp.arguments(EvidenceInputSchema)
@blp.response(201, DisputeEvidenceSchema)
@blp.errors(400, 401, 403, 404, 409, 422, 429)
def add_evidence(data: dict[str, Any], dispute_id: uuid.UUID) -> DisputeEvidence:
    """Add evidence to an open dispute of your contract before its deadline (either
    party); the other side is told. Late, or on a resolved dispute, it is a 409."""
    return evidence.add_evidence(user=current_user, dispute_id=dispute_id, **data)


@blp.get("/milestones/<uuid:milestone_id>")
@login_required
@blp.response(200, MilestoneDetailSchema)
@blp.errors(401, 404)
def get_milestone(milestone_id: uuid.UUID) -> Any:
    """A milestone with its history: moves, deliveries, payments, refund request, dispute."""
    return history.detail(user=current_user, milestone_id=milestone_id)


@blp.get("/contracts/<uuid:contract_id>/ledger")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, ContractLedgerSchema)
@blp.errors(401, 404, 422)
def contract_ledger(contract_id: uuid.UUID, page: int, page_size: int | None) -> dict[str, Any]:
    """The contract's ledger transactions, oldest first, and what its escrow holds."""
    result = paginate(
        statements.contract_transactions(user=current_user, contract_id=contract_id),
        page=page,
        page_size=page_size,
    )
    return {**vars(result), "escrow": statements.escrow_held(contract_id)}


@blp.get("/statements/me")
@login_required
@blp.response(200, StatementSchema)
@blp.errors(401)
def my_statement() -> dict[str, Any]:
    """Your spend (client) or earnings (provider) by month and contract; admins see
    platform revenue and the money held."""
    return statements.statement(user=current_user)


@blp.post("/providers/me/payouts/onboarding")
@login_required
@limiter.limit(money_rate_limit, key_func=_user_key)
@blp.response(200, OnboardingSchema)
@blp.errors(401, 403, 404, 429, 502, 503)
def payout_onboarding() -> payouts.Onboarding:
    """Open your payout account (once) and get a fresh link to finish its onboarding."""
    return payouts.start_onboarding(user=current_user)


@blp.get("/providers/me/payouts")
@login_required
@blp.response(200, PayoutsSchema)
@blp.errors(401, 403, 404)
def my_payouts() -> payout_figures.Payouts:
    """Your payout account's state, and your money in escrow, pending payout and paid out.

    For the provider you act for (a firm's members: the firm's), per currency:
    `in_escrow` (funded milestones of your contracts, before the platform fee),
    `pending_payout` (released to you after the fee, not yet transferred) and `paid_out`
    (transferred, less reversals). Accounts other than providers get a 403.
    """
    return payout_figures.provider_payouts(user=current_user)


@blp.post("/webhooks/stripe")
@csrf_exempt
@blp.raw_body
@blp.doc(
    security=[],
    parameters=[
        {
            "in": "header",
            "name": "Stripe-Signature",
            "required": False,
            "schema": {"type": "string"},
            "description": "Stripe's signature of the payload (checked; 400 when wrong).",
        }
    ],
)
@blp.response(200, WebhookAckSchema)
@blp.errors(400, 404)
def stripe_webhook() -> dict[str, Any]:
    """Stripe's webhook: verified, stored once by event id, processed in a job."""
    return webhooks.receive(
        payload=request.get_data(), signature=request.headers.get("Stripe-Signature")
    )


@blp.post("/clients/me/payment-method")
@login_required
@limiter.limit(money_rate_limit, key_func=_user_key)
@blp.arguments(PaymentMethodInputSchema, as_kwargs=True)
@blp.response(200, PaymentMethodSchema)
@blp.errors(400, 401, 402, 403, 409, 422, 429)
def save_payment_method(payment_method: str | None = None) -> SavedPaymentMethod:
    """Save the card hourly invoices and bonuses are charged to (the client, before the first
    hourly contract starts): a Stripe SetupIntent, confirmed here with `payment_method` or
    by Stripe.js with the `client_secret` answered. Replaces the card saved before."""
    return methods.save(user=current_user, payment_method=payment_method)


@blp.get("/clients/me/payment-method")
@login_required
@blp.response(200, PaymentMethodSchema)
@blp.errors(401, 403, 404)
def get_payment_method() -> SavedPaymentMethod:
    """The card saved for off-session charges (`requires_confirmation` until Stripe.js has
    confirmed it and Stripe's webhook said so); 404 while none is saved."""
    return methods.mine(user=current_user)
