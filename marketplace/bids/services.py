"""Bid rules: who may bid on what, one live bid each, editing, withdrawing, shortlisting."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload
from sqlalchemy.orm.interfaces import ORMOption

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.bids.inputs import BidChanges, BidProposal, MilestoneProposal
from marketplace.bids.models import Bid, BidStatus, BidTransition
from marketplace.bids.states import BID_STATES, LIVE
from marketplace.database import commit_keeping_values
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.inputs import UNSET, Money, value_or
from marketplace.notifications import services as notifications
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks import confidentiality
from marketplace.tasks import services as tasks
from marketplace.tasks.models import BudgetType, Task
from marketplace.tasks.states import TASK_STATES


def transition(bid: Bid, action: str, *, actor: User | None, reason: str | None = None) -> None:
    """Apply a state-machine action to the bid and record who did it, when and why."""
    BID_STATES.apply(
        bid, action, record=BidTransition, actor_id=actor.id if actor else None, reason=reason
    )


def _check_price_and_milestones(
    task: Task, price: Money, milestones: Sequence[MilestoneProposal]
) -> None:
    errors: dict[str, list[str]] = {}
    if price.currency != task.currency:
        errors["price"] = [f"Bid in the task's currency ({task.currency})."]
    if task.budget_type == BudgetType.FIXED:
        if not milestones:
            errors.setdefault("milestones", []).append("A fixed-price bid needs milestones.")
        elif sum(m.amount for m in milestones) != price.amount:
            errors.setdefault("milestones", []).append(
                "The milestones must add up to the fixed price."
            )
    if task.trial:
        cap = current_app.config["TRIAL_BUDGET_CAPS"].get(task.currency)
        if len(milestones) > 1:
            errors.setdefault("milestones", []).append("A trial has a single milestone.")
        if cap is not None and price.amount > cap and task.budget_type == BudgetType.FIXED:
            errors.setdefault("price", []).append(f"A trial costs at most {cap} (minor units).")
    if any((m.due_date or task.deadline) > task.deadline for m in milestones):
        errors.setdefault("milestones", []).append("A milestone is due after the deadline.")
    if errors:
        raise BusinessRuleViolation("The bid has invalid fields.", details=errors)


def proposed_milestones(bid: Bid) -> tuple[MilestoneProposal, ...]:
    """The bid's milestones (stored as JSON), as proposed."""
    return tuple(MilestoneProposal.from_json(stored) for stored in bid.milestones)


def _bidder_profile(user: User, *options: ORMOption) -> ProviderProfile:
    if user.role != Role.PROVIDER:
        raise Forbidden("Only providers bid.")
    return permissions.acting_provider_profile(user, *options)


@functools.cache
def _bid_task_statement() -> sa.Select[Task]:
    """The task as its page reads it, less its languages (no bid rule reads them)."""
    return tasks.task_statement(*tasks.page_options(), lazyload(Task.language_rows))


def _bidder_options() -> tuple[ORMOption, ...]:
    """What a new bid's answer shows of its bidder besides the profile, read with it: its
    skills (for the explanation) and its firm (for the name)."""
    return joinedload(ProviderProfile.skills), joinedload(ProviderProfile.organization)


def place_bid(*, user: User, task_id: uuid.UUID, proposal: BidProposal) -> Bid:
    """A provider (or a firm member, for the firm) bids on an open task.

    The answer is built from what the checks read and the bid wrote: the commit keeps them.
    """
    profile = _bidder_profile(user, *_bidder_options())
    task = tasks.get_task(user=user, task_id=task_id, statement=_bid_task_statement())
    TASK_STATES.check("bid", task.status)
    accepted, live_bid = db.session.execute(  # both questions in one statement
        sa.select(
            confidentiality.may_act_on_details(task, profile),
            sa.exists().where(
                Bid.task_id == task.id, Bid.provider_profile_id == profile.id, Bid.status.in_(LIVE)
            ),
        )
    ).one()
    if not accepted:
        raise Forbidden(
            "Accept the task's confidentiality terms before bidding.",
            details={"confidentiality": ["POST /tasks/{id}/confidentiality"]},
        )
    _check_price_and_milestones(task, proposal.price, proposal.milestones)
    if live_bid:
        raise Conflict("You already have a live bid on this task; edit or withdraw it.")
    bid = Bid(
        task=task,
        provider_profile=profile,
        submitted_by_id=user.id,
        price_amount=proposal.price.amount,
        price_currency=proposal.price.currency,
        milestones=[milestone.as_json() for milestone in proposal.milestones],
        timeline_days=proposal.timeline_days,
        cover_letter=proposal.cover_letter,
    )
    bid.transitions.append(
        BidTransition(from_status=None, to_status=BidStatus.SUBMITTED, actor_id=user.id)
    )
    db.session.add(bid)
    notifications.tell(
        task.client_profile,
        email="bid.new",
        context={"task_title": task.title, "bidder": profile.display_name, "price": bid.price},
        task_id=task.id,
        bid_id=bid.id,
    )
    try:
        commit_keeping_values()
    except IntegrityError:  # a concurrent bid of the same provider got in first
        db.session.rollback()
        raise Conflict("You already have a live bid on this task; edit or withdraw it.") from None
    return bid


