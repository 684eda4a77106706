"""Organization endpoints: companies and firms, invitations and members."""

from __future__ import annotations

import uuid
from typing import Any

from flask_login import current_user, login_required

from marketplace.api import Blueprint
from marketplace.extensions import per_user_limit
from marketplace.flows import parties
from marketplace.organizations import services
from marketplace.organizations.models import Invitation, Membership, Organization
from marketplace.organizations.schemas import (
    AcceptInvitationSchema,
    InvitationPageSchema,
    InvitationSchema,
    InviteSchema,
    MemberSchema,
    OrganizationSchema,
)
from marketplace.pagination import Page, PageArgsSchema, paginate

blp = Blueprint(
    "organizations",
    __name__,
    url_prefix="/api/v1/organizations",
    description="Client companies and provider firms",
)


@blp.post("")
@login_required
@blp.arguments(OrganizationSchema)
@blp.response(201, OrganizationSchema)
@blp.errors(400, 401, 403, 409, 422)
def create_organization(data: dict[str, Any]) -> Organization:
    """Create your company (as a client) or firm (as a provider); you become its owner."""
    return parties.create_organization(user=current_user, **data)


@blp.get("/<uuid:organization_id>")
@login_required
@blp.response(200, OrganizationSchema)
@blp.errors(401, 404)
def get_organization(organization_id: uuid.UUID) -> Organization:
    """An organization you belong to, with its members and pending invitations."""
    return services.get_organization(user=current_user, organization_id=organization_id)


@blp.post("/<uuid:organization_id>/members")
@login_required
@per_user_limit("MEMBER_INVITATION_RATE_LIMIT")
@blp.arguments(InviteSchema)
@blp.response(201, InvitationSchema)
@blp.errors(400, 401, 403, 404, 422, 429)
def invite_member(data: dict[str, Any], organization_id: uuid.UUID) -> Invitation:
    """Invite someone by e-mail as a manager or agent (owner only); they join by accepting."""
    invitation, _token = services.invite_member(
        actor=current_user, organization_id=organization_id, **data
    )  # the token goes to the invitee's inbox only
    return invitation


@blp.delete("/<uuid:organization_id>/members/<uuid:user_id>")
@login_required
@blp.response(204)
@blp.errors(400, 401, 403, 404, 409)
def remove_member(organization_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """Remove a manager or agent (owner), or leave (any member but the owner)."""
    services.remove_member(actor=current_user, organization_id=organization_id, user_id=user_id)


@blp.get("/invitations")
@login_required
@blp.arguments(PageArgsSchema, location="query", as_kwargs=True)
@blp.response(200, InvitationPageSchema)
@blp.errors(401, 422)
def my_invitations(page: int, page_size: int | None) -> Page:
    """Invitations to organizations waiting for your answer."""
    return paginate(services.my_invitations(user=current_user), page=page, page_size=page_size)


@blp.post("/invitations/<uuid:invitation_id>/accept")
@login_required
@blp.arguments(AcceptInvitationSchema)
@blp.response(200, MemberSchema)
@blp.errors(400, 401, 403, 404, 409, 422)
def accept_invitation(data: dict[str, Any], invitation_id: uuid.UUID) -> Membership:
    """Join the organization that invited you, with the token from the invitation e-mail."""
    return parties.accept_invitation(user=current_user, invitation_id=invitation_id, **data)


@blp.post("/invitations/<uuid:invitation_id>/decline")
@login_required
@blp.response(200, InvitationSchema)
@blp.errors(400, 401, 404)
def decline_invitation(invitation_id: uuid.UUID) -> Invitation:
    """Turn an invitation down."""
    return services.decline_invitation(user=current_user, invitation_id=invitation_id)


@blp.delete("/<uuid:organization_id>/invitations/<uuid:invitation_id>")
@login_required
@blp.response(200, InvitationSchema)
@blp.errors(400, 401, 403, 404)
def revoke_invitation(organization_id: uuid.UUID, invitation_id: uuid.UUID) -> Invitation:
    """Withdraw an invitation that is not answered yet (owner)."""
    return services.revoke_invitation(
        actor=current_user, organization_id=organization_id, invitation_id=invitation_id
    )
