"""Finding tasks: filters, full-text search, sorting and keyset pagination.

Lists never carry confidential details. Pagination is by cursor (the sort key of
the last item seen), so tasks published while a provider pages through the list
neither push items onto the next page twice nor make any item skip a page. The
shoring and overlap filters are relative to the provider searching, from
`marketplace.matching.overlap`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.catalog import services as catalog
from marketplace.catalog.models import Skill
from marketplace.database import is_postgresql
from marketplace.errors import BusinessRuleViolation, Forbidden
from marketplace.extensions import db
from marketplace.matching.overlap import ClientPeriod, work_period
from marketplace.pagination import CursorPage, decode_cursor, encode_cursor, page_size_for
from marketplace.profiles.models import ClientProfile, ProviderProfile, ServiceModel
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
            Task.client_profile_id == permissions.acting_client_profile(user).id
        )
        if search.status:
            stmt = stmt.where(Task.status == search.status)
        columns, descending = SORTS["mine"]
    else:
        stmt = sa.select(Task).where(
            Task.status == TaskStatus.OPEN, task_services.poster_is_active_clause()
        )
        columns, descending = SORTS[search.sort]
    stmt = _sql_filters(stmt, search)
    order = [c.desc() if descending else c.asc() for c in columns]
    after = decode_cursor(search.cursor, list(columns)) if search.cursor else None

    if search.fit_filters():
        return _search_with_fit(
            user, stmt.order_by(*order), search, columns, descending, after, page_size
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


class _FitFilter:
    """The shoring and minimum-overlap filters for one provider: one `ClientPeriod` per
    client, window and period, so tasks that share them share the computations."""

    def __init__(self, provider: ProviderProfile, clients: dict[Any, ClientProfile]) -> None:
        self.provider, self.clients = provider, clients
        self.hours_json = json.dumps(provider.working_hours)
        self.today = datetime.now(UTC).date()
        self._periods: dict[tuple[Any, ...], ClientPeriod] = {}

    def period(self, row: Any) -> ClientPeriod:
        """The client's period for a task row; overlap is measured against the window a
        coverage task wants covered, else against the client's working hours."""
        client = self.clients[row.client_profile_id]
        first, last = work_period(row.start_date, row.deadline, self.today)
        need = row.timezone_need
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

    def passes(self, row: Any, search: TaskSearch) -> bool:
        """Whether the task meets the search's shoring and minimum overlap."""
        period, provider = self.period(row), self.provider
        if search.shoring is not None and search.shoring != period.shoring(
            provider.country, provider.timezone
        ):
            return False
        return search.min_overlap is None or (
            period.overlap_for(provider.timezone, self.hours_json) >= search.min_overlap
        )


def _search_with_fit(
    user: User,
    stmt: sa.Select[Task],
    search: TaskSearch,
    columns: tuple[Any, ...],
    descending: bool,
    after: list[Any] | None,
    page_size: int,
) -> CursorPage:
    """Filters that need zone rules run in Python over the SQL-filtered tasks."""
    if user.role != Role.PROVIDER:
        raise BusinessRuleViolation(
            "Shoring and overlap filters are relative to you as a provider.",
            details={
                name: ["Only providers can use this filter."] for name in search.fit_filters()
            },
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
    fit = _FitFilter(permissions.acting_provider_profile(user), clients)
    matching = [row for row in rows if fit.passes(row, search)]
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
