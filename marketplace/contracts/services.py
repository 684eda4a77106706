"""Contract rules: award, offer, acceptance, the lifecycle, completion and pilots."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import contains_eager, joinedload, selectinload
from sqlalchemy.orm.interfaces import ORMOption

from marketplace import audit, permissions
from marketplace.accounts.models import Role, User
from marketplace.bids.inputs import MilestoneProposal, foreign_currency_errors
from marketplace.contracts.models import (
    Contract,
    ContractStatus,
    ContractTerms,
    ContractTransition,
    Milestone,
    MilestoneStatus,
)
from marketplace.contracts.states import CONTRACT_STATES, HOLDING, SETTLED
from marketplace.database import utcnow
from marketplace.errors import BusinessRuleViolation, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.notifications import services as notifications
from marketplace.profiles import services as profiles
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Task


def transition(
    contract: Contract, action: str, *, actor: User | None, reason: str | None = None
) -> None:
    """Apply a state-machine action to the contract and record who, when and why."""
    CONTRACT_STATES.apply(
        contract,
        action,
        record=ContractTransition,
        actor_id=actor.id if actor else None,
        reason=reason,
    )


def side_of(user: User, contract: Contract) -> str | None:
    """`client` or `provider` for the parties' people; None for anyone else."""
    if permissions.acts_for_client(user, contract.client_profile_id):
        return "client"
    if permissions.acts_for_provider(user, contract.provider_profile_id):
        return "provider"
    return None


def summary_options() -> tuple[ORMOption, ...]:
    """What `ContractSchema` shows of a contract besides its row, to load with it (a page of
    contracts: a bounded number of statements whatever its size): its task (named), both
    parties with their names, its milestones (and the amounts summed from them) and its
    terms versions (the one in force)."""
    return (
        joinedload(Contract.task, innerjoin=True).options(*tasks.summary_options()),
        joinedload(Contract.client_profile, innerjoin=True).options(
            *profiles.party_options(ClientProfile)
        ),
        joinedload(Contract.provider_profile, innerjoin=True).options(
            *profiles.party_options(ProviderProfile)
        ),
        selectinload(Contract.milestones),
        selectinload(Contract.terms),
    )


def get_contract(
    *,
    user: User,
    contract_id: uuid.UUID,
    lock: bool = False,
    load: Sequence[ORMOption] | None = None,
) -> Contract:
    """A contract for its parties and admins; anyone else gets NotFound. Read, it comes
    with what its payload shows (`summary_options`) unless `load` says what to load;
    locked, with what `load` says only (its row alone is locked)."""
    stmt = sa.select(Contract).where(Contract.id == contract_id)
    if lock:
        stmt = stmt.with_for_update(of=Contract).options(*(load or ()))
    else:
        stmt = stmt.options(*(summary_options() if load is None else load))
    contract = db.session.scalar(stmt)
    if contract is None or not (user.is_admin or side_of(user, contract)):
        raise NotFound("Contract not found.")
    return contract


def signing_side(user: User, contract: Contract) -> str:
    """The side the user may commit: an individual, or an organization's owner or manager
    (agents of a firm or company read and write messages, but do not sign)."""
    side = side_of(user, contract)
    if side is None:
        raise Forbidden("Only the parties do this.")
    permissions.require_commits(
        user, "Only the organization's owner or managers commit it to terms."
    )
    return side


def terms_query(*, user: User, contract_id: uuid.UUID) -> sa.Select[ContractTerms]:
    """Every terms version of a contract its parties (and admins) may read, oldest first."""
    contract = get_contract(user=user, contract_id=contract_id)
    return (
        sa.select(ContractTerms)
        .where(ContractTerms.contract_id == contract.id)
        .order_by(ContractTerms.version)
    )


def require_side(user: User, contract: Contract, side: str) -> None:
    """Refuse (403) unless the user signs for `side` (`client` or `provider`) of the contract."""
    if signing_side(user, contract) != side:
        raise Forbidden(f"Only the {side} does this.")


