"""The sandbox gateway: no network, every payment succeeds at once.

Ids are derived from the idempotency keys, so a retried call returns the same
object, as Stripe does; nothing is kept in memory, so the web process and the
job worker agree.
"""

from __future__ import annotations

import hashlib

from marketplace.errors import PaymentFailed
from marketplace.payments.gateways.base import (
    GatewayPayment,
    GatewayResult,
    PaymentSetup,
    PayoutAccount,
)

#: Stripe's test card that saves but declines every charge: the sandbox declines it too,
#: so the declined-charge path can be tried without Stripe.
DECLINING_CARD = "pm_card_chargeCustomerFail"


def _id(prefix: str, idempotency_key: str) -> str:
    return f"{prefix}_sbx_{hashlib.sha256(idempotency_key.encode()).hexdigest()[:24]}"


class SandboxGateway:
    """Payments succeed, transfers and refunds are done, payout accounts are enabled."""

    name = "sandbox"
    confirms_by_webhook = False
    in_process = True

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
        """A payment that has already succeeded (declined with `DECLINING_CARD`)."""
        if payment_method == DECLINING_CARD:
            raise PaymentFailed(
                "The card was declined: card_declined.",
                details={"decline_code": "card_declined", "payment_intent": None},
            )
        return GatewayPayment(
            id=_id("pi", idempotency_key),
            status="succeeded",
            charge_id=_id("ch", idempotency_key),
        )

    def set_up_payment_method(
        self,
        *,
        customer_id: str | None,
        email: str | None,
        payment_method: str | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> PaymentSetup:
        """A card saved at once (Stripe's test Visa when none is named)."""
        return PaymentSetup(
            customer_id=customer_id or _id("cus", idempotency_key),
            setup_id=_id("seti", idempotency_key),
            status="succeeded",
            payment_method=payment_method or "pm_card_visa",
        )

    def refund(
        self, *, payment_id: str, amount: int, idempotency_key: str, metadata: dict[str, str]
    ) -> GatewayResult:
        """A refund that is done."""
        return GatewayResult(id=_id("re", idempotency_key))

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
        """A transfer that is done."""
        return GatewayResult(id=_id("tr", idempotency_key))

    def create_payout_account(
        self,
        *,
        email: str | None,
        country: str | None,
        idempotency_key: str,
        metadata: dict[str, str],
    ) -> PayoutAccount:
        """An account whose payouts are enabled at once."""
        return PayoutAccount(id=_id("acct", idempotency_key), payouts_enabled=True)

    def onboarding_link(self, *, account_id: str, refresh_url: str, return_url: str) -> str:
        """No onboarding to do: straight back to the frontend."""
        return return_url
