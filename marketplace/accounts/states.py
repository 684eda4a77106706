"""The user status machine, as data."""

from __future__ import annotations

from marketplace.accounts.models import UserStatus as S
from marketplace.statemachine import StateMachine

USER_STATES = StateMachine(
    "user",
    {
        # Neither repeats: a second suspension would mail the user and audit again for
        # nothing, and reinstating an active user hides a mistaken target (both a 409).
        "suspend": ([S.ACTIVE], S.SUSPENDED),
        "reinstate": ([S.SUSPENDED], S.ACTIVE),
    },
)