def contracts_query(*, user: User, status: ContractStatus | None = None) -> sa.Select[Contract]:
    """The contracts of the client or provider the user acts for, newest first, with what
    their payload and `allowed_actions` read loaded with them."""
    stmt = (
        sa.select(Contract)
        .order_by(Contract.created_at.desc(), Contract.id.desc())
        .options(*allowed_actions_options())
    )
    if user.role == Role.CLIENT:
        stmt = stmt.where(Contract.client_profile_id == permissions.acting_client_profile(user).id)
    elif user.role == Role.PROVIDER:
        stmt = stmt.where(
            Contract.provider_profile_id == permissions.acting_provider_profile(user).id
        )
    if status is not None:
        stmt = stmt.where(Contract.status == status)
    return stmt


def my_milestones_query(
    *,
    user: User,
    statuses: Sequence[MilestoneStatus] = (),
    due_after: date | None = None,
    due_before: date | None = None,
    contract_id: uuid.UUID | None = None,
) -> sa.Select[Milestone]:
    """The milestones of the contracts the user is a party to (for the client or provider
    they act for, either side), each with its contract and task; by due date (none last),
    then creation. `due_after` and `due_before` are inclusive and leave out milestones
    without a due date. Admins are no party: an empty list."""
    stmt = (
        sa.select(Milestone)
        .join(Milestone.contract)
        .options(
            # The contract joined for the filters, with what `MilestoneSchema` names: the
            # task and both parties (the counterparty).
            contains_eager(Milestone.contract).options(
                joinedload(Contract.task, innerjoin=True).options(*tasks.summary_options()),
                joinedload(Contract.client_profile, innerjoin=True).options(
                    *profiles.party_options(ClientProfile)
                ),
                joinedload(Contract.provider_profile, innerjoin=True).options(
                    *profiles.party_options(ProviderProfile)
                ),
            )
        )
        .order_by(
            Milestone.due_date.is_(None),
            Milestone.due_date,
            Milestone.created_at,
            Milestone.position,
            Milestone.id,
        )
    )
    if user.role == Role.CLIENT:
        stmt = stmt.where(
            Contract.client_profile_id == permissions.acting_client_profile_id(user.id)
        )
    elif user.role == Role.PROVIDER:
        stmt = stmt.where(
            Contract.provider_profile_id == permissions.acting_provider_profile_id(user.id)
        )
    else:
        return stmt.where(sa.false())
    if statuses:
        stmt = stmt.where(Milestone.status.in_(statuses))
    if due_after is not None:
        stmt = stmt.where(Milestone.due_date >= due_after)
    if due_before is not None:
        stmt = stmt.where(Milestone.due_date <= due_before)
    if contract_id is not None:
        stmt = stmt.where(Milestone.contract_id == contract_id)
    return stmt


def allowed_actions_options() -> list[ORMOption]:
    """Loader options that bring in, with a page of contracts, what its answer reads beyond
    their rows, in a statement per relation rather than per contract: their milestones and
    terms, and what `contracts.actions` reads (the task, both parties' profiles, a
    pilot's extension)."""
    return [*summary_options(), selectinload(Contract.extension).lazyload("*")]


def tell(to: notifications.Recipients, contract: Contract, email: str, **context: Any) -> None:
    """Notify about a contract with e-mail `email` (marketplace.jobs.emails), its task's
    title and `context` in the templates."""
    notifications.tell(
        to,
        email=email,
        context={"task_title": contract.task.title, **context},
        contract_id=contract.id,
        task_id=contract.task_id,
    )


def positions_held(task: Task) -> int:
    """How many of the task's positions a contract takes or has on offer."""
    count = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Contract)
        .where(Contract.task_id == task.id, Contract.status.in_(HOLDING))
    )
    return count or 0


def add_milestones(contract: Contract, items: Sequence[MilestoneProposal], currency: str) -> None:
    """Append the milestones `items` describe, numbered from 1, in the contract's currency."""
    for position, item in enumerate(items, start=1):
        contract.milestones.append(
            Milestone(
                position=position,
                title=item.title,
                description=item.description,
                amount=item.amount,
                currency=currency,
                due_date=item.due_date,
            )
        )


