"""The contract state machine (design.md), as data."""

from __future__ import annotations

from marketplace.contracts.models import ContractStatus as S
from marketplace.statemachine import StateMachine

CONTRACT_STATES = StateMachine(
    "contract",
    {
        "accept": ([S.OFFERED], S.ACTIVE),
        "decline": ([S.OFFERED], S.DECLINED),
        "expire": ([S.OFFERED], S.EXPIRED),
        "pause": ([S.ACTIVE], S.PAUSED),
        "resume": ([S.PAUSED], S.ACTIVE),
        "terminate": ([S.ACTIVE, S.PAUSED], S.TERMINATED),
        "complete": ([S.ACTIVE], S.COMPLETED),
    },
    guards={"amend": [S.ACTIVE, S.PAUSED], "extend": [S.COMPLETED]},
)
