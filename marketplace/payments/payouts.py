"""Payout accounts: where a provider (or a firm) receives released money."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app

from marketplace import permissions
from marketplace.accounts.models import User
from marketplace.database import lock_row
from marketplace.extensions import db
from marketplace.payments.gateways import gateway
from marketplace.profiles.models import ProviderProfile


@dataclass
class Onboarding:
    """The payout account and a fresh link to finish (or revisit) its onboarding."""

    account_id: str
    payouts_enabled: bool
    url: str


def start_onboarding(*, user: User) -> Onboarding:
    """Open the payout account of the provider the user acts for (once) and return a new
    onboarding link each call. Only an individual or a firm's owner or managers do this."""
    profile = permissions.acting_provider_profile(user)
    permissions.require_commits(user, "Only the firm's owner or managers set up its payouts.")
    profile = lock_row(ProviderProfile, profile.id)
    if profile.stripe_account_id is None:
        account = gateway().create_payout_account(
            email=user.email,
            country=profile.country,
            idempotency_key=f"payout-account-{profile.id}",
            metadata={"provider_profile_id": str(profile.id)},
        )
        profile.stripe_account_id, profile.payouts_enabled = account.id, account.payouts_enabled
    base = current_app.config["FRONTEND_URL"].rstrip("/")
    url = gateway().onboarding_link(
        account_id=profile.stripe_account_id,
        refresh_url=f"{base}/settings/payouts?refresh=1",
        return_url=f"{base}/settings/payouts?done=1",
    )
    db.session.commit()
    return Onboarding(
        account_id=profile.stripe_account_id, payouts_enabled=profile.payouts_enabled, url=url
    )


def set_payouts_enabled(*, account_id: str, enabled: bool) -> ProviderProfile | None:
    """The gateway says whether an account can receive payouts (Stripe's `account.updated`);
    runs in the caller's transaction. Unknown accounts are ignored."""
    profile = db.session.scalar(
        sa.select(ProviderProfile).where(ProviderProfile.stripe_account_id == account_id)
    )
    if profile is not None:
        profile.payouts_enabled = enabled
    return profile
