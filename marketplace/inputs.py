"""Typed service inputs: the convention, UNSET for partial updates, and money.

Services never take request dicts. They take keyword arguments, or a small frozen
dataclass defined in their area's `inputs` module (`TaskDraft`, `BidProposal`,
`AwardTerms`, ...). The HTTP schemas build these in `@post_load`, so a route passes
the loaded object straight to the service; tests and the demo build them directly.
Sequences are tuples and nested parts are dataclasses too; JSON columns still store
plain data, converted where the service writes the model (`as_json`, `from_json`).

A partial update (PATCH, or a PUT of some fields) must tell a field that was not sent
from one sent as null: `"start_date": null` clears the date, leaving it out keeps it.
Its dataclass defaults every field to UNSET; `given(changes)` names the fields that
were sent, `changes.x is not UNSET` narrows a field's type, and
`value_or(changes.deadline, task.deadline)` reads a field with a fallback.
"""

from __future__ import annotations

import dataclasses
import enum
from typing import TYPE_CHECKING, Any, Final, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T")


class Unset(enum.Enum):
    """The type of UNSET (an enum of one member, so `x is UNSET` narrows for mypy)."""

    UNSET = "UNSET"

    def __repr__(self) -> str:
        return "UNSET"


#: A field of a partial update that was not given.
UNSET: Final = Unset.UNSET


def given(changes: DataclassInstance) -> frozenset[str]:
    """The names of a dataclass's fields that are not UNSET."""
    return frozenset(
        field.name
        for field in dataclasses.fields(changes)
        if getattr(changes, field.name) is not UNSET
    )


def given_values(changes: DataclassInstance) -> dict[str, Any]:
    """The fields that are not UNSET, by name, in field order (not recursing into values)."""
    return {
        field.name: getattr(changes, field.name)
        for field in dataclasses.fields(changes)
        if getattr(changes, field.name) is not UNSET
    }


def value_or(value: T | Unset, fallback: T) -> T:
    """`value`, or `fallback` when it was not given."""
    return fallback if value is UNSET else value


@dataclasses.dataclass(frozen=True)
class Money:
    """An amount in integer minor units and a lower-case ISO 4217 currency."""

    amount: int
    currency: str
