"""What every milestone flow shares: loading with row locks, who acts, recorded moves.

The milestone machine (`states.py`) says which moves exist and who may make them; `move` is
the one way a milestone changes status, for the money flows and the contract's own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from marketplace.accounts.models import Role, User
from marketplace.contracts import services as contracts
from marketplace.contracts.models import (
    Contract,
    ContractStatus,
    Milestone,
    MilestoneTransition,
)
from marketplace.contracts.states import MILESTONE_ACTORS, MILESTONE_STATES
from marketplace.database import lock_row
from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.notifications import services as notifications


@dataclass
class Locked:
    """A milestone and its contract, both row-locked for this transaction."""

    milestone: Milestone
    contract: Contract


def _lock(contract_id: uuid.UUID, milestone_id: uuid.UUID) -> Locked:
    # Always the contract first, then the milestone: one lock order, no deadlocks with
    # amendments (which lock the contract and change its milestones).
    contract = lock_row(Contract, contract_id)
    return Locked(milestone=lock_row(Milestone, milestone_id), contract=contract)


def lock(milestone_id: uuid.UUID) -> Locked:
    """A milestone and its contract, locked, for jobs and webhooks (no access check)."""
    contract_id = db.session.scalar(
        sa.select(Milestone.contract_id).where(Milestone.id == milestone_id)
    )
    if contract_id is None:
        raise NotFound("Milestone not found.")
    return _lock(contract_id, milestone_id)


def lock_for(user: User, milestone_id: uuid.UUID) -> Locked:
    """A milestone of a contract the user is party to (or an admin), locked; else 404."""
    contract_id = db.session.scalar(
        sa.select(Milestone.contract_id).where(Milestone.id == milestone_id)
    )
    if contract_id is None:
        raise NotFound("Milestone not found.")
    try:
        contracts.get_contract(user=user, contract_id=contract_id)
    except NotFound:
        raise NotFound("Milestone not found.") from None
    return _lock(contract_id, milestone_id)


def get_for(user: User, milestone_id: uuid.UUID) -> Milestone:
    """A milestone for its contract's parties and admins; anyone else gets NotFound."""
    milestone = db.session.get(Milestone, milestone_id)
    if milestone is None or not (user.is_admin or contracts.side_of(user, milestone.contract)):
        raise NotFound("Milestone not found.")
    return milestone


def acting_side(user: User, contract: Contract) -> str:
    """`client`, `provider` or `admin` for the contract's people (agents included) and
    admins; Forbidden for anyone else."""
    if user.role == Role.ADMIN:
        return "admin"
    found = contracts.side_of(user, contract)
    if found is None:
        raise Forbidden("Only the parties do this.")
    return found


def committing_side(user: User, contract: Contract) -> str:
    """`client`, `provider` or `admin` for those who may commit a side to money: an
    organization's agent is refused, only its owner and managers commit it."""
    if user.role == Role.ADMIN:
        return "admin"
    return contracts.signing_side(user, contract)


def allow(milestone: Milestone, action: str, *, side: str) -> None:
    """403 unless `side` may take the action; 409 unless the milestone's state allows it."""
    allowed = MILESTONE_ACTORS[action]
    if side not in allowed:
        who = " or ".join(sorted(allowed - {"system"})) or "marketplace"
        raise Forbidden(f"Only the {who} can {action.replace('_', ' ')} this milestone.")
    MILESTONE_STATES.target(action, milestone.status)


def move(
    milestone: Milestone, action: str, *, side: str, actor: User | None, reason: str | None = None
) -> None:
    """Apply a milestone action for `side` (checked as `allow` does), recording who and when."""
    allow(milestone, action, side=side)
    MILESTONE_STATES.apply(
        milestone,
        action,
        record=MilestoneTransition,
        actor_id=actor.id if actor else None,
        reason=reason,
    )


def require_contract(contract: Contract, *statuses: ContractStatus, doing: str) -> None:
    """Refuse (409) work on a contract that is not in one of `statuses`."""
    if contract.status not in statuses:
        raise Conflict(
            f"Cannot {doing} on a contract that is {contract.status.value}.",
            details={"contract_status": contract.status.value},
        )


def terms_value(contract: Contract, name: str) -> int:
    """A number fixed by the contract's terms (fee, auto-release days); the configuration
    only for contracts older than the setting."""
    value = contract.current_terms.content.get(name)
    return int(value if value is not None else current_app.config[name.upper()])


def tell(
    contract: Contract, milestone: Milestone, *, to: str, kind: str, subject: str, body: str
) -> None:
    """Notify one side (`client`, `provider`, `both`) or the admins about a milestone."""
    sides: dict[str, list[notifications.Recipients]] = {
        "admins": [notifications.admins()],
        "client": [contract.client_profile],
        "provider": [contract.provider_profile],
        "both": [contract.client_profile, contract.provider_profile],
    }
    recipients = sides[to]
    for recipient in recipients:
        notifications.tell(
            recipient,
            kind=kind,
            subject=f"{subject}: {milestone.title} ({contract.task.title})",
            body=body,
            contract_id=contract.id,
            milestone_id=milestone.id,
            task_id=contract.task_id,
        )


def cancel(milestone: Milestone, *, side: str, actor: User | None, reason: str) -> None:
    """Cancel an unfunded milestone for `side` (a party, or the system), recording why."""
    move(milestone, "cancel", side=side, actor=actor, reason=reason)
