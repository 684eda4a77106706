"""Stripe webhooks: verified, stored by event id, processed once in a job.

The endpoint only checks the signature, stores the event and queues its processing
in the same transaction, so it answers at once; a redelivered event is acknowledged
and ignored. Processing runs in the outbox (with its retries), and marks the event
processed in the transaction that applies it. Events may arrive out of order: each
handler applies only what still makes sense (a failure after a success changes
nothing, for instance).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError

from marketplace.contracts import milestones
from marketplace.contracts.states import MILESTONE_STATES
from marketplace.database import utcnow
from marketplace.errors import BadRequest, NotFound
from marketplace.extensions import db
from marketplace.inputs import Money
from marketplace.jobs import outbox
from marketplace.ledger import postings
from marketplace.payments import disputes, funding, methods, payouts, settlement
from marketplace.payments.gateways.stripe import InvalidWebhook, object_id, verify_webhook
from marketplace.payments.models import Refund, RefundStatus, Transfer, WebhookEvent
from marketplace.payments.states import EVENT_STATES, TRANSFER_STATES

log = logging.getLogger(__name__)


def receive(*, payload: bytes, signature: str | None) -> dict[str, Any]:
    """Verify and store a Stripe webhook, and queue its processing; a redelivery of a
    stored event is acknowledged and changes nothing."""
    secret = current_app.config.get("STRIPE_WEBHOOK_SECRET")
    if current_app.config["PAYMENTS"] != "stripe" or not secret:
        raise NotFound("Stripe webhooks are not enabled here.")
    try:
        event = verify_webhook(payload, signature, secret)
    except InvalidWebhook as exc:
        log.warning("Refused a Stripe webhook: %s", exc)
        raise BadRequest(
            "The webhook signature is missing, wrong or too old.", details={"signature": [str(exc)]}
        ) from None
    db.session.add(
        WebhookEvent(gateway="stripe", event_id=event["id"], type=str(event["type"]), payload=event)
    )
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return {"received": True, "duplicate": True}
    outbox.enqueue("stripe.event", {"event_id": event["id"]})
    db.session.commit()
    return {"received": True, "duplicate": False}


def process(payload: dict[str, str]) -> None:
    """Apply a stored event once; runs in the outbox's transaction."""
    event = db.session.scalars(
        sa.select(WebhookEvent)
        .where(WebhookEvent.gateway == "stripe", WebhookEvent.event_id == payload["event_id"])
        .with_for_update()
    ).one()
    if not EVENT_STATES.allows("process", event.status):
        return  # applied (or ignored) already
    handler = EVENT_HANDLERS.get(event.type)
    data = event.payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if handler is not None:
        if isinstance(obj, dict) and isinstance(obj.get("id"), str):
            handler(obj)
        else:  # signed, so from Stripe, but not what its API documents: a retry won't help
            log.error("Stripe event %s (%s) has no object with an id", event.event_id, event.type)
            handler = None
    EVENT_STATES.apply(event, "process" if handler else "ignore", actor_id=None)
    event.processed_at = utcnow()


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    metadata = obj.get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def _payment_succeeded(intent: dict[str, Any]) -> None:
    funding.payment_succeeded(
        gateway_id=intent["id"],
        charge_id=object_id(intent.get("latest_charge")),
        payment_id=_metadata(intent).get("payment_id"),
    )


def _payment_failed(intent: dict[str, Any]) -> None:
    error = intent.get("last_payment_error")
    error = error if isinstance(error, dict) else {}
    funding.payment_failed(
        gateway_id=intent["id"],
        code=error.get("decline_code") or error.get("code"),
        message=error.get("message"),
        payment_id=_metadata(intent).get("payment_id"),
    )


def _charge_refunded(charge: dict[str, Any]) -> None:
    payment = funding.find_payment(
        charge_id=charge["id"], gateway_id=object_id(charge.get("payment_intent"))
    )
    if payment is None:
        log.warning("charge.refunded for unknown charge %s", charge.get("id"))
        return
    pending = db.session.scalars(
        sa.select(Refund)
        .where(Refund.payment_id == payment.id, Refund.status == RefundStatus.PENDING)
        .with_for_update()
    ).all()
    settled = db.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Refund.amount), 0)).where(
            Refund.payment_id == payment.id, Refund.status == RefundStatus.SUCCEEDED
        )
    )
    refunded = int(charge.get("amount_refunded") or 0) - int(settled or 0)
    for record in pending:
        if record.gateway_id and record.amount <= refunded:
            settlement.settle_refund(record)
            refunded -= record.amount
    if refunded > 0:
        log.error("Charge %s refunded %s more than we asked for", charge["id"], refunded)


def _chargeback(dispute: dict[str, Any]) -> None:
    payment = funding.find_payment(
        charge_id=object_id(dispute.get("charge")),
        gateway_id=object_id(dispute.get("payment_intent")),
    )
    if payment is None:
        log.error("Chargeback %s on an unknown charge", dispute.get("id"))
        return
    locked = milestones.lock(payment.milestone_id)
    reason = f"Card chargeback at the bank ({dispute.get('reason') or 'no reason given'})."
    if "dispute" in MILESTONE_STATES.actions_from(locked.milestone.status):
        disputes.freeze(locked, reason=reason)
    milestones.tell(
        locked.contract,
        locked.milestone,
        to="admins",
        email="payment.chargeback",
        disputed=Money(
            int(dispute.get("amount") or 0),
            str(dispute.get("currency") or locked.milestone.currency),
        ),
        reference=dispute.get("id"),
        status=locked.milestone.status.value.replace("_", " "),
    )


def _account_updated(account: dict[str, Any]) -> None:
    payouts.set_payouts_enabled(
        account_id=account["id"], enabled=bool(account.get("payouts_enabled"))
    )


def _transfer_reversed(data: dict[str, Any]) -> None:
    transfer = db.session.scalar(
        sa.select(Transfer).where(Transfer.gateway_id == data["id"]).with_for_update()
    )
    if transfer is None:
        log.warning("transfer.reversed for unknown transfer %s", data.get("id"))
        return
    total = min(int(data.get("amount_reversed") or 0), transfer.amount)
    back = total - transfer.reversed_amount
    if back <= 0:
        return
    postings.reversal(
        settlement.money_of(transfer),
        provider_profile_id=transfer.provider_profile_id,
        transfer_id=transfer.id,
        reversed_so_far=total,
        gateway=transfer.payment.gateway,
        amount=back,
        memo=f"transfer {transfer.gateway_id} reversed",
    )
    TRANSFER_STATES.apply(transfer, "reverse", actor_id=None, reason=f"{total} reversed")
    transfer.reversed_amount = total
    locked = milestones.lock(transfer.milestone_id)
    milestones.tell(
        locked.contract,
        locked.milestone,
        to="admins",
        email="payment.transfer_reversed",
        reversed=Money(back, transfer.currency),
        reference=transfer.gateway_id,
    )


def _setup_succeeded(setup: dict[str, Any]) -> None:
    methods.setup_succeeded(
        setup_id=setup["id"], payment_method=object_id(setup.get("payment_method"))
    )


#: What each Stripe event type does (each handler gets the event's `data.object`); the
#: others are stored and marked ignored.
EVENT_HANDLERS: dict[str, Callable[[dict[str, Any]], None]] = {
    "payment_intent.succeeded": _payment_succeeded,
    "payment_intent.payment_failed": _payment_failed,
    "setup_intent.succeeded": _setup_succeeded,
    "charge.refunded": _charge_refunded,
    "charge.dispute.created": _chargeback,
    "account.updated": _account_updated,
    "transfer.reversed": _transfer_reversed,
}
