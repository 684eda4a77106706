"""Request and response bodies of hourly contracts."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import marshmallow as ma

from marketplace.files.schemas import attached_files, file_ids
from marketplace.hourly.entries import ShownEntry, adjustment_closes, marked
from marketplace.hourly.inputs import EntryChange, NewEntry
from marketplace.hourly.models import Invoice, InvoiceStatus
from marketplace.hours import week_bounds
from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.schemas import (
    AmountSchema,
    BaseSchema,
    MoneyField,
    MoneySchema,
    require_some_field,
)

_MEMO = ma.validate.Length(min=1, max=2000)


class TimeEntryInputSchema(BaseSchema):
    """A stretch of your own work on an hourly contract."""

    start = ma.fields.AwareDateTime(
        required=True,
        metadata={"description": "ISO 8601 with an offset; stored in UTC, to the minute."},
    )
    end = ma.fields.AwareDateTime(
        required=True,
        metadata={
            "description": "After `start`, not in the future, in the same billing week "
            "(Monday 00:00 to Sunday 24:00 UTC)."
        },
    )
    memo = ma.fields.String(
        required=True, validate=_MEMO, metadata={"description": "What was done."}
    )
    files = file_ids(
        "Ids of your uploads (`POST /files` with purpose `time_entry`) to attach.",
        load_default=list,
    )

    @ma.post_load
    def _entry(self, data: dict[str, Any], **_: Any) -> NewEntry:
        return NewEntry(**{**data, "files": tuple(data["files"])})


class TimeEntryChangeSchema(BaseSchema):
    """An edit of an entry whose week is still open: any of its times and memo."""

    start = ma.fields.AwareDateTime()
    end = ma.fields.AwareDateTime()
    memo = ma.fields.String(validate=_MEMO)

    @ma.pre_load
    def _something(self, data: Any, **_: Any) -> Any:
        return require_some_field(data)

    @ma.post_load
    def _change(self, data: dict[str, Any], **_: Any) -> EntryChange:
        return EntryChange(**data)


class TimeEntryQuerySchema(PageArgsSchema):
    """Which entries: of one billing week, of one person."""

    week = ma.fields.Date(
        metadata={"description": "Any day of the billing week wanted (its Monday is best)."}
    )
    worker_id = ma.fields.UUID(metadata={"description": "Only this person's entries."})


class WorkerSchema(BaseSchema):
    """Who logged an entry."""

    id = ma.fields.UUID()
    name = ma.fields.String()


def _local(shown: ShownEntry) -> dict[str, dict[str, str]]:
    entry = shown.entry
    return {
        side: {
            "zone": zone,
            "start": entry.started_at.astimezone(ZoneInfo(zone)).isoformat(),
            "end": entry.ended_at.astimezone(ZoneInfo(zone)).isoformat(),
        }
        for side, zone in shown.zones.items()
    }


class TimeEntrySchema(BaseSchema):
    """A time entry, its minutes split by the week's limit."""

    id = ma.fields.UUID(attribute="entry.id")
    contract_id = ma.fields.UUID(attribute="entry.contract_id")
    worker = ma.fields.Nested(WorkerSchema, attribute="entry.worker")
    start = ma.fields.DateTime(attribute="entry.started_at", metadata={"description": "UTC."})
    end = ma.fields.DateTime(attribute="entry.ended_at", metadata={"description": "UTC."})
    local = ma.fields.Function(
        _local,
        metadata={
            "type": "object",
            "description": "`start` and `end` in each side's zone: "
            '`{"client": {"zone", "start", "end"}, "provider": {...}}`.',
        },
    )
    week = ma.fields.Date(attribute="entry.week", metadata={"description": "Its Monday (UTC)."})
    minutes = ma.fields.Integer(attribute="entry.minutes")
    billable_minutes = ma.fields.Integer(
        metadata={"description": "Within the week's limit: billed."}
    )
    over_limit_minutes = ma.fields.Integer(
        metadata={"description": "Beyond the week's limit: recorded, never billed."}
    )
    memo = ma.fields.String(attribute="entry.memo")
    files = attached_files("The attached files.")
    invoice_id = ma.fields.UUID(attribute="entry.invoice_id", allow_none=True)
    disputed = ma.fields.Boolean(attribute="entry.disputed")
    editable_until = ma.fields.Function(
        lambda shown: adjustment_closes(shown.entry.week).isoformat(),
        metadata={
            "type": "string",
            "format": "date-time",
            "description": "The adjustment window: Monday 12:00 UTC after the week.",
        },
    )
    created_at = ma.fields.DateTime(attribute="entry.created_at")
    updated_at = ma.fields.DateTime(attribute="entry.updated_at")

    def get_attribute(self, obj: Any, attr: str, default: Any) -> Any:
        if attr == "files":
            return obj.entry.files
        return super().get_attribute(obj, attr, default)


TimeEntryPageSchema = page_schema(TimeEntrySchema, "TimeEntryPage")


