"""What the viewing user may do now with a bid, a contract or a milestone (`allowed_actions`).

Each answer joins the entity's state machine (which moves its status allows) with who may
make each move (the client's or the provider's people, and whether they commit their side:
an organization's agents talk but never commit it) and the few other conditions the
endpoint checks (an open task with a position free, an active contract, the provider's
payouts). The names are those of the endpoints, listed with them in BID_ACTIONS,
CONTRACT_ACTIONS and MILESTONE_ACTIONS; tests/test_allowed_actions.py calls every endpoint
in every state and checks that what is listed succeeds and what is not is refused.

Bids are answered here rather than in the bids area because awarding one depends on the
task's contracts (a position still free). Everything the rules read is loaded with the
entity (see the loader options of the lists) or asked once per task and transaction, so a
list costs no statement per item.
"""

from __future__ import annotations

import uuid
import weakref
from typing import Any

from sqlalchemy.orm import SessionTransaction

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.bids.models import Bid
from marketplace.bids.states import BID_STATES
from marketplace.contracts import services as contract_services
from marketplace.contracts.models import Contract, ContractStatus, Milestone, MilestoneKind
from marketplace.contracts.states import (
    CONTRACT_STATES,
    MILESTONE_ACTORS,
    MILESTONE_STATES,
)
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks.models import Task
from marketplace.tasks.states import TASK_STATES

#: A bid's actions, each the endpoint that performs it.
BID_ACTIONS: dict[str, str] = {
    "edit": "PATCH /bids/{id} (the bidder's people, while the bid is submitted)",
    "withdraw": "POST /bids/{id}/withdraw (the bidder's people, while the bid is live)",
    "shortlist": "POST /bids/{id}/shortlist (the task's client, a submitted bid)",
    "decline": "POST /bids/{id}/decline (the task's client, a live bid)",
    "award": "POST /bids/{id}/accept (the task's client, an owner or manager: a live bid "
    "on an open task with a position free)",
}

#: A contract's actions, each the endpoint that performs it.
CONTRACT_ACTIONS: dict[str, str] = {
    "accept": "POST /contracts/{id}/accept (the provider, an offer still open)",
    "decline": "POST /contracts/{id}/decline (the provider, an offer)",
    "pause": "POST /contracts/{id}/pause (the client, an active contract)",
    "resume": "POST /contracts/{id}/resume (the client, a paused contract)",
    "terminate": "POST /contracts/{id}/terminate (either party, active or paused)",
    "amend": "POST /contracts/{id}/amendments (either party, active or paused)",
    "extend": "POST /contracts/{id}/extend (the client, a completed pilot not yet extended)",
}

#: A milestone's actions, each the endpoint that performs it.
MILESTONE_ACTIONS: dict[str, str] = {
    "fund": "POST /milestones/{id}/fund (the client, a pending milestone of an active "
    "contract whose provider can receive payouts)",
    "submit": "POST /milestones/{id}/submit (the provider's people, a funded or sent-back "
    "milestone of an active contract)",
    "approve": "POST /milestones/{id}/approve (the client, a submitted milestone)",
    "request_changes": "POST /milestones/{id}/request-changes (the client, a submitted milestone)",
    "request_refund": "POST /milestones/{id}/refund-request (the client, a funded or "
    "sent-back milestone)",
    "approve_refund": "POST /milestones/{id}/refund-request/approve (the provider, a "
    "refund-requested milestone)",
    "dispute": "POST /milestones/{id}/dispute (either party: funded, submitted, sent back "
    "or refund-requested)",
}

#: Each bid action: the machine's move behind it, the side that takes it, and whether
#: only those who commit that side may (the bids services and the award flow check the same).
_BID_RULES: dict[str, tuple[str, str, bool]] = {
    "edit": ("edit", "provider", False),
    "withdraw": ("withdraw", "provider", False),
    "shortlist": ("shortlist", "client", False),
    "decline": ("decline", "client", False),
    "award": ("accept", "client", True),
}
_BID_MOVES = {action: move for action, (move, _, _) in _BID_RULES.items()}

#: Who may take each contract action (every contract endpoint signs for its side).
_CONTRACT_SIDES: dict[str, frozenset[str]] = {
    "accept": frozenset({"provider"}),
    "decline": frozenset({"provider"}),
    "pause": frozenset({"client"}),
    "resume": frozenset({"client"}),
    "terminate": frozenset({"client", "provider"}),
    "amend": frozenset({"client", "provider"}),
    "extend": frozenset({"client"}),
}

#: The contract machine's move (or guard) behind each contract action: the same names.
_CONTRACT_MOVES = {action: action for action in CONTRACT_ACTIONS}

#: The milestone machine's move behind each milestone action.
_MILESTONE_MOVES = {action: action for action in MILESTONE_ACTIONS} | {"approve_refund": "refund"}

#: Milestone actions any member of the provider's side may take (delivering work); the
#: others commit their side to money and need an individual, owner or manager.
_MILESTONE_ANY_MEMBER = frozenset({"submit"})

