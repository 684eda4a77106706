"""The provider's record: what its contracts measured, over the last 12 months and all time.

A provider's record is its contracts' (a firm's is its contracts', whoever worked them).
Every figure is `{"value", "samples", "shown"}`; `value` is None (and `shown` false) from
fewer than `MIN_SAMPLES` samples. The figures (each window: `12m` counts what happened in
the last 365 days, `all` everything):

- `on_time_rate`: milestones with a due date first submitted on or before it (the UTC date
  of the first submission) / those submitted plus those overdue (funded, never submitted,
  due date passed); by due date;
- `rework_rate`: changes requested (milestone transitions to `changes_requested`) per
  submission (revisions included); samples are submissions;
- `first_response_hours`: the median first response in the contract's service hours
  (`clocks.response_samples`, answered `first` samples only), in hours;
- `sla_attainment`: contract-weeks (seven-day periods from the contract's acceptance to its
  end, or now; a part week counts) with no `breached` SLA event / contract-weeks;
- `completion_rate`: completed / (completed + terminated) contracts, by when they ended;
- `disputes_opened`: disputes the client side raised on its contracts; `disputes_lost`:
  disputes resolved with more than half of the disputed money refunded to the client
  (refund_amount > release_amount); both counts, their samples the contracts started;
- `rating`: the average rating of the published client reviews (published: `published_at`
  set, or 14 days past the contract's end), samples their count;
- `pilots_converted`: completed pilots (contracts of trial tasks) extended into a full
  contract the provider accepted / completed pilots.

`compute` measures any set of providers with a handful of grouped statements (GROUP BY
provider, never a query per provider); `recompute_all` stores every provider's record.
"""

from __future__ import annotations

import json
import statistics
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, cast

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import selectinload

from marketplace import permissions
from marketplace.contracts import terms as contract_terms
from marketplace.contracts.models import (
    Contract,
    ContractStatus,
    Milestone,
    MilestoneStatus,
    MilestoneSubmission,
    MilestoneTransition,
)
from marketplace.database import UTCDateTime, is_postgresql, utcnow
from marketplace.extensions import Model, db
from marketplace.messaging.models import Message, Thread
from marketplace.record import clocks
from marketplace.record.clock import ALWAYS, ServiceHours, contract_service_hours
from marketplace.record.models import ProviderRecord, Review, ReviewSide, SlaEvent, SlaEventKind
from marketplace.tasks.models import Task

MIN_SAMPLES = 3
WINDOWS = {"12m": timedelta(days=365), "all": None}
REVIEW_WINDOW = timedelta(days=14)
WEEK = timedelta(days=7)
FIGURES = (
    "on_time_rate",
    "rework_rate",
    "first_response_hours",
    "sla_attainment",
    "completion_rate",
    "disputes_opened",
    "disputes_lost",
    "rating",
    "pilots_converted",
)
#: Inserted per statement when storing records.
BATCH = 20_000

_MT = cast(sa.Table, MilestoneTransition.__table__)

_UNNEST = sa.text(
    "INSERT INTO provider_records (provider_profile_id, figures, score, computed_at) "
    "SELECT id, CAST(figures AS json), score, :at FROM unnest("
    "CAST(:ids AS uuid[]), CAST(:figures AS text[]), CAST(:scores AS float8[])"
    ") AS rows (id, figures, score)"
).bindparams(sa.bindparam("at", type_=UTCDateTime()))

Figures = dict[str, dict[str, dict[str, Any]]]
Scorer = Callable[[Figures], float]


def figure(value: float | None, samples: int) -> dict[str, Any]:
    """A figure as shown: no value from fewer than `MIN_SAMPLES` samples."""
    shown = samples >= MIN_SAMPLES and value is not None
    return {
        "value": (round(value, 4) if isinstance(value, float) else value) if shown else None,
        "samples": samples,
        "shown": shown,
    }


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


