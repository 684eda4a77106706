"""Double-blind reviews: after a contract ends, each side reviews the other once.

A review is hidden from everyone but its side until both sides have reviewed (then both
publish at the moment of the second) or the window (`REVIEW_WINDOW_DAYS` after the
contract's end) passes (then those written publish at the window's close). The periodic
job `publish_lapsed` stamps the lapsed ones and tells both sides; until it runs, every read
already treats a review whose window has closed as published at the window's close, so
what anyone sees never depends on when the job last ran. A published review never changes:
there is no way to edit or withdraw one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.expression import FunctionElement

from marketplace.accounts.models import User
from marketplace.contracts import services as contracts
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.contracts.states import RUNNING
from marketplace.database import UTCDateTime, utcnow
from marketplace.errors import BusinessRuleViolation, Conflict
from marketplace.extensions import db
from marketplace.jobs.due import each_due
from marketplace.pagination import Page, paginate
from marketplace.profiles import services as profiles
from marketplace.profiles.models import ClientProfile
from marketplace.record.clock import as_utc
from marketplace.record.models import Review, ReviewSide
from marketplace.tasks.models import Task

#: The sub-ratings each side gives: the client side rates the provider, the provider side
#: rates the client. Each is required of its side, and only its side's.
SUB_RATINGS: dict[ReviewSide, tuple[str, ...]] = {
    ReviewSide.CLIENT: ("quality", "communication", "timeliness", "expertise"),
    ReviewSide.PROVIDER: ("clarity", "responsiveness", "payment_promptness"),
}
#: Contracts that ended: their parties review each other.
ENDED = (ContractStatus.COMPLETED, ContractStatus.TERMINATED)


class ReviewWindowClosed(Conflict):
    """The review window of the contract has passed."""

    code = "review_window_closed"


def window() -> timedelta:
    """How long after a contract's end its parties may review each other."""
    return timedelta(days=current_app.config["REVIEW_WINDOW_DAYS"])


def window_closes_at(contract: Contract) -> datetime | None:
    """When the contract's review window closes (None while it has not ended, and for one
    that never started: a declined or expired offer has no window)."""
    if contract.status not in ENDED or contract.ended_at is None:
        return None
    return as_utc(contract.ended_at) + window()


# Writing ----------------------------------------------------------------------------------


def write_review(
    *,
    user: User,
    contract_id: uuid.UUID,
    rating: int,
    sub_ratings: Mapping[str, int],
    text: str,
) -> Review:
    """The user's side reviews the other side of an ended contract, once, within the window;
    the second side's review publishes both. Outsiders get NotFound; admins and agents (who
    do not speak for their organization) Forbidden."""
    # The lock orders both sides' reviews: the second always sees the first.
    contract = contracts.get_contract(user=user, contract_id=contract_id, lock=True)
    side = ReviewSide(contracts.signing_side(user, contract))
    _check_sub_ratings(side, sub_ratings)
    if contract.status in RUNNING:
        raise Conflict(
            "The contract is still running: it must end (be completed or terminated) "
            "before its parties review each other."
        )
    if contract.status not in ENDED or contract.ended_at is None:
        raise Conflict("The contract never started: there is no work to review.")
    closes_at = window_closes_at(contract)
    assert closes_at is not None
    now = utcnow()
    if now >= closes_at:
        raise ReviewWindowClosed(
            f"Reviews close {current_app.config['REVIEW_WINDOW_DAYS']} days after the "
            "contract ends; this contract's window has passed.",
            details={"window_closed_at": closes_at.isoformat()},
        )
    if _review_of(contract.id, side) is not None:
        raise _already_reviewed()
    review = Review(
        contract_id=contract.id,
        side=side,
        author_id=user.id,
        provider_profile_id=contract.provider_profile_id,
        client_profile_id=contract.client_profile_id,
        rating=rating,
        sub_ratings={name: sub_ratings[name] for name in SUB_RATINGS[side]},
        text=text,
        created_at=now,
    )
    db.session.add(review)
    try:
        db.session.flush()
    except IntegrityError:
        # Two requests of one side at once, where no lock orders them: one review is kept.
        db.session.rollback()
        raise _already_reviewed() from None
    other = _review_of(contract.id, _other(side))
    if other is not None and other.published_at is None:
        _publish(contract, [review, other], at=now)
    db.session.commit()
    return review


