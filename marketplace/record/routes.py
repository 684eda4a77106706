"""The measured record's endpoints: KPIs, SLA events, work reports, changes, reviews and
the providers' record."""

from __future__ import annotations

from marketplace.api import Blueprint
from marketplace.record import models  # noqa: F401  (the tables, for the migrations)

blp = Blueprint("record", __name__, url_prefix="/api/v1", description="Measured record")