class _Tally:
    """Numerators and denominators per provider, window and name."""

    def __init__(self) -> None:
        self.sums: dict[Any, dict[str, dict[str, float]]] = defaultdict(
            lambda: {w: defaultdict(float) for w in WINDOWS}
        )
        self.medians: dict[Any, dict[str, list[float]]] = defaultdict(
            lambda: {w: [] for w in WINDOWS}
        )

    def figures(self, provider_id: Any) -> Figures:
        result: Figures = {}
        for window in WINDOWS:
            s = self.sums[provider_id][window] if provider_id in self.sums else defaultdict(float)
            minutes = self.medians[provider_id][window] if provider_id in self.medians else []
            contracts = int(s["started"])
            result[window] = {
                "on_time_rate": figure(_ratio(s["on_time"], s["due"]), int(s["due"])),
                "rework_rate": figure(
                    _ratio(s["changes"], s["submissions"]), int(s["submissions"])
                ),
                "first_response_hours": figure(
                    statistics.median(minutes) / 60 if minutes else None, len(minutes)
                ),
                "sla_attainment": figure(
                    _ratio(s["weeks"] - s["breached_weeks"], s["weeks"]), int(s["weeks"])
                ),
                "completion_rate": figure(
                    _ratio(s["completed"], s["completed"] + s["terminated"]),
                    int(s["completed"] + s["terminated"]),
                ),
                "disputes_opened": figure(int(s["disputes"]), contracts),
                "disputes_lost": figure(int(s["lost"]), contracts),
                "rating": figure(_ratio(s["rating_sum"], s["reviews"]), int(s["reviews"])),
                "pilots_converted": figure(_ratio(s["converted"], s["pilots"]), int(s["pilots"])),
            }
        return result


def _windowed(
    condition: sa.ColumnElement[bool], moment: Any, cutoffs: dict[str, Any], name: str
) -> list[sa.Label[Any]]:
    """`sum(condition)` per window (the window's cutoff on `moment`), labelled `window:name`."""
    columns = []
    for window, cutoff in cutoffs.items():
        test = condition if cutoff is None else sa.and_(condition, moment >= cutoff)
        columns.append(sa.func.sum(sa.case((test, 1), else_=0)).label(f"{window}:{name}"))
    return columns


def _add(tally: _Tally, result: Any) -> None:
    """Add a grouped result's sums (columns `provider_id`, then `window:name`) to `tally`."""
    names = [tuple(key.split(":")) for key in list(result.keys())[1:]]
    for provider, *values in result:
        sums = tally.sums[provider]
        for (window, name), value in zip(names, values, strict=True):
            if value:
                sums[window][name] += value


def _utc_date(column: Any) -> Any:
    if is_postgresql():
        return sa.cast(sa.func.timezone("UTC", column), sa.Date)
    return sa.func.date(column)


def _scope(statement: Any, providers: list[uuid.UUID] | None) -> Any:
    if providers is None:
        return statement
    return statement.where(Contract.provider_profile_id.in_(providers))


