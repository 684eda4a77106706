"""The report state machine, as data."""

from __future__ import annotations

from marketplace.moderation.models import ReportStatus as S
from marketplace.statemachine import StateMachine

#: A report waits in the admins' queue until one of them resolves or dismisses it.
REPORT_STATES = StateMachine(
    "report",
    {
        "resolve": ([S.OPEN], S.RESOLVED),
        "dismiss": ([S.OPEN], S.DISMISSED),
    },
)
