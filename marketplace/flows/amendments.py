"""Amendments: a party proposes a new terms version; the other accepts or declines it,
the proposer withdraws it, or it lapses.

Only unfunded (pending) milestones can be changed or cancelled; a funded one is money
in escrow and changes only through the payment flows. Until it is accepted an amendment
changes nothing: declined, withdrawn or lapsed, the milestones are funded as the terms in
force say.
"""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app

from marketplace.accounts.models import User
from marketplace.bids.inputs import foreign_currency_errors
from marketplace.contracts import milestones, terms
from marketplace.contracts.inputs import AmendmentChanges, MilestonePlan
from marketplace.contracts.models import (
    Amendment,
    AmendmentStatus,
    Contract,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
)
from marketplace.contracts.services import (
    complete_if_settled,
    get_contract,
    is_hourly,
    signing_side,
    tell,
)
from marketplace.contracts.states import AMENDMENT_STATES, CONTRACT_STATES, MILESTONE_STATES
from marketplace.database import lock_row, utcnow
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.inputs import UNSET, given, value_or
from marketplace.jobs.due import each_due
from marketplace.payments import funding


def _check_rate(contract: Contract, changes: AmendmentChanges) -> None:
    """A new rate is for an hourly contract, in its currency."""
    if changes.hourly_rate is UNSET:
        return
    if not is_hourly(contract):
        raise BusinessRuleViolation(
            "Only an hourly contract has a rate to change.",
            details={"changes": {"hourly_rate": ["This contract is paid by milestones."]}},
        )
    currency = contract.current_terms.content["hourly"]["rate"]["currency"]
    if changes.hourly_rate.currency != currency:
        raise BusinessRuleViolation(
            "The rate must be in the contract's currency.",
            details={"changes": {"hourly_rate": {"currency": [f"Must be {currency}."]}}},
        )


def _check_milestone_changes(contract: Contract, changes: AmendmentChanges) -> None:
    plan = value_or(changes.milestones, MilestonePlan())
    currency = contract.milestones[0].currency if contract.milestones else contract.task.currency
    foreign = {
        part: wrong
        for part, items in (("add", plan.add), ("change", plan.change))
        if (wrong := foreign_currency_errors(items, currency))
    }
    if foreign:
        raise BusinessRuleViolation(
            "The milestones must be in the contract's currency.",
            details={"changes": {"milestones": foreign}},
        )
    # An hourly invoice's or a bonus's milestone is not the parties' to change.
    by_id = {str(m.id): m for m in contract.milestones if m.kind == MilestoneKind.WORK}
    touched = [str(c.id) for c in plan.change] + [str(i) for i in plan.cancel]
    errors = []
    for milestone_id in touched:
        milestone = by_id.get(milestone_id)
        if milestone is None:
            errors.append(f"Milestone {milestone_id} is not part of this contract.")
        elif "amend" not in MILESTONE_STATES.actions_from(milestone.status):
            errors.append(
                f"Milestone {milestone_id} is {milestone.status.value}: only "
                "unfunded milestones can be changed or cancelled."
            )
        elif funding.payment_in_progress(milestone.id):
            errors.append(
                f"Milestone {milestone_id} has a payment in progress: it cannot change "
                "until the payment succeeds or fails."
            )
    if len(touched) != len(set(touched)):
        errors.append("A milestone is changed or cancelled twice.")
    if errors:
        raise BusinessRuleViolation("The amendment cannot apply.", details={"milestones": errors})


def propose(
    *, user: User, contract_id: uuid.UUID, changes: AmendmentChanges, note: str
) -> Amendment:
    """A party proposes changes to scope, SLA targets, deliverables or unfunded milestones."""
    contract = get_contract(user=user, contract_id=contract_id, lock=True)
    side = signing_side(user, contract)
    CONTRACT_STATES.check("amend", contract.status)
    if not given(changes):
        raise BusinessRuleViolation(
            "An amendment must change something.", details={"changes": ["Nothing to change."]}
        )
    _check_rate(contract, changes)
    _check_milestone_changes(contract, changes)
    amendment = Amendment(
        contract=contract,
        proposed_by_id=user.id,
        proposer_side=side,
        base_version=contract.terms_version,
        changes=changes.as_json(),
        note=note,
        expires_at=utcnow() + timedelta(days=current_app.config["AMENDMENT_LAPSE_DAYS"]),
    )
    db.session.add(amendment)
    other = contract.provider_profile if side == "client" else contract.client_profile
    tell(
        other,
        contract,
        "amendment.proposed",
        side=side,
        note=note,
        expires_at=amendment.expires_at,
    )
    db.session.commit()
    return amendment


