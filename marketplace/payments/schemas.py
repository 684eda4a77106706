"""Schemas of the money endpoints."""

from __future__ import annotations

import marshmallow as ma

from marketplace.contracts.models import MilestoneStatus
from marketplace.contracts.schemas import MilestoneSchema
from marketplace.files.schemas import attached_files, file_ids
from marketplace.ledger.models import AccountKind, TransactionKind
from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.payments.models import (
    DisputeStatus,
    PaymentStatus,
    RequestStatus,
)
from marketplace.payments.payouts import PayoutAccountState
from marketplace.profiles.schemas import CounterpartyField, PartySchema
from marketplace.schemas import (
    AmountSchema,
    BaseSchema,
    MoneyField,
    MoneySchema,
    ZeroableMoneySchema,
)
from marketplace.tasks.schemas import AttachmentSchema, TaskSummarySchema


class FundInputSchema(BaseSchema):
    """Funding a milestone; a saved card confirms at once, else the frontend confirms."""

    payment_method = ma.fields.String(
        load_default=None,
        validate=ma.validate.Regexp(r"^pm_[A-Za-z0-9_]{1,250}$", error="A payment method id."),
        metadata={"description": "A saved payment method (`pm_...`) to charge right away."},
    )


class DeliverableSchema(AttachmentSchema):
    """A delivered file's metadata, and where the client finds it."""

    url = ma.fields.Url(
        load_default=None, schemes={"https", "http"}, validate=ma.validate.Length(max=2000)
    )


class SubmitSchema(BaseSchema):
    """The provider's delivery of a milestone."""

    note = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=10_000))
    deliverables = ma.fields.List(
        ma.fields.Nested(DeliverableSchema), load_default=list, validate=ma.validate.Length(max=50)
    )
    files = file_ids(
        "Ids of your uploads (`POST /files` with purpose `submission`): the delivered files, which "
        "the contract's parties download. An unknown id or someone else's file is a 422.",
        load_default=list,
    )


class DisputeInputSchema(BaseSchema):
    """Why a party disputes a milestone."""

    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=10, max=5000))
    files = file_ids(
        "Ids of your uploads (`POST /files` with purpose `evidence`): the evidence, which the "
        "contract's parties and admins download. An unknown id or someone else's file is a 422.",
        load_default=list,
    )


class EvidenceInputSchema(BaseSchema):
    """A party's evidence on an open dispute: a statement and, optionally, files."""

    text = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=10_000))
    files = file_ids(
        "Ids of your uploads (`POST /files` with purpose `evidence`): the contract's parties "
        "and admins download them. An unknown id, someone else's file, one uploaded for "
        "another use or already attached is a 422.",
        load_default=list,
    )

    @ma.validates("text")
    def _not_blank(self, value: str, **_: object) -> None:
        if not value.strip():
            raise ma.ValidationError("The evidence is empty.")


class ResolveSchema(BaseSchema):
    """An admin's split of a disputed milestone, in its currency; the two add up to it."""

    release_amount = ma.fields.Nested(ZeroableMoneySchema, required=True)
    refund_amount = ma.fields.Nested(ZeroableMoneySchema, required=True)
    note = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=2000))


class PaymentSchema(BaseSchema):
    """A payment of a milestone at the gateway."""

    id = ma.fields.UUID()
    attempt = ma.fields.Integer()
    status = ma.fields.Enum(PaymentStatus, by_value=True)
    amount = MoneyField(MoneySchema)
    gateway = ma.fields.String()
    client_secret = ma.fields.String(
        allow_none=True,
        metadata={"description": "For the frontend to confirm the payment (Stripe.js)."},
    )
    failure_code = ma.fields.String(allow_none=True)
    failure_message = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime()
    settled_at = ma.fields.DateTime(allow_none=True)


class PaymentRecordSchema(PaymentSchema):
    """A payment as the milestone's history shows it (without the client secret)."""

    class Meta(BaseSchema.Meta):
        exclude = ("client_secret",)


class FundingSchema(BaseSchema):
    """The answer to funding: the payment, and the milestone (funded once it succeeded)."""

    payment = ma.fields.Nested(PaymentSchema, required=True)
    milestone = ma.fields.Nested(MilestoneSchema, required=True)


class MilestoneTransitionSchema(BaseSchema):
    """One recorded step of a milestone."""

    from_status = ma.fields.Enum(MilestoneStatus, by_value=True, allow_none=True)
    to_status = ma.fields.Enum(MilestoneStatus, by_value=True)
    actor_id = ma.fields.UUID(allow_none=True)
    reason = ma.fields.String(allow_none=True)
    at = ma.fields.DateTime()


class SubmissionSchema(BaseSchema):
    """One delivery of a milestone."""

    revision = ma.fields.Integer()
    note = ma.fields.String()
    deliverables = ma.fields.List(ma.fields.Dict())
    files = attached_files("The delivered files.")
    submitted_by_id = ma.fields.UUID()
    at = ma.fields.DateTime()


