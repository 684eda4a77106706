"""Personal API tokens: shown once, stored hashed, listed, revoked, refused when suspended."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from marketplace.accounts.models import ApiToken, UserStatus
from marketplace.extensions import db
from tests.factories import ClientFactory, ProviderFactory


def test_token_is_shown_once_and_stored_hashed(login):
    user = ClientFactory()
    api = login(user)

    response = api.post("auth/tokens", json={"name": "zapier"})

    assert response.status_code == 201
    body = response.get_json()
    raw = body["token"]
    assert raw.startswith("mkt_") and len(raw) > 40
    stored = db.session.scalar(sa.select(ApiToken))
    assert stored.token_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in {stored.token_hash, stored.prefix}
    listed = api.get("auth/tokens").get_json()
    assert listed["total"] == 1
    assert listed["items"][0]["id"] == body["id"]
    assert "token" not in listed["items"][0]


def test_bearer_token_authenticates_and_revocation_ends_it(login, app):
    user = ProviderFactory()
    session = login(user)
    raw = session.post("auth/tokens", json={"name": "script"}).get_json()["token"]
    token_id = db.session.scalar(sa.select(ApiToken.id))
    headers = {"Authorization": f"Bearer {raw}"}
    client = app.test_client()

    response = client.get("/api/v1/auth/me", headers=headers)
    assert response.status_code == 200
    assert response.get_json()["id"] == str(user.id)
    assert db.session.get(ApiToken, token_id).last_used_at is not None

    assert session.delete(f"auth/tokens/{token_id}").status_code == 204
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 401
    assert session.get("auth/tokens").get_json()["total"] == 0


def test_invalid_bearer_token_is_refused(client):
    for value in ("Bearer mkt_not-a-real-token", "Bearer ", "Bearer nonsense"):
        response = client.get("/api/v1/auth/me", headers={"Authorization": value})
        assert response.status_code == 401
        assert response.get_json()["error"]["code"] == "unauthorized"


def test_bearer_token_wins_over_a_session_cookie(login, bearer):
    owner = ClientFactory()
    other = ClientFactory()
    session = login(owner)
    token_client = bearer(other)

    response = session.client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {token_client.token}"}
    )

    assert response.get_json()["id"] == str(other.id)


def test_expired_token_is_refused(login, app):
    user = ClientFactory()
    raw = (
        login(user)
        .post("auth/tokens", json={"name": "t", "expires_in_days": 1})
        .get_json()["token"]
    )
    token = db.session.scalar(sa.select(ApiToken))
    token.expires_at = token.created_at
    db.session.commit()

    response = app.test_client().get("/api/v1/auth/me", headers={"Authorization": f"Bearer {raw}"})
    assert response.status_code == 401


def test_cannot_revoke_another_users_token(login, bearer):
    owner = ClientFactory()
    bearer(owner)
    token_id = db.session.scalar(sa.select(ApiToken.id))
    intruder = login(ClientFactory())

    response = intruder.delete(f"auth/tokens/{token_id}")

    assert response.status_code == 404
    assert db.session.get(ApiToken, token_id).revoked_at is None
    assert intruder.get("auth/tokens").get_json()["total"] == 0


def test_suspended_users_tokens_stop_working(bearer):
    user = ClientFactory()
    api = bearer(user)
    assert api.get("auth/me").status_code == 200
    user.status = UserStatus.SUSPENDED
    db.session.commit()

    assert api.get("auth/me").status_code == 401


def test_token_endpoints_need_sign_in(api):
    assert api.get("auth/tokens").status_code == 401
    assert api.post("auth/tokens", json={"name": "x"}).status_code == 401


def test_token_name_is_required(login):
    response = login(ClientFactory()).post("auth/tokens", json={"expires_in_days": 0})
    assert response.status_code == 422
    assert set(response.get_json()["error"]["details"]) == {"name", "expires_in_days"}
