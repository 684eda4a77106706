"""What the profile services take: changes to a provider's or a client's profile
(conventions in marketplace.inputs)."""

from __future__ import annotations

from dataclasses import dataclass

from marketplace.hours import WorkingHours
from marketplace.inputs import UNSET, Money, Unset
from marketplace.profiles.models import ServiceModel


@dataclass(frozen=True)
class SkillLevel:
    """A skill a provider offers (a catalog slug), at a level 1-5, with years of practice."""

    slug: str
    level: int
    years: int = 0


@dataclass(frozen=True, kw_only=True)
class ProviderProfileChanges:
    """New values for a provider profile; UNSET fields stay, `skills` replaces the list."""

    service_model: ServiceModel | Unset = UNSET
    headline: str | Unset = UNSET
    bio: str | Unset = UNSET
    hourly_rate: Money | Unset | None = UNSET
    languages: tuple[str, ...] | Unset = UNSET
    timezone: str | Unset = UNSET
    country: str | Unset | None = UNSET
    working_hours: WorkingHours | Unset = UNSET
    capacity_hours_per_week: int | Unset = UNSET
    skills: tuple[SkillLevel, ...] | Unset = UNSET


@dataclass(frozen=True, kw_only=True)
class ClientProfileChanges:
    """New values for a client profile; UNSET fields stay."""

    company_name: str | Unset = UNSET
    country: str | Unset | None = UNSET
    timezone: str | Unset = UNSET
    working_hours: WorkingHours | Unset = UNSET
