"""The Stripe gateway: Connect with separate charges and transfers (docs/design.md, money).

The only module that imports the `stripe` SDK. Every call carries an idempotency
key made from our ids and metadata naming our milestone and contract. Stripe's
errors become ours: a declined card is PaymentFailed (402, with the decline code);
rate limits, connection trouble and Stripe's own 5xx are GatewayError (the outbox
retries); an invalid request is PermanentGatewayError, logged with Stripe's request
id and left failed for admins.

With STRIPE_API_BASE set the gateway talks to a local emulator (localstripe), which
refuses parameters it does not know: PaymentIntents are then created without
`transfer_group` and `description` (transfers, which carry the group, are never
sent to an emulator that lacks them).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import stripe

from marketplace.errors import PaymentFailed
from marketplace.payments.gateways.base import (
    GatewayError,
    GatewayPayment,
    GatewayResult,
    PaymentSetup,
    PayoutAccount,
    PermanentGatewayError,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
WEBHOOK_TOLERANCE_SECONDS = 300


class InvalidWebhook(Exception):
    """A webhook whose signature or body does not check out."""


def _signed_at(signature: str) -> int:
    """The `t=` timestamp of a `Stripe-Signature` header the SDK has accepted."""
    for item in signature.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            return int(value)
    raise ValueError("The signature has no timestamp.")


def verify_webhook(payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
    """The event of a webhook request signed by Stripe (or the emulator) with `secret`;
    raises InvalidWebhook for a missing or forged signature, or one made over 5 minutes
    before or after our clock's now."""
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature or "", secret, WEBHOOK_TOLERANCE_SECONDS
        )
        # The SDK refuses old signatures only; one dated ahead would stay replayable
        # until its time plus the tolerance, so the skew is bounded both ways.
        signed_at = _signed_at(signature or "")
        if abs(time.time() - signed_at) > WEBHOOK_TOLERANCE_SECONDS:
            raise InvalidWebhook(f"Timestamp outside the tolerance zone ({signed_at})")
        event = json.loads(payload)
    except (stripe.SignatureVerificationError, UnicodeDecodeError, ValueError) as exc:
        raise InvalidWebhook(str(exc)) from exc
    if not (isinstance(event, dict) and isinstance(event.get("id"), str) and "type" in event):
        raise InvalidWebhook("Not a Stripe event.")
    return event


def object_id(value: Any) -> str | None:
    """An id from a field Stripe sends either as an id or as the expanded object."""
    if not value:
        return None
    if isinstance(value, str):
        return value
    found = value.get("id") if isinstance(value, Mapping) else getattr(value, "id", None)
    return str(found) if found else None


