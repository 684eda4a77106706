"""Organization rules: who may create one, who belongs, who manages members."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.jobs import outbox
from marketplace.organizations.models import MemberRole, Membership, Organization, OrganizationKind

KIND_FOR_ROLE = {Role.CLIENT: OrganizationKind.CLIENT, Role.PROVIDER: OrganizationKind.PROVIDER}


def membership_of(user: User) -> Membership | None:
    """The user's membership, if they act for an organization."""
    return db.session.scalar(sa.select(Membership).where(Membership.user_id == user.id))


def create_organization(*, user: User, name: str, service_model: str | None = None) -> Organization:
    """Create a firm (provider) or company (client) owned by `user`, with its profile."""
    from marketplace.profiles import services as profiles

    kind = KIND_FOR_ROLE.get(user.role)
    if kind is None:
        raise Forbidden("Only clients and providers create organizations.")
    if membership_of(user) is not None:
        raise Conflict("You already belong to an organization.")
    if kind == OrganizationKind.CLIENT and service_model:
        raise BusinessRuleViolation(
            "A client company has no service model.",
            details={"service_model": ["Only for provider firms."]},
        )
    organization = Organization(name=name.strip(), kind=kind)
    organization.memberships.append(Membership(user=user, role=MemberRole.OWNER))
    db.session.add(organization)
    db.session.flush()
    profiles.create_organization_profile(
        organization=organization, owner=user, service_model=service_model
    )
    db.session.commit()
    return organization


def get_organization(*, user: User, organization_id: uuid.UUID) -> Organization:
    """An organization its member (or an admin) may read; anyone else gets NotFound."""
    organization = db.session.get(Organization, organization_id)
    if organization is None or not (user.is_admin or _member(organization, user)):
        raise NotFound("Organization not found.")
    return organization


def _member(organization: Organization, user: User) -> Membership | None:
    return next((m for m in organization.memberships if m.user_id == user.id), None)


def _require_owner(organization: Organization, user: User) -> None:
    membership = _member(organization, user)
    if membership is None or membership.role != MemberRole.OWNER:
        raise Forbidden("Only the organization's owner manages its members.")


def add_member(
    *, actor: User, organization_id: uuid.UUID, email: str, role: MemberRole
) -> Membership:
    """The owner adds an existing user, by e-mail, as a manager or agent."""
    organization = get_organization(user=actor, organization_id=organization_id)
    _require_owner(organization, actor)
    if role == MemberRole.OWNER:
        raise BusinessRuleViolation(
            "An organization has one owner.", details={"role": ["Use manager or agent."]}
        )
    user = accounts.find_user_by_email(email)
    if user is None:
        raise BusinessRuleViolation(
            "No account uses this e-mail address.",
            details={"email": ["Ask them to sign up first."]},
        )
    if KIND_FOR_ROLE.get(user.role) != organization.kind:
        raise BusinessRuleViolation(
            f"Only {organization.kind.value} accounts can join this organization.",
            details={"email": [f"This account is not a {organization.kind.value} account."]},
        )
    if membership_of(user) is not None:
        raise Conflict("This user already belongs to an organization.")
    membership = Membership(organization=organization, user=user, role=role)
    db.session.add(membership)
    outbox.enqueue_email(
        to=user.email,
        subject=f"You joined {organization.name}",
        body=f"{actor.name} added you to {organization.name} as {role.value}.\n",
    )
    db.session.commit()
    return membership


def remove_member(*, actor: User, organization_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """The owner removes a manager or agent."""
    organization = get_organization(user=actor, organization_id=organization_id)
    _require_owner(organization, actor)
    membership = next((m for m in organization.memberships if m.user_id == user_id), None)
    if membership is None:
        raise NotFound("Member not found.")
    if membership.role == MemberRole.OWNER:
        raise Conflict("The owner cannot be removed.")
    db.session.delete(membership)
    db.session.commit()
