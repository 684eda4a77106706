"""Organization rules: who may create one, who belongs, who manages members."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import timedelta

import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role, User
from marketplace.database import utcnow
from marketplace.errors import BusinessRuleViolation, Conflict, Forbidden, NotFound
from marketplace.extensions import db
from marketplace.jobs import emails
from marketplace.organizations.models import (
    Invitation,
    InvitationStatus,
    MemberRole,
    Membership,
    Organization,
    OrganizationKind,
)
from marketplace.statemachine import StateMachine

KIND_FOR_ROLE = {Role.CLIENT: OrganizationKind.CLIENT, Role.PROVIDER: OrganizationKind.PROVIDER}


def membership_of(user: User) -> Membership | None:
    """The user's membership, if they act for an organization (the signed-in user's comes
    with them, so asking costs nothing)."""
    return user.membership


def found_organization(*, user: User, name: str, service_model: str | None = None) -> Organization:
    """Add a firm (provider) or company (client) owned by `user` to the session, uncommitted:
    its profile is made by the caller."""
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


INVITATION_DAYS = 14
INVITATION_STATES = StateMachine(
    "invitation",
    {
        "accept": ([InvitationStatus.PENDING], InvitationStatus.ACCEPTED),
        "decline": ([InvitationStatus.PENDING], InvitationStatus.DECLINED),
        "revoke": ([InvitationStatus.PENDING], InvitationStatus.REVOKED),
    },
)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def invite_member(
    *, actor: User, organization_id: uuid.UUID, email: str, role: MemberRole
) -> tuple[Invitation, str]:
    """The owner invites someone by e-mail; they join only with the token it carries.

    The answer is the same whether or not the address has an account, so invitations
    reveal nothing about who uses the marketplace. Inviting again sends a fresh token.
    """
    organization = get_organization(user=actor, organization_id=organization_id)
    _require_owner(organization, actor)
    role = MemberRole(role)
    if role == MemberRole.OWNER:
        raise BusinessRuleViolation(
            "An organization has one owner.", details={"role": ["Use manager or agent."]}
        )
    address = accounts.normalize_email(email)
    invitation = db.session.scalar(
        sa.select(Invitation).where(
            Invitation.organization_id == organization.id,
            Invitation.email == address,
            Invitation.status == InvitationStatus.PENDING,
        )
    )
    if invitation is None:
        invitation = Invitation(organization=organization, email=address, invited_by_id=actor.id)
        db.session.add(invitation)
    token = secrets.token_urlsafe(32)
    invitation.role, invitation.token_hash = role, _token_hash(token)
    invitation.expires_at = utcnow() + timedelta(days=INVITATION_DAYS)
    db.session.flush()
    # The address may have no account yet: its e-mail shows times in UTC.
    emails.send(
        "organization.invitation",
        to=emails.Address(address),
        context={
            "inviter": actor.name,
            "organization": organization.name,
            "role": role.value,
            "expires_at": invitation.expires_at,
        },
        invitation_id=invitation.id,
        token=token,
    )
    db.session.commit()
    return invitation, token


def revoke_invitation(
    *, actor: User, organization_id: uuid.UUID, invitation_id: uuid.UUID
) -> Invitation:
    """The owner withdraws an invitation that is not answered yet."""
    organization = get_organization(user=actor, organization_id=organization_id)
    _require_owner(organization, actor)
    invitation = db.session.get(Invitation, invitation_id)
    if (
        invitation is None
        or invitation.organization_id != organization.id
        or invitation.status != InvitationStatus.PENDING
    ):
        raise NotFound("Invitation not found.")
    INVITATION_STATES.apply(invitation, "revoke", actor_id=actor.id)
    invitation.answered_at = utcnow()
    db.session.commit()
    return invitation


def my_invitations(*, user: User) -> sa.Select[Invitation]:
    """Invitations waiting for the user's answer, newest first."""
    return (
        sa.select(Invitation)
        .where(Invitation.email == user.email, Invitation.status == InvitationStatus.PENDING)
        .order_by(Invitation.created_at.desc(), Invitation.id.desc())
    )


def _pending_invitation(user: User, invitation_id: uuid.UUID) -> Invitation:
    invitation = db.session.scalar(
        sa.select(Invitation).where(Invitation.id == invitation_id).with_for_update()
    )
    if (
        invitation is None
        or invitation.email != user.email
        or invitation.status != InvitationStatus.PENDING
    ):
        raise NotFound("Invitation not found.")
    return invitation


def claim_invitation(*, user: User, invitation_id: uuid.UUID, token: str) -> Invitation:
    """The invitee's pending invitation, locked, once the token from the e-mail matches."""
    invitation = _pending_invitation(user, invitation_id)
    if not hmac.compare_digest(invitation.token_hash, _token_hash(token)):
        raise Forbidden("This invitation's token does not match; use the one in the e-mail.")
    return invitation


def join(*, user: User, invitation: Invitation) -> Membership:
    """Make the invitee a member from now on, acting for the organization; commits."""
    organization = invitation.organization
    if KIND_FOR_ROLE.get(user.role) != organization.kind:
        raise BusinessRuleViolation(
            f"Only {organization.kind.value} accounts can join {organization.name}.",
            details={"invitation": ["Your account is of another kind."]},
        )
    if membership_of(user) is not None:
        raise Conflict("You already belong to an organization; leave it first.")
    membership = Membership(organization=organization, user=user, role=invitation.role)
    db.session.add(membership)
    INVITATION_STATES.apply(invitation, "accept", actor_id=user.id)
    invitation.answered_at = utcnow()
    db.session.commit()
    return membership


def decline_invitation(*, user: User, invitation_id: uuid.UUID) -> Invitation:
    """The invitee says no."""
    invitation = _pending_invitation(user, invitation_id)
    INVITATION_STATES.apply(invitation, "decline", actor_id=user.id)
    invitation.answered_at = utcnow()
    db.session.commit()
    return invitation


def remove_member(*, actor: User, organization_id: uuid.UUID, user_id: uuid.UUID) -> None:
    """The owner removes a manager or agent, or a member leaves."""
    organization = get_organization(user=actor, organization_id=organization_id)
    if user_id != actor.id:
        _require_owner(organization, actor)
    membership = next((m for m in organization.memberships if m.user_id == user_id), None)
    if membership is None:
        raise NotFound("Member not found.")
    if membership.role == MemberRole.OWNER:
        raise Conflict("The owner cannot leave or be removed.")
    db.session.delete(membership)
    db.session.commit()