class RefundRequestSchema(BaseSchema):
    """A client's request to cancel a funded milestone."""

    id = ma.fields.UUID()
    milestone_id = ma.fields.UUID()
    requested_by_id = ma.fields.UUID(allow_none=True)
    reason = ma.fields.String()
    status = ma.fields.Enum(RequestStatus, by_value=True)
    expires_at = ma.fields.DateTime()
    answered_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class DisputeSchema(BaseSchema):
    """A dispute over a milestone and how it was settled."""

    id = ma.fields.UUID()
    milestone_id = ma.fields.UUID()
    milestone_title = ma.fields.String(
        attribute="milestone.title", metadata={"description": "The disputed milestone's title."}
    )
    contract_id = ma.fields.UUID()
    task = ma.fields.Nested(
        TaskSummarySchema,
        attribute="milestone.contract.task",
        metadata={"description": "The task of the disputed milestone's contract."},
    )
    client = ma.fields.Nested(
        PartySchema,
        attribute="milestone.contract.client_profile",
        metadata={"description": "The contract's client side."},
    )
    provider = ma.fields.Nested(
        PartySchema,
        attribute="milestone.contract.provider_profile",
        metadata={"description": "The contract's provider side."},
    )
    counterparty = CounterpartyField(
        client="milestone.contract.client_profile", provider="milestone.contract.provider_profile"
    )
    raised_by_id = ma.fields.UUID(allow_none=True)
    side = ma.fields.String()
    reason = ma.fields.String()
    files = attached_files("The evidence files of the party who opened it.")
    milestone_status = ma.fields.Enum(
        MilestoneStatus,
        by_value=True,
        metadata={"description": "The milestone's status when it was disputed."},
    )
    amount = MoneyField(MoneySchema, attribute="milestone.amount", currency="milestone.currency")
    status = ma.fields.Enum(DisputeStatus, by_value=True)
    release_amount = MoneyField(allow_none=True, currency="milestone.currency")
    refund_amount = MoneyField(allow_none=True, currency="milestone.currency")
    resolution_note = ma.fields.String(allow_none=True)
    resolved_by_id = ma.fields.UUID(allow_none=True)
    resolved_at = ma.fields.DateTime(allow_none=True)
    created_at = ma.fields.DateTime()


class DisputeEvidenceSchema(BaseSchema):
    """One piece of a party's evidence on a dispute."""

    id = ma.fields.UUID()
    dispute_id = ma.fields.UUID()
    side = ma.fields.String(metadata={"description": "`client` or `provider`."})
    author_id = ma.fields.UUID()
    author_name = ma.fields.String(attribute="author.name")
    text = ma.fields.String()
    files = attached_files("The evidence files.")
    created_at = ma.fields.DateTime()


class DisputeDetailSchema(DisputeSchema):
    """A dispute with both parties' evidence and the deadline for it."""

    evidence = ma.fields.List(
        ma.fields.Nested(DisputeEvidenceSchema),
        metadata={
            "description": "What the parties added after the opening (the opening party's "
            "reason and files are `reason` and `files`), oldest first."
        },
    )
    evidence_due_at = ma.fields.DateTime(
        metadata={
            "description": "Until when either party may add evidence (DISPUTE_EVIDENCE_DAYS "
            "after the opening); an admin settles the dispute after reading it."
        }
    )


class MilestoneDetailSchema(MilestoneSchema):
    """A milestone with its history: moves, deliveries, payments, refund request, dispute."""

    contract_id = ma.fields.UUID()
    transitions = ma.fields.List(ma.fields.Nested(MilestoneTransitionSchema))
    submissions = ma.fields.List(ma.fields.Nested(SubmissionSchema))
    payments = ma.fields.List(ma.fields.Nested(PaymentRecordSchema))
    refund_request = ma.fields.Nested(RefundRequestSchema, allow_none=True)
    dispute = ma.fields.Nested(DisputeSchema, allow_none=True)


class DisputeQuerySchema(PageArgsSchema):
    """Filters of the disputes queue."""

    status = ma.fields.Enum(DisputeStatus, by_value=True)


DisputePageSchema = page_schema(DisputeSchema, "DisputePage")


class EntrySchema(BaseSchema):
    """One line of a ledger transaction."""

    account = ma.fields.String(attribute="account.code")
    account_kind = ma.fields.Enum(AccountKind, by_value=True, attribute="account.kind")
    amount = MoneyField(metadata={"description": "Credit positive, debit negative."})


class LedgerTransactionSchema(BaseSchema):
    """A movement of money; its entries sum to zero."""

    id = ma.fields.UUID()
    kind = ma.fields.Enum(TransactionKind, by_value=True)
    milestone_id = ma.fields.UUID(allow_none=True)
    memo = ma.fields.String()
    created_at = ma.fields.DateTime()
    entries = ma.fields.List(ma.fields.Nested(EntrySchema))


class ContractLedgerSchema(page_schema(LedgerTransactionSchema, "LedgerPage")):  # type: ignore[misc]
    """A contract's ledger, oldest first, with what its escrow holds now."""

    escrow = ma.fields.List(ma.fields.Nested(AmountSchema), required=True)


