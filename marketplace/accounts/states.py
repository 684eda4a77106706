"""The user status machine, as data."""

from __future__ import annotations

from marketplace.accounts.models import UserStatus as S
from marketplace.statemachine import StateMachine

USER_STATES = StateMachine(
    "user",
    {
        # Both may be repeated, as the admin API always allowed: suspending a suspended
        # user records the new reason; reinstating an active one leaves it active.
        "suspend": ([S.ACTIVE, S.SUSPENDED], S.SUSPENDED),
        "reinstate": ([S.ACTIVE, S.SUSPENDED], S.ACTIVE),
    },
)
