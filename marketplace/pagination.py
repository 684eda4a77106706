"""Pagination: page numbers with the total in the body (`{items, page, page_size, total}`),
and cursor pages for lists that grow with the marketplace (task discovery), whose total is
counted only up to `COUNT_CAP`."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from flask import current_app
from sqlalchemy import Select

from marketplace.errors import BusinessRuleViolation
from marketplace.extensions import db
from marketplace.schemas import BaseSchema


class PageArgsSchema(BaseSchema):
    """Query arguments of every list endpoint."""

    page = ma.fields.Integer(load_default=1, validate=ma.validate.Range(min=1, max=100_000))
    page_size = ma.fields.Integer(load_default=None, validate=ma.validate.Range(min=1, max=100))


@dataclass
class Page:
    """One page of results."""

    items: list[Any]
    page: int
    page_size: int
    total: int


def page_size_for(requested: int | None) -> int:
    """The page size to use: the one asked for, or the default, never above the maximum."""
    config = current_app.config
    return min(requested or config["PAGE_SIZE_DEFAULT"], config["PAGE_SIZE_MAX"])


def paginate(stmt: Select[Any], *, page: int = 1, page_size: int | None = None) -> Page:
    """Run `stmt` (which must have a stable, unique ORDER BY) for one page."""
    size = page_size_for(page_size)
    result = db.paginate(stmt, page=page, per_page=size, error_out=False, count=True)
    return Page(items=list(result.items), page=page, page_size=size, total=result.total or 0)


def page_schema(item_schema: type[ma.Schema], name: str) -> type[ma.Schema]:
    """A schema for a page of `item_schema`, named for the OpenAPI spec."""
    return type(
        name,
        (BaseSchema,),
        {
            "items": ma.fields.List(ma.fields.Nested(item_schema), required=True),
            "page": ma.fields.Integer(required=True),
            "page_size": ma.fields.Integer(required=True),
            "total": ma.fields.Integer(required=True),
        },
    )


#: Cursor lists count their matches up to this many: a count costs what reading that many
#: rows costs, however many there are.
COUNT_CAP = 1000


@dataclass
class CursorPage:
    """One page of a keyset-paginated list; `total` counts at most COUNT_CAP matches."""

    items: list[Any]
    page_size: int
    total: int
    next_cursor: str | None
    total_is_capped: bool = False


def capped_count(stmt: Select[Any]) -> tuple[int, bool]:
    """How many rows `stmt` gives, counted up to COUNT_CAP, and whether there are more."""
    rows = (
        stmt.with_only_columns(sa.literal_column("1"), maintain_column_froms=True)
        .order_by(None)
        .limit(COUNT_CAP + 1)
        .subquery()
    )
    count = db.session.scalar(sa.select(sa.func.count()).select_from(rows)) or 0
    return min(count, COUNT_CAP), count > COUNT_CAP


class CursorPageSchema(BaseSchema):
    """The fields of a cursor page around its items (a subclass adds `items`)."""

    page_size = ma.fields.Integer(required=True)
    total = ma.fields.Integer(
        required=True,
        metadata={
            "description": f"How many items match, counted up to {COUNT_CAP}: with "
            f"`total_is_capped`, more than {COUNT_CAP} match."
        },
    )
    total_is_capped = ma.fields.Boolean(
        required=True,
        metadata={"description": f"More than {COUNT_CAP} items match; `total` is {COUNT_CAP}."},
    )
    next_cursor = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "Pass it as `cursor` for the next page; null on the last."},
    )


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for the sort key of the last item of a page."""
    raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else str(v) for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, columns: list[sa.ColumnElement[Any]]) -> list[Any]:
    """Turn a cursor back into typed sort-key values; a malformed one is a 422."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise ValueError("wrong length")
        return [
            _parse(value, column.type.python_type)
            for value, column in zip(raw, columns, strict=True)
        ]
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError):
        raise BusinessRuleViolation(
            "Invalid cursor.", details={"cursor": ["Invalid cursor."]}
        ) from None


def _parse(value: Any, kind: type) -> Any:
    """One cursor value back as the column's Python type; raises ValueError when malformed."""
    if not isinstance(value, str):
        raise ValueError("cursor values are strings")
    if kind is datetime:
        parsed = datetime.fromisoformat(value)
        if parsed.tzinfo is None:
            raise ValueError("naive datetime")
        return parsed.astimezone(UTC)  # may overflow near the ends of time: a bad cursor
    if kind is date:
        return date.fromisoformat(value)
    if kind is uuid.UUID:
        return uuid.UUID(value)
    if kind is int:
        number = int(value)
        if not -(2**63) <= number < 2**63:
            raise ValueError("out of range")
        return number
    return value
