"""Payment gateways: the interface (`base`), the sandbox and Stripe; one is chosen per app."""

from __future__ import annotations

from flask import Flask, current_app

from marketplace.payments.gateways.base import PaymentGateway
from marketplace.payments.gateways.sandbox import SandboxGateway
from marketplace.payments.gateways.stripe import StripeGateway


def init_app(app: Flask) -> None:
    """Create the configured gateway once per app."""
    if app.config["PAYMENTS"] == "stripe":
        app.extensions["payment_gateway"] = StripeGateway.from_config(app.config)
    else:
        app.extensions["payment_gateway"] = SandboxGateway()


def gateway() -> PaymentGateway:
    """The app's payment gateway."""
    configured: PaymentGateway = current_app.extensions["payment_gateway"]
    return configured
