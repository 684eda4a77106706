"""Finding tasks: filters, full-text search, sorting and keyset pagination.

Lists never carry confidential details. Pagination is by cursor (the sort key of
the last item seen), so tasks published while a provider pages through the list
neither push items onto the next page twice nor make any item skip a page.
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from marketplace.accounts.models import Role, User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Skill
from marketplace.database import is_postgresql
from marketplace.errors import BusinessRuleViolation, Forbidden
from marketplace.extensions import db
from marketplace.hours import WorkingHours
from marketplace.matching import timezones
from marketplace.pagination import CursorPage, decode_cursor, encode_cursor, page_size_for
from marketplace.profiles import services as profiles
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks import services as task_services
from marketplace.tasks.models import Task, TaskLanguage, TaskSkill, TaskStatus

# name -> (sort columns, descending); the id breaks ties so the order is total.
SORTS: dict[str, tuple[tuple[Any, ...], bool]] = {
    "newest": ((Task.opened_at, Task.id), True),
    "budget_desc": ((Task.budget_max, Task.id), True),
    "budget_asc": ((Task.budget_min, Task.id), False),
    "deadline": ((Task.deadline, Task.id), False),
    "mine": ((Task.created_at, Task.id), True),
}
SEARCH_VECTOR = "to_tsvector('english', title || ' ' || summary)"  # the GIN index's expression


def _text_search(stmt: sa.Select[Task], query: str) -> sa.Select[Task]:
    if is_postgresql():
        return stmt.where(
            sa.text(f"{SEARCH_VECTOR} @@ websearch_to_tsquery('english', :q)").bindparams(q=query)
        )
    # SQLite: every word must appear in the title or the summary.
    for word in query.split()[:10]:
        pattern = "%" + word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(
            sa.or_(Task.title.ilike(pattern, escape="\\"), Task.summary.ilike(pattern, escape="\\"))
        )
    return stmt


def _skills_filter(stmt: sa.Select[Task], slugs: list[str], match: str) -> sa.Select[Task]:
    catalog.skills_by_slug(slugs)  # unknown slugs are a 422
    wanted = (
        sa.select(TaskSkill.task_id)
        .join(Skill, Skill.id == TaskSkill.skill_id)
        .where(Skill.slug.in_(slugs))
    )
    if match == "all":
        wanted = wanted.group_by(TaskSkill.task_id).having(
            sa.func.count(sa.distinct(Skill.slug)) == len(set(slugs))
        )
    return stmt.where(Task.id.in_(wanted))


def _sql_filters(stmt: sa.Select[Task], f: dict[str, Any]) -> sa.Select[Task]:
    if f.get("q"):
        stmt = _text_search(stmt, f["q"])
    if f.get("skills"):
        stmt = _skills_filter(stmt, f["skills"], f["skills_match"])
    if f.get("service_model"):
        stmt = stmt.where(Task.service_model == f["service_model"])
    if f.get("currency"):
        stmt = stmt.where(Task.currency == f["currency"])
        if "budget_min" in f:
            stmt = stmt.where(Task.budget_max >= f["budget_min"])
        if "budget_max" in f:
            stmt = stmt.where(Task.budget_min <= f["budget_max"])
    if f.get("language"):
        stmt = stmt.where(
            Task.id.in_(sa.select(TaskLanguage.task_id).where(TaskLanguage.code == f["language"]))
        )
    if "trial" in f:
        stmt = stmt.where(Task.trial.is_(f["trial"]))
    if f.get("posted_since"):
        stmt = stmt.where(Task.opened_at >= f["posted_since"])
    return stmt


class _ProviderFit:
    """Shoring and overlap of one provider against many tasks, exact and fast.

    Each client's daily overlap with the provider is computed once over the dates its
    tasks span and kept as running sums, so a task's average costs two lookups. A day's
    overlap depends only on its weekday and the zones' UTC offsets unless a daylight-
    saving change falls within two days, so stable days are computed once per
    (client, weekday, offsets). Shoring looks for days in the task's period whose
    offsets differ by more than three hours.
    """

    def __init__(self, provider: ProviderProfile) -> None:
        self.provider = provider
        self._regimes: dict[tuple[str, date], tuple[Any, ...]] = {}
        self._sums: dict[tuple[Any, ...], tuple[date, list[float], list[int]]] = {}
        self._by_regime: dict[tuple[Any, ...], timedelta | None] = {}
        self._far_days: dict[str, list[date]] = {}

    def _regime(self, zone: str, day: date) -> tuple[Any, ...]:
        """What a day's overlap depends on, for a client in `zone`."""
        key = (zone, day)
        if key not in self._regimes:
            offset, zones = timezones.utc_offset, (zone, self.provider.timezone)
            before, after = day - timedelta(days=2), day + timedelta(days=3)
            if all(offset(z, before) == offset(z, after) for z in zones):
                self._regimes[key] = (day.weekday(), *(offset(z, day) for z in zones))
            else:
                self._regimes[key] = (day,)  # near a daylight-saving change: this day alone
        return self._regimes[key]

    def _running_sums(
        self, client: ClientProfile, hours: WorkingHours, span: tuple[date, date]
    ) -> tuple[date, list[float], list[int]]:
        series = (client.id, json.dumps(hours, sort_keys=True))
        if series not in self._sums:
            seconds, workdays = [0.0], [0]
            for day in timezones.days(*span):
                key = (*series, *self._regime(client.timezone, day))
                if key not in self._by_regime:
                    self._by_regime[key] = timezones.day_overlap(
                        day=day,
                        client_zone=client.timezone,
                        client_hours=hours,
                        provider_zone=self.provider.timezone,
                        provider_hours=self.provider.working_hours,
                    )
                overlap = self._by_regime[key]
                seconds.append(seconds[-1] + (overlap.total_seconds() if overlap else 0.0))
                workdays.append(workdays[-1] + (overlap is not None))
            self._sums[series] = (span[0], seconds, workdays)
        return self._sums[series]

    def _far_apart(self, zone: str, first: date, last: date, span: tuple[date, date]) -> bool:
        """Whether the zones' offsets differ by more than 3 hours on a day in first..last.

        The days where they do are listed once per client zone over `span`, then each
        task's period is a binary search.
        """
        if zone not in self._far_days:
            offset, mine = timezones.utc_offset, self.provider.timezone
            self._far_days[zone] = [
                day
                for day in timezones.days(*span)
                if abs(offset(zone, day) - offset(mine, day)) > timezones.NEARSHORE_MAX_OFFSET
            ]
        far = self._far_days[zone]
        return bisect_left(far, first) < bisect_right(far, last)

    def of(
        self,
        client: ClientProfile,
        need: dict[str, Any] | None,
        period: tuple[date, date],
        span: tuple[date, date],
        zone_span: tuple[date, date],
    ) -> tuple[str, float]:
        """(shoring, average daily overlap in hours) for a task of `client` in `period`;
        `span` covers the periods of the client's candidate tasks, `zone_span` those of
        every candidate client in the client's zone.

        Overlap is measured against the window a coverage task wants covered, else
        against the client's working hours.
        """
        first, last = period
        hours = need["window"] if need and need["mode"] == "coverage" else client.working_hours
        if client.country and client.country == self.provider.country:
            shore = "onshore"
        else:
            far = self._far_apart(client.timezone, first, last, zone_span)
            shore = "offshore" if far else "nearshore"
        origin, seconds, workdays = self._running_sums(client, hours, span)
        lo, hi = (first - origin).days, (last - origin).days + 1
        worked = workdays[hi] - workdays[lo]
        overlap = round((seconds[hi] - seconds[lo]) / 3600 / worked, 2) if worked else 0.0
        return shore, overlap


