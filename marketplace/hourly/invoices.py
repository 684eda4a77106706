"""Weekly invoices of hourly contracts, from issue to payout.

A week's life, all times UTC:
1. Monday 12:00 after the week (its adjustment window closed): the invoice is issued with
   the week's billable minutes at the contract's rate (`hours_amount`); its money is a
   milestone of kind `hours`, pending.
2. Until Friday 23:59:59: the client may dispute the invoice or some of its entries. The
   disputed part becomes a milestone of its own; the rest proceeds.
3. Saturday 00:00: the invoice is charged to the client's saved card, off-session. The
   gateway confirms (at once in the sandbox, by webhook on Stripe) and the money is in
   escrow. A declined charge pauses the contract, tells both parties and is tried again
   after HOURLY_RETRY_HOURS; a later success resumes the contract.
4. Paid: the undisputed money waits out the security period (the terms' `security_days`),
   then is released to the provider less the platform fee; the disputed part is held as a
   dispute for an admin's split.

`bill` runs every step that is due; it is the periodic job and `flask hourly bill`. Every
step locks its invoice (or, to issue one, its contract) and checks it is still due, and a
week has one invoice per contract (a unique key), so any number of runs on any number of
workers bill a week once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from marketplace import permissions
from marketplace.accounts.models import Role, User
from marketplace.contracts import milestones
from marketplace.contracts import services as contracts
from marketplace.contracts import terms as contract_terms
from marketplace.contracts.models import (
    Contract,
    ContractStatus,
    Milestone,
    MilestoneKind,
    MilestoneStatus,
)
from marketplace.database import lock_row, new_id, utcnow
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.hourly import bonuses
from marketplace.hourly import entries as time_entries
from marketplace.hourly.models import Invoice, InvoiceStatus, TimeEntry
from marketplace.hourly.states import INVOICE_STATES
from marketplace.hours import week_bounds
from marketplace.inputs import Money
from marketplace.jobs.due import each_due
from marketplace.jobs.emails import format_money
from marketplace.notifications import services as notifications
from marketplace.payments import disputes, funding, methods, settlement
from marketplace.payments.gateways.base import GatewayRefused, GatewayUnavailable
from marketplace.payments.models import Payment, PaymentStatus, SavedPaymentMethod

log = logging.getLogger(__name__)

#: The client reviews an invoice until Friday 23:59:59 UTC after its week: this long after
#: the week ends.
REVIEW_WINDOW = timedelta(days=5)
#: An invoice the gateway did not answer for is asked again this much later.
GATEWAY_RETRY = timedelta(hours=1)


def hours_amount(rate: int, minutes: int) -> int:
    """What `minutes` of work cost at `rate` an hour, in minor units, rounded half up
    (35.00 an hour for 61 minutes is 35.583... -> 35.58)."""
    return (rate * minutes + 30) // 60


def review_ends(week: date) -> datetime:
    """When the client's review of the week's invoice ends: Saturday 00:00 UTC after it."""
    return week_bounds(week)[1] + REVIEW_WINDOW


def duration(minutes: int) -> str:
    """`38 h 05 min`, for people."""
    return f"{minutes // 60} h {minutes % 60:02d} min"


# 1. Issue -------------------------------------------------------------------------------


def closed_weeks_due() -> list[tuple[uuid.UUID, date]]:
    """The contract-weeks whose adjustment window closed with time not yet invoiced."""
    last_closed = time_entries.closed_through(utcnow())
    return [
        (row.contract_id, row.week)
        for row in db.session.execute(
            sa.select(TimeEntry.contract_id, TimeEntry.week)
            .where(TimeEntry.invoice_id.is_(None), TimeEntry.week <= last_closed)
            .group_by(TimeEntry.contract_id, TimeEntry.week)
            .order_by(TimeEntry.week)
        )
    ]


def issue(contract_id: uuid.UUID, week: date) -> Invoice | None:
    """The week's invoice of the contract, made once: None if it was made already or there
    is nothing to bill. Locks the contract (as logging time does). Runs in the caller's
    transaction."""
    contract = lock_row(Contract, contract_id)
    if db.session.scalar(
        sa.select(Invoice.id).where(Invoice.contract_id == contract_id, Invoice.week == week)
    ):
        return None
    rows = time_entries.week_entries(contract_id, week)
    if not rows or time_entries.adjustment_closes(week) > utcnow():
        return None
    content = contract.current_terms.content
    limit = contract_terms.weekly_limit(content, week)
    marks = time_entries.marked(rows, limit)
    logged = sum(row.minutes for row in rows)
    billed = sum(mark.billable for mark in marks.values())
    rate = content["hourly"]["rate"]
    amount = hours_amount(rate["amount"], billed)
    position = milestones.next_position(contract_id)
    milestone = Milestone(
        id=new_id(),
        contract_id=contract_id,
        kind=MilestoneKind.HOURS,
        position=position,
        title=f"Hours, week of {week.isoformat()}",
        description=f"{duration(billed)} at {format_money(rate)} an hour",
        amount=amount,
        currency=rate["currency"],
    )
    db.session.add(milestone)
    invoice = Invoice(
        id=new_id(),
        contract_id=contract_id,
        week=week,
        limit_hours=limit,
        logged_minutes=logged,
        minutes=billed,
        rate=rate["amount"],
        currency=rate["currency"],
        amount=amount,
        fee_bps=milestones.terms_value(contract, "platform_fee_bps"),
        milestone_id=milestone.id,
        review_ends_at=review_ends(week),
        next_charge_at=review_ends(week),
    )
    db.session.add(invoice)
    db.session.flush()
    db.session.execute(
        sa.update(TimeEntry)
        .where(TimeEntry.contract_id == contract_id, TimeEntry.week == week)
        .values(invoice_id=invoice.id)
    )
    _tell(
        invoice,
        contract,
        "invoice.issued",
        to=("client", "provider"),
        hours=duration(billed),
        rate=Money(rate["amount"], rate["currency"]),
        over_limit=duration(logged - billed) if logged > billed else None,
        review_ends_at=invoice.review_ends_at,
    )
    return invoice


def issue_due() -> int:
    """Issue the invoice of every closed week with time to bill; returns how many."""
    issued = 0
    for contract_id, week in closed_weeks_due():
        if issue(contract_id, week) is not None:
            issued += 1
        db.session.commit()
    return issued


# 2. Review ------------------------------------------------------------------------------


def _tell(
    invoice: Invoice, contract: Contract, email: str, *, to: Sequence[str], **context: object
) -> None:
    people: dict[str, notifications.Recipients] = {
        "client": contract.client_profile,
        "provider": contract.provider_profile,
    }
    for side in to:
        recipients = notifications.admins() if side == "admins" else people[side]
        notifications.tell(
            recipients,
            email=email,
            context={
                "task_title": contract.task.title,
                "week": invoice.week.isoformat(),
                "amount": Money(invoice.amount, invoice.currency),
                **context,
            },
            contract_id=contract.id,
            task_id=contract.task_id,
            invoice_id=invoice.id,
        )


def get_invoice(*, user: User, invoice_id: uuid.UUID, lock: bool = False) -> Invoice:
    """An invoice, for its contract's parties and admins; anyone else gets NotFound."""
    contract_id = db.session.scalar(sa.select(Invoice.contract_id).where(Invoice.id == invoice_id))
    if contract_id is None:
        raise NotFound("Invoice not found.")
    try:
        contracts.get_contract(user=user, contract_id=contract_id, lock=lock)
    except NotFound:
        raise NotFound("Invoice not found.") from None
    if lock:
        return lock_row(Invoice, invoice_id)
    invoice = db.session.scalar(
        sa.select(Invoice)
        .where(Invoice.id == invoice_id)
        .options(joinedload(Invoice.entries).joinedload(TimeEntry.worker))
    )
    assert invoice is not None
    return invoice


