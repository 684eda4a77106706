"""The discovery index: derived columns of tasks that the shoring and overlap filters read.

- `fit_country`: the client's country (onshore is an equality of countries); unlike the
  other figures it is always current, so it filters on every day (and is indexed);
- `fit_offset_min`, `fit_offset_max`: the least and greatest UTC offset, in minutes, of
  the client's zone over the task's period;
- `fit_masks`: for each weekday of the client, Monday first, the quarter-hours of the UTC
  week that its shifts (or the coverage window's) touch over the period;
- `fit_from`, `fit_until`: the days of search these figures stand for. On any other day
  SQL keeps the task and the exact check alone decides, so a figure that has lapsed (or
  was never computed, or bounds nothing) costs time, never a task.

`marketplace.matching.zone_bounds` says why conditions on these figures are necessary
ones. A flush that adds a task or changes its dates, time-zone need, client or status
computes them; a flush that changes a client's zone, country or hours recomputes its open
tasks (a task that opens later is recomputed as it opens). The daily job renews the
figures about to lapse: those of tasks without a start date, whose period moves with the
day of the search.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session, joinedload

from marketplace.database import bit_and_count, is_postgresql, utcnow
from marketplace.extensions import db
from marketplace.hours import WorkingHours
from marketplace.matching import zone_bounds
from marketplace.matching.zone_bounds import NEARSHORE_MINUTES, WEEK_SLOTS, ProviderBounds
from marketplace.profiles.models import ClientProfile
from marketplace.tasks.models import FIT_MASK_BITS, Task, TaskStatus

#: What a task's figures depend on, of the task and of its client.
TASK_FIELDS = (
    "start_date",
    "deadline",
    "timezone_need",
    "client_profile",
    "client_profile_id",
    "status",
)
CLIENT_FIELDS = ("timezone", "country", "working_hours")
NEVER = date.min


def measured_hours(task: Task, client: ClientProfile) -> WorkingHours:
    """The hours a task's overlap is measured against: the window a coverage task wants
    covered, else the client's working hours."""
    need = task.timezone_need
    if need and need["mode"] == "coverage":
        window: WorkingHours = need["window"]
        return window
    return client.working_hours or {}


def figures(task: Task, client: ClientProfile, today: date) -> dict[str, Any]:
    """The task's derived columns, computed on `today`."""
    span = zone_bounds.coverage(task.start_date, task.deadline, today)
    bounds = zone_bounds.client_bounds(
        client.timezone or "UTC",
        json.dumps(measured_hours(task, client), sort_keys=True),
        span.first,
        span.last,
    )
    stands = not bounds.doubled and span.valid_from <= span.valid_until
    return {
        "fit_country": client.country or None,
        "fit_offset_min": bounds.offset_min,
        "fit_offset_max": bounds.offset_max,
        "fit_masks": zone_bounds.masks_text(bounds.weekday_masks),
        "fit_from": span.valid_from if stands else NEVER,
        "fit_until": span.valid_until if stands else NEVER,
    }


def refresh(task: Task, today: date) -> None:
    """Recompute the task's derived columns."""
    client = task.client_profile
    if client is None:  # a new task given only its client's id: the relationship is not set
        client = db.session.get_one(ClientProfile, task.client_profile_id)
    for name, value in figures(task, client, today).items():
        setattr(task, name, value)


def _changed(obj: Any, names: tuple[str, ...]) -> bool:
    state = sa.inspect(obj)
    return any(state.attrs[name].history.has_changes() for name in names)


def _keep_current(session: Session, flush_context: Any, instances: Any) -> None:
    """Before each flush: recompute the figures of the tasks and clients it changes."""
    today = utcnow().date()
    with session.no_autoflush:
        tasks = {
            task
            for task in (*session.new, *session.dirty)
            if isinstance(task, Task) and (task in session.new or _changed(task, TASK_FIELDS))
        }
        clients = [
            client.id
            for client in session.dirty
            if isinstance(client, ClientProfile) and _changed(client, CLIENT_FIELDS)
        ]
        if clients:
            tasks.update(
                session.scalars(
                    sa.select(Task).where(
                        Task.client_profile_id.in_(clients), Task.status == TaskStatus.OPEN
                    )
                )
            )
        for task in tasks:
            if task not in session.deleted:
                refresh(task, today)


