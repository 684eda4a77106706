"""What every milestone flow shares: loading with row locks, who acts, recorded moves.

The milestone machine (`states.py`) says which moves exist and who may make them; `move` is
the one way a milestone changes status, for the money flows and the contract's own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, contains_eager, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.interfaces import ORMOption

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.contracts import services as contracts
from marketplace.contracts.models import (
    Contract,
    ContractStatus,
    Milestone,
    MilestoneKind,
    MilestoneTransition,
)
from marketplace.contracts.states import MILESTONE_ACTORS, MILESTONE_STATES, SETTLED
from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.inputs import Money
from marketplace.notifications import services as notifications
from marketplace.profiles import services as profiles
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Task


@dataclass
class Locked:
    """A milestone and its contract, both row-locked for this transaction, with what the
    flows read about them loaded too: the parties' profiles and the people who act for each
    (whom notifications go to) and the task's title. `lock_for` also says on which side its
    user acts and whether they may commit that side. Locked `settling`, the contract's terms
    are loaded too, and `open_siblings` counts its other milestones not settled yet."""

    milestone: Milestone
    contract: Contract
    side: str = "system"
    commits: bool = True
    open_siblings: int | None = None

    def committing_side(self) -> str:
        """The user's side, for those who may commit it to money: an organization's agent
        is refused (403), only its owner and managers commit it."""
        if not self.commits:
            raise Forbidden("Only the organization's owner or managers commit it to terms.")
        return self.side


#: The side a user of each role acts on, and how a contract names that side's profile.
_SIDES = {
    Role.CLIENT: ("client", Contract.client_profile_id, permissions.acting_client_profile_id),
    Role.PROVIDER: (
        "provider",
        Contract.provider_profile_id,
        permissions.acting_provider_profile_id,
    ),
}


def _side_of(user: User | None) -> tuple[str, list[sa.ColumnElement[bool]]]:
    """The side `user` acts on and the condition their contracts meet (none for admins and
    the system)."""
    if user is None:
        return "system", []
    if user.role == Role.ADMIN:
        return "admin", []
    side, profile_id, acting_profile_id = _SIDES[user.role]
    return side, [profile_id == acting_profile_id(user.id)]


def _open_siblings() -> sa.ScalarSelect[int]:
    other = aliased(Milestone)
    return (
        sa.select(sa.func.count())
        .where(
            other.contract_id == Milestone.contract_id,
            other.id != Milestone.id,
            other.status.not_in(SETTLED),
        )
        .scalar_subquery()
    )


#: A user's membership that was not loaded (so `_lock` leaves it so).
_NOT_LOADED: Any = object()


def _lock(user: User | None, milestone_id: uuid.UUID, *, settling: bool) -> Locked:
    """Lock the milestone and its contract: the contract first, then the milestone, one lock
    order for every flow, so none deadlocks with amendments (which lock the contract and
    change its milestones). For `user`, only a milestone of a contract they are party to
    (an admin: any): who they act for is checked in the statement that locks, so no other
    party's rows are locked, and whether they commit their side is read with it.

    One statement locks both rows and loads what the flows read about them; the locked rows
    come back afresh even when it waited for the lock, the others as they were when it
    started. Settling flows also read the contract's other milestones and its terms, which
    someone holding the lock may have changed while this waited: so the contract is locked
    by a statement of its own first, and everything is read after it."""
    side, conditions = _side_of(user)
    commits = permissions.commits_clause(user.id) if user else sa.true()
    membership = _NOT_LOADED
    if user is not None and "membership" not in sa.inspect(user).unloaded:
        membership = user.membership
    if settling:
        contract_id = db.session.scalar(
            sa.select(Contract.id)
            .join(Milestone, Milestone.contract_id == Contract.id)
            .where(Milestone.id == milestone_id, *conditions)
            .with_for_update(of=Contract)
        )
        if contract_id is None:
            raise NotFound("Milestone not found.")
    contract_options = [
        joinedload(Contract.task, innerjoin=True).load_only(Task.title, Task.status).lazyload("*"),
        joinedload(Contract.client_profile, innerjoin=True).options(
            *permissions.with_people(ClientProfile)
        ),
        joinedload(Contract.provider_profile, innerjoin=True).options(
            *permissions.with_people(ProviderProfile)
        ),
    ]
    if settling:
        contract_options.append(joinedload(Contract.terms))
    row = (
        db.session.execute(
            sa.select(Milestone, commits, _open_siblings() if settling else sa.null())
            .join(Milestone.contract)
            .where(Milestone.id == milestone_id, *conditions)
            .options(contains_eager(Milestone.contract).options(*contract_options))
            .with_for_update(of=[Milestone] if settling else [Contract, Milestone])
            .execution_options(populate_existing=True)
        )
        .unique()
        .one_or_none()
    )
    if row is None:
        raise NotFound("Milestone not found.")
    if user is not None and membership is not _NOT_LOADED:
        # Reading the parties' people afresh left the user's own membership unloaded;
        # it has not changed, and the answer asks it again (`allowed_actions`).
        set_committed_value(user, "membership", membership)
    milestone, may_commit, open_siblings = row
    return Locked(
        milestone=milestone,
        contract=milestone.contract,
        side=side,
        commits=bool(may_commit),
        open_siblings=open_siblings,
    )


def lock(milestone_id: uuid.UUID, *, settling: bool = False) -> Locked:
    """A milestone and its contract, locked, for jobs and webhooks (no access check)."""
    return _lock(None, milestone_id, settling=settling)


def lock_for(user: User, milestone_id: uuid.UUID, *, settling: bool = False) -> Locked:
    """A milestone of a contract the user is party to (or an admin), locked; else 404."""
    return _lock(user, milestone_id, settling=settling)


def settle(locked: Locked, *, actor: User | None) -> None:
    """The locked milestone's money left escrow: complete the contract when it was the
    last one open. Needs the milestone locked `settling`."""
    assert locked.open_siblings is not None, "lock the milestone with settling=True"
    if locked.open_siblings == 0 and locked.milestone.status in SETTLED:
        contracts.complete(locked.contract, actor=actor)


def next_position(contract_id: uuid.UUID) -> int:
    """The position a milestone added to the contract now takes: after all the others."""
    last = db.session.scalar(
        sa.select(sa.func.max(Milestone.position)).where(Milestone.contract_id == contract_id)
    )
    return (last or 0) + 1


def summary_options() -> tuple[ORMOption, ...]:
    """What `MilestoneSchema` shows of a milestone besides its row, to load with it in one
    statement: its contract with the task (named) and both parties with their names."""
    return (
        joinedload(Milestone.contract, innerjoin=True).options(
            joinedload(Contract.task, innerjoin=True).options(*tasks.summary_options()),
            joinedload(Contract.client_profile, innerjoin=True).options(
                *profiles.party_options(ClientProfile)
            ),
            joinedload(Contract.provider_profile, innerjoin=True).options(
                *profiles.party_options(ProviderProfile)
            ),
        ),
    )


def get_for(user: User, milestone_id: uuid.UUID) -> Milestone:
    """A milestone for its contract's parties and admins; anyone else gets NotFound."""
    milestone = db.session.get(Milestone, milestone_id, options=summary_options())
    if milestone is None or not (user.is_admin or contracts.side_of(user, milestone.contract)):
        raise NotFound("Milestone not found.")
    return milestone


