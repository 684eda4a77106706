"""The card a client saves for off-session charges (hourly invoices are charged to it after
their review window): a SetupIntent on Stripe, saved at once in the sandbox.

With a `payment_method` (a card Stripe.js collected, or a test card) the set-up is confirmed
here; without one, the answer carries the SetupIntent's `client_secret` for Stripe.js to
confirm, and the `setup_intent.succeeded` webhook saves the card.
"""

from __future__ import annotations

import logging

import sqlalchemy as sa

from marketplace import permissions
from marketplace.accounts import verification
from marketplace.accounts.models import Role, User
from marketplace.database import lock_row, new_id, utcnow
from marketplace.errors import Conflict, Forbidden, NotFound, PaymentFailed
from marketplace.extensions import db
from marketplace.payments.gateways import gateway
from marketplace.payments.gateways.base import answered_in_the_api
from marketplace.payments.models import SavedPaymentMethod

log = logging.getLogger(__name__)


class NoPaymentMethod(Conflict):
    """The client has no saved card to charge."""

    code = "payment_method_required"


def saved_for(client_profile_id: object) -> SavedPaymentMethod | None:
    """The client's saved card (ready or still being set up), if any."""
    return db.session.scalar(
        sa.select(SavedPaymentMethod).where(
            SavedPaymentMethod.client_profile_id == client_profile_id
        )
    )


def require_ready(client_profile_id: object) -> SavedPaymentMethod:
    """The client's ready card; 409 `payment_method_required` without one."""
    method = saved_for(client_profile_id)
    if method is None or not method.ready:
        raise NoPaymentMethod(
            "Save a payment method first (POST /clients/me/payment-method): hourly "
            "invoices are charged to it after their review window.",
        )
    return method


def mine(*, user: User) -> SavedPaymentMethod:
    """The card saved for the client `user` acts for; 404 while none is."""
    if user.role != Role.CLIENT:
        raise Forbidden("Only clients save a payment method.")
    method = saved_for(permissions.acting_client_profile(user).id)
    if method is None:
        raise NotFound("No payment method is saved yet.")
    return method


def save(*, user: User, payment_method: str | None) -> SavedPaymentMethod:
    """The client (an owner or manager for a company) saves a card for off-session charges,
    replacing the one saved before. A card the gateway declines to save is a 402."""
    verification.require_verified_email(user)
    if user.role != Role.CLIENT:
        raise Forbidden("Only clients save a payment method.")
    permissions.require_commits(user, "Only the company's owner or managers set how it pays.")
    profile = permissions.acting_client_profile(user)
    method = saved_for(profile.id)
    if method is None:
        method = SavedPaymentMethod(
            id=new_id(),
            client_profile_id=profile.id,
            gateway=gateway().name,
            customer_id="",  # set by the gateway's answer below
            saved_by_id=user.id,
        )
        db.session.add(method)
        try:
            db.session.flush()
        except sa.exc.IntegrityError:  # saved by a racing request: take that one
            db.session.rollback()
            method = saved_for(profile.id)
            assert method is not None
    method = lock_row(SavedPaymentMethod, method.id)
    attempt = new_id()
    with answered_in_the_api(f"card set-up {attempt}", nothing_done="no card was saved"):
        try:
            setup = gateway().set_up_payment_method(
                # A customer of another gateway (the sandbox's, before Stripe) is not reused.
                customer_id=(method.customer_id or None)
                if method.gateway == gateway().name
                else None,
                email=user.email,
                payment_method=payment_method,
                idempotency_key=f"setup-{attempt}",
                metadata={"client_profile_id": str(profile.id), "setup": str(attempt)},
            )
        except PaymentFailed:
            db.session.rollback()
            raise
    method.gateway, method.customer_id = gateway().name, setup.customer_id
    method.setup_id, method.client_secret = setup.setup_id, setup.client_secret
    method.saved_by_id = user.id
    if setup.status == "succeeded" and setup.payment_method:
        method.payment_method, method.ready_at = setup.payment_method, utcnow()
    db.session.commit()
    return method


def setup_succeeded(*, setup_id: str, payment_method: str | None) -> None:
    """Stripe confirmed a SetupIntent the frontend confirmed: the card is saved. Runs in the
    webhook event's transaction."""
    found = db.session.scalar(
        sa.select(SavedPaymentMethod.id).where(SavedPaymentMethod.setup_id == setup_id)
    )
    if found is None or not payment_method:
        log.warning("setup_intent.succeeded for unknown set-up %s", setup_id)
        return
    method = lock_row(SavedPaymentMethod, found)
    method.payment_method, method.ready_at = payment_method, utcnow()
