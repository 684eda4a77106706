"""Profile schemas: one provider schema with owner and public views."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.hours import WorkingHoursField
from marketplace.profiles.inputs import ClientProfileChanges, ProviderProfileChanges, SkillLevel
from marketplace.profiles.models import ServiceModel, VerificationStatus
from marketplace.schemas import (
    BaseSchema,
    CountryField,
    MoneySchema,
    TimezoneField,
    frozen_fields,
    require_some_field,
    validate_language,
)

OWNER_ONLY = ("payouts_enabled", "stripe_account_id", "user_id", "organization_id")


class ProviderSkillSchema(BaseSchema):
    """A skill a provider offers."""

    slug = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=64))
    name = ma.fields.String(dump_only=True)
    level = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 5))
    years = ma.fields.Integer(load_default=0, strict=True, validate=ma.validate.Range(0, 60))

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> SkillLevel:
        return SkillLevel(**data)


class ProviderProfileSchema(BaseSchema):
    """A provider profile as its owner sees it; the public view drops OWNER_ONLY."""

    id = ma.fields.UUID(dump_only=True)
    kind = ma.fields.String(dump_only=True, metadata={"enum": ["individual", "firm"]})
    display_name = ma.fields.String(dump_only=True)
    service_model = ma.fields.Enum(ServiceModel, by_value=True)
    headline = ma.fields.String(validate=ma.validate.Length(max=200))
    bio = ma.fields.String(validate=ma.validate.Length(max=10_000))
    hourly_rate = ma.fields.Nested(MoneySchema, allow_none=True)
    languages = ma.fields.List(
        ma.fields.String(validate=validate_language), validate=ma.validate.Length(max=20)
    )
    timezone = TimezoneField()
    country = CountryField(allow_none=True)
    working_hours = WorkingHoursField()
    capacity_hours_per_week = ma.fields.Integer(strict=True, validate=ma.validate.Range(0, 10_000))
    skills = ma.fields.List(
        ma.fields.Nested(ProviderSkillSchema), validate=ma.validate.Length(max=50)
    )
    verification_status = ma.fields.Enum(VerificationStatus, by_value=True, dump_only=True)
    payouts_enabled = ma.fields.Boolean(dump_only=True)
    stripe_account_id = ma.fields.String(dump_only=True, allow_none=True)
    user_id = ma.fields.UUID(dump_only=True, allow_none=True)
    organization_id = ma.fields.UUID(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)

    @ma.validates("languages")
    def _unique_languages(self, value: list[str], **_: object) -> None:
        if len(value) != len(set(value)):
            raise ma.ValidationError("A language is listed twice.")


class PublicProviderProfileSchema(ProviderProfileSchema):
    """What anyone may read about a provider: no payout account, no owner ids."""

    class Meta(ProviderProfileSchema.Meta):
        exclude = OWNER_ONLY


class ProviderProfileUpdateSchema(ProviderProfileSchema):
    """The fields of `PUT /providers/me`; omitted fields stay as they are."""

    @ma.pre_load
    def _not_empty(self, data: Any, **_: Any) -> Any:
        return require_some_field(data)

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> ProviderProfileChanges:
        return ProviderProfileChanges(**frozen_fields(data))


class ClientProfileSchema(BaseSchema):
    """A client profile (only its own users read it)."""

    id = ma.fields.UUID(dump_only=True)
    company_name = ma.fields.String(validate=ma.validate.Length(max=200))
    country = CountryField(allow_none=True)
    timezone = TimezoneField()
    working_hours = WorkingHoursField()
    organization_id = ma.fields.UUID(dump_only=True, allow_none=True)
    created_at = ma.fields.DateTime(dump_only=True)
    updated_at = ma.fields.DateTime(dump_only=True)


class ClientProfileUpdateSchema(ClientProfileSchema):
    """The fields of `PUT /clients/me`; omitted fields stay as they are."""

    @ma.pre_load
    def _not_empty(self, data: Any, **_: Any) -> Any:
        return require_some_field(data)

    @ma.post_load
    def _typed(self, data: dict[str, Any], **_: Any) -> ClientProfileChanges:
        return ClientProfileChanges(**data)


class OrganizationSummarySchema(BaseSchema):
    """The organization a party acts as: a provider firm or a client company."""

    id = ma.fields.UUID()
    name = ma.fields.String()


class PartySchema(BaseSchema):
    """One side of a bid, contract or dispute, as a screen names it."""

    profile_id = ma.fields.UUID(
        attribute="id", metadata={"description": "The client or provider profile."}
    )
    display_name = ma.fields.String(
        metadata={"description": "The organization's name, or the individual's."}
    )
    organization = ma.fields.Nested(
        OrganizationSummarySchema,
        allow_none=True,
        metadata={"description": "The firm or company the party is; null for an individual."},
    )


COUNTERPARTY = (
    "The other side for you: the provider when you are on the client's side, the client "
    "when you are on the provider's; null for admins."
)


class CounterpartyField(ma.fields.Nested):
    """The party on the other side from the signed-in user: `client` and `provider` name the
    object's attributes (dotted paths) holding the two sides' profiles.

    The objects that carry it (bids, contracts, milestones, disputes, invitations) are shown
    only to their two sides and to admins, so the user's role says which side they are on:
    deciding costs nothing, even after a commit has expired what the user carries."""

    def __init__(self, *, client: str, provider: str, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {"description": COUNTERPARTY})
        super().__init__(PartySchema, allow_none=True, **kwargs)
        self.sides = {Role.CLIENT: provider, Role.PROVIDER: client}

    def get_value(self, obj: Any, attr: str, accessor: Any = None, default: Any = None) -> Any:
        """The provider's profile for a client, the client's for a provider, None for admins."""
        user = current_user._get_current_object()
        other = self.sides.get(user.role) if user.is_authenticated else None
        return None if other is None else ma.utils.get_value(obj, other)
