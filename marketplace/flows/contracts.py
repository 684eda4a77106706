"""Flows of a contract's making and ending: the award, the provider's acceptance (which
fills the task and closes its other bids) and termination (which raises refund requests)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from marketplace import permissions
from marketplace.accounts import verification
from marketplace.accounts.models import User
from marketplace.bids import services as bids
from marketplace.contracts import milestones, offers
from marketplace.contracts import terms as contract_terms
from marketplace.contracts.inputs import AwardTerms
from marketplace.contracts.models import (
    Contract,
    ContractStatus,
    ContractTransition,
    MilestoneKind,
)
from marketplace.contracts.services import (
    MODERATORS,
    add_milestones,
    check_milestones,
    get_contract,
    moderation_reason,
    positions_held,
    record_moderation,
    require_side,
    signing_side,
    tell,
    transition,
)
from marketplace.contracts.states import ACCEPTED, CONTRACT_STATES, MILESTONE_STATES
from marketplace.database import utcnow
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden
from marketplace.extensions import db
from marketplace.hours import billing_week
from marketplace.payments import refunds
from marketplace.tasks import lifecycle as task_lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.states import TASK_STATES


def award(*, user: User, bid_id: uuid.UUID, terms: AwardTerms) -> Contract:
    """The client accepts a bid: a contract offer with its first terms version."""
    verification.require_verified_email(user)
    bid = bids.get_bid(user=user, bid_id=bid_id, lock=True)
    if not tasks.is_owner(user, bid.task):
        raise Forbidden("Only the task's client awards it.")
    permissions.require_commits(
        user, "Only the company's owner or managers commit it to a contract."
    )
    task = tasks.locked_task(bid.task_id)
    TASK_STATES.check("award", task.status)
    if positions_held(task) >= task.positions:
        raise Conflict("Every position of this task is taken or on offer.")
    bids.transition(bid, "accept", actor=user)
    is_fixed = task.budget_type.value == "fixed"
    if is_fixed:
        if terms.weekly_limit_hours is not None:
            raise BusinessRuleViolation(
                "A fixed-price contract has no weekly limit.",
                details={"weekly_limit_hours": ["Only hourly contracts have a weekly limit."]},
            )
        items = terms.milestones or bids.proposed_milestones(bid)
        # A fixed price stays the bid's: edited milestones must still add up to it.
        check_milestones(task, items, total=bid.price_amount, currency=bid.price_currency)
    else:
        # An hourly bid makes an hourly contract (time billed by the week against a weekly
        # limit), unless there are milestones (the client's, or the bid's) and no limit: then
        # the milestones are paid as a fixed contract's are, as before hourly contracts. With
        # a limit, milestones (a set-up fee, say) are paid beside the hours. A pilot keeps its
        # single milestone: it must complete to be extended.
        items = terms.milestones or bids.proposed_milestones(bid)
        if items or task.trial:
            check_milestones(task, items, total=None, currency=bid.price_currency)
    bills_hours = (
        not is_fixed and not task.trial and (not items or terms.weekly_limit_hours is not None)
    )
    contract = Contract(
        task=task,
        bid=bid,
        client_profile_id=task.client_profile_id,
        provider_profile_id=bid.provider_profile_id,
        offer_expires_at=utcnow() + timedelta(days=current_app.config["OFFER_EXPIRY_DAYS"]),
    )
    contract.transitions.append(
        ContractTransition(from_status=None, to_status=ContractStatus.OFFERED, actor_id=user.id)
    )
    add_milestones(contract, items, bid.price_currency)
    db.session.add(contract)
    db.session.flush()
    content = contract_terms.first_content(
        task,
        provider=bid.provider_profile,
        deliverables=terms.deliverables,
        sla=terms.sla,
        price_type=task.budget_type.value,
    )
    content["price"] = bid.price
    if bills_hours:
        content["hourly"] = contract_terms.hourly_terms(
            rate=bid.price,
            weekly_limit_hours=terms.weekly_limit_hours
            or current_app.config["HOURLY_DEFAULT_WEEKLY_LIMIT"],
            from_week=billing_week(utcnow()),
        )
    contract_terms.write_version(contract, content, author=user)
    tell(
        bids.bidder_people(bid),
        contract,
        "contract.offered",
        offer_expires_at=contract.offer_expires_at,
    )
    db.session.commit()
    return contract


def accept_offer(*, user: User, contract_id: uuid.UUID) -> Contract:
    """The provider accepts the offer; when every position is filled, the task is filled."""
    verification.require_verified_email(user)
    contract = get_contract(user=user, contract_id=contract_id, lock=True)
    require_side(user, contract, "provider")
    CONTRACT_STATES.target("accept", contract.status)
    task_open = contract.pilot_of_id is not None or "award" in TASK_STATES.actions_from(
        contract.task.status
    )
    if (contract.offer_expires_at and contract.offer_expires_at <= utcnow()) or not task_open:
        offers.end_offer(
            contract,
            "expire",
            actor=None,
            reason="offer past its date" if task_open else "the task is closed",
        )
        db.session.commit()
        raise Conflict("This offer is no longer open.")
    transition(contract, "accept", actor=user)
    contract.accepted_at = utcnow()
    tell(contract.client_profile, contract, "contract.accepted")
    task = tasks.locked_task(contract.task_id)
    active = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(Contract)
        .where(
            Contract.task_id == task.id,
            Contract.status.in_(ACCEPTED),
        )
    )
    if (active or 0) >= task.positions and "fill" in TASK_STATES.actions_from(task.status):
        task_lifecycle.fill(task)
        bids.expire_live_bids(task, reason="every position of the task is filled")
    db.session.commit()
    return contract


def terminate(*, user: User, contract_id: uuid.UUID, reason: str) -> Contract:
    """Either party ends the contract: unfunded milestones are cancelled, and funded ones
    not yet submitted get refund requests (the provider may dispute them). Submitted work
    can still be approved, disputed or released automatically."""
    contract = get_contract(user=user, contract_id=contract_id, lock=True)
    side = signing_side(user, contract)
    _end(contract, actor=user, side=side, reason=reason)
    other = contract.provider_profile if side == "client" else contract.client_profile
    tell(other, contract, "contract.terminated", side=side, reason=reason)
    db.session.commit()
    return contract


def terminate_for_moderation(*, admin: User, contract_id: uuid.UUID, reason: str) -> Contract:
    """An admin ends an active or paused contract (one of its parties is suspended, say), as
    a party's termination does: unfunded milestones cancelled, funded unsubmitted ones
    asked back for the client. Recorded in the audit log; both parties are told why. A
    blank reason is a 422, a contract that is not running a 409."""
    reason = moderation_reason(admin, reason)
    contract = get_contract(user=admin, contract_id=contract_id, lock=True)
    _end(contract, actor=admin, side="system", reason=reason)
    record_moderation(admin, contract, "terminate", reason)
    for people in (contract.client_profile, contract.provider_profile):
        tell(people, contract, "contract.terminated", side=MODERATORS, reason=reason)
    db.session.commit()
    return contract


def _end(contract: Contract, *, actor: User, side: str, reason: str) -> None:
    """Terminate the locked contract for `side` (a party, or `system` for an admin)."""
    transition(contract, "terminate", actor=actor, reason=reason)
    contract.end_reason, contract.ended_at = reason, utcnow()
    for milestone in contract.milestones:
        # An hourly invoice's hours were worked: they stay owed after the end.
        if milestone.kind != MilestoneKind.WORK:
            continue
        if "cancel" in MILESTONE_STATES.actions_from(milestone.status):
            milestones.cancel(
                milestone, side=side, actor=actor, reason="the contract was terminated"
            )
    refunds.raise_for_termination(contract, actor=actor, reason=reason)
