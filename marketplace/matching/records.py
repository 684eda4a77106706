"""The record job's work: every provider's measured record recomputed, and the matching
index's record term moved to it."""

from __future__ import annotations

from marketplace.extensions import db
from marketplace.matching import index, scoring
from marketplace.record import standing


def recompute_records() -> tuple[int, int]:
    """Recompute every provider's record (set-based, see `marketplace.record.standing`) and
    move the matching index's record term to it (`index.apply_records`), in one
    transaction. Returns (records stored, profiles whose term changed)."""
    scores = standing.recompute_all(scoring.record_score, first_responses=standing.first_responses)
    changed = index.apply_records(scores)
    db.session.commit()
    return len(scores), changed
