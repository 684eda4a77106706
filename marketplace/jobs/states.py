"""The outbox entry state machine, as data."""

from __future__ import annotations

from marketplace.jobs.models import OutboxStatus as S
from marketplace.statemachine import StateMachine

#: Failed attempts before the last keep an entry pending (with its next attempt later).
OUTBOX_STATES = StateMachine(
    "outbox entry",
    {
        "send": ([S.PENDING], S.SENT),
        "fail": ([S.PENDING], S.FAILED),
        "retry": ([S.FAILED], S.PENDING),  # an admin sends it round again
    },
    refusals={"retry": "Only failed entries are retried."},
)
