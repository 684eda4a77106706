"""Bid endpoints."""

from __future__ import annotations

import uuid

from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.bids import services
from marketplace.bids.inputs import BidChanges, BidProposal
from marketplace.bids.models import Bid, BidStatus
from marketplace.bids.schemas import (
    BidInputSchema,
    BidListPageSchema,
    BidPageSchema,
    BidQuerySchema,
    BidSchema,
    BidUpdateSchema,
    MyBidQuerySchema,
)
from marketplace.extensions import per_user_limit
from marketplace.pagination import Page, paginate
from marketplace.tasks.schemas import ReasonSchema

blp = Blueprint("bids", __name__, url_prefix="/api/v1", description="Bids on tasks")


@blp.post("/tasks/<uuid:task_id>/bids")
@login_required
@per_user_limit("BID_RATE_LIMIT")
@blp.arguments(BidInputSchema)
@blp.response(201, BidSchema)
@blp.link(201, "award", "contracts.award", "Accept the bid (client).", bid_id="$response.body#/id")
@blp.errors(400, 401, 403, 404, 409, 422, 429)
def place_bid(proposal: BidProposal, task_id: uuid.UUID) -> Bid:
    """Bid on an open task, for yourself or your firm (one live bid per provider)."""
    return services.place_bid(user=current_user, task_id=task_id, proposal=proposal)


@blp.get("/tasks/<uuid:task_id>/bids")
@login_required
@blp.arguments(BidQuerySchema, location="query", as_kwargs=True)
@blp.response(200, BidPageSchema)
@blp.errors(401, 404, 422)
def list_bids(
    task_id: uuid.UUID, page: int, page_size: int | None, status: BidStatus | None = None
) -> Page:
    """The bids on your task, with each bidder's fit; a provider sees only its own."""
    return paginate(
        services.bids_on_task(user=current_user, task_id=task_id, status=status),
        page=page,
        page_size=page_size,
    )


@blp.get("/bids")
@login_required
@blp.arguments(MyBidQuerySchema, location="query", as_kwargs=True)
@blp.response(200, BidListPageSchema)
@blp.errors(401, 422)
def list_my_bids(
    page: int,
    page_size: int | None,
    status: list[BidStatus] | None = None,
    task_id: uuid.UUID | None = None,
) -> Page:
    """Your bids across tasks, newest first, each with its task.

    A firm's members see the firm's bids. Each item is the bid with `task` (`{id, title,
    status}`) and without the fit (`explanation`, on `GET /bids/{id}`). Filter by `status`
    (repeat it for any of several) and `task_id`. This is the provider side's list: client
    and admin accounts get an empty list.
    """
    return paginate(
        services.my_bids_query(user=current_user, statuses=status or (), task_id=task_id),
        page=page,
        page_size=page_size,
    )


@blp.get("/bids/<uuid:bid_id>")
@login_required
@blp.response(200, BidSchema)
@blp.errors(401, 404)
def get_bid(bid_id: uuid.UUID) -> Bid:
    """A bid (its bidder and the task's client)."""
    return services.get_bid(user=current_user, bid_id=bid_id)


@blp.patch("/bids/<uuid:bid_id>")
@login_required
@per_user_limit("BID_EDIT_RATE_LIMIT")
@blp.arguments(BidUpdateSchema)
@blp.response(200, BidSchema)
@blp.errors(400, 401, 403, 404, 409, 422, 429)
def update_bid(changes: BidChanges, bid_id: uuid.UUID) -> Bid:
    """Edit your bid while it is submitted."""
    return services.update_bid(user=current_user, bid_id=bid_id, changes=changes)


@blp.post("/bids/<uuid:bid_id>/withdraw")
@login_required
@blp.response(200, BidSchema)
@blp.errors(400, 401, 403, 404, 409)
def withdraw_bid(bid_id: uuid.UUID) -> Bid:
    """Withdraw your bid."""
    return services.withdraw_bid(user=current_user, bid_id=bid_id)


@blp.post("/bids/<uuid:bid_id>/shortlist")
@login_required
@blp.response(200, BidSchema)
@blp.errors(400, 401, 403, 404, 409)
def shortlist_bid(bid_id: uuid.UUID) -> Bid:
    """Shortlist a bid on your task."""
    return services.shortlist_bid(user=current_user, bid_id=bid_id)


@blp.post("/bids/<uuid:bid_id>/decline")
@login_required
@blp.arguments(ReasonSchema, as_kwargs=True)
@blp.response(200, BidSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def decline_bid(bid_id: uuid.UUID, reason: str) -> Bid:
    """Decline a bid on your task, with a reason the bidder will read."""
    return services.decline_bid(user=current_user, bid_id=bid_id, reason=reason)
