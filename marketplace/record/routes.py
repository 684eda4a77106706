"""The measured record's endpoints: KPIs, SLA events, work reports, changes, reviews and
the providers' record."""

from __future__ import annotations

import uuid

from flask_login import current_user, login_required

from marketplace.accounts.auth import admin_required
from marketplace.api import Blueprint
from marketplace.pagination import Page, paginate
from marketplace.record import (
    events,
    models,  # noqa: F401  (the tables, for the migrations)
)
from marketplace.record.models import SlaEventKind
from marketplace.record.schemas import SlaEventPageSchema, SlaEventQuerySchema, SlaStatsSchema

blp = Blueprint("record", __name__, url_prefix="/api/v1", description="Measured record")


# SLA events ---------------------------------------------------------------------------


@blp.get("/contracts/<uuid:contract_id>/sla-events")
@login_required
@blp.arguments(SlaEventQuerySchema, location="query", as_kwargs=True)
@blp.response(200, SlaEventPageSchema)
@blp.errors(401, 404, 422)
def list_sla_events(
    contract_id: uuid.UUID,
    page: int,
    page_size: int | None,
    metric: str | None = None,
    kind: SlaEventKind | None = None,
) -> Page:
    """The contract's SLA events (at risk, breached, recovered), newest first."""
    return paginate(
        events.events_query(user=current_user, contract_id=contract_id, metric=metric, kind=kind),
        page=page,
        page_size=page_size,
    )


@blp.get("/admin/stats/slas")
@admin_required
@blp.response(200, SlaStatsSchema)
@blp.errors(401, 403)
def sla_stats() -> dict[str, int]:
    """SLA breaches of the last 7 and 30 days, and contracts with one unrecovered (admins)."""
    return events.stats()


# end of SLA events ---------------------------------------------------------------------