def get_amendment(*, user: User, amendment_id: uuid.UUID) -> Amendment:
    """An amendment, for the contract's parties and admins."""
    amendment = db.session.get(Amendment, amendment_id)
    if amendment is None:
        raise NotFound("Amendment not found.")
    get_contract(user=user, contract_id=amendment.contract_id)
    return amendment


def accept(*, user: User, amendment_id: uuid.UUID) -> Amendment:
    """The other party accepts: the changes apply and a new terms version is written."""
    amendment = get_amendment(user=user, amendment_id=amendment_id)
    contract = get_contract(user=user, contract_id=amendment.contract_id, lock=True)
    side = signing_side(user, contract)
    if side == amendment.proposer_side:
        raise Forbidden("The other party accepts an amendment.")
    AMENDMENT_STATES.target("accept", amendment.status)  # a 409 unless still proposed
    CONTRACT_STATES.check("amend", contract.status)
    if amendment.expires_at <= utcnow() or amendment.base_version != contract.terms_version:
        AMENDMENT_STATES.apply(amendment, "lapse", actor_id=None, reason="expired or outdated")
        db.session.commit()
        raise Conflict("This amendment lapsed: it expired or the terms changed since.")
    changes = AmendmentChanges.from_json(amendment.changes)
    _check_milestone_changes(contract, changes)
    content = _apply(contract, changes, side=side, actor=user)
    live_view = [
        terms.milestone_view(m)
        for m in contract.milestones
        if m.status != MilestoneStatus.CANCELLED
    ]
    current = contract.current_terms.content
    if content == current and live_view == current["milestones"]:
        raise BusinessRuleViolation(
            "The amendment changes nothing in the terms.",
            details={"changes": ["Identical to the terms in force."]},
        )
    record = terms.write_version(contract, content, author=user)
    AMENDMENT_STATES.apply(amendment, "accept", actor_id=user.id)
    amendment.new_version = record.version
    amendment.answered_at = utcnow()
    # Other proposals were made against the old terms: they lapse.
    for stale in db.session.scalars(
        sa.select(Amendment).where(
            Amendment.contract_id == contract.id,
            Amendment.status == AmendmentStatus.PROPOSED,
            Amendment.id != amendment.id,
        )
    ):
        AMENDMENT_STATES.apply(
            stale, "lapse", actor_id=None, reason="another amendment was accepted"
        )
        stale.answered_at = utcnow()
    complete_if_settled(contract, actor=user)  # e.g. every open milestone was cancelled
    other = contract.provider_profile if side == "client" else contract.client_profile
    tell(other, contract, "amendment.accepted", version=record.version)
    db.session.commit()
    return amendment


def decline(*, user: User, amendment_id: uuid.UUID, reason: str) -> Amendment:
    """The other party declines the amendment, with a reason; the proposer is told."""
    return _close(user, amendment_id, "decline", reason=reason)


def withdraw(*, user: User, amendment_id: uuid.UUID, reason: str | None) -> Amendment:
    """The proposer withdraws the amendment before it is answered; the other party is told."""
    return _close(user, amendment_id, "withdraw", reason=reason)


#: The e-mail the other side gets when an amendment is declined or withdrawn.
_CLOSED = {"decline": "amendment.declined", "withdraw": "amendment.withdrawn"}


def _close(user: User, amendment_id: uuid.UUID, action: str, *, reason: str | None) -> Amendment:
    contract_id = get_amendment(user=user, amendment_id=amendment_id).contract_id
    contract = get_contract(user=user, contract_id=contract_id, lock=True)
    side = signing_side(user, contract)
    amendment = lock_row(Amendment, amendment_id)  # read afresh under the contract's lock
    if (action == "withdraw") != (side == amendment.proposer_side):
        raise Forbidden(
            "Only the proposer withdraws an amendment."
            if action == "withdraw"
            else "The other party declines an amendment; withdraw your own."
        )
    AMENDMENT_STATES.apply(amendment, action, actor_id=user.id, reason=reason)
    amendment.end_reason, amendment.answered_at = reason, utcnow()
    other = contract.provider_profile if side == "client" else contract.client_profile
    tell(other, contract, _CLOSED[action], side=side, reason=reason)
    db.session.commit()
    return amendment