def _check_sub_ratings(side: ReviewSide, sub_ratings: Mapping[str, int]) -> None:
    wanted = SUB_RATINGS[side]
    errors: dict[str, list[str]] = {}
    for name in wanted:
        if name not in sub_ratings:
            errors[name] = ["Missing data for required field."]
    for name in sub_ratings:
        if name not in wanted:
            errors[name] = [f"Not a rating the {side.value} side gives."]
    if errors:
        raise BusinessRuleViolation(
            f"The {side.value} side rates {', '.join(wanted)}.",
            details={"sub_ratings": errors},
        )


def _already_reviewed() -> Conflict:
    return Conflict("Your side has already reviewed this contract; a review cannot be changed.")


def _other(side: ReviewSide) -> ReviewSide:
    return ReviewSide.PROVIDER if side == ReviewSide.CLIENT else ReviewSide.CLIENT


def _review_of(contract_id: uuid.UUID, side: ReviewSide) -> Review | None:
    return db.session.scalar(
        sa.select(Review).where(Review.contract_id == contract_id, Review.side == side)
    )


# Publishing -------------------------------------------------------------------------------


def _publish(contract: Contract, reviews: Iterable[Review], *, at: datetime) -> None:
    """Publish the reviews at `at` and tell both sides, in the caller's transaction."""
    written = 0
    for review in reviews:
        review.published_at = at
        written += 1
    for party in (contract.client_profile, contract.provider_profile):
        contracts.tell(party, contract, "review.published", count=written)


def publish_lapsed() -> int:
    """Publish the reviews whose window has closed (each at the window's close) and tell
    both sides; returns how many contracts' reviews it published. Each contract is
    published once, however often and on however many workers this runs."""
    cutoff = utcnow() - window()
    due = (
        sa.select(Review.contract_id)
        .join(Contract, Contract.id == Review.contract_id)
        .where(Review.published_at.is_(None), Contract.ended_at <= cutoff)
        .distinct()
    )
    return each_due(due, lambda contract_id: _publish_lapsed(contract_id, cutoff))


def _publish_lapsed(contract_id: uuid.UUID, cutoff: datetime) -> bool:
    contract = db.session.scalar(
        sa.select(Contract).where(Contract.id == contract_id).with_for_update()
    )
    if contract is None or contract.ended_at is None or as_utc(contract.ended_at) > cutoff:
        return False
    hidden = list(
        db.session.scalars(
            sa.select(Review).where(
                Review.contract_id == contract_id, Review.published_at.is_(None)
            )
        )
    )
    if not hidden:  # another worker published them
        return False
    closes_at = window_closes_at(contract)
    assert closes_at is not None
    _publish(contract, hidden, at=closes_at)
    return True


# Reading ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShownReview:
    """A review as a reader sees it: `published_at` is when it became (or, its window
    closed, counts as) public; None while it is hidden (shown only to its own side)."""

    review: Review
    published_at: datetime | None
    reviewer_name: str | None = None
    task_title: str | None = None

    @property
    def published(self) -> bool:
        return self.published_at is not None


def published_at(
    review: Review, contract: Contract, now: datetime | None = None
) -> datetime | None:
    """When the review became public: stamped, or its window's close once that has passed."""
    if review.published_at is not None:
        return review.published_at
    closes_at = window_closes_at(contract)
    if closes_at is not None and (now or utcnow()) >= closes_at:
        return closes_at
    return None


def contract_reviews(*, user: User, contract_id: uuid.UUID) -> tuple[Contract, list[ShownReview]]:
    """The contract's published reviews, and the reader's side's own hidden one; never the
    other side's hidden one (admins: the published ones). For the parties and admins."""
    contract = contracts.get_contract(user=user, contract_id=contract_id)
    side = contracts.side_of(user, contract)
    now = utcnow()
    shown = []
    for review in db.session.scalars(
        sa.select(Review).where(Review.contract_id == contract.id).order_by(Review.created_at)
    ):
        at = published_at(review, contract, now)
        if at is not None or review.side == side:
            shown.append(ShownReview(review, at))
    return contract, shown


class plus_days(FunctionElement[datetime]):
    """`moment + days` in SQL (SQLite keeps timestamps as text, PostgreSQL as timestamptz)."""

    type = UTCDateTime()
    inherit_cache = True
    name = "plus_days"


@compiles(plus_days)
def _plus_days(element: plus_days, compiler: Any, **kw: Any) -> str:
    moment, days = list(element.clauses)
    interval = f"make_interval(days => {compiler.process(days, **kw)})"
    return f"({compiler.process(moment, **kw)} + {interval})"


