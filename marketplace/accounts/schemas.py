"""Account schemas."""

from __future__ import annotations

import marshmallow as ma

from marketplace.accounts.models import Role, UserStatus
from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.schemas import BaseSchema, CountryField, TimezoneField


class SignupSchema(BaseSchema):
    """A new client or provider account."""

    email = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=3, max=254),
        metadata={"example": "ana@example.com"},
    )
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(max=1024)
    )
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=120))
    # A plain string, so the spec lists only the roles one can sign up as (not admin).
    role = ma.fields.String(
        required=True, validate=ma.validate.OneOf([Role.CLIENT.value, Role.PROVIDER.value])
    )
    timezone = TimezoneField(load_default="UTC")
    country = CountryField(load_default=None, allow_none=True)


class SignupAcceptedSchema(BaseSchema):
    """The one answer to a sign-up, whether the address was new or already had an account."""

    message = ma.fields.String(required=True)


class LoginSchema(BaseSchema):
    """E-mail and password; `remember` keeps the session beyond the browser's."""

    email = ma.fields.String(required=True, validate=ma.validate.Length(max=254))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(max=1024)
    )
    remember = ma.fields.Boolean(load_default=False)


class MembershipSummarySchema(BaseSchema):
    """The organization a user acts for."""

    organization_id = ma.fields.UUID()
    name = ma.fields.String(attribute="organization.name")
    kind = ma.fields.String(attribute="organization.kind")
    role = ma.fields.String()


class UserSchema(BaseSchema):
    """A user as they (or an admin) see themselves."""

    id = ma.fields.UUID(dump_only=True)
    email = ma.fields.String(dump_only=True)
    name = ma.fields.String(dump_only=True)
    role = ma.fields.Enum(Role, by_value=True, dump_only=True)
    status = ma.fields.Enum(UserStatus, by_value=True, dump_only=True)
    timezone = ma.fields.String(dump_only=True)
    country = ma.fields.String(dump_only=True, allow_none=True)
    membership = ma.fields.Nested(MembershipSummarySchema, dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)


class AdminUserSchema(UserSchema):
    """A user as the admin panel sees them."""

    suspension_reason = ma.fields.String(dump_only=True, allow_none=True)
    suspended_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    last_login_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class CsrfSchema(BaseSchema):
    """The CSRF token to send as `X-CSRFToken` on unsafe requests of a cookie session."""

    csrf_token = ma.fields.String(required=True)


class TokenCreateSchema(BaseSchema):
    """A new personal API token."""

    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=100))
    expires_in_days = ma.fields.Integer(
        load_default=None, allow_none=True, strict=True, validate=ma.validate.Range(1, 3650)
    )


class TokenSchema(BaseSchema):
    """A personal API token (its value is never shown again)."""

    id = ma.fields.UUID(dump_only=True)
    name = ma.fields.String(dump_only=True)
    prefix = ma.fields.String(dump_only=True)
    created_at = ma.fields.DateTime(dump_only=True)
    expires_at = ma.fields.DateTime(dump_only=True, allow_none=True)
    last_used_at = ma.fields.DateTime(dump_only=True, allow_none=True)


class NewTokenSchema(TokenSchema):
    """A token just created: `token` is shown this once."""

    token = ma.fields.String(dump_only=True)


class SuspendSchema(BaseSchema):
    """Why a user is suspended."""

    reason = ma.fields.String(required=True, validate=ma.validate.Length(min=3, max=2000))


class UserQuerySchema(PageArgsSchema):
    """Filters of the admin user list."""

    status = ma.fields.Enum(UserStatus, by_value=True)
    role = ma.fields.Enum(Role, by_value=True)


TokenPageSchema = page_schema(TokenSchema, "TokenPage")
AdminUserPageSchema = page_schema(AdminUserSchema, "AdminUserPage")
