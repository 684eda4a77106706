"""Pilots: a completed trial contract extended into a full one, and how often that happens."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa
from flask import current_app

from marketplace.accounts.models import User
from marketplace.bids.inputs import foreign_currency_errors
from marketplace.contracts import terms as contract_terms
from marketplace.contracts.inputs import PilotTerms
from marketplace.contracts.models import (
    Contract,
    ContractStatus,
    ContractTransition,
)
from marketplace.contracts.services import add_milestones, get_contract, require_side, tell
from marketplace.contracts.states import CONTRACT_STATES
from marketplace.database import utcnow
from marketplace.errors import BusinessRuleViolation, Conflict
from marketplace.extensions import db
from marketplace.tasks.models import Task


def extend_pilot(*, user: User, contract_id: uuid.UUID, terms: PilotTerms) -> Contract:
    """After a completed pilot, the client offers the same provider a full contract."""
    pilot = get_contract(user=user, contract_id=contract_id, lock=True)
    require_side(user, pilot, "client")
    if not pilot.task.trial:
        # A state of the contract, not a fault of the request: a conflict, as for a pilot
        # that is not completed yet.
        raise Conflict(
            "Only a pilot (trial) contract is extended.", details={"contract": ["Not a pilot."]}
        )
    CONTRACT_STATES.check("extend", pilot.status)
    if db.session.scalar(sa.select(Contract.id).where(Contract.pilot_of_id == pilot.id)):
        raise Conflict("This pilot was already extended.")
    items = terms.milestones
    if not items:
        raise BusinessRuleViolation(
            "A contract needs milestones.", details={"milestones": ["Give at least one."]}
        )
    currency = pilot.milestones[0].currency if pilot.milestones else pilot.task.currency
    foreign = foreign_currency_errors(items, currency)
    if foreign:
        raise BusinessRuleViolation(
            "The milestones must be in the pilot's currency.", details={"milestones": foreign}
        )
    contract = Contract(
        task=pilot.task,
        client_profile_id=pilot.client_profile_id,
        provider_profile_id=pilot.provider_profile_id,
        pilot_of=pilot,
        offer_expires_at=utcnow() + timedelta(days=current_app.config["OFFER_EXPIRY_DAYS"]),
    )
    contract.transitions.append(
        ContractTransition(
            from_status=None,
            to_status=ContractStatus.OFFERED,
            actor_id=user.id,
            reason="extension of a completed pilot",
        )
    )
    add_milestones(contract, items, currency)
    db.session.add(contract)
    db.session.flush()
    content = contract_terms.first_content(
        pilot.task,
        provider=pilot.provider_profile,
        deliverables=terms.deliverables,
        sla=terms.sla,
        price_type=pilot.current_terms.content["price_type"],
    )
    if terms.scope_summary:
        content["scope"] = {**content["scope"], "summary": terms.scope_summary}
    content["pilot_of"] = str(pilot.id)
    contract_terms.write_version(contract, content, author=user)
    tell(
        contract.provider_profile,
        contract,
        "contract.full_offer",
        offer_expires_at=contract.offer_expires_at,
    )
    db.session.commit()
    return contract


def pilot_conversion() -> dict[str, int]:
    """How many completed pilots led to a full contract the provider accepted."""
    completed = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Contract)
            .join(Task, Task.id == Contract.task_id)
            .where(
                Task.trial.is_(True),
                Contract.status == ContractStatus.COMPLETED,
                Contract.pilot_of_id.is_(None),
            )
        )
        or 0
    )
    converted = (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Contract)
            .where(Contract.pilot_of_id.is_not(None), Contract.accepted_at.is_not(None))
        )
        or 0
    )
    return {"completed_pilots": completed, "converted": converted}
