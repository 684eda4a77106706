"""The weekly invoice's state machine, as data."""

from __future__ import annotations

from marketplace.hourly.models import InvoiceStatus as I
from marketplace.statemachine import StateMachine

#: A week's invoice: reviewed by the client, charged (again after a decline), paid into
#: escrow, released to the provider after the security period.
INVOICE_STATES = StateMachine(
    "invoice",
    {
        "charge": ([I.IN_REVIEW, I.PAYMENT_FAILED], I.CHARGING),
        "decline": ([I.CHARGING], I.PAYMENT_FAILED),
        "pay": ([I.CHARGING], I.PAID),
        "release": ([I.PAID], I.RELEASED),
    },
    guards={"dispute": [I.IN_REVIEW]},
)
