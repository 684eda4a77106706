"""Account schemas."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from marketplace.accounts.inputs import AccountChanges
from marketplace.accounts.models import Role, UserStatus
from marketplace.jobs import emails
from marketplace.pagination import PageArgsSchema, page_schema
from marketplace.schemas import (
    BaseSchema,
    CountryField,
    TimezoneField,
    frozen_fields,
    require_some_field,
)


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


class NoticeSchema(BaseSchema):
    """What happened, in a sentence for people."""

    message = ma.fields.String(required=True)


class LinkTokenSchema(BaseSchema):
    """The token of a link we e-mailed (after `#token=` in the link)."""

    token = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=1024))


class PasswordResetRequestSchema(BaseSchema):
    """The address of the account whose password was forgotten."""

    email = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=3, max=254),
        metadata={"example": "ana@example.com"},
    )


class PasswordResetSchema(LinkTokenSchema):
    """The token of the reset e-mail and the new password (the sign-up rules apply)."""

    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(max=1024)
    )


class PasswordChangeSchema(BaseSchema):
    """The current password, to prove it is you, and the new one (the sign-up rules apply)."""

    current_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(max=1024)
    )
    new_password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(max=1024)
    )


class LoginSchema(BaseSchema):
    """E-mail and password; `remember` keeps the session beyond the browser's. An account
    with two-factor sign-in also needs `code` (or `recovery_code`): without it the answer is
    a 401 `two_factor_required`, so the frontend asks for the code and sends all again."""

    email = ma.fields.String(required=True, validate=ma.validate.Length(max=254))
    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(max=1024)
    )
    remember = ma.fields.Boolean(load_default=False)
    code = ma.fields.String(
        load_default=None,
        load_only=True,
        validate=ma.validate.Length(max=16),
        metadata={"description": "The 6-digit code of the authenticator app", "example": "123456"},
    )
    recovery_code = ma.fields.String(
        load_default=None,
        load_only=True,
        validate=ma.validate.Length(max=64),
        metadata={"description": "One of the ten recovery codes (each works once)"},
    )

    @ma.validates_schema
    def _one_factor(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("code") and data.get("recovery_code"):
            raise ma.ValidationError("Send a code or a recovery code, not both.", "recovery_code")


class TwoFactorSetupSchema(BaseSchema):
    """A new secret to add to an authenticator app; two-factor sign-in is not on until a
    code from it is confirmed (POST /auth/2fa/enable)."""

    secret = ma.fields.String(
        required=True, metadata={"description": "Base32, for typing into the app by hand"}
    )
    otpauth_uri = ma.fields.String(
        required=True,
        metadata={
            "description": "The `otpauth://totp/...` URI to show as a QR code",
            "example": "otpauth://totp/Marketplace:ana%40example.com?secret=...&issuer=Marketplace",
        },
    )


class TwoFactorSetupRequestSchema(BaseSchema):
    """The account's password, asked again: a borrowed session alone cannot tie the account
    to someone else's authenticator."""

    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(max=1024)
    )


class TwoFactorCodeSchema(BaseSchema):
    """A code from the authenticator app."""

    code = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=16), metadata={"example": "123456"}
    )


class TwoFactorEnabledSchema(BaseSchema):
    """Two-factor sign-in is on; the recovery codes are shown this once."""

    enabled_at = ma.fields.DateTime(required=True)
    recovery_codes = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={
            "description": "Ten one-time codes that stand in for the app (keep them safe)",
            "example": ["k7qm-3xpa-wd9e"],
        },
    )


class TwoFactorDisableSchema(BaseSchema):
    """The password and a code (or a recovery code), to turn two-factor sign-in off."""

    password = ma.fields.String(
        required=True, load_only=True, validate=ma.validate.Length(max=1024)
    )
    code = ma.fields.String(load_default=None, validate=ma.validate.Length(max=16))
    recovery_code = ma.fields.String(load_default=None, validate=ma.validate.Length(max=64))

    @ma.validates_schema
    def _one_factor(self, data: dict[str, Any], **_: Any) -> None:
        if bool(data.get("code")) == bool(data.get("recovery_code")):
            raise ma.ValidationError("Send a code or a recovery code (one of them).", "code")


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
    email_verified_at = ma.fields.DateTime(
        dump_only=True,
        allow_none=True,
        metadata={
            "description": "When the address was confirmed; null: not yet (publishing, "
            "bidding, contracts, funding and payouts answer 403 `email_unverified`)."
        },
    )
    created_at = ma.fields.DateTime(dump_only=True)
    two_factor_enabled = ma.fields.Boolean(dump_only=True)
    two_factor_setup_required = ma.fields.Boolean(
        dump_only=True,
        metadata={"description": "An admin who must set up two-factor sign-in before anything"},
    )


class EmailKindSchema(BaseSchema):
    """A kind of notification and whether the user gets it by e-mail."""

    kind = ma.fields.String(required=True, metadata={"example": "bid.new"})
    description = ma.fields.String(required=True)
    can_turn_off = ma.fields.Boolean(
        required=True,
        metadata={"description": "false: money, security or an invitation to answer, always sent"},
    )
    emailed = ma.fields.Boolean(required=True)


class _EmailKinds(ma.fields.List):
    """The notification kinds with the user's choice for each (computed, not a column)."""

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        return [
            {
                "kind": name,
                "description": kind.description,
                "can_turn_off": emails.can_turn_off(name),
                "emailed": emails.emailed(name, obj.email_opt_out),
            }
            for name, kind in emails.KINDS.items()
        ]


class MeSchema(UserSchema):
    """The signed-in user, with their e-mail preferences."""

    email_opt_out = ma.fields.List(
        ma.fields.String(),
        dump_only=True,
        metadata={"description": "Notification kinds not e-mailed (still shown in the app)."},
    )
    email_kinds = _EmailKinds(
        ma.fields.Nested(EmailKindSchema),
        dump_only=True,
        metadata={
            "description": "Every notification kind, whether it is e-mailed to you and "
            "whether it can be turned off."
        },
    )


class AccountChangesSchema(BaseSchema):
    """Changes to your own account; fields left out stay."""

    name = ma.fields.String(validate=ma.validate.Length(min=1, max=120))
    timezone = TimezoneField()
    email_opt_out = ma.fields.List(
        ma.fields.String(validate=ma.validate.Length(max=50)),
        validate=ma.validate.Length(max=100),
        metadata={
            "description": "The notification kinds (from `email_kinds`) not to e-mail; replaces "
            "the list. Kinds that cannot be turned off are refused."
        },
    )

    @ma.pre_load
    def _not_empty(self, data: Any, **_: Any) -> Any:
        return require_some_field(data)

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> AccountChanges:
        return AccountChanges(**frozen_fields(data))


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
