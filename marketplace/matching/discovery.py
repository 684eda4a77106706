"""Finding tasks: filters, full-text search, sorting and keyset pagination.

Lists never carry confidential details. Pagination is by cursor (the sort key of
the last item seen), so tasks published while a provider pages through the list
neither push items onto the next page twice nor make any item skip a page.

The shoring and overlap filters are relative to the provider searching and exact only
with the zone rules (`overlap.ClientPeriod`). SQL keeps the tasks that may pass them, by
figures each task keeps (`task_fit`); the candidates are read in the list's order a batch
at a time and checked exactly, until a page is full. So a search reads about a page of
rows whatever the number of open tasks, with or without those filters.

A page costs a capped count (`pagination.capped_count`) and one statement that loads the
tasks with everything the list shows (client, skills, languages, the live bids counted); any
other lazy load raises. A skills filter adds the check of the slugs, a fit filter the
provider's profile and, when most candidates of a batch fail the exact check, another
(larger) batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, raiseload

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.bids import services as bids
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Skill
from marketplace.database import is_postgresql
from marketplace.errors import BusinessRuleViolation, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.matching import task_fit, zone_bounds
from marketplace.matching.overlap import ClientPeriod, work_period
from marketplace.pagination import (
    CursorPage,
    capped_count,
    decode_cursor,
    encode_cursor,
    page_size_for,
)
from marketplace.profiles.models import ProviderProfile, ServiceModel
from marketplace.tasks import services as task_services
from marketplace.tasks.models import Task, TaskLanguage, TaskSkill, TaskStatus


@dataclass(frozen=True)
class TaskSearch:
    """What `GET /tasks` asks for (None: not asked); the query schema builds it."""

    q: str | None = None
    skills: tuple[str, ...] | None = None
    skills_match: str = "any"
    service_model: ServiceModel | None = None
    budget_min: int | None = None
    budget_max: int | None = None
    currency: str | None = None
    language: str | None = None
    trial: bool | None = None
    shoring: str | None = None
    min_overlap: float | None = None
    posted_since: datetime | None = None
    sort: str = "newest"
    mine: bool = False
    status: TaskStatus | None = None
    cursor: str | None = None
    page_size: int | None = None

    def fit_filters(self) -> list[str]:
        """The filters given that need the provider's zone and hours."""
        return [name for name in ("shoring", "min_overlap") if getattr(self, name) is not None]


# name -> (sort columns, descending); the id breaks ties so the order is total.
SORTS: dict[str, tuple[tuple[Any, ...], bool]] = {
    "newest": ((Task.opened_at, Task.id), True),
    "budget_desc": ((Task.budget_max, Task.id), True),
    "budget_asc": ((Task.budget_min, Task.id), False),
    "deadline": ((Task.deadline, Task.id), False),
    "mine": ((Task.created_at, Task.id), True),
}
SEARCH_VECTOR = "to_tsvector('english', title || ' ' || summary)"  # the GIN index's expression
#: What a page shows of each task, loaded with it; any other relationship raises if read.
LIST_LOADS = (
    joinedload(Task.client_profile).raiseload("*"),
    joinedload(Task.skills).options(joinedload(TaskSkill.skill), raiseload("*")),
    joinedload(Task.language_rows),
    raiseload("*"),
)
#: The first batch of fit candidates holds this many pages; each next one four times more.
FIT_BATCH_PAGES = 4


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


def _sql_filters(stmt: sa.Select[Task], search: TaskSearch) -> sa.Select[Task]:
    if search.q:
        stmt = _text_search(stmt, search.q)
    if search.skills:
        stmt = _skills_filter(stmt, list(search.skills), search.skills_match)
    if search.service_model:
        stmt = stmt.where(Task.service_model == search.service_model)
    if search.currency:
        stmt = stmt.where(Task.currency == search.currency)
        if search.budget_min is not None:
            stmt = stmt.where(Task.budget_max >= search.budget_min)
        if search.budget_max is not None:
            stmt = stmt.where(Task.budget_min <= search.budget_max)
    if search.language:
        stmt = stmt.where(
            Task.id.in_(sa.select(TaskLanguage.task_id).where(TaskLanguage.code == search.language))
        )
    if search.trial is not None:
        stmt = stmt.where(Task.trial.is_(search.trial))
    if search.posted_since:
        stmt = stmt.where(Task.opened_at >= search.posted_since)
    return stmt


