"""The payment-gateway interface: what escrow flows may ask of a payment provider.

Escrow flows talk to a `PaymentGateway` only; `PAYMENTS=sandbox` (the embedded
default, no network) or `PAYMENTS=stripe` chooses the implementation.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from marketplace.errors import DomainError
from marketplace.jobs.outbox import PermanentFailure

log = logging.getLogger(__name__)


class GatewayError(Exception):
    """The gateway could not do it now (outage, rate limit): the outbox retries."""


class PermanentGatewayError(GatewayError, PermanentFailure):
    """The gateway refused a request that will never succeed as sent: no retry."""


class GatewayUnavailable(DomainError):
    """The payment gateway did not answer (or is busy): nothing was done, try again."""

    status = 503
    code = "gateway_unavailable"


class GatewayRefused(DomainError):
    """The payment gateway refused a request we made: our fault, logged for the team."""

    status = 502
    code = "gateway_error"


@contextmanager
def answered_in_the_api(what: str, *, nothing_done: str) -> Iterator[None]:
    """Gateway errors raised inside become the request's answer: a refusal (our request
    is wrong) is a 502, an outage, a rate limit or the gateway's own 5xx a 503; both are
    logged naming `what` (the gateway's message carries its request id). `nothing_done`
    tells the user what did not happen ("nothing was charged")."""
    try:
        yield
    except PermanentGatewayError as exc:
        log.error("Gateway refused %s: %s", what, exc)
        raise GatewayRefused(
            f"The payment provider refused this request; {nothing_done} and the "
            "marketplace's team has been told."
        ) from exc
    except GatewayError as exc:
        log.warning("Gateway did not take %s: %s", what, exc)
        raise GatewayUnavailable(
            f"The payment provider is not answering; {nothing_done}. Try again shortly."
        ) from exc


@dataclass(frozen=True)
class GatewayPayment:
    """A payment at the gateway: `succeeded`, `failed`, or still `pending` the client's
    confirmation (then `client_secret` lets the frontend confirm it)."""

    id: str
    status: str
    client_secret: str | None = None
    charge_id: str | None = None
    failure_code: str | None = None
    failure_message: str | None = None


@dataclass(frozen=True)
class GatewayResult:
    """A transfer or refund the gateway made (or accepted: `pending`)."""

    id: str
    status: str = "succeeded"
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PaymentSetup:
    """A card being saved for off-session charges: `succeeded` with its `payment_method`,
    or `pending` until the frontend confirms `client_secret` with Stripe.js."""

    customer_id: str
    setup_id: str
    status: str
    client_secret: str | None = None
    payment_method: str | None = None


@dataclass(frozen=True)
class PayoutAccount:
    """A provider's payout account at the gateway."""

    id: str
    payouts_enabled: bool


class PaymentGateway(Protocol):
    """What the escrow flows need from a payment provider.

    Every call carries an idempotency key derived from our own ids: the same key
    twice gives the same object back, so retries never pay or refund twice.
    """

    name: str
    #: True: a payment counts as made only when the gateway's signed webhook says so;
    #: False: the gateway's answer to `create_payment` is the confirmation.
    confirms_by_webhook: bool
    #: True: answers without the network (the sandbox), so it may be called inside a
    #: database transaction; False: every call may wait on the network.
    in_process: bool

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
        """Start collecting a milestone's amount from the client; with `payment_method`,
        charge it at once (a decline raises PaymentFailed). `off_session`: the client is
        not there (a saved card of `customer`, charged for an hourly invoice)."""

    def set_up_payment_method(
        self,
        *,
        customer_id: str | None,
        email: str | None,
        payment_method: str | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> PaymentSetup:
        """Save a card for off-session charges: a customer (made when `customer_id` is None)
        and a SetupIntent, confirmed at once with `payment_method` (a decline raises
        PaymentFailed) or left for Stripe.js to confirm."""

    def refund(
        self,
        *,
        payment_id: str,
        amount: int,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> GatewayResult:
        """Refund `amount` of a succeeded payment to the client."""

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
        """Send `amount` to a provider's payout account."""

    def create_payout_account(
        self,
        *,
        email: str | None,
        country: str | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> PayoutAccount:
        """Open a payout account for a provider."""

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        """A fresh link where the provider completes the payout account's onboarding."""
