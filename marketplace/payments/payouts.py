"""Payout accounts: where a provider (or a firm) receives released money."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

import sqlalchemy as sa
from flask import current_app

from marketplace import permissions
from marketplace.accounts import verification
from marketplace.accounts.models import User
from marketplace.database import lock_row
from marketplace.extensions import db
from marketplace.payments.gateways import gateway
from marketplace.payments.gateways.base import PayoutAccount, answered_in_the_api
from marketplace.profiles.models import ProviderProfile


@dataclass
class Onboarding:
    """The payout account and a fresh link to finish (or revisit) its onboarding."""

    account_id: str
    payouts_enabled: bool
    url: str


def start_onboarding(*, user: User) -> Onboarding:
    """Open the payout account of the provider the user acts for (once) and return a new
    onboarding link each call. Only an individual or a firm's owner or managers do this.
    Stripe's trouble is a 503 (no answer) or a 502 (a refusal), as in funding. An
    unverified address is a 403 `email_unverified`: no money reaches an account whose
    owner has not shown that the address is theirs (payouts need this account)."""
    verification.require_verified_email(user)
    profile = permissions.acting_provider_profile(user)
    permissions.require_commits(user, "Only the firm's owner or managers set up its payouts.")
    profile_id, email, country = profile.id, user.email, profile.country
    account_id, enabled = profile.stripe_account_id, profile.payouts_enabled
    # No transaction (so no lock) stays open while the gateway is asked over the network.
    db.session.commit()
    base = current_app.config["FRONTEND_URL"].rstrip("/")
    with answered_in_the_api(
        f"the payout account of provider profile {profile_id}",
        nothing_done="no onboarding link was made",
    ):
        if account_id is None:
            # Concurrent first calls all ask with this key, so the gateway opens one account.
            account = gateway().create_payout_account(
                email=email,
                country=country,
                idempotency_key=f"payout-account-{profile_id}",
                metadata={"provider_profile_id": str(profile_id)},
            )
            account_id, enabled = _store_account(profile_id, account)
        url = gateway().onboarding_link(
            account_id=account_id,
            refresh_url=f"{base}/settings/payouts?refresh=1",
            return_url=f"{base}/settings/payouts?done=1",
        )
    return Onboarding(account_id=account_id, payouts_enabled=enabled, url=url)


def _store_account(profile_id: uuid.UUID, account: PayoutAccount) -> tuple[str, bool]:
    """Record the opened account under a short lock, unless a concurrent call recorded
    one first (then that one stands); returns the profile's account and payouts flag."""
    profile = lock_row(ProviderProfile, profile_id)
    if profile.stripe_account_id is None:
        profile.stripe_account_id, profile.payouts_enabled = account.id, account.payouts_enabled
    stored = (profile.stripe_account_id, profile.payouts_enabled)
    db.session.commit()
    return stored


def set_payouts_enabled(*, account_id: str, enabled: bool) -> ProviderProfile | None:
    """The gateway says whether an account can receive payouts (Stripe's `account.updated`);
    runs in the caller's transaction. Unknown accounts are ignored."""
    profile = db.session.scalar(
        sa.select(ProviderProfile).where(ProviderProfile.stripe_account_id == account_id)
    )
    if profile is not None:
        profile.payouts_enabled = enabled
    return profile


class PayoutAccountState(StrEnum):
    """Where a provider's payout account stands."""

    NOT_STARTED = "not_started"  # no account yet: onboarding never began
    INCOMPLETE = "incomplete"  # opened, payouts not enabled: onboarding unfinished, or the
    # gateway turned payouts off (Stripe's `account.updated`)
    ENABLED = "enabled"  # payouts are enabled: milestones may be funded and released


def account_state(profile: ProviderProfile) -> PayoutAccountState:
    """The state of the profile's payout account, from what the gateway told us."""
    if profile.stripe_account_id is None:
        return PayoutAccountState.NOT_STARTED
    if not profile.payouts_enabled:
        return PayoutAccountState.INCOMPLETE
    return PayoutAccountState.ENABLED
