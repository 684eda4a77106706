"""Profile schemas: one provider schema with owner and public views."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

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