class StripeGateway:
    """Payments, refunds, transfers and Express payout accounts on Stripe."""

    name = "stripe"
    confirms_by_webhook = True  # a PaymentIntent counts as paid only on its signed webhook
    in_process = False

    def __init__(
        self,
        *,
        secret_key: str,
        api_base: str | None = None,
        max_network_retries: int = 2,
        http_client: Any = None,
    ) -> None:
        self.emulated = api_base is not None
        self.client = stripe.StripeClient(
            secret_key,
            base_addresses={"api": api_base} if api_base else {},
            max_network_retries=max_network_retries,
            http_client=http_client,
        )

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StripeGateway:
        """The gateway for an app's configuration (checked by `Config.validate`)."""
        return cls(
            secret_key=config["STRIPE_SECRET_KEY"],
            api_base=config.get("STRIPE_API_BASE"),
            max_network_retries=int(config["STRIPE_MAX_NETWORK_RETRIES"]),
        )

    def _call(self, what: str, call: Callable[[], T]) -> T:
        try:
            return call()
        except stripe.CardError:
            raise
        except (stripe.RateLimitError, stripe.APIConnectionError, stripe.APIError) as exc:
            log.warning("Stripe %s failed, will retry (request %s): %s", what, exc.request_id, exc)
            raise GatewayError(f"Stripe is unavailable ({type(exc).__name__}): {exc}") from exc
        except stripe.IdempotencyError as exc:  # the same key is still running at Stripe
            raise GatewayError(f"Stripe is still processing this request: {exc}") from exc
        except stripe.StripeError as exc:
            log.error("Stripe refused %s (request %s): %s", what, exc.request_id, exc)
            raise PermanentGatewayError(
                f"Stripe refused {what} (request {exc.request_id}): {exc.user_message or exc}"
            ) from exc

    def create_payment(
        self,
        *,
        amount: int,
        currency: str,
        idempotency_key: str,
        transfer_group: str,
        description: str,
        metadata: dict[str, str],
        payment_method: str | None = None,
        customer: str | None = None,
        off_session: bool = False,
    ) -> GatewayPayment:
        """A PaymentIntent on the platform account; confirmed at once with a payment method
        (`off_session` for a saved card of `customer`, the client being away)."""
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency,
            "metadata": metadata,
            "payment_method_types": ["card"],
        }
        if not self.emulated:
            params.update(transfer_group=transfer_group, description=description)
        if payment_method:
            params.update(payment_method=payment_method, confirm=True)
        if customer:
            params["customer"] = customer
        if off_session:
            params["off_session"] = True
        try:
            intent = self._call(
                "a payment",
                lambda: self.client.v1.payment_intents.create(
                    params=params,  # type: ignore[arg-type]
                    options={"idempotency_key": idempotency_key},
                ),
            )
        except stripe.CardError as exc:
            error = exc.error
            decline = (getattr(error, "decline_code", None) if error else None) or exc.code
            intent_id = object_id(error.payment_intent if error else None)
            raise PaymentFailed(
                f"The card was declined: {exc.user_message or decline}.",
                details={"decline_code": decline, "payment_intent": intent_id},
            ) from exc
        return self._payment(intent)

    def set_up_payment_method(
        self,
        *,
        customer_id: str | None,
        email: str | None,
        payment_method: str | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> PaymentSetup:
        """A Customer (once) and a SetupIntent for off-session use, confirmed with
        `payment_method` when one is given."""
        if customer_id is None:
            customer = self._call(
                "a customer",
                lambda: self.client.v1.customers.create(
                    params={"email": email, "metadata": metadata}
                    if email
                    else {"metadata": metadata},
                    options={"idempotency_key": f"{idempotency_key}-customer"},
                ),
            )
            customer_id = customer.id
        setup = self._call(
            "a card set-up",
            lambda: self.client.v1.setup_intents.create(
                params={  # type: ignore[arg-type]
                    "customer": customer_id,
                    "usage": "off_session",
                    "payment_method_types": ["card"],
                    "metadata": metadata,
                },
                options={"idempotency_key": idempotency_key},
            ),
        )
        if payment_method:
            try:
                setup = self._call(
                    "a card set-up",
                    lambda: self.client.v1.setup_intents.confirm(
                        setup.id, params={"payment_method": payment_method}
                    ),
                )
            except stripe.CardError as exc:
                raise PaymentFailed(
                    f"The card was declined: {exc.user_message or exc.code}.",
                    details={"decline_code": exc.code},
                ) from exc
        data = setup.to_dict()
        return PaymentSetup(
            customer_id=customer_id,
            setup_id=data["id"],
            status="succeeded" if data.get("status") == "succeeded" else "pending",
            client_secret=data.get("client_secret"),
            payment_method=object_id(data.get("payment_method"))
            if data.get("status") == "succeeded"
            else None,
        )

    @staticmethod
    def _payment(intent: Any) -> GatewayPayment:
        data = intent.to_dict()
        status = data.get("status")
        error = data.get("last_payment_error") or {}
        if status == "succeeded":
            state = "succeeded"
        elif status == "canceled":
            state = "failed"
        else:
            state = "pending"  # the frontend confirms it (requires_*), or it is processing
        return GatewayPayment(
            id=data["id"],
            status=state,
            client_secret=data.get("client_secret"),
            charge_id=object_id(data.get("latest_charge")),
            failure_code=error.get("decline_code") or error.get("code"),
            failure_message=error.get("message"),
        )

    def refund(
        self, *, payment_id: str, amount: int, idempotency_key: str, metadata: dict[str, str]
    ) -> GatewayResult:
        """A Refund of the PaymentIntent (`succeeded`, or `pending` until charge.refunded)."""
        refund = self._call(
            "a refund",
            lambda: self.client.v1.refunds.create(
                params={"payment_intent": payment_id, "amount": amount, "metadata": metadata},
                options={"idempotency_key": idempotency_key},
            ),
        )
        outcome = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}
        return GatewayResult(id=refund.id, status=outcome.get(refund.status or "", "pending"))

    def transfer(
        self,
        *,
        account_id: str,
        amount: int,
        currency: str,
        source_charge_id: str | None,
        transfer_group: str,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> GatewayResult:
        """A Transfer to the provider's connected account, from the funding charge."""
        params: dict[str, Any] = {
            "amount": amount,
            "currency": currency,
            "destination": account_id,
            "transfer_group": transfer_group,
            "metadata": metadata,
        }
        if source_charge_id:
            params["source_transaction"] = source_charge_id
        transfer = self._call(
            "a transfer",
            lambda: self.client.v1.transfers.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
        )
        return GatewayResult(id=transfer.id)

    def create_payout_account(
        self,
        *,
        email: str | None,
        country: str | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> PayoutAccount:
        """An Express connected account that can receive transfers."""
        params: dict[str, Any] = {
            "type": "express",
            "capabilities": {"transfers": {"requested": True}},
            "metadata": metadata,
        }
        if email:
            params["email"] = email
        if country:
            params["country"] = country
        account = self._call(
            "a payout account",
            lambda: self.client.v1.accounts.create(
                params=params,  # type: ignore[arg-type]
                options={"idempotency_key": idempotency_key},
            ),
        )
        enabled = bool(account.to_dict().get("payouts_enabled"))
        return PayoutAccount(id=account.id, payouts_enabled=enabled)

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        """A fresh Account Link for the Express onboarding (links expire within minutes)."""
        link = self._call(
            "an onboarding link",
            lambda: self.client.v1.account_links.create(
                params={
                    "account": account_id,
                    "refresh_url": refresh_url,
                    "return_url": return_url,
                    "type": "account_onboarding",
                }
            ),
        )
        return str(link.url)