def _apply(
    contract: Contract, changes: AmendmentChanges, *, side: str, actor: User
) -> dict[str, Any]:
    content = copy.deepcopy(contract.current_terms.content)
    if changes.scope_summary is not UNSET:
        content["scope"]["summary"] = changes.scope_summary
    if changes.sla is not UNSET:
        content["sla"] = {**content["sla"], **changes.sla.as_json()}
    if changes.service_hours is not UNSET:
        content["service_hours"] = changes.service_hours.as_json()
    if changes.deliverables is not UNSET:
        content["deliverables"] = list(changes.deliverables)
    if changes.hourly_rate is not UNSET:
        rate = {"amount": changes.hourly_rate.amount, "currency": changes.hourly_rate.currency}
        content["hourly"] = {**content["hourly"], "rate": rate}
        content["price"] = rate
    plan = value_or(changes.milestones, MilestonePlan())
    by_id = {str(m.id): m for m in contract.milestones}
    for change in plan.change:
        milestone = by_id[str(change.id)]
        if change.title is not UNSET:
            milestone.title = change.title
        if change.description is not UNSET:
            milestone.description = change.description
        if change.amount is not UNSET:
            milestone.amount = change.amount
        if change.due_date is not UNSET:
            milestone.due_date = change.due_date
    for milestone_id in plan.cancel:
        milestones.cancel(
            by_id[str(milestone_id)], side=side, actor=actor, reason="cancelled by an amendment"
        )
    position = max((m.position for m in contract.milestones), default=0)
    currency = contract.milestones[0].currency if contract.milestones else contract.task.currency
    for offset, item in enumerate(plan.add, start=1):
        contract.milestones.append(
            Milestone(
                position=position + offset,
                title=item.title,
                description=item.description,
                amount=item.amount,
                currency=currency,
                due_date=item.due_date,
            )
        )
    db.session.flush()
    live = [m for m in contract.milestones if m.status != MilestoneStatus.CANCELLED]
    task = contract.task
    errors = []
    if any(m.due_date and m.due_date > task.deadline for m in live):
        errors.append("A milestone is due after the task's deadline.")
    if task.trial:
        cap = current_app.config["TRIAL_BUDGET_CAPS"].get(task.currency)
        if len(live) > 1 or (cap is not None and sum(m.amount for m in live) > cap):
            errors.append("A pilot keeps a single milestone within the trial cap.")
    if errors:
        raise BusinessRuleViolation("The amendment cannot apply.", details={"milestones": errors})
    if content["price_type"] == "fixed":  # the agreed price follows the milestones
        content["price"] = {**content["price"], "amount": sum(m.amount for m in live)}
    return content


def amendments_query(*, user: User, contract_id: uuid.UUID) -> sa.Select[Amendment]:
    """The contract's amendments, newest first."""
    contract = get_contract(user=user, contract_id=contract_id)
    return (
        sa.select(Amendment)
        .where(Amendment.contract_id == contract.id)
        .order_by(Amendment.created_at.desc(), Amendment.id.desc())
    )


def lapse_due() -> int:
    """Amendments past their date lapse and their proposers are told; returns how many."""
    return each_due(
        sa.select(Amendment.id).where(
            Amendment.status == AmendmentStatus.PROPOSED, Amendment.expires_at <= utcnow()
        ),
        _lapse,
    )


def _lapse(amendment_id: uuid.UUID) -> bool:
    amendment = lock_row(Amendment, amendment_id)
    if amendment.status != AmendmentStatus.PROPOSED or amendment.expires_at > utcnow():
        return False
    AMENDMENT_STATES.apply(amendment, "lapse", actor_id=None, reason="expired")
    amendment.answered_at = utcnow()
    contract = amendment.contract
    proposer = (
        contract.client_profile
        if amendment.proposer_side == "client"
        else contract.provider_profile
    )
    tell(proposer, contract, "amendment.lapsed")
    return True
