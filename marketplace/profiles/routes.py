"""Provider and client profile endpoints."""

from __future__ import annotations

import uuid

from flask_login import current_user, login_required

from marketplace import permissions
from marketplace.api import Blueprint
from marketplace.profiles import services
from marketplace.profiles.inputs import ClientProfileChanges, ProviderProfileChanges
from marketplace.profiles.models import ClientProfile, ProviderProfile
from marketplace.profiles.schemas import (
    ClientProfileSchema,
    ClientProfileUpdateSchema,
    ProviderProfileSchema,
    ProviderProfileUpdateSchema,
    PublicProviderProfileSchema,
)

blp = Blueprint(
    "profiles", __name__, url_prefix="/api/v1", description="Provider and client profiles"
)


@blp.get("/providers/me")
@login_required
@blp.response(200, ProviderProfileSchema)
@blp.errors(401, 403, 404)
def get_my_provider_profile() -> ProviderProfile:
    """The provider profile you act for (your firm's, or your own)."""
    return permissions.acting_provider_profile(current_user)


@blp.put("/providers/me")
@login_required
@blp.arguments(ProviderProfileUpdateSchema)
@blp.response(200, ProviderProfileSchema)
@blp.errors(400, 401, 403, 404, 422)
def update_my_provider_profile(changes: ProviderProfileChanges) -> ProviderProfile:
    """Update the provider profile you act for; omitted fields stay as they are."""
    return services.update_provider_profile(user=current_user, changes=changes)


@blp.get("/providers/<uuid:profile_id>")
@blp.public
@blp.response(200, PublicProviderProfileSchema)
@blp.errors(404)
def get_provider(profile_id: uuid.UUID) -> ProviderProfile:
    """A provider's public profile."""
    return services.public_provider_profile(profile_id)


@blp.get("/clients/me")
@login_required
@blp.response(200, ClientProfileSchema)
@blp.errors(401, 403, 404)
def get_my_client_profile() -> ClientProfile:
    """The client profile you act for (your company's, or your own)."""
    return permissions.acting_client_profile(current_user)


@blp.put("/clients/me")
@login_required
@blp.arguments(ClientProfileUpdateSchema)
@blp.response(200, ClientProfileSchema)
@blp.errors(400, 401, 403, 404, 422)
def update_my_client_profile(changes: ClientProfileChanges) -> ClientProfile:
    """Update the client profile you act for; omitted fields stay as they are."""
    return services.update_client_profile(user=current_user, changes=changes)
