"""Flows of the parties: signing up and forming or joining an organization."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from marketplace.accounts import services as accounts
from marketplace.accounts import verification
from marketplace.accounts.models import Role, User
from marketplace.bids.models import Bid
from marketplace.bids.states import LIVE as LIVE_BIDS
from marketplace.contracts.models import Contract
from marketplace.contracts.states import CONTRACT_LIVE
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.jobs import emails
from marketplace.organizations import services as organizations
from marketplace.organizations.models import Membership, Organization
from marketplace.profiles import services as profiles
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.tasks.models import Task
from marketplace.tasks.states import TASK_LIVE


def sign_up(
    *,
    email: str,
    password: str,
    name: str,
    role: Role,
    timezone: str = "UTC",
    country: str | None = None,
    verified: bool = False,
) -> User:
    """Register a client or provider, create their profile and queue a welcome e-mail and,
    unless the address is taken as `verified` (the demo's people), the verification link;
    an address that already has an account is an AddressTaken."""
    user = accounts.register(
        email=email, password=password, name=name, role=role, timezone=timezone, country=country
    )
    profiles.create_personal_profile(user=user)
    emails.send("account.welcome", to=user, context={"role": user.role.value})
    if verified:
        verification.mark_verified(user)
    else:
        verification.send_link(user)
    db.session.commit()
    return user


def request_sign_up(
    *,
    email: str,
    password: str,
    name: str,
    role: Role,
    timezone: str = "UTC",
    country: str | None = None,
) -> None:
    """What the sign-up endpoint does: a new address gets its account, a welcome e-mail and
    the link to verify the address, a taken one a warning to its owner. Both cost the same
    and the caller learns neither, so sign-up does not tell who has an account."""
    try:
        sign_up(
            email=email,
            password=password,
            name=name,
            role=role,
            timezone=timezone,
            country=country,
        )
    except accounts.AddressTaken as taken:
        emails.send("account.signup_attempt", to=taken.owner)
        db.session.commit()


def create_organization(*, user: User, name: str, service_model: str | None = None) -> Organization:
    """Create a firm (provider) or company (client) owned by `user`, with its profile."""
    organization = organizations.found_organization(
        user=user, name=name, service_model=service_model
    )
    profiles.create_organization_profile(
        organization=organization, owner=user, service_model=service_model
    )
    db.session.commit()
    return organization


def accept_invitation(*, user: User, invitation_id: uuid.UUID, token: str) -> Membership:
    """The invitee, with the token from the e-mail, joins and from now on acts for it (and
    their address counts as verified)."""
    invitation = organizations.claim_invitation(user=user, invitation_id=invitation_id, token=token)
    # The token was e-mailed to the user's address: using it proves the address is theirs.
    verification.mark_verified(user)
    # Joining moves the user's work to the organization; refuse while personal work is
    # live, since nobody could manage it any more.
    if user.role == Role.CLIENT and has_live_client_work(user):
        raise Conflict("Finish or cancel your own tasks and contracts before joining.")
    if user.role == Role.PROVIDER and has_live_provider_work(user):
        raise Conflict("Withdraw your bids and finish your contracts before joining.")
    return organizations.join(user=user, invitation=invitation)


def has_live_client_work(user: User) -> bool:
    """Whether the user's own client profile has tasks or contracts still in play."""
    profile = db.session.scalar(sa.select(ClientProfile).where(ClientProfile.user_id == user.id))
    if profile is None:
        return False
    live_tasks = sa.select(Task.id).where(
        Task.client_profile_id == profile.id, Task.status.in_(TASK_LIVE)
    )
    live_contracts = sa.select(Contract.id).where(
        Contract.client_profile_id == profile.id, Contract.status.in_(CONTRACT_LIVE)
    )
    return bool(
        db.session.scalar(live_tasks.limit(1)) or db.session.scalar(live_contracts.limit(1))
    )


def has_live_provider_work(user: User) -> bool:
    """Whether the user's own provider profile has live bids or contracts."""
    profile = db.session.scalar(
        sa.select(ProviderProfile).where(ProviderProfile.user_id == user.id)
    )
    if profile is None:
        return False
    live_bids = sa.select(Bid.id).where(
        Bid.provider_profile_id == profile.id, Bid.status.in_(LIVE_BIDS)
    )
    live_contracts = sa.select(Contract.id).where(
        Contract.provider_profile_id == profile.id, Contract.status.in_(CONTRACT_LIVE)
    )
    return bool(db.session.scalar(live_bids.limit(1)) or db.session.scalar(live_contracts.limit(1)))
