"""The contract state machine (docs/design.md), as data."""

from __future__ import annotations

from marketplace.contracts.models import AmendmentStatus
from marketplace.contracts.models import ContractStatus as S
from marketplace.contracts.models import MilestoneStatus as M
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
        "decline": ([AmendmentStatus.PROPOSED], AmendmentStatus.DECLINED),
        "withdraw": ([AmendmentStatus.PROPOSED], AmendmentStatus.WITHDRAWN),
        "lapse": ([AmendmentStatus.PROPOSED], AmendmentStatus.LAPSED),
    },
)

#: The milestone machine of docs/design.md: the escrow unit's life, from funding to payout.
MILESTONE_STATES = StateMachine(
    "milestone",
    {
        "cancel": ([M.PENDING], M.CANCELLED),
        "fund": ([M.PENDING], M.FUNDED),
        "submit": ([M.FUNDED, M.CHANGES_REQUESTED], M.SUBMITTED),
        "approve": ([M.SUBMITTED], M.RELEASED),
        "auto_release": ([M.SUBMITTED], M.RELEASED),
        "request_changes": ([M.SUBMITTED], M.CHANGES_REQUESTED),
        "request_refund": ([M.FUNDED, M.CHANGES_REQUESTED], M.REFUND_REQUESTED),
        "refund": ([M.REFUND_REQUESTED], M.REFUNDED),
        "dispute": ([M.FUNDED, M.SUBMITTED, M.CHANGES_REQUESTED, M.REFUND_REQUESTED], M.DISPUTED),
        "resolve": ([M.DISPUTED], M.RESOLVED),
        # An hourly invoice's hours or a bonus: out of escrow once its time comes.
        "release": ([M.FUNDED], M.RELEASED),
    },
    guards={"amend": [M.PENDING]},
)

#: Who may take each milestone action: the contract's sides, an admin, or the system
#: (periodic jobs; never a request).
MILESTONE_ACTORS: dict[str, frozenset[str]] = {
    "cancel": frozenset({"client", "provider", "system"}),
    "fund": frozenset({"client", "system"}),  # system: hourly invoices, bonuses
    "submit": frozenset({"provider"}),
    "approve": frozenset({"client"}),
    "auto_release": frozenset({"system"}),
    "request_changes": frozenset({"client"}),
    "request_refund": frozenset({"client", "system"}),
    "refund": frozenset({"provider", "system"}),
    "dispute": frozenset({"client", "provider", "system"}),  # system: chargebacks, aging
    "resolve": frozenset({"admin"}),
    "release": frozenset({"system"}),
}

#: Contracts still in play: offered, running or paused.
CONTRACT_LIVE = (S.OFFERED, S.ACTIVE, S.PAUSED)
#: Contracts under way: the provider works (or will again) on their terms.
RUNNING = (S.ACTIVE, S.PAUSED)
#: Contracts the provider accepted: each fills one of the task's positions.
ACCEPTED = (S.ACTIVE, S.PAUSED, S.COMPLETED)
#: Contracts that hold one of the task's positions.
HOLDING = (
    S.OFFERED,
    S.ACTIVE,
    S.PAUSED,
    S.COMPLETED,
)
#: Milestones that are done: a contract whose milestones all are is completed.
SETTLED = (
    M.RELEASED,
    M.CANCELLED,
    M.REFUNDED,
    M.RESOLVED,
)
#: Milestones whose money is in escrow: a contract's escrow balance is their sum.
IN_ESCROW = (
    M.FUNDED,
    M.SUBMITTED,
    M.CHANGES_REQUESTED,
    M.REFUND_REQUESTED,
    M.DISPUTED,
)