#: Milestone actions that need the contract active (the payments flows check it).
_MILESTONE_NEEDS_ACTIVE = frozenset({"fund", "submit"})

#: Per transaction, whether each task (by id) has a position free: a task's bids share it.
_POSITIONS_FREE: weakref.WeakKeyDictionary[SessionTransaction, dict[uuid.UUID, bool]] = (
    weakref.WeakKeyDictionary()
)


def _side(user: User, client: ClientProfile, provider: ProviderProfile) -> str | None:
    """`client` or `provider` for the people of either profile, else None. The profiles
    come from the entity's relationships (loaded with a list's rows, and kept by them), so
    a list asks nothing more per item, as `contracts.side_of` (which reads them by id)
    might once the session let them go."""
    if user.role == Role.CLIENT and permissions.speaks_for(user, client):
        return "client"
    if user.role == Role.PROVIDER and permissions.speaks_for(user, provider):
        return "provider"
    return None


def _state_actions(machine: Any, status: Any, moves: dict[str, str]) -> list[str]:
    """The actions of `moves` (action -> machine move) the machine allows from `status`."""
    allowed = set(machine.actions_from(status))
    return [action for action, move in moves.items() if move in allowed]


def position_free(task: Task) -> bool:
    """Whether the task has a position neither taken nor on offer (awarding needs one).
    Asked once per task and transaction, so every bid of a list shares the answer."""
    transaction = db.session().get_transaction()
    known = _POSITIONS_FREE.get(transaction) if transaction is not None else None
    if known is not None and task.id in known:
        return known[task.id]
    free = contract_services.positions_held(task) < task.positions
    transaction = db.session().get_transaction()  # the count began one at the latest
    if transaction is not None:
        _POSITIONS_FREE.setdefault(transaction, {})[task.id] = free
    return free


def bid_actions(bid: Bid, user: User) -> list[str]:
    """What `user` may do with the bid now: the bidder's people edit or withdraw it, the
    task's client shortlists, declines or awards it; admins and others nothing."""
    candidates = _state_actions(BID_STATES, bid.status, _BID_MOVES)
    if not candidates:
        return []
    side = _side(user, bid.task.client_profile, bid.provider_profile)
    if side is None:
        return []
    commits = permissions.commits(user)
    allowed = [
        action
        for action in candidates
        if _BID_RULES[action][1] == side and (commits or not _BID_RULES[action][2])
    ]
    if "award" in allowed and not (
        "award" in TASK_STATES.actions_from(bid.task.status) and position_free(bid.task)
    ):
        allowed.remove("award")
    return allowed


def _offer_open(contract: Contract) -> bool:
    """Whether accepting the offer can succeed: not past its date, and its task still
    takes awards (a pilot's extension needs no open task)."""
    if contract.offer_expires_at is not None and contract.offer_expires_at <= utcnow():
        return False
    return contract.pilot_of_id is not None or "award" in TASK_STATES.actions_from(
        contract.task.status
    )


def _extendable(contract: Contract) -> bool:
    """Whether the contract is a pilot (a trial task's) that no contract extends yet."""
    return contract.task.trial and contract.extension is None


def contract_actions(contract: Contract, user: User) -> list[str]:
    """What `user` may do with the contract now: the provider answers an offer; the client
    pauses, resumes or extends a pilot; either party terminates or proposes an amendment.
    Only those who commit their side (an individual, an owner or a manager)."""
    candidates = _state_actions(CONTRACT_STATES, contract.status, _CONTRACT_MOVES)
    if not candidates:
        return []
    side = _side(user, contract.client_profile, contract.provider_profile)
    if side is None or not permissions.commits(user):
        return []
    allowed = [action for action in candidates if side in _CONTRACT_SIDES[action]]
    if "accept" in allowed and not _offer_open(contract):
        allowed.remove("accept")
    if "extend" in allowed and not _extendable(contract):
        allowed.remove("extend")
    return allowed


def milestone_actions(milestone: Milestone, user: User) -> list[str]:
    """What `user` may do with the milestone now: the client funds, approves, sends back
    or asks for a refund; the provider delivers or agrees to a refund; either disputes.
    Moving money takes someone who commits their side; any member delivers work."""
    if milestone.kind != MilestoneKind.WORK:  # an hourly invoice's or a bonus: not the parties'
        return []
    candidates = _state_actions(MILESTONE_STATES, milestone.status, _MILESTONE_MOVES)
    if not candidates:
        return []
    contract = milestone.contract
    side = _side(user, contract.client_profile, contract.provider_profile)
    if side is None:
        return []
    commits = permissions.commits(user)
    allowed = [
        action
        for action in candidates
        if side in MILESTONE_ACTORS[_MILESTONE_MOVES[action]]
        and (commits or action in _MILESTONE_ANY_MEMBER)
    ]
    if contract.status != ContractStatus.ACTIVE:
        allowed = [action for action in allowed if action not in _MILESTONE_NEEDS_ACTIVE]
    if "fund" in allowed and not contract.provider_profile.receives_payouts:
        allowed.remove("fund")
    return allowed
