"""The task state machine (docs/design.md), as data."""

from __future__ import annotations

from enum import StrEnum

from marketplace.statemachine import StateMachine


class TaskStatus(StrEnum):
    """draft -> pending_review -> open -> filled -> closed; or cancelled, expired, rejected."""

    DRAFT = "draft"
    PENDING_REVIEW = "pending_review"
    OPEN = "open"
    FILLED = "filled"
    CLOSED = "closed"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    REJECTED = "rejected"


S = TaskStatus

TASK_STATES = StateMachine(
    "task",
    {
        "publish": ([S.DRAFT], S.OPEN),
        "submit_for_review": ([S.DRAFT], S.PENDING_REVIEW),
        "flag_for_review": ([S.OPEN], S.PENDING_REVIEW),
        "approve": ([S.PENDING_REVIEW], S.OPEN),
        "reject": ([S.PENDING_REVIEW], S.REJECTED),
        # The client takes a rejected task back to edit it; publishing sends it to review.
        "revise": ([S.REJECTED], S.DRAFT),
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

#: Tasks still in play for their client: not yet done, cancelled, expired or rejected.
TASK_LIVE = frozenset({S.DRAFT, S.PENDING_REVIEW, S.OPEN, S.FILLED})
#: Statuses in which other users can see the task at all.
VISIBLE_TO_ALL = frozenset({S.OPEN, S.FILLED, S.CLOSED})
#: Actions a client takes through the API (the rest are the system's or an admin's).
CLIENT_ACTIONS = ("publish", "revise", "cancel", "edit", "delete")