def dispute(
    *,
    user: User,
    invoice_id: uuid.UUID,
    reason: str,
    entry_ids: Sequence[uuid.UUID] | None = None,
) -> Invoice:
    """The client disputes the invoice (no `entry_ids`) or some of its entries before the
    review window closes. The disputed part's money is split off into a milestone of its
    own, charged with the rest and then held for an admin; the rest proceeds."""
    invoice = get_invoice(user=user, invoice_id=invoice_id, lock=True)
    contract = db.session.get(Contract, invoice.contract_id)
    assert contract is not None
    if contracts.signing_side(user, contract) != "client":
        raise Forbidden("Only the client disputes an invoice.")
    if invoice.status != InvoiceStatus.IN_REVIEW or utcnow() >= invoice.review_ends_at:
        raise Conflict(
            "The invoice's review window is closed: it was open until Friday 23:59:59 UTC "
            "after its week.",
            details={"review_ends_at": invoice.review_ends_at.isoformat()},
        )
    if invoice.disputed_at is not None:
        raise Conflict("This invoice is already disputed.")
    rows = list(db.session.scalars(sa.select(TimeEntry).where(TimeEntry.invoice_id == invoice.id)))
    marks = time_entries.marked(rows, invoice.limit_hours)
    chosen = rows
    if entry_ids:
        by_id = {row.id: row for row in rows}
        unknown = [str(i) for i in entry_ids if i not in by_id]
        if unknown:
            raise BusinessRuleViolation(
                "Only the invoice's own entries can be disputed.",
                details={"entry_ids": [f"{i} is not an entry of this invoice." for i in unknown]},
            )
        chosen = [by_id[i] for i in dict.fromkeys(entry_ids)]
    disputed_minutes = sum(marks[row.id].billable for row in chosen)
    kept = hours_amount(invoice.rate, invoice.minutes - disputed_minutes)
    disputed = invoice.amount - kept
    if disputed <= 0:
        raise BusinessRuleViolation(
            "Nothing of those entries was billed (they are over the weekly limit).",
            details={"entry_ids": ["Choose entries with billed time."]},
        )
    main = milestones.lock(invoice.milestone_id).milestone
    if kept == 0:
        invoice.disputed_milestone_id = main.id
    else:
        main.amount = kept
        part = Milestone(
            id=new_id(),
            contract_id=contract.id,
            kind=MilestoneKind.HOURS,
            position=main.position,
            title=f"{main.title} (disputed)",
            description=f"{duration(disputed_minutes)} the client disputed",
            amount=disputed,
            currency=invoice.currency,
        )
        db.session.add(part)
        invoice.disputed_milestone_id = part.id
    for row in chosen:
        row.disputed = True
    invoice.disputed_amount, invoice.dispute_reason = disputed, reason
    invoice.disputed_by_id, invoice.disputed_at = user.id, utcnow()
    _tell(
        invoice,
        contract,
        "invoice.disputed",
        to=("provider", "admins"),
        disputed=Money(disputed, invoice.currency),
        reason=reason,
    )
    db.session.commit()
    return invoice