class StatementLineSchema(BaseSchema):
    """Sums for one month or one contract in one currency; every figure is money."""

    month = ma.fields.String(metadata={"example": "2026-11"})
    contract_id = ma.fields.UUID()
    task_title = ma.fields.String()
    funded = MoneyField(metadata={"description": "Client: paid into escrow."})
    refunded = MoneyField(metadata={"description": "Client: returned from escrow."})
    released = MoneyField(metadata={"description": "Client: released to providers."})
    in_escrow = MoneyField(metadata={"description": "Client: still held."})
    spend = MoneyField(metadata={"description": "Client: funded less refunded."})
    earned = MoneyField(metadata={"description": "Provider: released, less fees."})
    fees = MoneyField(metadata={"description": "Provider: platform fees."})
    paid_out = MoneyField(metadata={"description": "Provider: transferred."})
    pending_payout = MoneyField(metadata={"description": "Provider: not yet sent."})
    revenue = MoneyField(metadata={"description": "Admin: platform fees."})
    escrow_held = MoneyField(metadata={"description": "Admin: all escrow."})
    owed_to_providers = MoneyField(metadata={"description": "Admin: payables."})
    owed_to_clients = MoneyField(metadata={"description": "Admin: refunds due."})


class StatementSchema(BaseSchema):
    """A client's spend, a provider's earnings, or (admins) revenue and money held."""

    role = ma.fields.String(required=True)
    totals = ma.fields.List(ma.fields.Nested(StatementLineSchema), required=True)
    months = ma.fields.List(ma.fields.Nested(StatementLineSchema), required=True)
    contracts = ma.fields.List(ma.fields.Nested(StatementLineSchema), required=True)


class OnboardingSchema(BaseSchema):
    """The payout account and a fresh onboarding link."""

    account_id = ma.fields.String(required=True)
    payouts_enabled = ma.fields.Boolean(required=True)
    url = ma.fields.String(required=True, metadata={"description": "Send the provider here."})


class PayoutsSchema(BaseSchema):
    """A provider's payout account and money, per currency (a currency is listed where the
    figure is not zero; an empty list is nothing)."""

    account_state = ma.fields.Enum(
        PayoutAccountState,
        by_value=True,
        required=True,
        metadata={
            "description": "`not_started`: no payout account yet (open it with `POST "
            "/providers/me/payouts/onboarding`); `incomplete`: opened, payouts not enabled "
            "(onboarding unfinished, or the payment provider turned them off); `enabled`: "
            "payouts are enabled, so your milestones can be funded and released."
        },
    )
    payouts_enabled = ma.fields.Boolean(required=True)
    in_escrow = ma.fields.List(
        ma.fields.Nested(MoneySchema),
        required=True,
        metadata={
            "description": "Held in the escrow of your contracts: milestones the client "
            "funded, not yet released, refunded or split by a dispute; before the platform "
            "fee, which is taken when it is released to you."
        },
    )
    pending_payout = ma.fields.List(
        ma.fields.Nested(MoneySchema),
        required=True,
        metadata={
            "description": "Released to you (after the fee), not yet transferred to your "
            "payout account: transfers queued or retrying, and transfers that were reversed."
        },
    )
    paid_out = ma.fields.List(
        ma.fields.Nested(MoneySchema),
        required=True,
        metadata={
            "description": "Transferred to your payout account, less transfers reversed. "
            "`pending_payout` + `paid_out` is what you earned."
        },
    )


class WebhookAckSchema(BaseSchema):
    """The webhook was received (and stored, unless it was a redelivery)."""

    received = ma.fields.Boolean(required=True)
    duplicate = ma.fields.Boolean(required=True)


class PaymentMethodInputSchema(BaseSchema):
    """The card to save for off-session charges (hourly invoices, bonuses)."""

    payment_method = ma.fields.String(
        validate=[ma.validate.Length(min=4, max=255), ma.validate.Regexp(r"^pm_[A-Za-z0-9_]+$")],
        metadata={
            "description": "A Stripe PaymentMethod id (`pm_...`) Stripe.js collected; leave "
            "out to get a SetupIntent's `client_secret` to confirm with Stripe.js. Test "
            "cards: `pm_card_visa`; `pm_card_chargeCustomerFail` saves but every charge is "
            "declined (in the sandbox too)."
        },
    )


class PaymentMethodSchema(BaseSchema):
    """The client's saved card: `ready` to charge, or waiting for Stripe.js to confirm."""

    status = ma.fields.Function(
        lambda m: "ready" if m.ready else "requires_confirmation",
        metadata={"type": "string", "enum": ["ready", "requires_confirmation"]},
    )
    gateway = ma.fields.String()
    payment_method = ma.fields.String(allow_none=True)
    client_secret = ma.fields.Function(
        lambda m: None if m.ready else m.client_secret,
        metadata={
            "type": "string",
            "nullable": True,
            "description": "The SetupIntent's secret for Stripe.js, until the card is saved.",
        },
    )
    ready_at = ma.fields.DateTime(allow_none=True)
