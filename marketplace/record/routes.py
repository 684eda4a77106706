"""The measured record's endpoints: KPIs, SLA events, work reports, changes, reviews and
the providers' record."""

from __future__ import annotations

import uuid
from typing import Any

from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.contracts import services as contracts
from marketplace.database import utcnow
from marketplace.record import (
    kpis,
    models,  # noqa: F401  (the tables, for the migrations)
)
from marketplace.record.schemas import KpisSchema

blp = Blueprint("record", __name__, url_prefix="/api/v1", description="Measured record")


# --- KPIs ------------------------------------------------------------------------------


@blp.get("/contracts/<uuid:contract_id>/kpis")
@login_required
@blp.response(200, KpisSchema)
@blp.errors(401, 404)
def contract_kpis(contract_id: uuid.UUID) -> dict[str, Any]:
    """The contract's KPIs against its targets, with a series per period (parties, admins)."""
    contract = contracts.get_contract(user=current_user, contract_id=contract_id)
    return kpis.contract_kpis(contract, now=utcnow())


# --- end of KPIs -----------------------------------------------------------------------