def check_milestones(
    task: Task, items: Sequence[MilestoneProposal], *, total: int | None, currency: str
) -> None:
    """A contract's milestones: in its currency, at least one, due by the deadline, adding
    up to a fixed price; a pilot's is a single one within the trial cap. Raises a 422
    otherwise."""
    foreign = foreign_currency_errors(items, currency)
    if foreign:
        raise BusinessRuleViolation(
            "The milestones must be in the contract's currency.", details={"milestones": foreign}
        )
    errors = []
    if any(item.due_date and item.due_date > task.deadline for item in items):
        errors.append("A milestone is due after the task's deadline.")
    if not items:
        errors.append(
            "A contract needs at least one milestone: give them in the accept body "
            "when the bid has none (hourly bids)."
        )
    if total is not None and items and sum(i.amount for i in items) != total:
        errors.append("The milestones must add up to the agreed price.")
    if task.trial:
        cap = current_app.config["TRIAL_BUDGET_CAPS"].get(task.currency)
        if len(items) != 1:
            errors.append("A pilot (trial) contract has a single milestone.")
        elif cap is not None and items[0].amount > cap:
            errors.append(f"A pilot costs at most {cap} (minor units).")
    if errors:
        raise BusinessRuleViolation("The milestones are not valid.", details={"milestones": errors})


def pause(*, user: User, contract_id: uuid.UUID, reason: str | None) -> Contract:
    """The client pauses an active contract."""
    contract = get_contract(user=user, contract_id=contract_id, lock=True)
    require_side(user, contract, "client")
    transition(contract, "pause", actor=user, reason=reason)
    tell(contract.provider_profile, contract, "contract.paused", reason=reason)
    db.session.commit()
    return contract


#: How the parties' e-mails name an admin who acts on their contract ("ended by the ...").
MODERATORS = "marketplace's moderators"


def moderation_reason(admin: User, reason: str) -> str:
    """The reason of an admin's action on a contract, stripped: Forbidden for anyone but an
    admin, a 422 when it is blank (the parties are told it)."""
    if not admin.is_admin:
        raise Forbidden("Only admins do this.")
    reason = (reason or "").strip()
    if len(reason) < 3:
        raise BusinessRuleViolation(
            "Give the reason the parties will read.",
            details={"reason": ["At least 3 characters."]},
        )
    return reason


def record_moderation(admin: User, contract: Contract, action: str, reason: str) -> None:
    """Record an admin's action on a contract in the audit log, in the caller's transaction."""
    audit.record(
        actor=admin,
        action=f"contract.{action}",
        target_type="contract",
        target_id=contract.id,
        details={"reason": reason, "status": contract.status.value},
    )


def pause_for_moderation(*, admin: User, contract_id: uuid.UUID, reason: str) -> Contract:
    """An admin pauses an active contract (one of its parties is suspended, say): recorded
    in the audit log, and both parties are told why. A blank reason is a 422, a contract
    that is not active a 409."""
    reason = moderation_reason(admin, reason)
    contract = get_contract(user=admin, contract_id=contract_id, lock=True)
    transition(contract, "pause", actor=admin, reason=reason)
    record_moderation(admin, contract, "pause", reason)
    for side in (contract.client_profile, contract.provider_profile):
        tell(side, contract, "contract.paused", reason=reason, side=MODERATORS)
    db.session.commit()
    return contract


def resume(*, user: User, contract_id: uuid.UUID) -> Contract:
    """The client resumes a paused contract."""
    contract = get_contract(user=user, contract_id=contract_id, lock=True)
    require_side(user, contract, "client")
    transition(contract, "resume", actor=user)
    tell(contract.provider_profile, contract, "contract.resumed")
    db.session.commit()
    return contract


def complete_if_settled(contract: Contract, *, actor: User | None) -> bool:
    """Complete an active contract whose milestones are all released or cancelled."""
    if contract.milestones and all(m.status in SETTLED for m in contract.milestones):
        return complete(contract, actor=actor)
    return False


def is_hourly(contract: Contract) -> bool:
    """Whether the contract bills hours by the week (its terms carry the hourly rules)."""
    return "hourly" in contract.current_terms.content


def complete(contract: Contract, *, actor: User | None) -> bool:
    """Complete the contract if it is active (its milestones are all settled). An hourly
    contract runs on when its invoices are paid: it ends when a party ends it."""
    if contract.status != ContractStatus.ACTIVE or is_hourly(contract):
        return False
    transition(contract, "complete", actor=actor)
    contract.ended_at = utcnow()
    client = contract.client_profile
    if client.first_completion_at is None:
        client.first_completion_at = contract.ended_at
    return True
