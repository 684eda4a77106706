"""The bid state machine (docs/design.md), as data."""

from __future__ import annotations

from marketplace.bids.models import BidStatus as S
from marketplace.statemachine import StateMachine

BID_STATES = StateMachine(
    "bid",
    {
        "shortlist": ([S.SUBMITTED], S.SHORTLISTED),
        "accept": ([S.SUBMITTED, S.SHORTLISTED], S.ACCEPTED),
        "decline": ([S.SUBMITTED, S.SHORTLISTED], S.DECLINED),
        "withdraw": ([S.SUBMITTED, S.SHORTLISTED], S.WITHDRAWN),
        "expire": ([S.SUBMITTED, S.SHORTLISTED], S.EXPIRED),
        # The offer made from an accepted bid was declined, expired or withdrawn.
        "close_offer": ([S.ACCEPTED], S.EXPIRED),
    },
    guards={"edit": [S.SUBMITTED]},
)

#: Bids still in play: not yet accepted, declined, withdrawn or expired.
LIVE = (S.SUBMITTED, S.SHORTLISTED)
