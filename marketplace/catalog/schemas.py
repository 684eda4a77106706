"""Skill schemas."""

from __future__ import annotations

import functools
from typing import Any

import marshmallow as ma

from marketplace.catalog.services import CatalogSkill
from marketplace.pagination import PageArgsSchema
from marketplace.schemas import BaseSchema


class SkillSchema(BaseSchema):
    """A skill of the taxonomy."""

    id = ma.fields.UUID(dump_only=True)
    slug = ma.fields.String(dump_only=True, metadata={"example": "bookkeeping"})
    name = ma.fields.String(dump_only=True)
    category = ma.fields.String(dump_only=True)


@functools.lru_cache(maxsize=1024)
def _dumped(skill: CatalogSkill) -> dict[str, Any]:
    return SkillSchema().dump(skill)


class CatalogSkillsField(ma.fields.List):
    """Skills of the catalog, each dumped once per process (the catalog changes only with
    a release), so a page costs no schema work per skill."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(ma.fields.Nested(SkillSchema), **kwargs)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> Any:
        return [_dumped(skill) for skill in value]


class SkillQuerySchema(PageArgsSchema):
    """Filters of the skill list."""

    category = ma.fields.String(validate=ma.validate.Length(max=64))


class SkillPageSchema(BaseSchema):
    """A page of the skill catalog."""

    items = CatalogSkillsField(required=True)
    page = ma.fields.Integer(required=True)
    page_size = ma.fields.Integer(required=True)
    total = ma.fields.Integer(required=True)
