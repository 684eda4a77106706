"""State machines held as data: named actions, the states they leave from, the state they reach.

`StateMachine.apply` is the one place a status changes (tests/test_architecture.py refuses
an assignment to `.status` anywhere else), and every change is recorded with its actor and
time, in one of two ways:

- Tasks, bids, contracts and milestones keep their own transitions table (a
  `TransitionMixin` model), because the API shows that history beside the entity.
- Every other entity (payments, transfers, refunds, refund requests, disputes, reports,
  outbox entries, webhook events, idempotency keys, users, invitations, amendments) writes
  a row to the one `status_changes` table: entity (its table's name), id, from, to,
  actor, reason, time.

One generic table rather than `status_changed_at`/`status_changed_by` columns on each of
those tables, because it keeps the whole history, not only the last change (who
re-suspended a user, an outbox entry failed, retried by an admin, then sent), with one
new table and no change to ten existing ones (on SQLite, batch mode would rebuild each to
add a foreign key column, partial unique indexes and all), whose own domain times
(`settled_at`, `resolved_at`, `processed_at`) stay where they are. Being shared by many
tables, it has no foreign key to the entity: code that deletes an entity deletes its
changes with `forget_changes` (today only idempotency keys are deleted).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.database import TransitionMixin, new_id
from marketplace.errors import InvalidTransition
from marketplace.extensions import Model, db

S = TypeVar("S", bound=StrEnum)


class StatusChange(TransitionMixin[str], Model):
    """One status change of an entity that has no transitions table of its own."""

    __tablename__ = "status_changes"
    __table_args__ = (sa.Index("ix_status_changes_entity", "entity", "entity_id", "at"),)

    #: The changed entity's table, e.g. `payments`.
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)

    @classmethod
    def status_type(cls, name: str) -> sa.types.TypeEngine[Any]:
        """Plain strings: the table holds the statuses of many enums."""
        return sa.String(30)


def forget_changes(model: type[Any], ids: sa.Select[Any] | Iterable[uuid.UUID]) -> None:
    """Delete the recorded status changes of the `model` rows whose ids `ids` selects
    (before deleting those rows: nothing else would)."""
    db.session.execute(
        sa.delete(StatusChange).where(
            StatusChange.entity == model.__tablename__, StatusChange.entity_id.in_(ids)
        )
    )


def _add_step(entity: Any, step: TransitionMixin[Any]) -> None:
    """Append a step to the entity's history without reading the history first: a stored
    entity whose history is not loaded gets the step through the session (the history, when
    read later, includes it), any other through its `transitions` list."""
    state = sa.inspect(entity)
    if state.persistent and "transitions" in state.unloaded:
        setattr(step, step.owner_key, entity.id)
        db.session.add(step)
    else:
        entity.transitions.append(step)


class StateMachine(Generic[S]):
    """Allowed transitions (`action -> (states it starts from, state it reaches)`) and
    guards (`action -> states it is allowed in`, for actions that change no state).

    `refusals` replaces the generic 409 message of an action with its own."""

    def __init__(
        self,
        entity: str,
        transitions: dict[str, tuple[Iterable[S], S]],
        guards: dict[str, Iterable[S]] | None = None,
        refusals: dict[str, str] | None = None,
    ) -> None:
        self.entity = entity
        self.transitions = {
            action: (frozenset(sources), target)
            for action, (sources, target) in transitions.items()
        }
        self.guards = {action: frozenset(states) for action, states in (guards or {}).items()}
        self.refusals = refusals or {}

    def _refuse(self, action: str, current: S) -> InvalidTransition:
        message = self.refusals.get(action) or (
            f"Cannot {action.replace('_', ' ')} a {self.entity} that is "
            f"{current.value.replace('_', ' ')}."
        )
        return InvalidTransition(message, details={"status": current.value, "action": action})

    def target(self, action: str, current: S) -> S:
        """The state `action` leads to from `current`, or InvalidTransition (a 409)."""
        sources, target = self.transitions[action]
        if current not in sources:
            raise self._refuse(action, current)
        return target

    def allows(self, action: str, current: S) -> bool:
        """Whether the transition `action` can be taken from `current`."""
        return current in self.transitions[action][0]

    def sources(self, action: str) -> frozenset[S]:
        """The states the transition `action` starts from."""
        return self.transitions[action][0]

    def check(self, action: str, current: S) -> None:
        """Raise InvalidTransition (a 409) unless the guarded `action` is allowed now."""
        if current not in self.guards[action]:
            raise self._refuse(action, current)

    def apply(
        self,
        entity: Any,
        action: str,
        *,
        actor_id: uuid.UUID | None,
        reason: str | None = None,
        record: type[Any] | None = None,
    ) -> S:
        """Move `entity` by `action` and record the step (from, to, actor, reason, time):
        as a `record` row appended to its `transitions`, or, without a `record` model, as
        a StatusChange. Returns the new state; raises InvalidTransition (a 409)."""
        current: S = entity.status
        target = self.target(action, current)
        if record is not None:
            _add_step(
                entity,
                record(from_status=current, to_status=target, actor_id=actor_id, reason=reason),
            )
        else:
            if entity.id is None:  # not flushed yet: its default id is not set
                entity.id = new_id()
            db.session.add(
                StatusChange(
                    entity=entity.__tablename__,
                    entity_id=entity.id,
                    from_status=current.value,
                    to_status=target.value,
                    actor_id=actor_id,
                    reason=reason,
                )
            )
        entity.status = target
        return target

    def actions_from(self, current: S) -> list[str]:
        """The transitions and guarded actions allowed from `current`, in table order."""
        moves = [a for a, (sources, _) in self.transitions.items() if current in sources]
        return moves + [a for a, states in self.guards.items() if current in states]
