"""Bid rules: who may bid on what, one live bid each, editing, withdrawing, shortlisting."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, lazyload, selectinload, with_expression
from sqlalchemy.orm.interfaces import ORMOption

from marketplace import permissions
from marketplace.accounts import verification
from marketplace.accounts.models import Role, User
from marketplace.bids.inputs import (
    BidChanges,
    BidProposal,
    MilestoneProposal,
    foreign_currency_errors,
)
from marketplace.bids.models import Bid, BidStatus, BidTransition
from marketplace.bids.states import BID_STATES, LIVE
from marketplace.database import commit_keeping_values
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.inputs import UNSET, Money, value_or
from marketplace.notifications import services as notifications
from marketplace.profiles import services as profiles
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.schemas import Redacted
from marketplace.tasks import confidentiality
from marketplace.tasks import services as tasks
from marketplace.tasks.models import BudgetType, Confidentiality, Task
from marketplace.tasks.states import TASK_STATES


def transition(bid: Bid, action: str, *, actor: User | None, reason: str | None = None) -> None:
    """Apply a state-machine action to the bid and record who did it, when and why."""
    BID_STATES.apply(
        bid, action, record=BidTransition, actor_id=actor.id if actor else None, reason=reason
    )


def _check_price_and_milestones(
    task: Task, price: Money, milestones: Sequence[MilestoneProposal]
) -> None:
    errors: dict[str, Any] = {}
    if price.currency != task.currency:
        errors["price"] = [f"Bid in the task's currency ({task.currency})."]
    foreign = foreign_currency_errors(milestones, task.currency, of="the task")
    if foreign:  # sums across currencies mean nothing: say only this
        errors["milestones"] = foreign
        raise BusinessRuleViolation("The bid has invalid fields.", details=errors)
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
    """The task as its page reads it with its client's company, less its languages (no bid
    rule reads them)."""
    return tasks.task_statement(
        *tasks.page_options(),
        # The company of the task's client, named in the answer (its counterparty).
        joinedload(Task.client_profile, innerjoin=True).joinedload(ClientProfile.organization),
        lazyload(Task.language_rows),
    )


def _bidder_options() -> tuple[ORMOption, ...]:
    """What a new bid's answer shows of its bidder besides the profile, read with it: its
    skills (for the explanation) and its firm (for the name)."""
    return joinedload(ProviderProfile.skills), joinedload(ProviderProfile.organization)


def place_bid(*, user: User, task_id: uuid.UUID, proposal: BidProposal) -> Bid:
    """A provider (or a firm member, for the firm) bids on an open task.

    The answer is built from what the checks read and the bid wrote: the commit keeps them.
    """
    verification.require_verified_email(user)
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


def summary_options() -> tuple[ORMOption, ...]:
    """What `BidSchema` shows of a bid besides its row, to load with it (a page of bids: a
    bounded number of statements whatever its size): its task with the task's client (the
    counterparty, and the zone and hours the bidder's fit is measured against) and skills,
    and its bidder with its names and skills."""
    return (
        joinedload(Bid.task, innerjoin=True).options(
            joinedload(Task.client_profile, innerjoin=True).options(
                *profiles.party_options(ClientProfile)
            ),
            lazyload(Task.language_rows),
        ),
        joinedload(Bid.provider_profile, innerjoin=True).options(
            *profiles.party_options(ProviderProfile), selectinload(ProviderProfile.skills)
        ),
    )


def get_bid(*, user: User, bid_id: uuid.UUID, lock: bool = False) -> Bid:
    """A bid for its bidder, the task's client and admins; anyone else gets NotFound."""
    stmt = sa.select(Bid).where(Bid.id == bid_id)
    bid = db.session.scalar(stmt.with_for_update() if lock else stmt.options(*summary_options()))
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
    task = tasks.get_task(user=user, task_id=task_id, statement=_bid_task_statement())
    stmt = (
        sa.select(Bid)
        .where(Bid.task_id == task.id)
        .order_by(Bid.created_at, Bid.id)
        .options(*summary_options())
    )
    if not (user.is_admin or tasks.is_owner(user, task)):
        if user.role != Role.PROVIDER:  # another client: a foreign object, as everywhere
            raise NotFound("Task not found.")
        stmt = stmt.where(Bid.provider_profile_id == _bidder_profile(user).id)
    if status is not None:
        stmt = stmt.where(Bid.status == status)
    return stmt