# 3. Charge ------------------------------------------------------------------------------


def _parts(invoice: Invoice) -> list[Milestone]:
    ids = {invoice.milestone_id, invoice.disputed_milestone_id} - {None}
    return list(
        db.session.scalars(
            sa.select(Milestone)
            .where(Milestone.id.in_(ids))
            .order_by(Milestone.amount.desc())
            .execution_options(populate_existing=True)
        )
    )


def charge_due() -> int:
    """Charge every invoice past its review window, or due for another attempt."""
    return each_due(
        sa.select(Invoice.id).where(
            Invoice.status.in_((InvoiceStatus.IN_REVIEW, InvoiceStatus.PAYMENT_FAILED)),
            Invoice.next_charge_at <= utcnow(),
        ),
        charge,
    )


def charge(invoice_id: uuid.UUID) -> bool:
    """Charge the invoice's unpaid parts to the client's saved card. The invoice is marked
    `charging` and committed first, so a second run leaves it alone."""
    invoice = lock_row(Invoice, invoice_id)
    if invoice.status not in (InvoiceStatus.IN_REVIEW, InvoiceStatus.PAYMENT_FAILED) or (
        invoice.next_charge_at is None or invoice.next_charge_at > utcnow()
    ):
        return False
    contract = db.session.get(Contract, invoice.contract_id)
    assert contract is not None
    INVOICE_STATES.apply(
        invoice, "charge", actor_id=None, reason=f"attempt {invoice.charge_attempts + 1}"
    )
    invoice.charge_attempts += 1
    _charge_now(invoice, contract)
    return True


