"""Time entries: the provider side logs its work on an hourly contract, one stretch at a
time, within a billing week; the week's limit decides which minutes are billed.

Rules, each a clear 4xx with nothing stored:
- only people acting for the contract's provider log time, each as themselves (a firm's
  members each log their own); the contract must be active and hourly;
- an entry ends after it starts, not in the future, not before the contract began, and
  inside one billing week (Monday 00:00 to Sunday 24:00 UTC): a longer stretch is split;
- a worker's entries never overlap, on this contract or any other;
- a week's entries are written until its adjustment window closes, Monday 12:00 UTC after
  the week; then the week is invoiced.

Minutes beyond the week's limit are kept and shown (`over_limit_minutes`) but never
billed; which minutes those are is decided in the order the work was done, so every entry
of a week over its limit, and the invoice, agree (`marked`).

A new entry locks its contract's row (the invoice job locks it too, so an entry cannot
slip past an invoice) and its worker's row (so two entries of one person saved at once
cannot overlap).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from marketplace import permissions
from marketplace.accounts.models import User
from marketplace.contracts import services as contracts
from marketplace.contracts import terms as contract_terms
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.database import commit_keeping_values, lock_row, new_id, utcnow
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.files import services as file_services
from marketplace.files.models import FilePurpose
from marketplace.hourly.inputs import EntryChange, NewEntry
from marketplace.hourly.models import TimeEntry
from marketplace.hours import billing_week, week_bounds
from marketplace.inputs import UNSET

#: The provider's window to fix a week's entries: until this long after the week ends.
ADJUSTMENT_WINDOW = timedelta(hours=12)
#: No entry is longer than a week, so an overlap search looks back no further.
LONGEST_ENTRY = timedelta(days=7)


def adjustment_closes(week: date) -> datetime:
    """When the week's entries are fixed: Monday 12:00 UTC after it."""
    return week_bounds(week)[1] + ADJUSTMENT_WINDOW


def closed_through(moment: datetime) -> date:
    """The last billing week whose adjustment window has closed at `moment`."""
    return billing_week(moment - ADJUSTMENT_WINDOW) - timedelta(days=7)


@dataclass(frozen=True)
class Marked:
    """An entry's minutes split by the week's limit."""

    billable: int
    over_limit: int


def marked(entries: Sequence[TimeEntry], limit_hours: int) -> dict[uuid.UUID, Marked]:
    """Each entry of one contract-week, in the order the work was done: billable until the
    limit's minutes are used up, over the limit after."""
    left = limit_hours * 60
    result = {}
    for entry in sorted(entries, key=lambda e: (e.started_at, e.id)):
        billable = min(entry.minutes, left)
        left -= billable
        result[entry.id] = Marked(billable, entry.minutes - billable)
    return result


def week_entries(contract_id: uuid.UUID, week: date) -> list[TimeEntry]:
    """A contract's entries of one billing week, in the order the work was done."""
    return list(
        db.session.scalars(
            sa.select(TimeEntry)
            .where(TimeEntry.contract_id == contract_id, TimeEntry.week == week)
            .order_by(TimeEntry.started_at, TimeEntry.id)
        )
    )


def marks_for(contract: Contract, entries: Iterable[TimeEntry]) -> dict[uuid.UUID, Marked]:
    """The billable and over-limit minutes of `entries` (of one contract), as `marked` splits
    them: each is billable as far as its week's limit has minutes left after the work done
    before it. The database sums that work (one statement, no other entry of the week
    loaded: a week's entries are read for an invoice, not for an answer about one)."""
    wanted = {entry.id: entry for entry in entries}
    if not wanted:
        return {}
    done_through = sa.func.sum(TimeEntry.minutes).over(
        partition_by=TimeEntry.week, order_by=(TimeEntry.started_at, TimeEntry.id)
    )
    week_so_far = (
        sa.select(TimeEntry.id, done_through.label("done"))
        .where(
            TimeEntry.contract_id == contract.id,
            TimeEntry.week.in_({entry.week for entry in wanted.values()}),
        )
        .subquery()
    )
    content = contract.current_terms.content
    result: dict[uuid.UUID, Marked] = {}
    for entry_id, done in db.session.execute(
        sa.select(week_so_far.c.id, week_so_far.c.done).where(week_so_far.c.id.in_(wanted))
    ):
        entry = wanted[entry_id]
        left = contract_terms.weekly_limit(content, entry.week) * 60 - (done - entry.minutes)
        billable = max(0, min(entry.minutes, left))
        result[entry_id] = Marked(billable, entry.minutes - billable)
    return result