def compute(
    providers: list[uuid.UUID] | None = None,
    *,
    now: datetime | None = None,
    first_responses: Callable[[list[Any]], dict[Any, list[tuple[datetime, int]]]] | None = None,
) -> dict[Any, Figures]:
    """The figures of these providers (every provider with a contract if None), by id.
    Providers without contracts are left out (their record is `empty()`)."""
    now = now or utcnow()
    session = db.session()
    cutoffs = {w: (None if span is None else now - span) for w, span in WINDOWS.items()}
    date_cutoffs = {w: (None if c is None else c.date()) for w, c in cutoffs.items()}
    tally = _Tally()
    provider = Contract.provider_profile_id.label("provider_id")

    # Milestones: on time against their due dates.
    first = (
        sa.select(
            MilestoneSubmission.milestone_id,
            sa.func.min(MilestoneSubmission.at).label("first_at"),
        )
        .group_by(MilestoneSubmission.milestone_id)
        .subquery()
    )
    submitted = first.c.first_at.is_not(None)
    overdue = sa.and_(
        first.c.first_at.is_(None),
        Milestone.status == MilestoneStatus.FUNDED,
        Milestone.due_date < now.date(),
    )
    due = sa.and_(Milestone.due_date.is_not(None), sa.or_(submitted, overdue))
    first_day = _utc_date(first.c.first_at)
    on_time = sa.and_(Milestone.due_date.is_not(None), submitted, first_day <= Milestone.due_date)
    _add(
        tally,
        session.execute(
            _scope(
                sa.select(
                    provider,
                    *_windowed(due, Milestone.due_date, date_cutoffs, "due"),
                    *_windowed(on_time, Milestone.due_date, date_cutoffs, "on_time"),
                )
                .select_from(Milestone)
                .join(Contract, Contract.id == Milestone.contract_id)
                .outerjoin(first, first.c.milestone_id == Milestone.id)
                .group_by(Contract.provider_profile_id),
                providers,
            )
        ),
    )
    # Rework: submissions and changes requested.
    _add(
        tally,
        session.execute(
            _scope(
                sa.select(
                    provider,
                    *_windowed(sa.true(), MilestoneSubmission.at, cutoffs, "submissions"),
                )
                .select_from(MilestoneSubmission)
                .join(Milestone, Milestone.id == MilestoneSubmission.milestone_id)
                .join(Contract, Contract.id == Milestone.contract_id)
                .group_by(Contract.provider_profile_id),
                providers,
            )
        ),
    )
    _add(
        tally,
        session.execute(
            _scope(
                sa.select(provider, *_windowed(sa.true(), _MT.c.at, cutoffs, "changes"))
                .select_from(_MT)
                .join(Milestone, Milestone.id == _MT.c.milestone_id)
                .join(Contract, Contract.id == Milestone.contract_id)
                .where(_MT.c.to_status == MilestoneStatus.CHANGES_REQUESTED)
                .group_by(Contract.provider_profile_id),
                providers,
            )
        ),
    )
    # Contracts: completion, started (the disputes' samples), pilots and their extensions.
    extension = sa.orm.aliased(Contract)
    pilot = sa.and_(
        Task.trial.is_(True),
        Contract.pilot_of_id.is_(None),
        Contract.status == ContractStatus.COMPLETED,
    )
    _add(
        tally,
        session.execute(
            _scope(
                sa.select(
                    provider,
                    *_windowed(
                        Contract.status == ContractStatus.COMPLETED,
                        Contract.ended_at,
                        cutoffs,
                        "completed",
                    ),
                    *_windowed(
                        Contract.status == ContractStatus.TERMINATED,
                        Contract.ended_at,
                        cutoffs,
                        "terminated",
                    ),
                    *_windowed(
                        Contract.accepted_at.is_not(None), Contract.accepted_at, cutoffs, "started"
                    ),
                    *_windowed(pilot, Contract.ended_at, cutoffs, "pilots"),
                    *_windowed(
                        sa.and_(pilot, extension.accepted_at.is_not(None)),
                        Contract.ended_at,
                        cutoffs,
                        "converted",
                    ),
                )
                .select_from(Contract)
                .join(Task, Task.id == Contract.task_id)
                .outerjoin(extension, extension.pilot_of_id == Contract.id)
                .group_by(Contract.provider_profile_id),
                providers,
            )
        ),
    )
    # Disputes (the payments area's table, read by name: it sits above this one).
    disputes = Model.metadata.tables["disputes"]
    against = disputes.c.side == "client"
    lost = sa.and_(
        disputes.c.status == "resolved",
        sa.func.coalesce(disputes.c.refund_amount, 0)
        > sa.func.coalesce(disputes.c.release_amount, 0),
    )
    _add(
        tally,
        session.execute(
            _scope(
                sa.select(
                    provider,
                    *_windowed(against, disputes.c.created_at, cutoffs, "disputes"),
                    *_windowed(lost, disputes.c.resolved_at, cutoffs, "lost"),
                )
                .select_from(disputes)
                .join(Contract, Contract.id == disputes.c.contract_id)
                .group_by(Contract.provider_profile_id),
                providers,
            )
        ),
    )
    # Reviews by clients, once published.
    published = sa.or_(
        Review.published_at.is_not(None),
        sa.and_(Contract.ended_at.is_not(None), Contract.ended_at <= now - REVIEW_WINDOW),
    )
    review_columns = []
    for window, cutoff in cutoffs.items():
        test = published if cutoff is None else sa.and_(published, Review.created_at >= cutoff)
        review_columns += [
            sa.func.sum(sa.case((test, 1), else_=0)).label(f"{window}:reviews"),
            sa.func.sum(sa.case((test, Review.rating), else_=0)).label(f"{window}:rating_sum"),
        ]
    _add(
        tally,
        session.execute(
            _scope(
                sa.select(provider, *review_columns)
                .select_from(Review)
                .join(Contract, Contract.id == Review.contract_id)
                .where(Review.side == ReviewSide.CLIENT)
                .group_by(Contract.provider_profile_id),
                providers,
            )
        ),
    )
    # SLA attainment: contract-weeks without a breach.
    _sla_weeks(tally, providers, now, cutoffs)
    # Median first response: per contract, from its messages.
    if first_responses is not None:
        started = session.execute(
            _scope(
                sa.select(Contract.id, Contract.provider_profile_id).where(
                    Contract.accepted_at.is_not(None)
                ),
                providers,
            )
        ).all()
        owners: dict[Any, Any] = {row[0]: row[1] for row in started}
        for contract_id, samples in first_responses(list(owners)).items():
            for at, minutes in samples:
                for window, cutoff in cutoffs.items():
                    if cutoff is None or at >= cutoff:
                        tally.medians[owners[contract_id]][window].append(minutes)
    ids = set(tally.sums) | set(tally.medians)
    return {provider_id: tally.figures(provider_id) for provider_id in ids}


