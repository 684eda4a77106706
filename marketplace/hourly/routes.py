"""Hourly contracts' endpoints: time entries, the weekly limit, invoices and bonuses.

Disputing an invoice and paying a bonus move money: they take an `Idempotency-Key` and
are rate-limited as every money request is.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.contracts import terms as contract_terms
from marketplace.contracts.models import Milestone
from marketplace.database import utcnow
from marketplace.hourly import bonuses, entries, invoices, limits
from marketplace.hourly.inputs import EntryChange, NewEntry
from marketplace.hourly.models import Invoice, TimeEntry
from marketplace.hourly.schemas import (
    BonusInputSchema,
    BonusSchema,
    InvoiceDetailSchema,
    InvoiceDisputeSchema,
    InvoicePageSchema,
    InvoiceQuerySchema,
    InvoiceSchema,
    TimeEntryChangeSchema,
    TimeEntryInputSchema,
    TimeEntryPageSchema,
    TimeEntryQuerySchema,
    TimeEntrySchema,
    WeeklyLimitInputSchema,
    WeeklyLimitSchema,
)
from marketplace.hours import billing_week
from marketplace.pagination import Page, paginate
from marketplace.payments.routes import money

blp = Blueprint("hourly", __name__, url_prefix="/api/v1", description="Hourly contracts")


def _one(row: TimeEntry) -> entries.ShownEntry:
    return entries.shown(row.contract, [row])[0]


@blp.post("/contracts/<uuid:contract_id>/time-entries")
@login_required
@blp.arguments(TimeEntryInputSchema)
@blp.response(201, TimeEntrySchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def log_time(entry: NewEntry, contract_id: uuid.UUID) -> entries.ShownEntry:
    """Log a stretch of your own work (the provider's people): inside one billing week,
    not in the future, not overlapping your other entries on any contract."""
    row = entries.log(user=current_user, contract_id=contract_id, entry=entry)
    return _one(row)


@blp.get("/contracts/<uuid:contract_id>/time-entries")
@login_required
@blp.arguments(TimeEntryQuerySchema, location="query", as_kwargs=True)
@blp.response(200, TimeEntryPageSchema)
@blp.errors(400, 401, 404, 422)
def list_time(contract_id: uuid.UUID, page: int, page_size: int | None, **filters: Any) -> Page:
    """The contract's time entries, latest work first, each split by its week's limit."""
    contract, stmt = entries.entries_query(user=current_user, contract_id=contract_id, **filters)
    found = paginate(stmt, page=page, page_size=page_size)
    found.items = entries.shown(contract, found.items)
    return found


@blp.patch("/time-entries/<uuid:time_entry_id>")
@login_required
@blp.arguments(TimeEntryChangeSchema)
@blp.response(200, TimeEntrySchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def change_time(changes: EntryChange, time_entry_id: uuid.UUID) -> entries.ShownEntry:
    """Edit your entry until Monday 12:00 UTC after its week."""
    row = entries.change(user=current_user, entry_id=time_entry_id, changes=changes)
    return _one(row)


@blp.delete("/time-entries/<uuid:time_entry_id>")
@login_required
@blp.response(204)
@blp.errors(401, 403, 404, 409)
def delete_time(time_entry_id: uuid.UUID) -> None:
    """Delete your entry until Monday 12:00 UTC after its week."""
    entries.delete(user=current_user, entry_id=time_entry_id)


def _limit_view(contract: Any) -> dict[str, Any]:
    content = contract.current_terms.content
    week = billing_week(utcnow())
    return {
        "this_week": week,
        "hours_this_week": contract_terms.weekly_limit(content, week),
        "hours_next_week": contract_terms.weekly_limit(content, week + timedelta(days=7)),
        "schedule": [
            {"from_week": date.fromisoformat(step["from_week"]), "hours": step["hours"]}
            for step in content["hourly"]["weekly_limits"]
        ],
        "terms_version": contract.terms_version,
    }


@blp.put("/contracts/<uuid:contract_id>/weekly-limit")
@login_required
@blp.arguments(WeeklyLimitInputSchema, as_kwargs=True)
@blp.response(200, WeeklyLimitSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def set_weekly_limit(contract_id: uuid.UUID, hours: int) -> dict[str, Any]:
    """Set the weekly limit (the client): a raise counts this week, a cut from the next;
    a new terms version records it."""
    contract = limits.set_weekly_limit(user=current_user, contract_id=contract_id, hours=hours)
    return _limit_view(contract)


@blp.get("/contracts/<uuid:contract_id>/invoices")
@login_required
@blp.arguments(InvoiceQuerySchema, location="query", as_kwargs=True)
@blp.response(200, InvoicePageSchema)
@blp.errors(400, 401, 404, 422)
def contract_invoices(
    contract_id: uuid.UUID, page: int, page_size: int | None, **filters: Any
) -> Page:
    """The contract's weekly invoices, newest week first."""
    stmt = invoices.invoices_query(user=current_user, contract_id=contract_id, **filters)
    return paginate(stmt, page=page, page_size=page_size)


@blp.get("/invoices")
@login_required
@blp.arguments(InvoiceQuerySchema, location="query", as_kwargs=True)
@blp.response(200, InvoicePageSchema)
@blp.errors(400, 401, 422)
def my_invoices(page: int, page_size: int | None, **filters: Any) -> Page:
    """Your invoices (as a client, or as a provider), newest week first."""
    stmt = invoices.invoices_query(user=current_user, **filters)
    return paginate(stmt, page=page, page_size=page_size)


@blp.get("/invoices/<uuid:invoice_id>")
@login_required
@blp.response(200, InvoiceDetailSchema)
@blp.errors(401, 404)
def get_invoice(invoice_id: uuid.UUID) -> Invoice:
    """An invoice with its entries, as they were billed."""
    return invoices.get_invoice(user=current_user, invoice_id=invoice_id)


@blp.post("/invoices/<uuid:invoice_id>/dispute")
@login_required
@money
@blp.arguments(InvoiceDisputeSchema, as_kwargs=True)
@blp.response(200, InvoiceSchema)
@blp.errors(400, 401, 403, 404, 409, 422, 429)
def dispute_invoice(invoice_id: uuid.UUID, **data: Any) -> Invoice:
    """Dispute the invoice or some of its entries (the client, until Friday 23:59:59 UTC):
    the disputed part is held for an admin's split, the rest is charged as usual."""
    return invoices.dispute(user=current_user, invoice_id=invoice_id, **data)


@blp.post("/contracts/<uuid:contract_id>/bonuses")
@login_required
@money
@blp.arguments(BonusInputSchema, as_kwargs=True)
@blp.response(201, BonusSchema)
@blp.errors(400, 401, 402, 403, 404, 409, 422, 429)
def pay_bonus(contract_id: uuid.UUID, **data: Any) -> Milestone:
    """Pay the provider a bonus (the client), charged to the saved card and released at
    once: the way to pay for hours over the weekly limit."""
    return bonuses.pay(user=current_user, contract_id=contract_id, **data)