class WeeklyLimitInputSchema(BaseSchema):
    """The new weekly limit: a raise counts this week, a cut from the next."""

    hours = ma.fields.Integer(
        required=True, strict=True, validate=ma.validate.Range(min=1, max=168)
    )


class LimitStepSchema(BaseSchema):
    """One step of the limit's schedule."""

    from_week = ma.fields.Date(metadata={"description": "The Monday it counts from."})
    hours = ma.fields.Integer()


class WeeklyLimitSchema(BaseSchema):
    """The weekly limit now and as scheduled, in the terms version that records it."""

    this_week = ma.fields.Date()
    hours_this_week = ma.fields.Integer()
    hours_next_week = ma.fields.Integer()
    schedule = ma.fields.List(ma.fields.Nested(LimitStepSchema))
    terms_version = ma.fields.Integer()


def _period(invoice: Invoice) -> dict[str, str]:
    start, end = week_bounds(invoice.week)
    return {"start": start.isoformat(), "end": end.isoformat()}


class InvoiceSchema(BaseSchema):
    """A week's invoice of an hourly contract."""

    id = ma.fields.UUID()
    contract_id = ma.fields.UUID()
    week = ma.fields.Date(metadata={"description": "The billing week's Monday (UTC)."})
    period = ma.fields.Function(
        _period,
        metadata={"type": "object", "description": "`{start, end}` of the week, UTC."},
    )
    status = ma.fields.Enum(InvoiceStatus, by_value=True)
    limit_hours = ma.fields.Integer()
    logged_minutes = ma.fields.Integer()
    billed_minutes = ma.fields.Integer(attribute="minutes")
    over_limit_minutes = ma.fields.Function(lambda i: i.logged_minutes - i.minutes)
    rate = MoneyField(metadata={"description": "An hour's price."})
    amount = MoneyField(
        metadata={"description": "rate x billed minutes / 60, rounded half up to the minor unit."}
    )
    fee = ma.fields.Function(
        lambda i: {"amount": i.amount * i.fee_bps // 10_000, "currency": i.currency},
        metadata={"type": "object", "description": "The platform fee on the whole amount."},
    )
    disputed_amount = MoneyField()
    dispute_reason = ma.fields.String(allow_none=True)
    disputed_at = ma.fields.DateTime(allow_none=True)
    review_ends_at = ma.fields.DateTime(
        metadata={"description": "The client may dispute until then (Friday 23:59:59 UTC)."}
    )
    next_charge_at = ma.fields.DateTime(allow_none=True)
    charge_attempts = ma.fields.Integer()
    paid_at = ma.fields.DateTime(allow_none=True)
    available_at = ma.fields.DateTime(
        allow_none=True,
        metadata={"description": "The end of the security period: the money is released then."},
    )
    released_at = ma.fields.DateTime(allow_none=True)
    milestone_id = ma.fields.UUID()
    disputed_milestone_id = ma.fields.UUID(allow_none=True)
    issued_at = ma.fields.DateTime()


InvoicePageSchema = page_schema(InvoiceSchema, "InvoicePage")


def _billed_entries(invoice: Invoice) -> list[dict[str, Any]]:
    marks = marked(invoice.entries, invoice.limit_hours)
    contract = invoice.contract
    zones = {
        "client": contract.client_profile.timezone or "UTC",
        "provider": contract.provider_profile.timezone or "UTC",
    }
    rows = [
        ShownEntry(e, marks[e.id].billable, marks[e.id].over_limit, zones) for e in invoice.entries
    ]
    return TimeEntrySchema(many=True).dump(rows)


class InvoiceDetailSchema(InvoiceSchema):
    """An invoice with its entries, split by the limit as they were billed."""

    entries = ma.fields.Function(
        _billed_entries,
        metadata={"type": "array", "items": {"$ref": "#/components/schemas/TimeEntry"}},
    )


class InvoiceQuerySchema(PageArgsSchema):
    """Which invoices."""

    status = ma.fields.Enum(InvoiceStatus, by_value=True)


class InvoiceDisputeSchema(BaseSchema):
    """Why the client disputes the invoice, and which entries (none: all of it)."""

    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=2000))
    entry_ids = ma.fields.List(
        ma.fields.UUID(),
        validate=ma.validate.Length(min=1, max=1000),
        metadata={"description": "The disputed entries; leave out to dispute the whole invoice."},
    )


class BonusInputSchema(BaseSchema):
    """A one-off payment to the provider."""

    amount = ma.fields.Nested(MoneySchema, required=True)
    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=500))


class BonusSchema(BaseSchema):
    """A bonus: charged to the saved card and released to the provider at once."""

    id = ma.fields.UUID()
    contract_id = ma.fields.UUID()
    amount = MoneyField(AmountSchema)
    reason = ma.fields.String(attribute="description")
    status = ma.fields.Function(
        lambda m: m.status.value,
        metadata={
            "type": "string",
            "description": "`released` when paid; `pending` until Stripe confirms the charge.",
        },
    )
    released_amount = MoneyField()
    funded_at = ma.fields.DateTime(allow_none=True)
