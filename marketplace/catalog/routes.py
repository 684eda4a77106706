"""Skill taxonomy endpoints."""

from __future__ import annotations

from marketplace.api import Blueprint
from marketplace.catalog import services
from marketplace.catalog.schemas import SkillPageSchema, SkillQuerySchema
from marketplace.pagination import Page, paginate

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="The skill taxonomy")


@blp.get("/skills")
@blp.public
@blp.arguments(SkillQuerySchema, location="query", as_kwargs=True)
@blp.response(200, SkillPageSchema)
@blp.errors(422)
def list_skills(page: int, page_size: int | None, category: str | None = None) -> Page:
    """List the skills providers offer and tasks require (public)."""
    return paginate(services.skills_query(category=category), page=page, page_size=page_size)