def _hourly_contract(user: User, contract_id: uuid.UUID) -> Contract:
    """The contract, locked, for a person acting for its provider; it must be running on
    hourly terms."""
    # Both parties come with the locked row: the access check and the answer's zones read
    # them, and the contract holds them for the request.
    contract = contracts.get_contract(
        user=user,
        contract_id=contract_id,
        lock=True,
        load=(
            joinedload(Contract.client_profile, innerjoin=True),
            joinedload(Contract.provider_profile, innerjoin=True),
        ),
    )
    if not permissions.speaks_for(user, contract.provider_profile):
        raise Forbidden("Only the provider's people log time on a contract.")
    _require_loggable(contract)
    return contract


def _require_loggable(contract: Contract) -> None:
    if not contracts.is_hourly(contract):
        raise Conflict("This contract is not hourly: its work is paid by milestones.")
    if contract.status != ContractStatus.ACTIVE:
        raise Conflict(
            f"Time cannot be logged on a contract that is {contract.status.value}.",
            details={"contract_status": contract.status.value},
        )


def _minute(moment: datetime) -> datetime:
    """The moment in UTC, to the minute (as entries are stored and answered)."""
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def _check_span(contract: Contract, start: datetime, end: datetime) -> date:
    """Refuse an impossible or closed stretch of time; its billing week otherwise."""
    now = utcnow()
    errors: dict[str, list[str]] = {}
    if end <= start:
        errors["end"] = ["Must be after start (at least a minute of work)."]
    elif end > now:
        errors["end"] = ["Must not be in the future."]
    elif contract.accepted_at is not None and start < _minute(contract.accepted_at):
        errors["start"] = ["Must not be before the contract started."]
    elif billing_week(start) != billing_week(end - timedelta(microseconds=1)):
        errors["end"] = [
            "An entry stays inside one billing week (Monday 00:00 to Sunday 24:00 UTC): "
            "split it at the week's end."
        ]
    if errors:
        raise BusinessRuleViolation("The time entry is not possible.", details=errors)
    week = billing_week(start)
    if now >= adjustment_closes(week):
        raise Conflict(
            "The week of this entry is closed: entries are written until Monday 12:00 UTC "
            "after their week.",
            details={"week": week.isoformat(), "closed_at": adjustment_closes(week).isoformat()},
        )
    return week


def _refuse_overlap(
    worker_id: uuid.UUID, start: datetime, end: datetime, *, apart_from: uuid.UUID | None
) -> None:
    stmt = sa.select(TimeEntry.id, TimeEntry.started_at, TimeEntry.ended_at).where(
        TimeEntry.worker_id == worker_id,
        TimeEntry.started_at > start - LONGEST_ENTRY,
        TimeEntry.started_at < end,
        TimeEntry.ended_at > start,
    )
    if apart_from is not None:
        stmt = stmt.where(TimeEntry.id != apart_from)
    clash = db.session.execute(stmt.limit(1)).first()
    if clash is not None:
        raise Conflict(
            "This time overlaps another entry of yours.",
            details={
                "entry_id": str(clash.id),
                "start": clash.started_at.isoformat(),
                "end": clash.ended_at.isoformat(),
            },
        )


