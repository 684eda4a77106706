"""Changes and learning speed: the client side announces a policy, product or SOP change
with what must be adopted; the provider side acknowledges it and confirms it adopted. The
service minutes from announcement to adoption are the learning speed, against the terms'
`learning_speed_hours` (service hours)."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from flask import current_app

from marketplace.accounts.models import User
from marketplace.contracts import services as contracts
from marketplace.contracts.models import Contract
from marketplace.contracts.states import RUNNING
from marketplace.database import lock_row, new_id, utcnow
from marketplace.errors import Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.pagination import Page, paginate
from marketplace.record.clock import as_utc, contract_service_hours
from marketplace.record.models import Change


def target_hours(contract: Contract) -> float:
    """The contract's learning-speed target in service hours: its terms', else the default
    of its service model."""
    sla = contract.current_terms.content.get("sla") or {}
    value = sla.get("learning_speed_hours")
    if value is None:
        model = contract.task.service_model
        defaults = current_app.config["SLA_DEFAULTS"][model.value if model else "va"]
        value = defaults["learning_speed_hours"]
    return float(value)


#: The attribute a change is given for its payload: the contract's target in service hours.
TARGET = "learning_speed_hours"


def with_target(change: Change, contract: Contract) -> Change:
    """The change, carrying its contract's learning-speed target for its payload."""
    setattr(change, TARGET, target_hours(contract))
    return change


def _require_running(contract: Contract, doing: str) -> None:
    if contract.status not in RUNNING:
        raise Conflict(
            f"Cannot {doing} on a contract that is {contract.status.value}.",
            details={"contract_status": contract.status.value},
        )


def announce(
    *, user: User, contract_id: uuid.UUID, title: str, description: str, to_adopt: str
) -> Change:
    """The client side (any of its people) announces a change; the provider is told."""
    contract = contracts.get_contract(user=user, contract_id=contract_id, lock=True)
    if contracts.side_of(user, contract) != "client":
        raise Forbidden("Only the client announces changes.")
    _require_running(contract, "announce a change")
    change = Change(
        id=new_id(),
        contract_id=contract.id,
        announced_by_id=user.id,
        title=title,
        description=description,
        to_adopt=to_adopt,
        files=[],
        announced_at=utcnow(),
    )
    db.session.add(change)
    _tell(contract, change, to="provider", email="change.announced")
    db.session.commit()
    return with_target(change, contract)


def changes_page(*, user: User, contract_id: uuid.UUID, page: int, page_size: int | None) -> Page:
    """A page of a contract's changes for its parties and admins, the newest first."""
    contract = contracts.get_contract(user=user, contract_id=contract_id)
    result = paginate(
        sa.select(Change)
        .where(Change.contract_id == contract.id)
        .order_by(Change.announced_at.desc(), Change.id),
        page=page,
        page_size=page_size,
    )
    result.items = [with_target(change, contract) for change in result.items]
    return result


def _provider_change(*, user: User, change_id: uuid.UUID, doing: str) -> tuple[Change, Contract]:
    change = db.session.get(Change, change_id)
    if change is None:
        raise NotFound("Change not found.")
    try:
        contract = contracts.get_contract(user=user, contract_id=change.contract_id, lock=True)
    except NotFound:
        # The same answer as for an id that does not exist: outsiders learn nothing.
        raise NotFound("Change not found.") from None
    change = lock_row(Change, change_id)
    if contracts.side_of(user, contract) != "provider":
        raise Forbidden("Only the provider acknowledges and adopts changes.")
    _require_running(contract, doing)
    return change, contract


def acknowledge(*, user: User, change_id: uuid.UUID) -> Change:
    """The provider side acknowledges a change; the client is told."""
    change, contract = _provider_change(user=user, change_id=change_id, doing="acknowledge")
    if change.acknowledged_at is not None:
        raise Conflict("This change is acknowledged already.")
    change.acknowledged_by_id, change.acknowledged_at = user.id, utcnow()
    _tell(contract, change, to="client", email="change.acknowledged")
    db.session.commit()
    return with_target(change, contract)


def adopt(*, user: User, change_id: uuid.UUID) -> Change:
    """The provider side confirms a change adopted (acknowledging it if it had not): the
    service minutes since its announcement are fixed as its learning speed."""
    change, contract = _provider_change(user=user, change_id=change_id, doing="adopt a change")
    if change.adopted_at is not None:
        raise Conflict("This change is adopted already.")
    now = utcnow()
    if change.acknowledged_at is None:
        change.acknowledged_by_id, change.acknowledged_at = user.id, now
    change.adopted_by_id, change.adopted_at = user.id, now
    change.adoption_minutes = contract_service_hours(contract).minutes_between(
        as_utc(change.announced_at), now
    )
    _tell(contract, change, to="client", email="change.adopted")
    db.session.commit()
    return with_target(change, contract)


def _tell(contract: Contract, change: Change, *, to: str, email: str) -> None:
    profile = contract.client_profile if to == "client" else contract.provider_profile
    contracts.tell(
        profile,
        contract,
        email,
        change_title=change.title,
        to_adopt=change.to_adopt,
        adoption_minutes=change.adoption_minutes,
    )
