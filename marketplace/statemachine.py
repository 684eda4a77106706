"""State machines held as data: named actions, the states they leave from, the state they reach."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Generic, TypeVar

from marketplace.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)


class StateMachine(Generic[S]):
    """Allowed transitions (`action -> (states it starts from, state it reaches)`) and
    guards (`action -> states it is allowed in`, for actions that change no state)."""

    def __init__(
        self,
        entity: str,
        transitions: dict[str, tuple[Iterable[S], S]],
        guards: dict[str, Iterable[S]] | None = None,
    ) -> None:
        self.entity = entity
        self.transitions = {
            action: (frozenset(sources), target)
            for action, (sources, target) in transitions.items()
        }
        self.guards = {action: frozenset(states) for action, states in (guards or {}).items()}

    def _refuse(self, action: str, current: S) -> InvalidTransition:
        return InvalidTransition(
            f"Cannot {action.replace('_', ' ')} a {self.entity} that is "
            f"{current.value.replace('_', ' ')}.",
            details={"status": current.value, "action": action},
        )

    def target(self, action: str, current: S) -> S:
        """The state `action` leads to from `current`, or InvalidTransition (a 409)."""
        sources, target = self.transitions[action]
        if current not in sources:
            raise self._refuse(action, current)
        return target

    def check(self, action: str, current: S) -> None:
        """Raise InvalidTransition (a 409) unless the guarded `action` is allowed now."""
        if current not in self.guards[action]:
            raise self._refuse(action, current)

    def apply(
        self,
        entity: Any,
        action: str,
        *,
        record: type[Any],
        actor_id: uuid.UUID | None,
        reason: str | None = None,
    ) -> S:
        """Move `entity` by `action` and append a `record` row (from, to, actor, reason) to
        its `transitions`; returns the new state. Raises InvalidTransition (a 409)."""
        target = self.target(action, entity.status)
        entity.transitions.append(
            record(from_status=entity.status, to_status=target, actor_id=actor_id, reason=reason)
        )
        entity.status = target
        return target

    def actions_from(self, current: S) -> list[str]:
        """The transitions and guarded actions allowed from `current`, in table order."""
        moves = [a for a, (sources, _) in self.transitions.items() if current in sources]
        return moves + [a for a, states in self.guards.items() if current in states]
