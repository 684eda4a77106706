"""The weekly limit of an hourly contract: the client raises it for the current week at
once, or cuts it from the next week; either way a new terms version records it."""

from __future__ import annotations

import uuid
from datetime import timedelta

from marketplace.accounts.models import User
from marketplace.contracts import services as contracts
from marketplace.contracts import terms as contract_terms
from marketplace.contracts.models import Contract
from marketplace.contracts.states import RUNNING
from marketplace.database import utcnow
from marketplace.errors import Conflict, Forbidden
from marketplace.extensions import db
from marketplace.hours import billing_week


def set_weekly_limit(*, user: User, contract_id: uuid.UUID, hours: int) -> Contract:
    """The client sets the weekly limit: a raise counts for this week, a cut from the next.
    Writes a new terms version and tells the provider."""
    contract = contracts.get_contract(user=user, contract_id=contract_id, lock=True)
    if contracts.signing_side(user, contract) != "client":
        raise Forbidden("Only the client sets the weekly limit.")
    if not contracts.is_hourly(contract):
        raise Conflict("This contract is not hourly: it has no weekly limit.")
    if contract.status not in RUNNING:
        raise Conflict(
            f"The weekly limit of a contract that is {contract.status.value} is fixed.",
            details={"contract_status": contract.status.value},
        )
    this_week = billing_week(utcnow())
    content = contract.current_terms.content
    before = contract_terms.weekly_limit(content, this_week)
    changed = contract_terms.with_weekly_limit(content, hours=hours, this_week=this_week)
    if changed["hourly"] == content["hourly"]:
        return contract  # nothing to change: no new version
    contract_terms.write_version(contract, changed, author=user)
    raised = hours > before
    contracts.tell(
        contract.provider_profile,
        contract,
        "contract.weekly_limit",
        hours=hours,
        raised=raised,
        from_week=(this_week if raised else this_week + timedelta(days=7)).isoformat(),
    )
    db.session.commit()
    return contract
