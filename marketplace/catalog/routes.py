"""Skill taxonomy endpoints."""

from __future__ import annotations

from typing import Any

from flask import Response, request

from marketplace.api import Blueprint
from marketplace.catalog import services
from marketplace.catalog.schemas import SkillPageSchema, SkillQuerySchema

blp = Blueprint("catalog", __name__, url_prefix="/api/v1", description="The skill taxonomy")

#: How long browsers and shared caches may reuse a page of the catalog before asking again
#: (with its ETag: an unchanged catalog is a 304). A new taxonomy comes only with a release.
CACHE_SECONDS = 600


@blp.get("/skills")
@blp.public
@blp.arguments(SkillQuerySchema, location="query", as_kwargs=True)
@blp.response(200, SkillPageSchema)
@blp.alt_response(304, description="Not modified: the catalog is the one your ETag names.")
@blp.errors(422)
def list_skills(page: int, page_size: int | None, category: str | None = None) -> Any:
    """List the skills providers offer and tasks require (public).

    Answers carry an ETag naming the catalog's version and may be cached for ten minutes;
    sent back in `If-None-Match`, an unchanged catalog's ETag gets a 304."""
    version = services.catalog().version
    headers = {"ETag": f'"{version}"', "Cache-Control": f"public, max-age={CACHE_SECONDS}"}
    if request.if_none_match.contains(version):
        return Response(status=304, headers=headers)
    return services.skill_page(category=category, page=page, page_size=page_size), 200, headers
