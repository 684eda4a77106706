"""Skill schemas."""

from __future__ import annotations

import marshmallow as ma

from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.schemas import BaseSchema


class SkillSchema(BaseSchema):
    """A skill of the taxonomy."""

    id = ma.fields.UUID(dump_only=True)
    slug = ma.fields.String(dump_only=True, metadata={"example": "bookkeeping"})
    name = ma.fields.String(dump_only=True)
    category = ma.fields.String(dump_only=True)


class SkillQuerySchema(PageArgsSchema):
    """Filters of the skill list."""

    category = ma.fields.String(validate=ma.validate.Length(max=64))


SkillPageSchema = page_schema(SkillSchema, "SkillPage")
