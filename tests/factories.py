"""factory-boy factories bound to the app's session; rows are committed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Generic, TypeVar

import factory
import pyotp
import sqlalchemy as sa
from argon2 import PasswordHasher
from factory.alchemy import SQLAlchemyModelFactory

from marketplace.accounts.models import Role, User
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.organizations.models import MemberRole, Membership, Organization, OrganizationKind
from marketplace.profiles.models import ClientProfile, ProviderProfile, ServiceModel
from marketplace.tasks import terms
from marketplace.tasks.inputs import Attachment, Budget, OverlapNeed, RequiredSkill, TaskDraft
from marketplace.tasks.models import BudgetType, Confidentiality

PASSWORD = "correct horse battery staple"
PASSWORD_HASH = PasswordHasher().hash(PASSWORD)


class BaseFactory(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "commit"


class UserFactory(BaseFactory):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Faker("name")
    password_hash = PASSWORD_HASH
    role = Role.CLIENT
    timezone = "America/New_York"
    country = "US"
    # Verified, as every account that commits to work is; `unverified=True` for one that
    # has not opened its verification link yet.
    email_verified_at = factory.LazyFunction(utcnow)

    class Params:
        unverified = factory.Trait(email_verified_at=None)


class ClientProfileFactory(BaseFactory):
    class Meta:
        model = ClientProfile

    company_name = factory.Faker("company")
    # An established client by default (publishes straight to open); tests of the
    # new-client review set a recent date.
    created_at = factory.LazyFunction(lambda: utcnow() - timedelta(days=60))
    country = factory.SelfAttribute("user.country")
    timezone = factory.SelfAttribute("user.timezone")
    working_hours = factory.LazyFunction(
        lambda: {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    )


class ProviderProfileFactory(BaseFactory):
    class Meta:
        model = ProviderProfile

    service_model = ServiceModel.VA
    headline = "Reliable virtual assistant"
    bio = "Five years of admin support for small businesses."
    hourly_rate_amount = 1500
    hourly_rate_currency = "usd"
    languages = factory.LazyFunction(lambda: ["en"])
    country = factory.SelfAttribute("user.country")
    timezone = factory.SelfAttribute("user.timezone")
    working_hours = factory.LazyFunction(
        lambda: {day: [["08:00", "16:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
    )
    capacity_hours_per_week = 40


class ClientFactory(UserFactory):
    """A client with a personal client profile."""

    role = Role.CLIENT
    profile = factory.RelatedFactory(ClientProfileFactory, factory_related_name="user")


class ProviderFactory(UserFactory):
    """A VA with a personal provider profile."""

    role = Role.PROVIDER
    timezone = "Asia/Manila"
    country = "PH"
    profile = factory.RelatedFactory(ProviderProfileFactory, factory_related_name="user")


class AdminFactory(UserFactory):
    """An admin who uses two-factor sign-in, as admins must (`without_two_factor=True`: one
    who has not set it up, and may only do so)."""

    role = Role.ADMIN
    timezone = "UTC"
    country = None
    totp_secret = factory.LazyFunction(pyotp.random_base32)
    two_factor_enabled_at = factory.LazyFunction(utcnow)

    class Params:
        without_two_factor = factory.Trait(totp_secret=None, two_factor_enabled_at=None)


def sign_in_code(person: Any) -> str | None:
    """The current code of a user with two-factor sign-in (None without it), for tests that
    sign in as them (a User, or anything with their `email`). The code last used is
    forgotten first, so a test may sign the same user in from several clients within one
    30-second step (replays are tested apart)."""
    user = db.session.scalar(
        sa.select(User).where(User.email == person.email).execution_options(populate_existing=True)
    )
    if user is None or not user.two_factor_enabled or user.totp_secret is None:
        return None
    db.session.execute(sa.update(User).where(User.id == user.id).values(totp_last_step=None))
    db.session.commit()
    return pyotp.TOTP(user.totp_secret).now()


class OrganizationFactory(BaseFactory):
    class Meta:
        model = Organization

    name = factory.Faker("company")
    kind = OrganizationKind.PROVIDER


class MembershipFactory(BaseFactory):
    class Meta:
        model = Membership

    organization = factory.SubFactory(OrganizationFactory)
    user = factory.SubFactory(ProviderFactory)
    role = MemberRole.AGENT


class FirmProfileFactory(ProviderProfileFactory):
    """A provider firm's profile, with its new organization; in Manila unless told."""

    organization = factory.SubFactory(OrganizationFactory, kind=OrganizationKind.PROVIDER)
    user = None
    service_model = ServiceModel.BPO
    country = "PH"
    timezone = "Asia/Manila"