def search_tasks(*, user: User, search: TaskSearch) -> CursorPage:
    """Open tasks matching the search (or, with `mine`, the client's own in any status)."""
    page_size = page_size_for(search.page_size)
    if search.mine:
        if user.role != Role.CLIENT:
            raise Forbidden("Only clients have tasks of their own.")
        stmt = sa.select(Task).where(
            Task.client_profile_id == permissions.acting_client_profile_id(user.id)
        )
        if search.status:
            stmt = stmt.where(Task.status == search.status)
        columns, descending = SORTS["mine"]
    else:
        stmt = sa.select(Task).where(
            Task.status == TaskStatus.OPEN, task_services.poster_is_active_clause()
        )
        columns, descending = SORTS[search.sort]
    after = decode_cursor(search.cursor, list(columns)) if search.cursor else None
    stmt = _sql_filters(stmt, search)
    fit = _FitFilter(_searching_provider(user, search), search) if search.fit_filters() else None
    if fit is not None:
        stmt = stmt.where(fit.condition())
    total, capped = capped_count(stmt)
    order = [c.desc() if descending else c.asc() for c in columns]
    walk = _Walk(stmt.order_by(*order), columns, descending)
    if fit is None:
        items = walk.batch(after, page_size + 1)
    else:
        items = walk.passing(after, page_size + 1, fit)
    more = len(items) > page_size
    items = items[:page_size]
    return CursorPage(
        items=items,
        page_size=page_size,
        total=total,
        total_is_capped=capped,
        next_cursor=encode_cursor(walk.key(items[-1])) if more else None,
    )


def _searching_provider(user: User, search: TaskSearch) -> ProviderProfile:
    """The profile of the provider the fit filters are relative to, in one statement."""
    if user.role != Role.PROVIDER:
        raise BusinessRuleViolation(
            "Shoring and overlap filters are relative to you as a provider.",
            details={
                name: ["Only providers can use this filter."] for name in search.fit_filters()
            },
        )
    profile = db.session.scalar(
        sa.select(ProviderProfile).where(
            ProviderProfile.id == permissions.acting_provider_profile_id(user.id)
        )
    )
    if profile is None:
        raise NotFound("Profile not found.")
    return profile


@dataclass(frozen=True)
class _Walk:
    """Reading an ordered statement of tasks by keyset, from a cursor on."""

    stmt: sa.Select[Task]
    columns: tuple[Any, ...]
    descending: bool

    def key(self, task: Task) -> list[Any]:
        """The task's sort key, as cursors hold it."""
        return [getattr(task, c.key) for c in self.columns]

    def batch(self, after: list[Any] | None, limit: int) -> list[Task]:
        """Up to `limit` tasks after the key `after` (from the start if None), with what
        the list shows of them, in one statement."""
        stmt = self.stmt
        if after is not None:
            key = sa.tuple_(*self.columns)
            # Bind the cursor with the columns' own types, so values compare as stored.
            bound = sa.tuple_(
                *[sa.literal(v, type_=c.type) for v, c in zip(after, self.columns, strict=True)]
            )
            stmt = stmt.where(key < bound if self.descending else key > bound)
        options = (
            *LIST_LOADS,
            bids.with_bid_count(),
        )  # the live bids counted in the same statement
        return list(db.session.scalars(stmt.limit(limit).options(*options)).unique())

    def passing(self, after: list[Any] | None, limit: int, fit: _FitFilter) -> list[Task]:
        """Up to `limit` tasks after `after` that pass the exact fit check: candidates are
        read a batch at a time, each batch four times the one before."""
        found: list[Task] = []
        size = FIT_BATCH_PAGES * limit
        while True:
            candidates = self.batch(after, size)
            found += [task for task in candidates if fit.passes(task)]
            if len(found) >= limit or len(candidates) < size:
                return found[:limit]
            after, size = self.key(candidates[-1]), size * 4


class _FitFilter:
    """The shoring and minimum-overlap filters for one provider: as a necessary condition
    in SQL, and exactly on a task (one `ClientPeriod` per client, window and period, so
    tasks that share them share the computations)."""

    def __init__(self, provider: ProviderProfile, search: TaskSearch) -> None:
        self.provider, self.search = provider, search
        self.hours_json = json.dumps(provider.working_hours)
        self.today = datetime.now(UTC).date()
        self._periods: dict[tuple[Any, ...], ClientPeriod] = {}

    def condition(self) -> sa.ColumnElement[bool]:
        """What SQL checks: every task passing the filters meets it."""
        return task_fit.may_fit(
            shoring=self.search.shoring,
            min_overlap=self.search.min_overlap,
            country=self.provider.country or None,
            provider=zone_bounds.provider_bounds(
                self.provider.timezone, self.hours_json, self.today
            ),
            today=self.today,
        )

    def period(self, task: Task) -> ClientPeriod:
        """The client's period for a task; overlap is measured against the window a
        coverage task wants covered, else against the client's working hours."""
        client = task.client_profile
        first, last = work_period(task.start_date, task.deadline, self.today)
        need = task.timezone_need
        window = need["window"] if need and need["mode"] == "coverage" else None
        key = (client.id, None if window is None else json.dumps(window), first, last)
        if key not in self._periods:
            self._periods[key] = ClientPeriod(
                zone=client.timezone,
                country=client.country,
                hours=client.working_hours if window is None else window,
                first=first,
                last=last,
            )
        return self._periods[key]

    def passes(self, task: Task) -> bool:
        """Whether the task meets the search's shoring and minimum overlap."""
        period, provider, search = self.period(task), self.provider, self.search
        if search.shoring is not None and search.shoring != period.shoring(
            provider.country, provider.timezone
        ):
            return False
        return search.min_overlap is None or (
            period.overlap_for(provider.timezone, self.hours_json) >= search.min_overlap
        )
