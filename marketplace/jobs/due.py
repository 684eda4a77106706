"""The loop of every periodic job: pick the due rows, then handle each in its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from marketplace.extensions import db


def each_due(due_ids: sa.Select[Any], handle: Callable[[Any], bool]) -> int:
    """Call `handle` on every id `due_ids` selects, committing after each; returns how many
    it handled. `handle` locks its row and checks it is still due, since another worker or a
    user may have moved it since the ids were read; it returns False when it was not."""
    handled = 0
    for key in db.session.scalars(due_ids).all():
        if handle(key):
            handled += 1
        db.session.commit()
    return handled
