"""Helpers for the PostgreSQL race tests: calls released together, rows counted."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import sqlalchemy as sa

from marketplace.extensions import db


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together by a barrier; their results, in order."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return [f.result() for f in [pool.submit(run, call) for call in calls]]


def count(model: Any, *conditions: Any) -> int:
    """How many rows of `model` meet the conditions."""
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*conditions)) or 0