def log(*, user: User, contract_id: uuid.UUID, entry: NewEntry) -> TimeEntry:
    """The provider's person logs a stretch of their own work (see the rules above)."""
    contract = _hourly_contract(user, contract_id)
    start, end = _minute(entry.start), _minute(entry.end)
    week = _check_span(contract, start, end)
    lock_row(User, user.id)  # one entry of a person at a time: overlaps are checked alone
    _refuse_overlap(user.id, start, end, apart_from=None)
    row = TimeEntry(
        id=new_id(),
        contract=contract,  # held for the answer (the session holds clean rows weakly)
        worker_id=user.id,
        started_at=start,
        ended_at=end,
        minutes=int((end - start).total_seconds() // 60),
        week=week,
        memo=entry.memo,
    )
    row.files = file_services.attach(
        user=user, file_ids=entry.files, purpose=FilePurpose.TIME_ENTRY, object_id=row.id
    )
    db.session.add(row)
    commit_keeping_values()  # the answer is built from these objects, not read back
    return row


def _own_entry(user: User, entry_id: uuid.UUID) -> tuple[TimeEntry, Contract]:
    """An entry its worker (or the firm's owner or managers) may change, locked with its
    contract; the contract's client reads but never changes it (403); anyone else 404."""
    contract_id = db.session.scalar(
        sa.select(TimeEntry.contract_id).where(TimeEntry.id == entry_id)
    )
    if contract_id is None:
        raise NotFound("Time entry not found.")
    try:
        contract = contracts.get_contract(user=user, contract_id=contract_id, lock=True)
    except NotFound:
        raise NotFound("Time entry not found.") from None
    entry = lock_row(TimeEntry, entry_id)
    side = contracts.side_of(user, contract)
    if side != "provider":
        raise Forbidden("Only the provider's people change time entries.")
    if entry.worker_id != user.id and not permissions.commits(user):
        raise Forbidden("Only the person who logged it, or the firm's managers, change it.")
    _require_loggable(contract)
    if entry.invoice_id is not None or utcnow() >= adjustment_closes(entry.week):
        raise Conflict(
            "This entry's week is closed: entries change until Monday 12:00 UTC after their week.",
            details={"week": entry.week.isoformat()},
        )
    return entry, contract


def change(*, user: User, entry_id: uuid.UUID, changes: EntryChange) -> TimeEntry:
    """Edit an entry of a week still open, under the rules of a new one."""
    entry, contract = _own_entry(user, entry_id)
    start = _minute(changes.start) if changes.start is not UNSET else entry.started_at
    end = _minute(changes.end) if changes.end is not UNSET else entry.ended_at
    if (start, end) != (entry.started_at, entry.ended_at):
        week = _check_span(contract, start, end)
        lock_row(User, entry.worker_id)
        _refuse_overlap(entry.worker_id, start, end, apart_from=entry.id)
        entry.started_at, entry.ended_at, entry.week = start, end, week
        entry.minutes = int((end - start).total_seconds() // 60)
    if changes.memo is not UNSET:
        entry.memo = changes.memo
    db.session.commit()
    return entry


def delete(*, user: User, entry_id: uuid.UUID) -> None:
    """Delete an entry of a week still open."""
    entry, _ = _own_entry(user, entry_id)
    db.session.delete(entry)
    db.session.commit()


def get_entry(*, user: User, entry_id: uuid.UUID) -> TimeEntry:
    """An entry, for its contract's parties and admins."""
    entry = db.session.get(TimeEntry, entry_id)
    if entry is None:
        raise NotFound("Time entry not found.")
    try:
        contracts.get_contract(user=user, contract_id=entry.contract_id)
    except NotFound:
        raise NotFound("Time entry not found.") from None
    return entry


def entries_query(
    *,
    user: User,
    contract_id: uuid.UUID,
    week: date | None = None,
    worker_id: uuid.UUID | None = None,
) -> tuple[Contract, sa.Select[TimeEntry]]:
    """A contract's entries for its parties and admins, latest work first; of one billing
    week (its Monday) or one worker when asked."""
    contract = contracts.get_contract(user=user, contract_id=contract_id)
    stmt = (
        sa.select(TimeEntry)
        .where(TimeEntry.contract_id == contract.id)
        .options(joinedload(TimeEntry.worker))
        .order_by(TimeEntry.started_at.desc(), TimeEntry.id.desc())
    )
    if week is not None:
        stmt = stmt.where(TimeEntry.week == billing_week(week_bounds(week)[0]))
    if worker_id is not None:
        stmt = stmt.where(TimeEntry.worker_id == worker_id)
    return contract, stmt


@dataclass(frozen=True)
class ShownEntry:
    """An entry as its contract's parties see it: its minutes split by the week's limit,
    and its times in each side's zone."""

    entry: TimeEntry
    billable_minutes: int
    over_limit_minutes: int
    zones: dict[str, str]


def shown(contract: Contract, rows: Sequence[TimeEntry]) -> list[ShownEntry]:
    """`rows` of `contract`, each with its marks and both sides' zones."""
    marks = marks_for(contract, rows)
    zones = {
        "client": contract.client_profile.timezone or "UTC",
        "provider": contract.provider_profile.timezone or "UTC",
    }
    return [
        ShownEntry(
            entry=row,
            billable_minutes=marks[row.id].billable,
            over_limit_minutes=marks[row.id].over_limit,
            zones=zones,
        )
        for row in rows
    ]
