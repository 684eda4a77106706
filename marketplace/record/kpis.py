"""A contract's KPIs against the targets of its terms (`GET /contracts/{id}/kpis`).

Each metric is computed per period from the contract's SLA clocks (`clocks`), milestone
steps and counted work reports, and judged against its target (`content["sla"]` of the terms
in force, the service model's `SLA_DEFAULTS` for targets older terms lack). Periods start in
the client's zone: weeks on Monday 00:00, months on the 1st, two-week periods on the Monday
of the week the contract started. Each metric's period is fixed here (`METRICS`):

- `first_response`, `next_response` (weekly): median business minutes of the answers, and
  `within_target`, the share of them within `*_response_hours`; the share must reach
  `min_response_within_target` too;
- `turnaround` (weekly): median business minutes from a milestone's funding (or changes
  request) to its submission, against `turnaround_hours`;
- `on_time_rate` (weekly, by due date): share of funded milestones first submitted by the
  end of their due date in the client's zone (one still unsubmitted past it counts late),
  against `min_on_time_rate`;
- `rework_rate` (monthly): changes requested per submission, against `max_rework_rate`;
- `completion_rate` (weekly, by a report's first day): items completed / received, against
  `min_completion_rate`;
- `error_rate` (monthly): items with errors / completed, against `max_error_rate`;
- `csat` (monthly): average satisfaction weighted by responses (samples are responses),
  against `min_csat`;
- `improvements` (monthly): improvement suggestions reported, against
  `min_improvements_per_month`;
- `sop_adherence` (every two weeks): mean of the reports' SOP adherence, against
  `min_sop_adherence`;
- `learning_speed` (monthly): median business minutes from a change's announcement to its
  adoption (one not yet adopted counts, with its minutes so far, once past the target),
  against `learning_speed_hours`.

Targets in hours are shown in minutes. A duration counts in the period its clock stopped.
The top-level `actual`, `samples` and
`status` are those of the latest period with samples. Status: `no_data` without samples;
`breached` when the actual misses the target; `at_risk` when it is within `AT_RISK_SHARE`
(75 %) of a maximum target (durations, error and rework rates), within `MIN_MARGIN` (2
points of a share, 0.2 of a score) above a minimum one (never at the best value: a 100 %
share or a 5.0 score is met), short of a count target in a period
still running, or when a running clock of the metric has passed 75 % of its target; else
`met`. The series runs from the contract's start (at most the last 26 weeks, 12 months or
13 two-week periods) to the current period; periods without samples are `no_data`.

The KPIs are kept as a snapshot (`KpiSnapshot`) and served from it while nothing they are
computed from has changed (a hash of the terms, the client's zone, the thread's messages, the
work reports and their answers, the changes, the milestone steps and the provider side's
people) and time alone cannot have changed them yet: until the first of a running clock
reaching 75 % or 100 % of its target, a submitted report's answer window lapsing, and the
next midnight in the client's zone (a new day can start a period or pass a due date), and at
most `SNAPSHOT_TTL`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.interfaces import ORMOption

from marketplace.contracts.models import (
    Contract,
    ContractTerms,
    Milestone,
    MilestoneStatus,
    MilestoneTransition,
)
from marketplace.database import UTCDateTime
from marketplace.extensions import db
from marketplace.messaging.models import Message, Thread
from marketplace.organizations.models import Membership
from marketplace.profiles.models import ProviderProfile
from marketplace.record import clocks
from marketplace.record import reports as work_reports
from marketplace.record.clock import as_utc, contract_service_hours
from marketplace.record.models import Change, KpiSnapshot, WorkReport, WorkReportStatus
from marketplace.record.samples import response_samples
from marketplace.tasks.models import Task

WEEK, MONTH, FORTNIGHT = "week", "month", "two_weeks"
#: How many periods a series shows at most.
SERIES_LENGTH = {WEEK: 26, MONTH: 12, FORTNIGHT: 13}
#: A maximum target is at risk past this share of it; so is a running clock.
AT_RISK_SHARE = 0.75
#: A minimum target is at risk when the actual is less than this above it.
MIN_MARGIN = {"ratio": 0.02, "score": 0.2}
#: The best value a minimum target's unit allows: a perfect actual is never at risk.
CEILING = {"ratio": 1.0, "score": 5.0}
#: A snapshot of the KPIs is computed again after this, whatever else holds.
SNAPSHOT_TTL = timedelta(hours=1)
#: A submitted work report counts as confirmed once unanswered for this long.


@dataclass(frozen=True)
class Metric:
    """How one KPI is judged: its target's name in the terms, which way it must go, its
    period, and how its samples reduce to an actual value."""

    key: str
    unit: str
    target: str
    bound: str  # "max": the actual must not exceed the target; "min": not fall below it
    period: str
    reduce: str  # "median", "ratio" (sum of numerators / sum of denominators) or "sum"
    minutes: bool = False  # the target is in hours, the actual in minutes


METRICS = (
    Metric("first_response", "business_minutes", "first_response_hours", "max", WEEK, "median",
           minutes=True),
    Metric("next_response", "business_minutes", "next_response_hours", "max", WEEK, "median",
           minutes=True),
    Metric("turnaround", "business_minutes", "turnaround_hours", "max", WEEK, "median",
           minutes=True),
    Metric("on_time_rate", "ratio", "min_on_time_rate", "min", WEEK, "ratio"),
    Metric("rework_rate", "ratio", "max_rework_rate", "max", MONTH, "ratio"),
    Metric("completion_rate", "ratio", "min_completion_rate", "min", WEEK, "ratio"),
    Metric("error_rate", "ratio", "max_error_rate", "max", MONTH, "ratio"),
    Metric("csat", "score", "min_csat", "min", MONTH, "ratio"),
    Metric("improvements", "count", "min_improvements_per_month", "min", MONTH, "sum"),
    Metric("sop_adherence", "ratio", "min_sop_adherence", "min", FORTNIGHT, "ratio"),
    Metric("learning_speed", "business_minutes", "learning_speed_hours", "max", MONTH, "median",
           minutes=True),
)  # fmt: skip
RESPONSES = {clocks.FIRST_RESPONSE, clocks.NEXT_RESPONSE}


@dataclass
class Sample:
    """One observation: the local day it falls on, a value (a duration, or a numerator over
    a denominator) and how many samples it counts as (for a duration: that many equal
    durations of the day)."""

    day: date
    value: float
    weight: float = 1.0
    count: int = 1


@dataclass
class Samples:
    """A metric's observations, and its running clocks' share of their target so far."""

    items: list[Sample] = field(default_factory=list)
    running_share: float = 0.0


def targets(contract: Contract) -> dict[str, float]:
    """The contract's SLA targets: its terms', completed by its service model's defaults."""
    defaults = current_app.config["SLA_DEFAULTS"][contract.task.service_model or "va"]
    return {**defaults, **contract.current_terms.content.get("sla", {})}