def _charge_now(invoice: Invoice, contract: Contract) -> None:
    """Charge the locked invoice (charging) to the saved card; without a ready card, it is
    declined."""
    method = methods.saved_for(contract.client_profile_id)
    if method is None or not method.ready:
        _declined(invoice, contract, reason="no payment method is saved")
        return
    invoice.next_charge_at = None
    db.session.commit()
    _ask_gateway(invoice.id, contract, method)


def _ask_gateway(invoice_id: uuid.UUID, contract: Contract, method: SavedPaymentMethod) -> None:
    """Charge the charging invoice's pending parts. When the gateway does not answer (an
    outage, or a refusal to look into), the invoice stays `charging` and is asked again
    after GATEWAY_RETRY, reusing its pending payments and so their idempotency keys."""
    try:
        for part in _parts(lock_row(Invoice, invoice_id)):
            if part.status == MilestoneStatus.PENDING:
                funding.charge_saved_card(
                    milestone_id=part.id,
                    method=method,
                    description=f"{part.title} ({contract.id})",
                )
    except (GatewayUnavailable, GatewayRefused) as exc:
        db.session.rollback()
        log.warning("Charging invoice %s failed at the gateway: %s", invoice_id, exc)
        lock_row(Invoice, invoice_id).next_charge_at = utcnow() + GATEWAY_RETRY
        db.session.commit()
        return
    settle_charge(invoice_id)


def settle_charge(invoice_id: uuid.UUID) -> bool:
    """Act on what the gateway said of a charging invoice's payments: paid once every part
    is funded, declined when a part's latest payment failed, else still waiting (Stripe's
    webhook). Runs in the caller's transaction."""
    invoice = lock_row(Invoice, invoice_id)
    if invoice.status != InvoiceStatus.CHARGING:
        return False
    contract = lock_row(Contract, invoice.contract_id)
    parts = _parts(invoice)
    if all(part.funded_at is not None for part in parts):
        _paid(invoice, contract, parts)
        return True
    for part in parts:
        if part.funded_at is not None:
            continue
        latest = db.session.scalar(
            sa.select(Payment)
            .where(Payment.milestone_id == part.id)
            .order_by(Payment.attempt.desc())
            .limit(1)
        )
        if latest is not None and latest.status == PaymentStatus.FAILED:
            _declined(
                invoice,
                contract,
                reason=latest.failure_message or (latest.failure_code or "declined"),
            )
            return True
    return False


def settle_charging() -> int:
    """Settle the charging invoices whose payments the gateway answered since, and ask the
    gateway again for those it did not answer."""
    return each_due(
        sa.select(Invoice.id).where(Invoice.status == InvoiceStatus.CHARGING), _settle_or_retry
    )


def _settle_or_retry(invoice_id: uuid.UUID) -> bool:
    if settle_charge(invoice_id):
        return True
    invoice = lock_row(Invoice, invoice_id)
    if invoice.next_charge_at is None or invoice.next_charge_at > utcnow():
        return False  # waiting for the gateway's webhook
    contract = db.session.get(Contract, invoice.contract_id)
    assert contract is not None
    _charge_now(invoice, contract)
    return True


def _declined(invoice: Invoice, contract: Contract, *, reason: str) -> None:
    retries = current_app.config["HOURLY_RETRY_HOURS"]
    wait = retries[min(invoice.charge_attempts, len(retries)) - 1]
    INVOICE_STATES.apply(invoice, "decline", actor_id=None, reason=reason)
    invoice.next_charge_at = utcnow() + timedelta(hours=wait)
    if contract.status == ContractStatus.ACTIVE:
        contracts.transition(contract, "pause", actor=None, reason=f"payment declined: {reason}")
        invoice.paused_contract = True
    _tell(
        invoice,
        contract,
        "invoice.payment_failed",
        to=("client", "provider"),
        reason=reason,
        next_attempt_at=invoice.next_charge_at,
    )


