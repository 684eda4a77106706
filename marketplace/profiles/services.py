"""Profile rules: who owns which profile, who may edit it, and what the public sees."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.orm import joinedload
from sqlalchemy.orm.strategy_options import _AbstractLoad

from marketplace import permissions
from marketplace.accounts.models import Role, User, UserStatus
from marketplace.catalog import services as catalog
from marketplace.errors import BusinessRuleViolation, NotFound
from marketplace.extensions import db
from marketplace.inputs import UNSET, given_values
from marketplace.organizations import services as organizations
from marketplace.organizations.models import Organization, OrganizationKind
from marketplace.profiles.inputs import ClientProfileChanges, ProviderProfileChanges, SkillLevel
from marketplace.profiles.models import ClientProfile, ProviderProfile, ProviderSkill, ServiceModel


def create_personal_profile(*, user: User) -> ProviderProfile | ClientProfile:
    """The profile a new client or provider starts with, in their own zone and country."""
    profile: ProviderProfile | ClientProfile
    if user.role == Role.PROVIDER:
        profile = ProviderProfile(
            user=user, service_model=ServiceModel.VA, timezone=user.timezone, country=user.country
        )
    else:
        profile = ClientProfile(user=user, timezone=user.timezone, country=user.country)
    db.session.add(profile)
    return profile


def create_organization_profile(
    *, organization: Organization, owner: User, service_model: str | None
) -> ProviderProfile | ClientProfile:
    """A new firm's provider profile, or a new company's client profile."""
    profile: ProviderProfile | ClientProfile
    if organization.kind == OrganizationKind.PROVIDER:
        model = ServiceModel(service_model or ServiceModel.BPO)
        profile = ProviderProfile(
            organization=organization,
            service_model=model,
            timezone=owner.timezone,
            country=owner.country,
        )
    else:
        profile = ClientProfile(
            organization=organization,
            company_name=organization.name,
            timezone=owner.timezone,
            country=owner.country,
        )
    db.session.add(profile)
    return profile


def _editable(user: User, model: type[Any], role: Role) -> Any:
    profile, _ = permissions.acting_profile(user, model, role)
    permissions.require_commits(user, "Only the organization's owner or managers edit its profile.")
    return profile


def update_provider_profile(*, user: User, changes: ProviderProfileChanges) -> ProviderProfile:
    """Apply the given fields; `skills`, when given, replaces the whole list."""
    profile: ProviderProfile = _editable(user, ProviderProfile, Role.PROVIDER)
    model = changes.service_model
    if profile.kind == "individual" and model is not UNSET and model != ServiceModel.VA:
        raise BusinessRuleViolation(
            "An individual provider is a virtual assistant; firms offer BPO, ITO or KPO.",
            details={"service_model": ["Create a firm to offer bpo, ito or kpo."]},
        )
    for name, value in given_values(changes).items():
        if name not in ("hourly_rate", "languages", "skills"):
            setattr(profile, name, value)
    if changes.hourly_rate is not UNSET:
        rate = changes.hourly_rate
        profile.hourly_rate_amount = rate.amount if rate else None
        profile.hourly_rate_currency = rate.currency if rate else None
    if changes.languages is not UNSET:
        profile.languages = list(changes.languages)
    if changes.skills is not UNSET:
        _replace_skills(profile, changes.skills)
    db.session.commit()
    return profile


def _replace_skills(profile: ProviderProfile, skills: tuple[SkillLevel, ...]) -> None:
    resolved = catalog.resolve_skill_list(skills)
    profile.skills.clear()
    db.session.flush()
    for skill, item in resolved:
        profile.skills.append(ProviderSkill(skill=skill, level=item.level, years=item.years))


def update_client_profile(*, user: User, changes: ClientProfileChanges) -> ClientProfile:
    """Apply the given fields to the client profile the user acts for."""
    profile: ClientProfile = _editable(user, ClientProfile, Role.CLIENT)
    for name, value in given_values(changes).items():
        setattr(profile, name, value)
    db.session.commit()
    return profile


def public_provider_profile(profile_id: uuid.UUID) -> ProviderProfile:
    """A provider profile anyone may read.

    Hidden: suspended individuals, and the personal profile of someone who now
    acts for a firm (it comes back if they leave the firm).
    """
    profile = db.session.get(ProviderProfile, profile_id)
    user = profile.user if profile is not None else None
    if profile is None or (
        user is not None
        and (user.status != UserStatus.ACTIVE or organizations.membership_of(user) is not None)
    ):
        raise NotFound("Provider not found.")
    return profile


def party_options(
    model: type[ClientProfile] | type[ProviderProfile],
) -> tuple[_AbstractLoad, ...]:
    """What a party summary (`profiles.schemas.PartySchema`) reads of a profile besides its
    row, to load with it: its individual and its organization (for the names)."""
    return joinedload(model.user), joinedload(model.organization)


def _own(model: type[Any], user: User) -> Any:
    return db.session.scalar(db.select(model).where(model.user_id == user.id))