class Periods:
    """Period starts in the client's zone."""

    def __init__(self, zone: str, started: datetime) -> None:
        self.zone = ZoneInfo(zone)
        first = self.day(started)
        #: The Monday of the week the contract started: two-week periods count from it.
        self.anchor = first - timedelta(days=first.weekday())
        self._starts: dict[tuple[str, date], date] = {}

    def day(self, moment: datetime) -> date:
        """The local date of a UTC moment."""
        return moment.astimezone(self.zone).date()

    def start(self, kind: str, day: date) -> date:
        """The first day of the period of `kind` that holds `day`."""
        found = self._starts.get((kind, day))
        if found is None:
            found = self._starts[(kind, day)] = self._start(kind, day)
        return found

    def _start(self, kind: str, day: date) -> date:
        if kind == MONTH:
            return day.replace(day=1)
        monday = day - timedelta(days=day.weekday())
        if kind == WEEK:
            return monday
        return monday - timedelta(days=((monday - self.anchor).days // 7) % 2 * 7)

    def following(self, kind: str, start: date) -> date:
        """The first day of the period after the one starting on `start`."""
        if kind == MONTH:
            return (start + timedelta(days=32)).replace(day=1)
        return start + timedelta(days=7 if kind == WEEK else 14)

    def series(self, kind: str, today: date) -> list[date]:
        """The starts of the periods from the contract's start to today's, the last few."""
        starts = [self.start(kind, self.anchor)]
        current = self.start(kind, today)
        while starts[-1] < current:
            starts.append(self.following(kind, starts[-1]))
        return starts[-SERIES_LENGTH[kind] :]


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def _actual(metric: Metric, items: list[Sample]) -> float | None:
    if not items:
        return None
    if metric.reduce == "median":  # of the values, each as many times as it counts
        return _median([item.value for item in items for _ in range(item.count)])
    if metric.reduce == "sum":
        return float(sum(item.value for item in items))
    weight = sum(item.weight for item in items)
    return sum(item.value for item in items) / weight if weight else None


def _status(
    metric: Metric, actual: float | None, target: float | None, *, samples: int, running: bool
) -> str:
    if not samples or actual is None:
        return "no_data"
    if target is None:
        return "met"
    if metric.bound == "max":
        if actual > target:
            return "breached"
        return "at_risk" if actual > AT_RISK_SHARE * target else "met"
    if actual < target:
        return "at_risk" if running and metric.reduce == "sum" else "breached"
    margin = target + MIN_MARGIN.get(metric.unit, 0)
    return "at_risk" if actual < min(margin, CEILING.get(metric.unit, margin)) else "met"


def _worst(*statuses: str) -> str:
    order = ["no_data", "met", "at_risk", "breached"]
    return max(statuses, key=order.index)


def _judge(
    metric: Metric,
    samples: Samples,
    target: float | None,
    periods: Periods,
    today: date,
    share: float | None,
) -> dict[str, Any]:
    by_period: dict[date, list[Sample]] = defaultdict(list)
    for item in samples.items:
        by_period[periods.start(metric.period, item.day)].append(item)
    limit = target * 60 if target is not None and metric.minutes else target
    current = periods.start(metric.period, today)
    series = []
    for start in periods.series(metric.period, today):
        items = by_period.get(start, [])
        count = sum(item.count for item in items)
        actual = _actual(metric, items)
        entry: dict[str, Any] = {
            "period_start": start,
            "actual": actual,
            "samples": count,
            "status": _status(metric, actual, limit, samples=count, running=start == current),
        }
        if share is not None:
            within = _within(items, limit)
            entry["within_target"] = within
            if within is not None and entry["status"] != "no_data" and within < share:
                entry["status"] = "breached"
        series.append(entry)
    latest = next((entry for entry in reversed(series) if entry["samples"]), None)
    status = latest["status"] if latest else "no_data"
    if samples.running_share > AT_RISK_SHARE:
        status = _worst(status, "at_risk" if samples.running_share <= 1 else "breached")
    result = {
        "key": metric.key,
        "unit": metric.unit,
        "target": limit,
        "actual": latest["actual"] if latest else None,
        "samples": latest["samples"] if latest else 0,
        "period": metric.period,
        "period_start": latest["period_start"] if latest else None,
        "status": status,
        "series": series,
    }
    if share is not None:
        result["within_target"] = latest["within_target"] if latest else None
        result["min_within_target"] = share
    return result


def _within(items: list[Sample], limit: float | None) -> float | None:
    if not items or limit is None:
        return None
    return sum(item.count for item in items if item.value <= limit) / sum(
        item.count for item in items
    )


def _clock_samples(
    contract: Contract,
    steps: list[tuple[uuid.UUID, MilestoneStatus, datetime]],
    *,
    periods: Periods,
    goals: dict[str, float],
    now: datetime,
    moments: list[datetime],
) -> dict[str, Samples]:
    """Duration samples of the response, turnaround and learning-speed clocks: the stopped
    response clocks as stored (`samples`), the others with their minutes counted in one
    sweep over the service hours. The moments a running clock reaches 75 % and 100 % of its
    target are added to `moments`."""
    hours = contract_service_hours(contract)
    responses = response_samples(contract, hours)
    result: dict[str, Samples] = defaultdict(Samples)
    for metric, day, counted, alike in responses.stopped:
        result[metric].items.append(Sample(day, counted, count=alike))
    found = (
        ([responses.running] if responses.running else [])
        + clocks.turnaround_clocks(steps)
        + clocks.contract_learning_clocks(contract)
    )
    minutes = hours.minutes_of([(clock.started_at, clock.stopped_at or now) for clock in found])
    for clock, counted in zip(found, minutes, strict=True):
        target = goals.get(f"{clock.metric}_hours")
        limit = None if target is None else target * 60
        samples = result[clock.metric]
        if clock.running:
            if limit:
                for share in (AT_RISK_SHARE, 1.0):
                    moment = hours.deadline(clock.started_at, share * limit)
                    if moment is not None and moment > now:
                        moments.append(moment)
                samples.running_share = max(samples.running_share, counted / limit)
            # A change not yet adopted counts once overdue; other running clocks only warn.
            if clock.metric != clocks.LEARNING_SPEED or limit is None or counted <= limit:
                continue
        samples.items.append(Sample(periods.day(clock.stopped_at or now), counted))
    return result


def _milestone_samples(
    contract: Contract,
    steps: list[tuple[uuid.UUID, MilestoneStatus, datetime]],
    *,
    periods: Periods,
    now: datetime,
) -> dict[str, Samples]:
    """On-time and rework samples from the milestones and their steps."""
    first_submitted: dict[uuid.UUID, datetime] = {}
    funded: set[uuid.UUID] = set()
    on_time, rework = Samples(), Samples()
    for milestone_id, status, at in steps:
        if status == MilestoneStatus.FUNDED:
            funded.add(milestone_id)
        elif status == MilestoneStatus.SUBMITTED:
            first_submitted.setdefault(milestone_id, at)
            rework.items.append(Sample(periods.day(at), 0.0))
        elif status == MilestoneStatus.CHANGES_REQUESTED:
            rework.items.append(Sample(periods.day(at), 1.0, weight=0.0, count=0))
    for milestone in contract.milestones:
        if milestone.due_date is None or milestone.id not in funded:
            continue
        end = datetime.combine(milestone.due_date + timedelta(days=1), time(), periods.zone)
        submitted = first_submitted.get(milestone.id)
        if submitted is not None:
            on_time.items.append(Sample(milestone.due_date, float(submitted <= end)))
        elif milestone.status == MilestoneStatus.FUNDED and end <= now:
            on_time.items.append(Sample(milestone.due_date, 0.0))
    return {"on_time_rate": on_time, "rework_rate": rework}


def _report_samples(reports: Iterable[Any]) -> dict[str, Samples]:
    """Completion, error, satisfaction, improvement and SOP samples from counted reports."""
    found: dict[str, Samples] = defaultdict(Samples)
    for report in reports:
        day = report.period_start
        found["completion_rate"].items.append(
            Sample(day, report.items_completed, weight=report.items_received)
        )
        found["error_rate"].items.append(
            Sample(day, report.items_with_errors, weight=report.items_completed)
        )
        if report.satisfaction_responses and report.satisfaction_average is not None:
            responses = report.satisfaction_responses
            found["csat"].items.append(
                Sample(day, report.satisfaction_average * responses, responses, responses)
            )
        found["improvements"].items.append(Sample(day, len(report.improvement_suggestions)))
        if report.sop_adherence is not None:
            found["sop_adherence"].items.append(Sample(day, report.sop_adherence))
    return found


def load_options() -> tuple[ORMOption, ...]:
    """What `contract_kpis` reads of a contract besides its row, to load with it: both
    parties (who may read, the client's zone, the provider's hours). The rest (its task,
    milestones and terms) is read only when the KPIs are computed, not when they are
    served from their snapshot."""
    return (
        joinedload(Contract.client_profile, innerjoin=True),
        joinedload(Contract.provider_profile, innerjoin=True),
    )


def contract_kpis(
    contract: Contract,
    *,
    now: datetime,
) -> dict[str, Any]:
    """Every KPI of the contract with its target, actual, samples, status and series: its
    snapshot while it holds, else computed (and the snapshot written; the caller commits)."""
    now = as_utc(now)
    state = db.session.execute(
        _state_statement(),
        {
            "contract_id": contract.id,
            "task_id": contract.task_id,
            "terms_version": contract.terms_version,
            "provider_profile_id": contract.provider_profile_id,
            "lapse_from": now - work_reports.ANSWER_WINDOW,
        },
    ).one()
    fingerprint = _fingerprint(contract, state[:-4])
    stored, computed_at, valid_until, document = state[-4:]
    if (
        stored == fingerprint
        and as_utc(computed_at) <= now < as_utc(valid_until)
        and document is not None
    ):
        return _restored(document)
    result, changes_at = _computed(contract, now=now)
    unanswered = state[_OLDEST_UNANSWERED]
    lapses_at = [as_utc(unanswered) + work_reports.ANSWER_WINDOW] if unanswered else []
    valid_until = min(now + SNAPSHOT_TTL, changes_at, *lapses_at)
    try:
        with db.session.begin_nested():
            snapshot = db.session.get(KpiSnapshot, contract.id)
            if snapshot is None:
                snapshot = KpiSnapshot(contract_id=contract.id)
                db.session.add(snapshot)
            snapshot.fingerprint, snapshot.document = fingerprint, _stored(result)
            snapshot.computed_at, snapshot.valid_until = now, valid_until
    except sa.exc.IntegrityError:
        pass  # a concurrent read stored its snapshot first
    return result


#: The position, in `_state_statement`'s row, of the creation time of the oldest work report
#: still unanswered within its answer window.
_OLDEST_UNANSWERED = 7


@functools.cache
def _state_statement() -> sa.Select[Any]:
    """One row of what a contract's KPIs are computed from, as aggregates of its messages,
    work reports (and their answers), changes, milestones and their steps, the provider
    side's people, its terms in force and its task's service model; then its snapshot.
    Built once; bound to a contract by its parameters."""
    contract_id = sa.bindparam("contract_id", type_=sa.Uuid)
    report, change = WorkReport, Change
    step = sa.inspect(MilestoneTransition).columns
    thread = sa.select(Thread.id).where(Thread.contract_id == contract_id).scalar_subquery()
    snapshot = sa.select(KpiSnapshot).where(KpiSnapshot.contract_id == contract_id).subquery()
    return sa.select(
        *_aggregates(
            sa.select(sa.func.count(), sa.func.max(Message.created_at)).where(
                Message.thread_id == thread
            )
        ),
        *_aggregates(
            sa.select(
                sa.func.count(),
                sa.func.max(report.created_at),
                sa.func.max(report.answered_at),
                sa.func.count().filter(report.status == WorkReportStatus.CONFIRMED),
                sa.func.count().filter(report.status == WorkReportStatus.CONTESTED),
                sa.func.min(report.created_at).filter(  # _OLDEST_UNANSWERED
                    report.status == WorkReportStatus.SUBMITTED,
                    report.created_at > sa.bindparam("lapse_from", type_=UTCDateTime),
                ),
            ).where(report.contract_id == contract_id)
        ),
        *_aggregates(
            sa.select(
                sa.func.count(),
                sa.func.max(change.announced_at),
                sa.func.max(change.acknowledged_at),
                sa.func.max(change.adopted_at),
            ).where(change.contract_id == contract_id)
        ),
        *_aggregates(
            sa.select(sa.func.count(), sa.func.max(step.at))
            .join(Milestone, Milestone.id == step.milestone_id)
            .where(Milestone.contract_id == contract_id)
        ),
        *_aggregates(
            sa.select(sa.func.count(), sa.func.max(Milestone.due_date)).where(
                Milestone.contract_id == contract_id
            )
        ),
        *_aggregates(
            sa.select(sa.func.count(), sa.func.max(Membership.created_at))
            .join(ProviderProfile, ProviderProfile.organization_id == Membership.organization_id)
            .where(ProviderProfile.id == sa.bindparam("provider_profile_id", type_=sa.Uuid))
        ),
        sa.select(sa.cast(ContractTerms.content, sa.Text))
        .where(
            ContractTerms.contract_id == contract_id,
            ContractTerms.version == sa.bindparam("terms_version", type_=sa.Integer),
        )
        .scalar_subquery(),
        sa.select(sa.cast(Task.service_model, sa.String))
        .where(Task.id == sa.bindparam("task_id", type_=sa.Uuid))
        .scalar_subquery(),
        *_aggregates(
            sa.select(
                snapshot.c.fingerprint,
                snapshot.c.computed_at,
                snapshot.c.valid_until,
                snapshot.c.document,
            )
        ),
    )


def _fingerprint(contract: Contract, state: Sequence[Any]) -> str:
    """A hash of what the contract's KPIs are computed from: the aggregates of its state
    (`_state_statement`), the contract's own columns, the parties' zones and hours, and
    the settings the KPIs read."""
    provider = contract.provider_profile
    what = [
        [str(value) for value in state],
        contract.status,
        str(contract.accepted_at),
        str(contract.created_at),
        contract.client_profile.timezone,
        provider.timezone,
        provider.working_hours,
        current_app.config["SLA_DEFAULTS"],
        current_app.config["SLA_EXCHANGE_IDLE_HOURS"],
    ]
    return hashlib.sha256(json.dumps(what, sort_keys=True, default=str).encode()).hexdigest()


def _aggregates(stmt: sa.Select[*tuple[Any, ...]]) -> list[sa.ScalarSelect[Any]]:
    """Each column of a one-row aggregate statement as a scalar subquery."""
    return [stmt.with_only_columns(column).scalar_subquery() for column in stmt.selected_columns]


def _stored(result: dict[str, Any]) -> dict[str, Any]:
    """The KPIs as JSON (dates as ISO strings)."""
    return json.loads(json.dumps(result, default=date.isoformat))


def _restored(document: dict[str, Any]) -> dict[str, Any]:
    """The KPIs of a snapshot, their dates as dates again."""
    for metric in document["metrics"]:
        if metric["period_start"] is not None:
            metric["period_start"] = date.fromisoformat(metric["period_start"])
        for entry in metric["series"]:
            entry["period_start"] = date.fromisoformat(entry["period_start"])
    return document


def _computed(contract: Contract, *, now: datetime) -> tuple[dict[str, Any], datetime]:
    """The contract's KPIs at `now`, and the first moment time alone may change them."""
    now = as_utc(now)
    goals = targets(contract)
    started = as_utc(contract.accepted_at or contract.created_at)
    periods = Periods(contract.client_profile.timezone or "UTC", started)
    today = periods.day(now)
    steps = clocks.milestone_steps(contract)
    samples: dict[str, Samples] = defaultdict(Samples)
    # Time alone changes the KPIs at the next midnight in the client's zone, and when a
    # running clock reaches a share of its target (`_clock_samples` adds those moments).
    moments = [datetime.combine(today + timedelta(days=1), time(), periods.zone)]
    samples.update(
        _clock_samples(contract, steps, periods=periods, goals=goals, now=now, moments=moments)
    )
    samples.update(_milestone_samples(contract, steps, periods=periods, now=now))
    report = sa.inspect(WorkReport).columns
    figures = work_reports.counted(contract.id, now).with_only_columns(
        report.period_start,
        report.items_received,
        report.items_completed,
        report.items_with_errors,
        report.satisfaction_responses,
        report.satisfaction_average,
        report.improvement_suggestions,
        report.sop_adherence,
    )
    samples.update(_report_samples(db.session.execute(figures)))
    share = goals.get("min_response_within_target")
    metrics = [
        _judge(
            metric,
            samples[metric.key],
            goals.get(metric.target),
            periods,
            today,
            share if metric.key in RESPONSES else None,
        )
        for metric in METRICS
    ]
    return {"metrics": metrics}, min(moments)