def _paid(invoice: Invoice, contract: Contract, parts: list[Milestone]) -> None:
    days = contract.current_terms.content["hourly"]["security_days"]
    INVOICE_STATES.apply(invoice, "pay", actor_id=None, reason="the charge was confirmed")
    invoice.paid_at = utcnow()
    invoice.available_at = invoice.paid_at + timedelta(days=days)
    invoice.next_charge_at = None
    if invoice.disputed_milestone_id is not None:
        locked = milestones.lock(invoice.disputed_milestone_id)
        if locked.milestone.status == MilestoneStatus.FUNDED:
            client = db.session.get(User, invoice.disputed_by_id)
            assert client is not None
            disputes.hold_for_client(locked, client=client, reason=invoice.dispute_reason or "")
    if invoice.paused_contract:
        invoice.paused_contract = False
        still_failing = db.session.scalar(
            sa.select(sa.func.count()).where(
                Invoice.contract_id == contract.id,
                Invoice.status == InvoiceStatus.PAYMENT_FAILED,
                Invoice.id != invoice.id,
            )
        )
        if contract.status == ContractStatus.PAUSED and not still_failing:
            contracts.transition(contract, "resume", actor=None, reason="the invoice was paid")
            for people in (contract.client_profile, contract.provider_profile):
                contracts.tell(people, contract, "contract.resumed")
    _tell(
        invoice,
        contract,
        "invoice.paid",
        to=("client", "provider"),
        available_at=invoice.available_at,
        disputed=Money(invoice.disputed_amount, invoice.currency)
        if invoice.disputed_amount
        else None,
    )


# 4. Release -----------------------------------------------------------------------------


def release_due() -> int:
    """Release every paid invoice whose security period is over."""
    return each_due(
        sa.select(Invoice.id).where(
            Invoice.status == InvoiceStatus.PAID, Invoice.available_at <= utcnow()
        ),
        release,
    )


def release(invoice_id: uuid.UUID) -> bool:
    """The undisputed money of a paid invoice goes to the provider, less the fee."""
    invoice = lock_row(Invoice, invoice_id)
    if invoice.status != InvoiceStatus.PAID or (
        invoice.available_at is None or invoice.available_at > utcnow()
    ):
        return False
    if invoice.disputed_milestone_id != invoice.milestone_id:
        locked = milestones.lock(invoice.milestone_id)
        if locked.milestone.status == MilestoneStatus.FUNDED:
            milestones.move(
                locked.milestone,
                "release",
                side="system",
                actor=None,
                reason="security period over",
            )
            settlement.release(
                locked.milestone,
                locked.contract,
                reason=f"hours of the week of {invoice.week.isoformat()}",
            )
    INVOICE_STATES.apply(invoice, "release", actor_id=None, reason="security period over")
    invoice.released_at = utcnow()
    return True


def bill() -> dict[str, int]:
    """Every step that is due, in order; how many invoices each moved."""
    return {
        "issued": issue_due(),
        "charged": charge_due(),
        "settled": settle_charging(),
        "released": release_due(),
        "bonuses": bonuses.release_funded(),
    }


def invoices_query(
    *, user: User, contract_id: uuid.UUID | None = None, status: InvoiceStatus | None = None
) -> sa.Select[Invoice]:
    """Invoices the user may read, newest week first: one contract's (for its parties and
    admins), or every contract's the user is a party to."""
    stmt = sa.select(Invoice).order_by(Invoice.week.desc(), Invoice.id.desc())
    if contract_id is not None:
        contract = contracts.get_contract(user=user, contract_id=contract_id)
        stmt = stmt.where(Invoice.contract_id == contract.id)
    elif user.role == Role.CLIENT:
        stmt = stmt.join(Contract, Contract.id == Invoice.contract_id).where(
            Contract.client_profile_id == permissions.acting_client_profile_id(user.id)
        )
    elif user.role == Role.PROVIDER:
        stmt = stmt.join(Contract, Contract.id == Invoice.contract_id).where(
            Contract.provider_profile_id == permissions.acting_provider_profile_id(user.id)
        )
    if status is not None:
        stmt = stmt.where(Invoice.status == status)
    return stmt
