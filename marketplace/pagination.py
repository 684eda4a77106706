"""Page-number pagination with the total in the body: `{items, page, page_size, total}`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import marshmallow as ma
from flask import current_app
from sqlalchemy import Select

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


def paginate(stmt: Select[Any], *, page: int = 1, page_size: int | None = None) -> Page:
    """Run `stmt` (which must have a stable, unique ORDER BY) for one page."""
    size = min(
        page_size or current_app.config["PAGE_SIZE_DEFAULT"], current_app.config["PAGE_SIZE_MAX"]
    )
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