def live_bid_count() -> sa.ScalarSelect[int]:
    """How many live bids a task has, as a subquery correlated with the statement's tasks."""
    return (
        sa.select(sa.func.count(Bid.id))
        .where(Bid.task_id == Task.id, Bid.status.in_(LIVE))
        .correlate(Task)
        .scalar_subquery()
    )


@functools.cache
def with_bid_count() -> ORMOption:
    """An option that loads `Task.bid_count` with the tasks a list reads: in the same
    statement, whatever the page size (built once, at its first use)."""
    return with_expression(Task.bid_count, live_bid_count())


class ProviderTaskView(Redacted):
    """A task as a provider sees it, with where that provider stands on it."""

    def __init__(
        self, task: Task | Redacted, *, terms_accepted: bool | None, my_bid: dict[str, Any] | None
    ) -> None:
        super().__init__(task, frozenset())
        self.terms_accepted = terms_accepted
        self.my_bid = my_bid


def view_task(*, user: User, task_id: uuid.UUID) -> Task | Redacted:
    """The task as `tasks.services.view_task` shows it; for a provider (a firm member: the
    firm) also whether it accepted the task's current confidentiality terms (None when the
    task has none) and its live bid on it, both read in one statement."""
    task = tasks.view_task(user=user, task_id=task_id)
    if user.role != Role.PROVIDER:
        return task
    profile_id = permissions.acting_provider_profile_id(user.id)
    live = sa.select(Bid).where(
        Bid.task_id == task.id, Bid.provider_profile_id == profile_id, Bid.status.in_(LIVE)
    )
    accepted, bid_id, bid_status = db.session.execute(
        sa.select(
            sa.exists().where(
                confidentiality.is_current_acceptance(task.id, task.terms_version, profile_id)
            ),
            live.with_only_columns(Bid.id).limit(1).scalar_subquery(),
            live.with_only_columns(Bid.status).limit(1).scalar_subquery(),
        )
    ).one()
    return ProviderTaskView(
        task,
        terms_accepted=accepted if task.confidentiality == Confidentiality.TERMS_REQUIRED else None,
        my_bid={"id": bid_id, "status": bid_status} if bid_id is not None else None,
    )


def my_bids_query(
    *,
    user: User,
    statuses: Sequence[BidStatus] = (),
    task_id: uuid.UUID | None = None,
) -> sa.Select[Bid]:
    """The bids of the provider the user acts for (any member of a firm sees the firm's),
    across tasks, newest first, each with its task; `statuses` (any of) and `task_id`
    narrow it. Other accounts have no bids of their own: an empty list, not an error."""
    stmt = (
        sa.select(Bid)
        .options(
            # The task and its client's names (the counterparty), not its skills or zone:
            # a listed bid shows no fit.
            joinedload(Bid.task, innerjoin=True).options(
                joinedload(Task.client_profile, innerjoin=True).options(
                    *profiles.party_options(ClientProfile)
                ),
                lazyload(Task.skills),
                lazyload(Task.language_rows),
            ),
            joinedload(Bid.provider_profile, innerjoin=True).options(
                *profiles.party_options(ProviderProfile)
            ),
        )
        .order_by(Bid.created_at.desc(), Bid.id.desc())
    )
    if user.role != Role.PROVIDER:
        return stmt.where(sa.false())
    stmt = stmt.where(Bid.provider_profile_id == permissions.acting_provider_profile_id(user.id))
    if statuses:
        stmt = stmt.where(Bid.status.in_(statuses))
    if task_id is not None:
        stmt = stmt.where(Bid.task_id == task_id)
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
