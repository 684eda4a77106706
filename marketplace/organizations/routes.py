"""Organization endpoints."""

from __future__ import annotations

import uuid
from typing import Any

from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.organizations import services
from marketplace.organizations.models import Membership, Organization
from marketplace.organizations.schemas import AddMemberSchema, MemberSchema, OrganizationSchema

blp = Blueprint(
    "organizations",
    __name__,
    url_prefix="/api/v1",
    description="Client companies and provider firms",
)


@blp.post("/organizations")
@login_required
@blp.arguments(OrganizationSchema)
@blp.response(201, OrganizationSchema)
@blp.errors(400, 401, 403, 409, 422)
def create_organization(data: dict[str, Any]) -> Organization:
    """Create your company (as a client) or firm (as a provider); you become its owner."""
    return services.create_organization(user=current_user, **data)


@blp.get("/organizations/<uuid:organization_id>")
@login_required
@blp.response(200, OrganizationSchema)
@blp.errors(401, 404)
def get_organization(organization_id: uuid.UUID) -> Organization:
    """An organization you belong to, with its members."""
    return services.get_organization(user=current_user, organization_id=organization_id)


@blp.post("/organizations/<uuid:organization_id>/members")
@login_required
@blp.arguments(AddMemberSchema)
@blp.response(201, MemberSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def add_member(data: dict[str, Any], organization_id: uuid.UUID) -> Membership:
    """Add an existing user as a manager or agent (owner only)."""
    return services.add_member(actor=current_user, organization_id=organization_id, **data)


@blp.delete("/organizations/<uuid:organization_id>/members/<uuid:user_id>")
@login_required
@blp.response(204)
@blp.errors(400, 401, 403, 404, 409)
def remove_member(organization_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Remove a manager or agent (owner only)."""
    services.remove_member(actor=current_user, organization_id=organization_id, user_id=user_id)
