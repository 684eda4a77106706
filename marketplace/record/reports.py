"""Work reports of operations work (BPO, VA, ITO): the provider side files its figures for a
period, the client side confirms or contests them; unanswered for `ANSWER_DAYS` a report
counts as confirmed, and contested ones never feed the record until the client confirms
them (the resolution)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from marketplace import permissions
from marketplace.accounts.models import User
from marketplace.contracts import services as contracts
from marketplace.contracts.models import Contract
from marketplace.contracts.states import RUNNING
from marketplace.database import lock_row, new_id, utcnow
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.files import services as file_services
from marketplace.files.models import FilePurpose
from marketplace.jobs.due import each_due
from marketplace.profiles.models import ServiceModel
from marketplace.record.clock import as_utc
from marketplace.record.models import WorkReport
from marketplace.record.models import WorkReportStatus as R
from marketplace.statemachine import StateMachine

#: Days the client has to answer a report; unanswered, it then counts as confirmed.
ANSWER_DAYS = 7
ANSWER_WINDOW = timedelta(days=ANSWER_DAYS)
#: The longest period one report covers, in days (first and last included).
MAX_PERIOD_DAYS = 31
#: Service models whose work is reported in periods (operations work).
REPORTED = (ServiceModel.BPO, ServiceModel.VA, ServiceModel.ITO)

WORK_REPORT_STATES = StateMachine(
    "work report",
    {
        "confirm": ([R.SUBMITTED, R.CONTESTED], R.CONFIRMED),
        "contest": ([R.SUBMITTED], R.CONTESTED),
        "auto_confirm": ([R.SUBMITTED], R.CONFIRMED),
    },
    refusals={
        "confirm": "This report is confirmed already.",
        "contest": "Only a report waiting for an answer can be contested.",
    },
)


@dataclass(frozen=True, kw_only=True)
class ReportFigures:
    """What the provider side reports for one period (dates inclusive, client's zone)."""

    period_start: date
    period_end: date
    items_received: int
    items_completed: int
    items_with_errors: int = 0
    items_reworked: int = 0
    escalations: int = 0
    satisfaction_responses: int = 0
    satisfaction_average: float | None = None
    improvement_suggestions: tuple[str, ...] = ()
    sop_adherence: float | None = None
    notes: str = ""
    files: tuple[uuid.UUID, ...] = field(default=())


COUNTS = (
    "items_received",
    "items_completed",
    "items_with_errors",
    "items_reworked",
    "escalations",
    "satisfaction_responses",
)


def figure_errors(figures: ReportFigures) -> dict[str, list[str]]:
    """Per field, what makes the figures impossible (empty when they are consistent)."""
    errors: dict[str, list[str]] = {}

    def refuse(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    for name in COUNTS:
        if getattr(figures, name) < 0:
            refuse(name, "A count cannot be negative.")
    if figures.items_completed > figures.items_received:
        refuse("items_completed", "More items completed than received.")
    for name in ("items_with_errors", "items_reworked"):
        if getattr(figures, name) > figures.items_completed:
            refuse(name, "More than the items completed.")
    average = figures.satisfaction_average
    if figures.satisfaction_responses > 0 and average is None:
        refuse("satisfaction_average", "Give the average score of the responses.")
    if figures.satisfaction_responses <= 0 and average is not None:
        refuse("satisfaction_average", "No responses: there is no average score.")
    if average is not None and not 1 <= average <= 5:
        refuse("satisfaction_average", "A score is between 1 and 5.")
    if figures.sop_adherence is not None and not 0 <= figures.sop_adherence <= 1:
        refuse("sop_adherence", "A share between 0 and 1.")
    return errors


def _client_today(contract: Contract) -> date:
    return utcnow().astimezone(ZoneInfo(contract.client_profile.timezone or "UTC")).date()


def _started_on(contract: Contract) -> date | None:
    if contract.accepted_at is None:
        return None
    zone = ZoneInfo(contract.client_profile.timezone or "UTC")
    return as_utc(contract.accepted_at).astimezone(zone).date()


def period_errors(contract: Contract, figures: ReportFigures) -> dict[str, list[str]]:
    """Per field, what is wrong with the period (dates in the client's zone)."""
    start, end = figures.period_start, figures.period_end
    errors: dict[str, list[str]] = {}
    if end < start:
        errors["period_end"] = ["The period ends before it starts."]
    elif (end - start).days + 1 > MAX_PERIOD_DAYS:
        errors["period_end"] = [f"A report covers at most {MAX_PERIOD_DAYS} days."]
    if end > _client_today(contract):
        errors.setdefault("period_end", []).append("The period has not ended yet.")
    started = _started_on(contract)
    if started is not None and start < started:
        errors["period_start"] = [f"The contract started on {started.isoformat()}."]
    return errors


def _require_reported_work(contract: Contract) -> None:
    model = contract.task.service_model or ServiceModel.VA
    if model not in REPORTED:
        raise Conflict(
            "Work reports are for operations work (BPO, VA, ITO); this contract's work is "
            f"{model.value.upper()}, measured by its milestones.",
            details={"service_model": model.value},
        )


def _require_running(contract: Contract, doing: str) -> None:
    if contract.status not in RUNNING:
        raise Conflict(
            f"Cannot {doing} on a contract that is {contract.status.value}.",
            details={"contract_status": contract.status.value},
        )


def _overlapping(contract_id: uuid.UUID, start: date, end: date) -> WorkReport | None:
    return db.session.scalar(
        sa.select(WorkReport)
        .where(
            WorkReport.contract_id == contract_id,
            WorkReport.period_start <= end,
            WorkReport.period_end >= start,
        )
        .order_by(WorkReport.period_start)
        .limit(1)
    )


def file_report(*, user: User, contract_id: uuid.UUID, figures: ReportFigures) -> WorkReport:
    """The provider side (any of its people) files its figures for a period; the client is
    told. The contract row is locked, so two reports for overlapping periods cannot both be
    filed however they race."""
    contract = contracts.get_contract(user=user, contract_id=contract_id, lock=True)
    if contracts.side_of(user, contract) != "provider":
        raise Forbidden("Only the provider files work reports.")
    _require_reported_work(contract)
    _require_running(contract, "file a work report")
    errors = {**period_errors(contract, figures)}
    for name, messages in figure_errors(figures).items():
        errors.setdefault(name, []).extend(messages)
    if errors:
        raise BusinessRuleViolation("The report's figures are not possible.", details=errors)
    clash = _overlapping(contract.id, figures.period_start, figures.period_end)
    if clash is not None:
        raise Conflict(
            "A report for an overlapping period exists already "
            f"({clash.period_start.isoformat()} to {clash.period_end.isoformat()}).",
            details={"work_report_id": str(clash.id)},
        )
    report = WorkReport(
        id=new_id(),
        contract_id=contract.id,
        submitted_by_id=user.id,
        period_start=figures.period_start,
        period_end=figures.period_end,
        items_received=figures.items_received,
        items_completed=figures.items_completed,
        items_with_errors=figures.items_with_errors,
        items_reworked=figures.items_reworked,
        escalations=figures.escalations,
        satisfaction_responses=figures.satisfaction_responses,
        satisfaction_average=figures.satisfaction_average,
        improvement_suggestions=list(figures.improvement_suggestions),
        sop_adherence=figures.sop_adherence,
        notes=figures.notes,
        status=R.SUBMITTED,
        created_at=utcnow(),
    )
    report.files = file_services.attach(
        user=user, file_ids=figures.files, purpose=FilePurpose.WORK_REPORT, object_id=report.id
    )
    db.session.add(report)
    _tell(contract, report, to="client", email="work_report.filed")
    db.session.commit()
    return report


def reports_query(*, user: User, contract_id: uuid.UUID) -> sa.Select[WorkReport]:
    """A contract's reports for its parties and admins, the newest period first."""
    contract = contracts.get_contract(user=user, contract_id=contract_id)
    return (
        sa.select(WorkReport)
        .where(WorkReport.contract_id == contract.id)
        .order_by(WorkReport.period_start.desc(), WorkReport.id)
    )


def answer_due(report: WorkReport) -> datetime:
    """When a report unanswered counts as confirmed."""
    return as_utc(report.created_at) + ANSWER_WINDOW


def lapsed(report: WorkReport, now: datetime | None = None) -> bool:
    """Whether the report, unanswered, counts as confirmed by now."""
    return report.status == R.SUBMITTED and answer_due(report) <= (now or utcnow())


def status_now(report: WorkReport, now: datetime | None = None) -> R:
    """The status the report counts as now: unanswered past its window, confirmed."""
    return R.CONFIRMED if lapsed(report, now) else report.status


def auto_confirmed(report: WorkReport, now: datetime | None = None) -> bool:
    """Whether the report counts as confirmed for want of an answer."""
    stored = report.status == R.CONFIRMED and report.answered_by_id is None
    return stored or lapsed(report, now)


def answered_at(report: WorkReport, now: datetime | None = None) -> datetime | None:
    """When the report was answered (a lapsed one: at its window's end)."""
    if auto_confirmed(report, now):
        return answer_due(report)
    return as_utc(report.answered_at) if report.answered_at else None


def _answerable(*, user: User, report_id: uuid.UUID) -> tuple[WorkReport, Contract]:
    report = db.session.get(WorkReport, report_id)
    if report is None:
        raise NotFound("Work report not found.")
    try:
        contract = contracts.get_contract(user=user, contract_id=report.contract_id, lock=True)
    except NotFound:
        # The same answer as for an id that does not exist: outsiders learn nothing.
        raise NotFound("Work report not found.") from None
    report = lock_row(WorkReport, report_id)
    if contracts.side_of(user, contract) != "client":
        raise Forbidden("Only the client confirms or contests work reports.")
    permissions.require_commits(
        user, "Only the company's owner or managers confirm or contest work reports."
    )
    if auto_confirmed(report):
        raise Conflict(
            f"The report went unanswered for {ANSWER_DAYS} days: it counts as confirmed.",
            details={"status": R.CONFIRMED.value},
        )
    return report, contract


def confirm(*, user: User, report_id: uuid.UUID) -> WorkReport:
    """The client confirms a report (also one it contested: the resolution)."""
    report, contract = _answerable(user=user, report_id=report_id)
    WORK_REPORT_STATES.apply(report, "confirm", actor_id=user.id)
    report.answered_by_id, report.answered_at = user.id, utcnow()
    _tell(contract, report, to="provider", email="work_report.confirmed")
    db.session.commit()
    return report


def contest(*, user: User, report_id: uuid.UUID, reason: str) -> WorkReport:
    """The client contests a report's figures; they feed nothing until it confirms them."""
    report, contract = _answerable(user=user, report_id=report_id)
    WORK_REPORT_STATES.apply(report, "contest", actor_id=user.id, reason=reason)
    report.contest_reason = reason
    report.answered_by_id, report.answered_at = user.id, utcnow()
    _tell(contract, report, to="provider", email="work_report.contested", reason=reason)
    db.session.commit()
    return report


def counted(contract_id: uuid.UUID, now: datetime) -> sa.Select[WorkReport]:
    """The contract's reports that feed its record at `now`: confirmed ones, and submitted
    ones unanswered for `ANSWER_DAYS`; contested ones never."""
    return sa.select(WorkReport).where(
        WorkReport.contract_id == contract_id,
        sa.or_(
            WorkReport.status == R.CONFIRMED,
            sa.and_(
                WorkReport.status == R.SUBMITTED,
                WorkReport.created_at <= now - ANSWER_WINDOW,
            ),
        ),
    )


def confirm_lapsed(*, now: datetime | None = None) -> int:
    """Mark confirmed the reports unanswered for `ANSWER_DAYS` (answered at the window's
    end, by nobody). Returns how many."""
    moment = now or utcnow()
    return each_due(
        sa.select(WorkReport.id)
        .where(
            WorkReport.status == R.SUBMITTED,
            WorkReport.created_at <= moment - ANSWER_WINDOW,
        )
        .order_by(WorkReport.created_at, WorkReport.id),
        lambda report_id: _confirm_lapsed(report_id, moment),
    )


def _confirm_lapsed(report_id: uuid.UUID, now: datetime) -> bool:
    report = lock_row(WorkReport, report_id)
    if not lapsed(report, now):
        return False
    WORK_REPORT_STATES.apply(
        report, "auto_confirm", actor_id=None, reason=f"unanswered for {ANSWER_DAYS} days"
    )
    report.answered_at = answer_due(report)
    return True


def _tell(contract: Contract, report: WorkReport, *, to: str, email: str, **extra: Any) -> None:
    profile = contract.client_profile if to == "client" else contract.provider_profile
    contracts.tell(
        profile,
        contract,
        email,
        period_start=report.period_start.isoformat(),
        period_end=report.period_end.isoformat(),
        answer_due=answer_due(report),
        **extra,
    )
