"""The measured record's endpoints: KPIs, SLA events, work reports, changes, reviews and
the providers' record."""

from __future__ import annotations

import uuid
from typing import Any

from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.record import (
    models,  # noqa: F401  (the tables, for the migrations)
    reviews,
)
from marketplace.record.reviews import ShownReview
from marketplace.record.schemas import (
    ContractReviewsSchema,
    ProviderReviewPageSchema,
    ProviderReviewQuerySchema,
    ReviewInputSchema,
    ReviewSchema,
)

blp = Blueprint("record", __name__, url_prefix="/api/v1", description="Measured record")


# Reviews ----------------------------------------------------------------------------------


@blp.post("/contracts/<uuid:contract_id>/reviews")
@login_required
@blp.arguments(ReviewInputSchema, as_kwargs=True)
@blp.response(201, ReviewSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def post_review(
    contract_id: uuid.UUID, rating: int, sub_ratings: dict[str, int], text: str
) -> ShownReview:
    """Review the other side of an ended contract: once per side, within the review window.

    The contract must be completed or terminated (409 while it runs, or if it never
    started) and ended at most `REVIEW_WINDOW_DAYS` (14) days ago (409
    `review_window_closed`); each side reviews once (409 for a second review). The client
    side (an individual client, or a company's owner or manager) rates the provider, the
    provider side (an individual provider, or a firm's owner or manager) rates the client.

    Double-blind: the review stays hidden from everyone but your side until the other side
    has reviewed too (then both publish at once, at the second review) or the window
    closes (then it publishes alone, at the window's close); both sides are told when
    reviews publish. A review cannot be edited or withdrawn: there is no endpoint for it.
    """
    review = reviews.write_review(
        user=current_user,
        contract_id=contract_id,
        rating=rating,
        sub_ratings=sub_ratings,
        text=text,
    )
    return reviews.ShownReview(review, review.published_at)


@blp.get("/contracts/<uuid:contract_id>/reviews")
@login_required
@blp.response(200, ContractReviewsSchema)
@blp.errors(401, 404)
def contract_reviews(contract_id: uuid.UUID) -> dict[str, Any]:
    """The contract's published reviews, and your side's own hidden one (`published:
    false`); never the other side's hidden one. For the parties and admins."""
    contract, shown = reviews.contract_reviews(user=current_user, contract_id=contract_id)
    return {"items": shown, "window_closes_at": reviews.window_closes_at(contract)}


@blp.get("/providers/<uuid:profile_id>/reviews")
@blp.public
@blp.arguments(ProviderReviewQuerySchema, location="query", as_kwargs=True)
@blp.response(200, ProviderReviewPageSchema)
@blp.errors(404, 422)
def provider_reviews(profile_id: uuid.UUID, page: int, page_size: int | None) -> dict[str, Any]:
    """The published reviews of a provider by its clients, newest first, each with the
    client's name and the contract's task; `summary` has their average rating and count."""
    result, (average, count) = reviews.provider_reviews(
        profile_id=profile_id, page=page, page_size=page_size
    )
    return {
        "items": result.items,
        "page": result.page,
        "page_size": result.page_size,
        "total": result.total,
        "summary": {
            "average_rating": round(average, 2) if average is not None else None,
            "count": count,
        },
    }
