"""What the bid services take: a proposal, changes to it, and proposed milestones
(conventions in marketplace.inputs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from marketplace.inputs import UNSET, Money, Unset


@dataclass(frozen=True, kw_only=True)
class MilestoneProposal:
    """A proposed milestone: what will be delivered, for how much, by when (if said)."""

    title: str
    description: str = ""
    amount: int
    due_date: date | None = None
    #: The currency the request named for `amount`; None: the bid's or contract's own.
    #: Services refuse one that differs (`foreign_currency_errors`); it is not stored.
    currency: str | None = None

    def as_json(self) -> dict[str, Any]:
        """As a bid's or an amendment's JSON column stores it (the date as ISO text)."""
        return {
            "title": self.title,
            "description": self.description,
            "amount": self.amount,
            "due_date": self.due_date.isoformat() if self.due_date else None,
        }

    @classmethod
    def from_json(cls, stored: Mapping[str, Any]) -> MilestoneProposal:
        """The milestone `as_json` stored."""
        due = stored.get("due_date")
        return cls(
            title=stored["title"],
            description=stored.get("description", ""),
            amount=stored["amount"],
            due_date=date.fromisoformat(due) if due else None,
        )


@dataclass(frozen=True, kw_only=True)
class BidProposal:
    """A bid: the price (fixed, or hourly for hourly tasks), milestones, timeline, letter."""

    price: Money
    milestones: tuple[MilestoneProposal, ...] = ()
    timeline_days: int
    cover_letter: str


@dataclass(frozen=True, kw_only=True)
class BidChanges:
    """An edit of a bid: the fields given replace the bid's (each one whole); UNSET stay."""

    price: Money | Unset = UNSET
    milestones: tuple[MilestoneProposal, ...] | Unset = UNSET
    timeline_days: int | Unset = UNSET
    cover_letter: str | Unset = UNSET


def foreign_currency_errors(
    items: Sequence[Any], currency: str, *, of: str = "the contract"
) -> dict[int, Any]:
    """Errors, by position and nested as marshmallow's, for each milestone (a proposal or a
    change) whose amount names a currency other than `currency` (that `of` the contract or
    the task); empty when none does."""
    return {
        index: {"amount": {"currency": [f"Must be {currency}, the currency of {of}."]}}
        for index, item in enumerate(items)
        if item.currency not in (None, UNSET, currency)
    }
