"""State machines held as data: named actions, the states they leave from, the state they reach."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Generic, TypeVar

from marketplace.errors import InvalidTransition

S = TypeVar("S", bound=StrEnum)


class StateMachine(Generic[S]):
    """A table of allowed transitions: `action -> (states it may start from, state it reaches)`."""

    def __init__(self, entity: str, transitions: dict[str, tuple[Iterable[S], S]]) -> None:
        self.entity = entity
        self.transitions = {
            action: (frozenset(sources), target)
            for action, (sources, target) in transitions.items()
        }

    def target(self, action: str, current: S) -> S:
        """The state `action` leads to from `current`, or InvalidTransition (a 409)."""
        sources, target = self.transitions[action]
        if current not in sources:
            raise InvalidTransition(
                f"Cannot {action.replace('_', ' ')} a {self.entity} that is "
                f"{current.value.replace('_', ' ')}.",
                details={"status": current.value, "action": action},
            )
        return target

    def actions_from(self, current: S) -> list[str]:
        """The actions allowed from `current`, in table order."""
        return [a for a, (sources, _) in self.transitions.items() if current in sources]