def install(session: Any) -> None:
    """Keep the figures current on every flush of `session` (the app's scoped session)."""
    if not sa.event.contains(session, "before_flush", _keep_current):
        sa.event.listen(session, "before_flush", _keep_current)


def refresh_open_tasks(*, batch: int = 500) -> int:
    """Recompute the figures of open tasks that lapse within MARGIN_DAYS (tasks without a
    start date, and any never computed); returns how many. Run daily."""
    session, today = db.session(), utcnow().date()
    lapsing = sa.select(Task).where(
        Task.status == TaskStatus.OPEN,
        Task.fit_until < today + timedelta(days=zone_bounds.MARGIN_DAYS),
    )
    done, after = 0, None
    while True:
        stmt = lapsing.order_by(Task.id).limit(batch).options(joinedload(Task.client_profile))
        if after is not None:
            stmt = stmt.where(Task.id > after)
        tasks = list(session.scalars(stmt))
        for task in tasks:
            refresh(task, today)
        session.commit()
        done += len(tasks)
        if len(tasks) < batch:
            return done
        after = tasks[-1].id


def _bits(mask: int) -> sa.ColumnElement[str]:
    """A mask as a bound value, typed as the stored masks are."""
    value = sa.bindparam(None, zone_bounds.mask_text(mask), type_=sa.String)
    return sa.cast(value, postgresql.BIT(WEEK_SLOTS)) if is_postgresql() else value


def _weekday_masks() -> list[sa.ColumnElement[str]]:
    """The seven weekday masks of `fit_masks`, Monday first."""
    return [
        sa.func.substring(Task.fit_masks, 1 + day * WEEK_SLOTS, WEEK_SLOTS)
        for day in range(FIT_MASK_BITS // WEEK_SLOTS)
    ]


def _may_overlap(hours: float, provider: ProviderBounds) -> sa.ColumnElement[bool]:
    """Some weekday's bound reaches `hours`."""
    needed = zone_bounds.slots_needed(hours)
    mask = _bits(provider.mask)
    return sa.or_(*(bit_and_count(day, mask) >= needed for day in _weekday_masks()))


def _countries(shoring: str, country: str | None) -> sa.ColumnElement[bool]:
    """Onshore is the same country (exact: `fit_country` always holds the client's)."""
    same = Task.fit_country == country if country else sa.false()
    return same if shoring == "onshore" else sa.not_(sa.func.coalesce(same, False))


def _offsets(shoring: str, provider: ProviderBounds) -> sa.ColumnElement[bool] | None:
    """The offset ranges allow the shoring class (none to check for onshore)."""
    if shoring == "nearshore":  # unless more than 3 hours apart on every day
        return sa.and_(
            Task.fit_offset_min - provider.offset_max <= NEARSHORE_MINUTES,
            provider.offset_min - Task.fit_offset_max <= NEARSHORE_MINUTES,
        )
    if shoring == "offshore":  # unless within 3 hours on every day
        return sa.or_(
            Task.fit_offset_max - provider.offset_min > NEARSHORE_MINUTES,
            provider.offset_max - Task.fit_offset_min > NEARSHORE_MINUTES,
        )
    return None


def may_fit(
    *,
    shoring: str | None,
    min_overlap: float | None,
    country: str | None,
    provider: ProviderBounds,
    today: date,
) -> sa.ColumnElement[bool]:
    """The SQL condition every task passing the fit filters meets (a necessary one). The
    country is always current; the other figures only bind on the days they stand for."""
    dated = []
    if shoring is not None and (offsets := _offsets(shoring, provider)) is not None:
        dated.append(offsets)
    if min_overlap and not provider.doubled:
        dated.append(_may_overlap(min_overlap, provider))
    condition = _countries(shoring, country) if shoring is not None else sa.true()
    if not dated:
        return condition
    stands = sa.and_(Task.fit_from <= today, Task.fit_until >= today)
    return sa.and_(condition, sa.or_(sa.not_(stands), sa.and_(*dated)))
