"""Who acts and signs for whom.

A user acts for one client or provider profile: their organization's when they are a member
of one, else their own. Inside an organization the owner and managers commit it (edit its
profile, award, accept terms, move money); agents read and write messages but never commit.
Every area asks these questions here, so the rule is written once; the SQL form that
matching reads in the same query as the task is tested equal to the plain one.
"""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.base import instance_state
from sqlalchemy.orm.interfaces import ORMOption
from sqlalchemy.orm.strategy_options import _AbstractLoad

from marketplace.accounts.models import Role, User
from marketplace.errors import Forbidden, NotFound
from marketplace.extensions import db
from marketplace.organizations.models import MemberRole, Membership, Organization
from marketplace.organizations.services import membership_of
from marketplace.profiles.models import ClientProfile, ProviderProfile

#: The members who commit their organization; agents act for it without committing it.
COMMITTERS = (MemberRole.OWNER, MemberRole.MANAGER)

AnyProfile = TypeVar("AnyProfile", ClientProfile, ProviderProfile)


def acting_profile(
    user: User, model: type[AnyProfile], role: Role, *options: ORMOption
) -> tuple[AnyProfile, MemberRole | None]:
    """The profile the user acts for (their organization's, else their own), loaded with
    `options`, and their role in that organization (None for an individual); Forbidden for
    another kind of account."""
    if user.role != role:
        raise Forbidden(f"Only {role.value} accounts have a {role.value} profile.")
    membership = membership_of(user)
    if membership is not None:
        owner_filter = model.organization_id == membership.organization_id
    else:
        owner_filter = model.user_id == user.id
    profile = db.session.scalar(sa.select(model).where(owner_filter).options(*options))
    if profile is None:
        raise NotFound("Profile not found.")
    return profile, membership.role if membership else None


def acting_client_profile(user: User, *options: ORMOption) -> ClientProfile:
    """The client profile `user` acts for: their company's, or their own."""
    return acting_profile(user, ClientProfile, Role.CLIENT, *options)[0]


def acting_provider_profile(user: User, *options: ORMOption) -> ProviderProfile:
    """The provider profile `user` acts for: their firm's, or their own as a VA."""
    return acting_profile(user, ProviderProfile, Role.PROVIDER, *options)[0]


def speaks_for(user: User, profile: ClientProfile | ProviderProfile) -> bool:
    """Whether the user acts for that profile: its individual, or a member of its
    organization. Decided from the profile's owner and the user's membership (which the
    signed-in user carries), so it costs no statement."""
    role = Role.CLIENT if isinstance(profile, ClientProfile) else Role.PROVIDER
    if user.role != role:
        return False
    membership = membership_of(user)
    if membership is not None:
        return profile.organization_id == membership.organization_id
    return profile.user_id == user.id


def acts_for_client(user: User, client_profile_id: uuid.UUID) -> bool:
    """Whether the user is one of the people of that client (its individual or a member)."""
    return user.role == Role.CLIENT and _speaks_for_id(user, ClientProfile, client_profile_id)


def acts_for_provider(user: User, provider_profile_id: uuid.UUID) -> bool:
    """Whether the user is one of the people of that provider (its VA or a firm member)."""
    return user.role == Role.PROVIDER and _speaks_for_id(user, ProviderProfile, provider_profile_id)


def _speaks_for_id(user: User, model: type[AnyProfile], profile_id: uuid.UUID) -> bool:
    # A profile the session holds already (the object's own, usually) costs no statement.
    profile = db.session.get(model, profile_id)
    return profile is not None and speaks_for(user, profile)


def commits(user: User) -> bool:
    """Whether the user may commit whom they act for: an individual, an owner or a manager."""
    membership = membership_of(user)
    return membership is None or membership.role in COMMITTERS


def require_commits(user: User, refusal: str) -> None:
    """Refuse (403, with `refusal` as the message) a firm's or company's agent."""
    if not commits(user):
        raise Forbidden(refusal)


def people_acting_for(profile: ClientProfile | ProviderProfile) -> list[User]:
    """Who speaks for a profile: its individual, or its organization's owner and managers
    (in the order they joined): from the memberships the caller loaded (`with_people`),
    else in one statement."""
    if profile.user is not None:
        return [profile.user]
    assert profile.organization_id is not None
    if "organization" not in instance_state(profile).unloaded:
        organization = profile.organization
        if organization is not None and "memberships" not in instance_state(organization).unloaded:
            return [m.user for m in organization.memberships if m.role in COMMITTERS]
    return list(
        db.session.scalars(
            sa.select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.organization_id == profile.organization_id,
                Membership.role.in_(COMMITTERS),
            )
            .order_by(Membership.created_at, Membership.id)
        )
    )


def _acting_profile_id(model: type[AnyProfile], user_id: Any) -> sa.ScalarSelect[uuid.UUID]:
    member_of = sa.select(Membership.organization_id).where(Membership.user_id == user_id)
    return (
        sa.select(model.id)
        .where(
            sa.or_(
                model.organization_id == member_of.scalar_subquery(),
                sa.and_(~sa.exists(member_of), model.user_id == user_id),
            )
        )
        .scalar_subquery()
    )


def acting_client_profile_id(user_id: Any) -> sa.ScalarSelect[uuid.UUID]:
    """`acting_client_profile(user).id` as a scalar subquery (`user_id` a value or a bound
    parameter), so a query that loads a client's object also says whether the user acts
    for that client."""
    return _acting_profile_id(ClientProfile, user_id)


def acting_provider_profile_id(user_id: Any) -> sa.ScalarSelect[uuid.UUID]:
    """`acting_provider_profile(user).id` as a scalar subquery, as for clients."""
    return _acting_profile_id(ProviderProfile, user_id)


def commits_clause(user_id: Any) -> sa.ColumnElement[bool]:
    """`commits(user)` as a boolean column, to read with the object the user acts on."""
    agent = sa.select(Membership.id).where(
        Membership.user_id == user_id, Membership.role.not_in(COMMITTERS)
    )
    return (~sa.exists(agent)).label("commits")


def with_people(model: type[ClientProfile] | type[ProviderProfile]) -> list[_AbstractLoad]:
    """Loader options that bring in, with a profile, the people `people_acting_for` names,
    so telling them reads nothing more."""
    return [
        joinedload(model.user).lazyload(User.membership),
        joinedload(model.organization)
        .joinedload(Organization.memberships)
        .joinedload(Membership.user)
        .lazyload(User.membership),
    ]