@compiles(plus_days, "sqlite")
def _plus_days_sqlite(element: plus_days, compiler: Any, **kw: Any) -> str:
    # Stored as 'YYYY-MM-DD HH:MM:SS.ffffff': shift the seconds, keep the fraction as it is
    # (strftime's %f keeps milliseconds only), so the result compares as the stored text.
    moment, days = (compiler.process(clause, **kw) for clause in element.clauses)
    shift = f"'+' || {days} || ' days'"
    return f"(strftime('%Y-%m-%d %H:%M:%S', {moment}, {shift}) || substr({moment}, 20))"


def _public_since(now: datetime) -> sa.ColumnElement[bool]:
    """The reviews public at `now`: stamped, or their window closed (before the job ran)."""
    return sa.or_(Review.published_at.is_not(None), Contract.ended_at <= now - window())


def _public_at() -> sa.ColumnElement[datetime]:
    """When a public review became public (stamped, else its window's close)."""
    return sa.func.coalesce(
        Review.published_at,
        plus_days(Contract.ended_at, sa.literal(window().days, sa.Integer)),
        type_=UTCDateTime(),
    )


def _of_provider(provider_profile_id: Any, now: datetime) -> sa.ColumnElement[bool]:
    return sa.and_(
        Review.provider_profile_id == provider_profile_id,
        Review.side == ReviewSide.CLIENT,
        _public_since(now),
    )


def provider_reviews(
    *, profile_id: uuid.UUID, page: int, page_size: int | None
) -> tuple[Page, tuple[float | None, int]]:
    """A page of the public reviews of a provider (written by its clients), newest first,
    each with its reviewer's name and its task's title; and their average rating and count.
    NotFound for a provider whose profile is not public."""
    profile = profiles.public_provider_profile(profile_id)
    now = utcnow()
    stmt = (
        sa.select(Review)
        .join(Contract, Contract.id == Review.contract_id)
        .where(_of_provider(profile.id, now))
        .order_by(_public_at().desc(), Review.id.desc())
    )
    result = paginate(stmt, page=page, page_size=page_size)
    result.items = _with_context(result.items, now)
    return result, published_of_provider(profile.id)


def _with_context(reviews: list[Review], now: datetime) -> list[ShownReview]:
    """The page's reviews with their contract's task title and client's name (one query)."""
    if not reviews:
        return []
    rows = db.session.execute(
        sa.select(Contract, Task.title)
        .join(Task, Task.id == Contract.task_id)
        .where(Contract.id.in_({r.contract_id for r in reviews}))
        .options(
            joinedload(Contract.client_profile).options(*profiles.party_options(ClientProfile))
        )
    ).all()
    context = {contract.id: (contract, title) for contract, title in rows}
    shown = []
    for review in reviews:
        contract, title = context[review.contract_id]
        shown.append(
            ShownReview(
                review,
                published_at(review, contract, now),
                reviewer_name=contract.client_profile.display_name,
                task_title=title,
            )
        )
    return shown


def published_of_provider(
    provider_id: uuid.UUID, since: datetime | None = None
) -> tuple[float | None, int]:
    """The average rating (None without reviews) and count of the public reviews of the
    provider written by its clients (made public at or after `since`, if given), in one
    SQL statement; reviews whose window closed count before the publishing job stamps them."""
    now = utcnow()
    stmt = (
        sa.select(sa.func.avg(Review.rating), sa.func.count(Review.id))
        .join(Contract, Contract.id == Review.contract_id)
        .where(_of_provider(provider_id, now))
    )
    if since is not None:
        stmt = stmt.where(_public_at() >= since)
    average, count = db.session.execute(stmt).one()
    return (float(average) if average is not None else None), int(count)


def ratings_by_provider(since: datetime | None = None) -> sa.Select[Any]:
    """`(provider_profile_id, average, count)` of every provider's public client reviews
    (as `published_of_provider`), one row per provider: for recomputing many records."""
    now = utcnow()
    stmt = (
        sa.select(Review.provider_profile_id, sa.func.avg(Review.rating), sa.func.count(Review.id))
        .join(Contract, Contract.id == Review.contract_id)
        .where(Review.side == ReviewSide.CLIENT, _public_since(now))
        .group_by(Review.provider_profile_id)
    )
    if since is not None:
        stmt = stmt.where(_public_at() >= since)
    return stmt