def is_bidder(user: User, bid: Bid) -> bool:
    """Whether the user acts for the provider that made the bid."""
    return permissions.acts_for_provider(user, bid.provider_profile_id)


def get_bid(*, user: User, bid_id: uuid.UUID, lock: bool = False) -> Bid:
    """A bid for its bidder, the task's client and admins; anyone else gets NotFound."""
    stmt = sa.select(Bid).where(Bid.id == bid_id)
    bid = db.session.scalar(stmt.with_for_update() if lock else stmt)
    if bid is None or not (user.is_admin or is_bidder(user, bid) or tasks.is_owner(user, bid.task)):
        raise NotFound("Bid not found.")
    return bid


def update_bid(*, user: User, bid_id: uuid.UUID, changes: BidChanges) -> Bid:
    """The bidder edits a bid that is still only submitted."""
    bid = get_bid(user=user, bid_id=bid_id, lock=True)
    if not is_bidder(user, bid):
        raise Forbidden("Only the bidder edits a bid.")
    BID_STATES.check("edit", bid.status)
    _check_price_and_milestones(
        bid.task,
        value_or(changes.price, Money(bid.price_amount, bid.price_currency)),
        value_or(changes.milestones, proposed_milestones(bid)),
    )
    if changes.price is not UNSET:
        bid.price_amount, bid.price_currency = changes.price.amount, changes.price.currency
    if changes.milestones is not UNSET:
        bid.milestones = [milestone.as_json() for milestone in changes.milestones]
    if changes.timeline_days is not UNSET:
        bid.timeline_days = changes.timeline_days
    if changes.cover_letter is not UNSET:
        bid.cover_letter = changes.cover_letter
    db.session.commit()
    return bid


def withdraw_bid(*, user: User, bid_id: uuid.UUID) -> Bid:
    """The bidder withdraws a live bid."""
    bid = get_bid(user=user, bid_id=bid_id, lock=True)
    if not is_bidder(user, bid):
        raise Forbidden("Only the bidder withdraws a bid.")
    transition(bid, "withdraw", actor=user)
    db.session.commit()
    return bid


def _owned_bid(user: User, bid_id: uuid.UUID) -> Bid:
    bid = get_bid(user=user, bid_id=bid_id, lock=True)
    if not tasks.is_owner(user, bid.task):
        raise Forbidden("Only the task's client does this.")
    return bid


def shortlist_bid(*, user: User, bid_id: uuid.UUID) -> Bid:
    """The client shortlists a bid; the bidder is told."""
    bid = _owned_bid(user, bid_id)
    transition(bid, "shortlist", actor=user)
    _tell_bidder(bid, "bid.shortlisted")
    db.session.commit()
    return bid


def decline_bid(*, user: User, bid_id: uuid.UUID, reason: str) -> Bid:
    """The client declines a bid with a reason; the bidder is told why."""
    bid = _owned_bid(user, bid_id)
    transition(bid, "decline", actor=user, reason=reason)
    bid.decline_reason = reason
    _tell_bidder(bid, "bid.declined", reason=reason)
    db.session.commit()
    return bid


def bids_on_task(
    *, user: User, task_id: uuid.UUID, status: BidStatus | None = None
) -> sa.Select[Bid]:
    """The client (and admins) see every bid on the task; a provider only its own."""
    task = tasks.get_task(user=user, task_id=task_id)
    stmt = sa.select(Bid).where(Bid.task_id == task.id).order_by(Bid.created_at, Bid.id)
    if not (user.is_admin or tasks.is_owner(user, task)):
        if user.role != Role.PROVIDER:  # another client: a foreign object, as everywhere
            raise NotFound("Task not found.")
        stmt = stmt.where(Bid.provider_profile_id == _bidder_profile(user).id)
    if status is not None:
        stmt = stmt.where(Bid.status == status)
    return stmt


def expire_live_bids(task: Task, *, reason: str) -> list[Bid]:
    """When a task is filled, cancelled or expires, its live bids expire; bidders are told."""
    live = list(
        db.session.scalars(
            sa.select(Bid).where(Bid.task_id == task.id, Bid.status.in_(LIVE)).with_for_update()
        )
    )
    for bid in live:
        transition(bid, "expire", actor=None, reason=reason)
        _tell_bidder(bid, "bid.expired", reason=reason)
    return live


def bidder_people(bid: Bid) -> list[User]:
    """Who hears about a bid: the people acting for its provider (a firm's owner and
    managers) and its author, while the author still acts for that provider."""
    people = permissions.people_acting_for(bid.provider_profile)
    author = bid.submitted_by
    if permissions.acts_for_provider(author, bid.provider_profile_id):
        people.append(author)  # notifications.tell tells each user once
    return people


def _tell_bidder(bid: Bid, email: str, **context: Any) -> None:
    """Tell the bidder's people what happened to their bid, with e-mail `email`."""
    notifications.tell(
        bidder_people(bid),
        email=email,
        context={"task_title": bid.task.title, **context},
        task_id=bid.task_id,
        bid_id=bid.id,
    )
