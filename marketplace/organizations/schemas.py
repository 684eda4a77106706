"""Organization schemas."""

from __future__ import annotations

import marshmallow as ma

from marketplace.organizations.models import InvitationStatus, MemberRole, OrganizationKind
from marketplace.pagination import page_schema
from marketplace.profiles.models import ServiceModel
from marketplace.schemas import BaseSchema


class MemberSchema(BaseSchema):
    """A member of an organization."""

    user_id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(dump_only=True, attribute="user.name")
    email = ma.fields.String(dump_only=True, attribute="user.email")
    role = ma.fields.Enum(MemberRole, by_value=True, dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


class OrganizationSchema(BaseSchema):
    """A client company or provider firm; members read it in full."""

    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    kind = ma.fields.Enum(OrganizationKind, by_value=True, dump_only=True)
    service_model = ma.fields.Enum(
        ServiceModel,
        by_value=True,
        load_only=True,
        metadata={"description": "Provider firms only: bpo, ito or kpo (default bpo)."},
    )
    members = ma.fields.List(
        ma.fields.Nested(MemberSchema), dump_only=True, attribute="memberships"
    )
    invitations = ma.fields.List(
        ma.fields.Nested(lambda: InvitationSchema()),
        dump_only=True,
        attribute="pending_invitations",
    )
    created_at = ma.fields.DateTime(dump_only=True)


class InviteSchema(BaseSchema):
    """Invite someone by e-mail, as a manager or an agent."""

    email = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=254))
    role = ma.fields.String(
        load_default=MemberRole.AGENT.value,
        validate=ma.validate.OneOf([MemberRole.MANAGER.value, MemberRole.AGENT.value]),
    )


class AcceptInvitationSchema(BaseSchema):
    """The token from the invitation e-mail: proof the invitee reads that inbox."""

    token = ma.fields.String(required=True, validate=ma.validate.Length(min=10, max=200))


class InvitationSchema(BaseSchema):
    """An invitation to join an organization."""

    id = ma.fields.UUID(dump_only=True)
    organization_id = ma.fields.UUID(dump_only=True)
    organization_name = ma.fields.String(dump_only=True, attribute="organization.name")
    email = ma.fields.String(dump_only=True)
    role = ma.fields.Enum(MemberRole, by_value=True, dump_only=True)
    status = ma.fields.Enum(InvitationStatus, by_value=True, dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)


InvitationPageSchema = page_schema(InvitationSchema, "InvitationPage")