def search_tasks(*, user: User, filters: dict[str, Any]) -> CursorPage:
    """Open tasks matching the filters (or, with `mine`, the client's own in any status)."""
    page_size = page_size_for(filters.get("page_size"))
    if filters["mine"]:
        if user.role != Role.CLIENT:
            raise Forbidden("Only clients have tasks of their own.")
        stmt = sa.select(Task).where(
            Task.client_profile_id == profiles.acting_client_profile(user).id
        )
        if filters.get("status"):
            stmt = stmt.where(Task.status == filters["status"])
        columns, descending = SORTS["mine"]
    else:
        stmt = sa.select(Task).where(
            Task.status == TaskStatus.OPEN, task_services.poster_is_active_clause()
        )
        columns, descending = SORTS[filters["sort"]]
    stmt = _sql_filters(stmt, filters)
    order = [c.desc() if descending else c.asc() for c in columns]
    after = decode_cursor(filters["cursor"], list(columns)) if filters.get("cursor") else None

    fit_filters: dict[str, Any] = {
        k: filters[k] for k in ("shoring", "min_overlap") if k in filters
    }
    if fit_filters:
        return _search_with_fit(
            user, stmt.order_by(*order), fit_filters, columns, descending, after, page_size
        )

    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0
    if after is not None:
        key = sa.tuple_(*columns)
        # Bind the cursor with the columns' own types, so values compare as stored.
        bound = sa.tuple_(
            *[sa.literal(v, type_=c.type) for v, c in zip(after, columns, strict=True)]
        )
        stmt = stmt.where(key < bound if descending else key > bound)
    items = list(db.session.scalars(stmt.order_by(*order).limit(page_size + 1)))
    return _page(items, page_size, total, columns)


