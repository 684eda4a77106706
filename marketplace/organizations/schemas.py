"""Organization schemas."""

from __future__ import annotations

import marshmallow as ma

from marketplace.organizations.models import MemberRole, OrganizationKind
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
    created_at = ma.fields.DateTime(dump_only=True)


class AddMemberSchema(BaseSchema):
    """Add an existing user by e-mail."""

    email = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=254))
    role = ma.fields.Enum(MemberRole, by_value=True, load_default=MemberRole.AGENT)
