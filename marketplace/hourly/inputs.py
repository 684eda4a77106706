"""What hourly requests carry, once their schemas have parsed them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from marketplace.inputs import UNSET, Unset


@dataclass(frozen=True, kw_only=True)
class NewEntry:
    """A stretch of work to log: aware start and end, what was done, attached uploads."""

    start: datetime
    end: datetime
    memo: str
    files: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True, kw_only=True)
class EntryChange:
    """An edit of an entry; UNSET fields stay."""

    start: datetime | Unset = UNSET
    end: datetime | Unset = UNSET
    memo: str | Unset = UNSET