def _page(items: list[Task], page_size: int, total: int, columns: tuple[Any, ...]) -> CursorPage:
    more = len(items) > page_size
    items = items[:page_size]
    next_cursor = None
    if more:
        next_cursor = encode_cursor([getattr(items[-1], c.key) for c in columns])
    return CursorPage(items=items, page_size=page_size, total=total, next_cursor=next_cursor)


def _search_with_fit(
    user: User,
    stmt: sa.Select[Task],
    fit_filters: dict[str, Any],
    columns: tuple[Any, ...],
    descending: bool,
    after: list[Any] | None,
    page_size: int,
) -> CursorPage:
    """Filters that need zone rules run in Python over the SQL-filtered tasks."""
    if user.role != Role.PROVIDER:
        raise BusinessRuleViolation(
            "Shoring and overlap filters are relative to you as a provider.",
            details={name: ["Only providers can use this filter."] for name in fit_filters},
        )
    # Only what the filters need is loaded for every candidate (the sort key is the row from
    # index 5 on); whole tasks are loaded for one page.
    rows = db.session.execute(
        stmt.with_only_columns(
            Task.id,
            Task.client_profile_id,
            Task.start_date,
            Task.deadline,
            Task.timezone_need,
            *columns,
        )
    ).all()
    clients = {
        c.id: c
        for c in db.session.scalars(
            sa.select(ClientProfile).where(
                ClientProfile.id.in_({row.client_profile_id for row in rows})
            )
        )
    }
    today = datetime.now(UTC).date()
    periods = [timezones.work_period(row.start_date, row.deadline, today) for row in rows]
    spans: dict[Any, tuple[date, date]] = {}
    for row, (first, last) in zip(rows, periods, strict=True):
        known = spans.get(row.client_profile_id)
        spans[row.client_profile_id] = (
            (min(known[0], first), max(known[1], last)) if known else (first, last)
        )
    zone_spans: dict[str, tuple[date, date]] = {}
    for client_id, (first, last) in spans.items():
        zone = clients[client_id].timezone
        known = zone_spans.get(zone)
        zone_spans[zone] = (min(known[0], first), max(known[1], last)) if known else (first, last)
    fit = _ProviderFit(profiles.acting_provider_profile(user))
    matching = []
    for row, period in zip(rows, periods, strict=True):
        client = clients[row.client_profile_id]
        shore, overlap = fit.of(
            client, row.timezone_need, period, spans[client.id], zone_spans[client.timezone]
        )
        if fit_filters.get("shoring", shore) == shore and overlap >= fit_filters.get(
            "min_overlap", 0
        ):
            matching.append(row)
    if after is not None:
        bound = tuple(after)
        matching_after = [
            row
            for row in matching
            if (tuple(row[5:]) < bound if descending else tuple(row[5:]) > bound)
        ]
    else:
        matching_after = matching
    page_ids = [row.id for row in matching_after[: page_size + 1]]
    tasks = {t.id: t for t in db.session.scalars(sa.select(Task).where(Task.id.in_(page_ids)))}
    return _page([tasks[i] for i in page_ids], page_size, len(matching), columns)