def committing_side(user: User, contract: Contract) -> str:
    """`client`, `provider` or `admin` for those who may commit a side to money: an
    organization's agent is refused, only its owner and managers commit it."""
    if user.role == Role.ADMIN:
        return "admin"
    return contracts.signing_side(user, contract)


def allow(milestone: Milestone, action: str, *, side: str) -> None:
    """403 unless `side` may take the action; 409 unless the milestone's state allows it."""
    allowed = MILESTONE_ACTORS[action]
    if milestone.kind != MilestoneKind.WORK and side in ("client", "provider"):
        raise Conflict(
            f"This milestone is an hourly contract's {milestone.kind.value}: the marketplace "
            "moves it (invoices are disputed through their own endpoint).",
            details={"kind": milestone.kind.value},
        )
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


def tell(contract: Contract, milestone: Milestone, *, to: str, email: str, **context: Any) -> None:
    """Notify one side (`client`, `provider`, `both`) or the admins about a milestone with
    e-mail `email` (marketplace.jobs.emails): its templates get the task's and milestone's
    titles, the milestone's `amount` and `context`."""
    sides: dict[str, list[notifications.Recipients]] = {
        "client": [contract.client_profile],
        "provider": [contract.provider_profile],
        "both": [contract.client_profile, contract.provider_profile],
    }
    recipients = [notifications.admins()] if to == "admins" else sides[to]
    for recipient in recipients:
        notifications.tell(
            recipient,
            email=email,
            context={
                "task_title": contract.task.title,
                "milestone_title": milestone.title,
                "amount": Money(milestone.amount, milestone.currency),
                **context,
            },
            contract_id=contract.id,
            milestone_id=milestone.id,
            task_id=contract.task_id,
        )


def cancel(milestone: Milestone, *, side: str, actor: User | None, reason: str) -> None:
    """Cancel an unfunded milestone for `side` (a party, or the system), recording why."""
    move(milestone, "cancel", side=side, actor=actor, reason=reason)
