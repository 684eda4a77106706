"""The task state machine (design.md), as data."""

from __future__ import annotations

from marketplace.statemachine import StateMachine
from marketplace.tasks.models import TaskStatus as S

TASK_STATES = StateMachine(
    "task",
    {
        "publish": ([S.DRAFT], S.OPEN),
        "submit_for_review": ([S.DRAFT], S.PENDING_REVIEW),
        "flag_for_review": ([S.OPEN], S.PENDING_REVIEW),
        "approve": ([S.PENDING_REVIEW], S.OPEN),
        "reject": ([S.PENDING_REVIEW], S.REJECTED),
        "cancel": ([S.DRAFT, S.PENDING_REVIEW, S.OPEN], S.CANCELLED),
        "fill": ([S.OPEN], S.FILLED),
        "reopen": ([S.FILLED], S.OPEN),
        "close": ([S.FILLED], S.CLOSED),
        "expire": ([S.OPEN], S.EXPIRED),
    },
    guards={
        "edit": [S.DRAFT, S.PENDING_REVIEW, S.OPEN],
        "delete": [S.DRAFT],
        "accept_terms": [S.OPEN],
        "bid": [S.OPEN],
        "award": [S.OPEN],
    },
)

#: Statuses in which other users can see the task at all.
VISIBLE_TO_ALL = frozenset({S.OPEN, S.FILLED, S.CLOSED})
#: Actions a client takes through the API (the rest are the system's or an admin's).
CLIENT_ACTIONS = ("publish", "cancel", "edit", "delete")