def _sla_weeks(
    tally: _Tally, providers: list[uuid.UUID] | None, now: datetime, cutoffs: dict[str, Any]
) -> None:
    session = db.session()
    contracts = session.execute(
        _scope(
            sa.select(
                Contract.id, Contract.provider_profile_id, Contract.accepted_at, Contract.ended_at
            ).where(Contract.accepted_at.is_not(None)),
            providers,
        )
    ).all()
    breaches: dict[Any, list[datetime]] = defaultdict(list)
    for contract_id, at in session.execute(
        _scope(
            sa.select(SlaEvent.contract_id, SlaEvent.at)
            .join(Contract, Contract.id == SlaEvent.contract_id)
            .where(SlaEvent.kind == SlaEventKind.BREACHED),
            providers,
        )
    ):
        breaches[contract_id].append(at)
    for contract_id, provider_id, accepted_at, ended_at in contracts:
        end = min(ended_at or now, now)
        weeks = max(1, -(-(end - accepted_at) // WEEK))
        broken = {
            min(weeks - 1, (at - accepted_at) // WEEK)
            for at in breaches.get(contract_id, ())
            if at >= accepted_at
        }
        sums = tally.sums[provider_id]
        for window, cutoff in cutoffs.items():
            # Week i (from the acceptance) counts if it ends after the cutoff.
            first = 0 if cutoff is None else max(0, (cutoff - accepted_at) // WEEK)
            if first >= weeks:
                continue
            sums[window]["weeks"] += weeks - first
            sums[window]["breached_weeks"] += sum(1 for week in broken if week >= first)


def empty() -> Figures:
    """The record of a provider without contracts: every figure hidden."""
    return _Tally().figures(None)


def record_of(provider_id: uuid.UUID, **kwargs: Any) -> Figures:
    """One provider's figures, computed now."""
    return compute([provider_id], **kwargs).get(provider_id) or empty()


def recompute_all(score: Scorer, **kwargs: Any) -> dict[Any, float]:
    """Recompute and store the record of every provider with a contract (the others have
    the empty record, and no row: `GET .../record` computes theirs on the fly); returns
    the stored scores by provider. Not committed."""
    session = db.session()
    now = kwargs.pop("now", None) or utcnow()
    measured = compute(now=now, **kwargs)
    table = cast(sa.Table, ProviderRecord.__table__)
    session.execute(table.delete())
    scores = {provider_id: score(figures) for provider_id, figures in measured.items()}
    ids = list(measured)
    for begin in range(0, len(ids), BATCH):
        chunk = ids[begin : begin + BATCH]
        if is_postgresql():
            # One statement per batch, its columns bound as arrays (an executemany, or a
            # VALUES list compiled for thousands of rows, takes many times longer).
            session.execute(_UNNEST, {
                "ids": chunk,
                "figures": [json.dumps(measured[i]) for i in chunk],
                "scores": [scores[i] for i in chunk],
                "at": now,
            })  # fmt: skip
        else:
            session.execute(
                table.insert(),
                [
                    {"provider_profile_id": i, "figures": measured[i], "score": scores[i],
                     "computed_at": now}
                    for i in chunk
                ],
            )  # fmt: skip
    return scores


def first_responses(contract_ids: list[Any]) -> dict[Any, list[tuple[datetime, int]]]:
    """The answered first responses (when the exchange opened, service minutes) of these
    contracts, by contract (`clocks.response_clocks` over each thread): only contracts
    whose thread has messages are read, and their messages, senders and service hours in
    four statements for all of them."""
    session = db.session()
    wanted = set(contract_ids)
    threads: dict[Any, Any] = {
        thread_id: contract_id
        for thread_id, contract_id in session.execute(
            sa.select(Thread.id, Thread.contract_id)
            .where(Thread.contract_id.is_not(None))
            .where(sa.exists().where(Message.thread_id == Thread.id))
        )
        if contract_id in wanted
    }
    if not threads:
        return {}
    contracts = {
        contract.id: contract
        for contract in session.scalars(
            sa.select(Contract)
            .where(Contract.id.in_(list(threads.values())))
            .options(
                selectinload(Contract.terms),
                selectinload(Contract.task),
                selectinload(Contract.provider_profile),
            )
        )
    }
    messages: dict[Any, list[tuple[Any, datetime, Any]]] = defaultdict(list)
    for message_id, thread_id, at, sender_id in session.execute(
        sa.select(Message.id, Message.thread_id, Message.created_at, Message.sender_id)
        .where(Message.thread_id.in_(list(threads)))
        .order_by(Message.thread_id, Message.created_at, Message.id)
    ):
        messages[thread_id].append((message_id, at, sender_id))
    senders = (
        sa.select(Message.thread_id, Message.sender_id)
        .where(Message.thread_id.in_(list(threads)))
        .distinct()
        .subquery()
    )
    provider_side: dict[Any, set[Any]] = defaultdict(set)
    for thread_id, sender_id, acting in session.execute(
        sa.select(
            senders.c.thread_id,
            senders.c.sender_id,
            permissions.acting_provider_profile_id(senders.c.sender_id),
        )
    ):
        if acting is not None and acting == contracts[threads[thread_id]].provider_profile_id:
            provider_side[thread_id].add(sender_id)
    idle = timedelta(hours=current_app.config["SLA_EXCHANGE_IDLE_HOURS"])
    result: dict[Any, list[tuple[datetime, int]]] = {}
    for thread_id, contract_id in threads.items():
        contract = contracts[contract_id]
        if any(terms.version == contract.terms_version for terms in contract.terms):
            hours = contract_service_hours(contract)
        else:  # no terms written (rows made by hand): what its task and provider give now
            fixed = contract_terms.service_hours(contract.task, contract.provider_profile)
            hours = ServiceHours.from_terms({"service_hours": fixed}) or ALWAYS
        answered = [
            (found.started_at, hours.minutes_between(found.started_at, found.stopped_at))
            for found in clocks.response_clocks(
                messages[thread_id], provider_side[thread_id], idle=idle
            )
            if found.metric == clocks.FIRST_RESPONSE and found.stopped_at is not None
        ]
        if answered:
            result[contract_id] = answered
    return result
