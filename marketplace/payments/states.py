"""The state machines of payments, transfers, refunds, refund requests, disputes, webhook
events and idempotency keys, as data, with the named sets of their statuses."""

from __future__ import annotations

from marketplace.payments.models import DisputeStatus as D
from marketplace.payments.models import EventStatus as E
from marketplace.payments.models import IdempotencyStatus as K
from marketplace.payments.models import PaymentStatus as P
from marketplace.payments.models import RefundStatus as R
from marketplace.payments.models import RequestStatus as Q
from marketplace.payments.models import TransferStatus as T
from marketplace.statemachine import StateMachine

#: A payment at the gateway; the gateway's word (its answer, or its webhook) moves it.
PAYMENT_STATES = StateMachine(
    "payment",
    {
        # A failure, then a success: the client retried the same intent with another card.
        "succeed": ([P.PENDING, P.FAILED], P.SUCCEEDED),
        # A failure reported after a success (out-of-order delivery) changes nothing.
        "fail": ([P.PENDING], P.FAILED),
    },
)

TRANSFER_STATES = StateMachine(
    "transfer",
    {
        "pay": ([T.PENDING], T.PAID),
        # Stripe reports each reversal with the running total, so a reversed transfer can
        # be reversed further.
        "reverse": ([T.PAID, T.REVERSED], T.REVERSED),
    },
)

REFUND_STATES = StateMachine(
    "refund",
    {
        "succeed": ([R.PENDING], R.SUCCEEDED),
        "fail": ([R.PENDING], R.FAILED),
    },
)

#: A client's request to cancel a funded milestone, answered once.
REFUND_REQUEST_STATES = StateMachine(
    "refund request",
    {
        "approve": ([Q.OPEN], Q.APPROVED),
        "lapse": ([Q.OPEN], Q.LAPSED),
        "dispute": ([Q.OPEN], Q.DISPUTED),
    },
)

#: A dispute waits for an admin's split; the parties add evidence while it is open.
DISPUTE_STATES = StateMachine(
    "dispute",
    {"resolve": ([D.OPEN], D.RESOLVED)},
    guards={"add_evidence": [D.OPEN]},
    refusals={"add_evidence": "The dispute is resolved: it takes no more evidence."},
)

#: A stored Stripe event: applied once, or ignored when no handler acts on its type.
EVENT_STATES = StateMachine(
    "webhook event",
    {
        "process": ([E.RECEIVED], E.PROCESSED),
        "ignore": ([E.RECEIVED], E.IGNORED),
    },
)

IDEMPOTENCY_STATES = StateMachine(
    "idempotency key",
    {
        # A stale key taken over by a retry may be completed by both runs: the answer
        # stored last is the one replayed.
        "complete": ([K.IN_PROGRESS, K.COMPLETED], K.COMPLETED),
    },
)

#: Money released to a provider that the gateway has not sent: still owed to them.
TRANSFER_UNSENT = frozenset({T.PENDING, T.FAILED})
#: Money owed back to a client that the gateway has not refunded: still owed to them.
REFUND_UNSENT = frozenset({R.PENDING, R.FAILED})