class CompanyProfileFactory(ClientProfileFactory):
    """A client company's profile, with its new organization; in New York unless told."""

    organization = factory.SubFactory(OrganizationFactory, kind=OrganizationKind.CLIENT)
    user = None
    company_name = factory.SelfAttribute("organization.name")
    country = "US"
    timezone = "America/New_York"


ProfileT = TypeVar("ProfileT", ProviderProfile, ClientProfile)


@dataclass
class Team(Generic[ProfileT]):
    """An organization, its profile, and the members asked for (None for the others)."""

    organization: Organization
    profile: ProfileT
    owner: User | None
    manager: User | None
    agent: User | None


def make_firm(
    *,
    name: str | None = None,
    owner: bool = False,
    manager: bool = False,
    agent: bool = False,
    **profile: Any,
) -> Team[ProviderProfile]:
    """A provider firm (profile fields as given), with a new provider per role asked for."""
    if name is not None:
        profile["organization__name"] = name
    return _team(
        FirmProfileFactory(**profile), ProviderFactory, owner=owner, manager=manager, agent=agent
    )


def make_company(
    *,
    name: str | None = None,
    owner: bool = False,
    manager: bool = False,
    agent: bool = False,
    **profile: Any,
) -> Team[ClientProfile]:
    """A client company (profile fields as given), with a new client per role asked for."""
    if name is not None:
        profile["organization__name"] = name
    return _team(
        CompanyProfileFactory(**profile), ClientFactory, owner=owner, manager=manager, agent=agent
    )


def _team(
    profile: ProfileT, user_factory: Any, *, owner: bool, manager: bool, agent: bool
) -> Team[ProfileT]:
    """`profile`'s organization, with a member made by `user_factory` per role asked for."""
    organization = profile.organization
    assert organization is not None

    def member(wanted: bool, role: MemberRole) -> User | None:
        if not wanted:
            return None
        return MembershipFactory(organization=organization, user=user_factory(), role=role).user

    return Team(
        organization=organization,
        profile=profile,
        owner=member(owner, MemberRole.OWNER),
        manager=member(manager, MemberRole.MANAGER),
        agent=member(agent, MemberRole.AGENT),
    )


def task_payload(**overrides: Any) -> dict[str, Any]:
    """A valid `POST /tasks` body; keyword arguments replace fields."""
    payload: dict[str, Any] = {
        "title": "Tier-one support tickets for a Shopify store",
        "summary": "Answer order-status and returns tickets in Gorgias, 200 a week.",
        "confidential_details": "Macros live in the shared drive; refunds over $50 escalate.",
        "confidentiality": "terms_required",
        "service_model": "bpo",
        "tier": 3,
        "skills": [{"slug": "customer-support-tier1", "min_level": 3}],
        "budget": {"type": "hourly", "min": 800, "max": 1500, "currency": "usd"},
        "start_date": (date.today() + timedelta(days=7)).isoformat(),
        "deadline": (date.today() + timedelta(days=90)).isoformat(),
        "timezone_need": {"mode": "overlap", "hours": 3},
        "shoring": "any",
        "languages": ["en"],
        "positions": 2,
        "trial": False,
        "attachments": [
            {
                "name": "sop.pdf",
                "size": 120_000,
                "content_type": "application/pdf",
                "sha256": "a" * 64,
            }
        ],
    }
    payload.update(overrides)
    return payload


def task_draft(**overrides: Any) -> TaskDraft:
    """The task of `task_payload` as a service takes it; keyword arguments replace fields."""
    fields: dict[str, Any] = {
        "title": "Tier-one support tickets for a Shopify store",
        "summary": "Answer order-status and returns tickets in Gorgias, 200 a week.",
        "confidential_details": "Macros live in the shared drive; refunds over $50 escalate.",
        "confidentiality": Confidentiality.TERMS_REQUIRED,
        "service_model": ServiceModel.BPO,
        "tier": 3,
        "skills": (RequiredSkill("customer-support-tier1", 3),),
        "budget": Budget(BudgetType.HOURLY, 800, 1500, "usd"),
        "start_date": date.today() + timedelta(days=7),
        "deadline": date.today() + timedelta(days=90),
        "timezone_need": OverlapNeed(3),
        "languages": ("en",),
        "positions": 2,
        "attachments": (
            Attachment(
                name="sop.pdf", size=120_000, content_type="application/pdf", sha256="a" * 64
            ),
        ),
    }
    return TaskDraft(**{**fields, **overrides})


def terms_acceptance(**extra: Any) -> dict[str, Any]:
    """A `POST /tasks/{id}/confidentiality` body: the hash of the terms as they read now."""
    return {"terms_hash": terms.terms_hash(), **extra}
