"""The measured record's endpoints: KPIs, SLA events, work reports, changes, reviews and
the providers' record."""

from __future__ import annotations

import uuid
from typing import Any

from marketplace.api import Blueprint
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.matching import scoring
from marketplace.profiles.services import public_provider_profile
from marketplace.record import (
    models,  # noqa: F401  (the tables, for the migrations)
    standing,
)
from marketplace.record.models import ProviderRecord
from marketplace.record.schemas import ProviderRecordSchema

blp = Blueprint("record", __name__, url_prefix="/api/v1", description="Measured record")


# --- The provider's record ------------------------------------------------------------
@blp.get("/providers/<uuid:profile_id>/record")
@blp.public
@blp.response(200, ProviderRecordSchema)
@blp.errors(404)
def get_provider_record(profile_id: uuid.UUID) -> dict[str, Any]:
    """A provider's measured record across its contracts (a firm's: all its contracts),
    over the last 12 months and all time; no figure shows from fewer than 3 samples."""
    profile = public_provider_profile(profile_id)
    stored = db.session.get(ProviderRecord, profile.id)
    if stored is not None:
        figures, computed_at, score = stored.figures, stored.computed_at, stored.score
    else:
        computed_at = utcnow()
        figures = standing.record_of(
            profile.id, now=computed_at, first_responses=standing.first_responses
        )
        score = scoring.record_score(figures)
    return {
        "provider_id": profile.id,
        "computed_at": computed_at,
        "min_samples": standing.MIN_SAMPLES,
        "windows": {"last_12_months": figures["12m"], "all_time": figures["all"]},
        "score": score,
    }
