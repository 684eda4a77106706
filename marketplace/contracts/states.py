"""The contract state machine (design.md), as data."""

from __future__ import annotations

from marketplace.contracts.models import AmendmentStatus, MilestoneStatus
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

AMENDMENT_STATES = StateMachine(
    "amendment",
    {
        "accept": ([AmendmentStatus.PROPOSED], AmendmentStatus.ACCEPTED),
        "lapse": ([AmendmentStatus.PROPOSED], AmendmentStatus.LAPSED),
    },
)

#: The milestone machine of design.md; this issue only cancels unfunded milestones, the
#: payment flows add funding, submission, release, refunds and disputes.
MILESTONE_STATES = StateMachine(
    "milestone",
    {"cancel": ([MilestoneStatus.PENDING], MilestoneStatus.CANCELLED)},
    guards={"amend": [MilestoneStatus.PENDING]},
)
