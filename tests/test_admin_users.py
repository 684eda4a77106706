"""Admins list users and suspend them; nobody else can."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.accounts.models import ApiToken, User, UserSession, UserStatus
from marketplace.audit import AuditEntry
from marketplace.extensions import db
from tests.factories import PASSWORD, AdminFactory, ClientFactory, ProviderFactory


def test_admin_suspends_and_reinstates_a_user(login, api, sent_mail):
    admin = login(AdminFactory())
    user = ProviderFactory()
    user_session = login(user)

    response = admin.post(f"admin/users/{user.id}/suspend", json={"reason": "Off-platform payment"})

    assert response.status_code == 200
    assert response.get_json()["status"] == "suspended"
    assert db.session.get(User, user.id).suspension_reason == "Off-platform payment"
    assert user_session.get("auth/me").status_code == 401
    assert (
        api.post("auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 403
    )
    assert any(m.to == user.email and "suspended" in m.subject for m in sent_mail)

    listed = admin.get("admin/users?status=suspended").get_json()
    assert [u["id"] for u in listed["items"]] == [str(user.id)]

    assert admin.post(f"admin/users/{user.id}/reinstate").status_code == 200
    assert db.session.get(User, user.id).status == UserStatus.ACTIVE
    assert (
        api.post("auth/login", json={"email": user.email, "password": PASSWORD}).status_code == 200
    )


@pytest.mark.parametrize("factory", [ClientFactory, ProviderFactory])
def test_non_admins_cannot_use_admin_endpoints(login, factory):
    target = ClientFactory()
    session = login(factory())

    assert session.get("admin/users").status_code == 403
    response = session.post(f"admin/users/{target.id}/suspend", json={"reason": "because"})
    assert response.status_code == 403
    assert db.session.get(User, target.id).status == UserStatus.ACTIVE


def test_admin_endpoints_need_sign_in(api):
    assert api.get("admin/users").status_code == 401


def test_suspension_needs_a_reason(login):
    admin = login(AdminFactory())
    target = ClientFactory()
    response = admin.post(f"admin/users/{target.id}/suspend", json={})
    assert response.status_code == 422
    assert "reason" in response.get_json()["error"]["details"]


def test_admin_actions_are_in_the_audit_log(login):
    admin_user = AdminFactory()
    admin = login(admin_user)
    target = ClientFactory()
    admin.post(f"admin/users/{target.id}/suspend", json={"reason": "Spam postings"})
    admin.post(f"admin/users/{target.id}/reinstate")

    log = admin.get(f"admin/audit-log?target_id={target.id}").get_json()

    assert [(e["action"], e["actor_id"]) for e in log["items"]] == [
        ("reinstate_user", str(admin_user.id)),
        ("suspend_user", str(admin_user.id)),
    ]
    assert log["items"][1]["details"] == {"reason": "Spam postings"}
    assert login(ClientFactory()).get("admin/audit-log").status_code == 403


def test_suspension_revokes_every_session_and_token_for_good(app, login, bearer):
    admin = login(AdminFactory())
    user = ProviderFactory()
    browser, script = login(user), bearer(user)
    thief = app.test_client()
    thief.set_cookie("marketplace_session", browser.client.get_cookie("marketplace_session").value)

    admin.post(f"admin/users/{user.id}/suspend", json={"reason": "Account takeover suspected"})
    assert admin.post(f"admin/users/{user.id}/reinstate").status_code == 200

    assert browser.get("auth/me").status_code == 401
    assert thief.get("/api/v1/auth/me").status_code == 401
    assert script.get("auth/me").status_code == 401
    for model in (UserSession, ApiToken):
        live = sa.select(model).where(model.user_id == user.id, model.revoked_at.is_(None))
        assert db.session.scalar(live) is None
    # The owner signs in afresh and makes new credentials.
    assert login(user).get("auth/tokens").get_json()["total"] == 0


def test_suspending_a_suspended_user_is_a_conflict(login, sent_mail):
    admin = login(AdminFactory())
    user = ClientFactory()
    admin.post(f"admin/users/{user.id}/suspend", json={"reason": "Spam postings"})

    response = admin.post(f"admin/users/{user.id}/suspend", json={"reason": "Again"})

    assert response.status_code == 409
    assert response.get_json()["error"]["details"]["status"] == "suspended"
    assert db.session.get(User, user.id).suspension_reason == "Spam postings"
    assert [m.subject for m in sent_mail if m.to == user.email] == ["Your account is suspended"]
    assert _audit_actions(user) == ["suspend_user"]


def test_reinstating_an_active_user_is_a_conflict(login):
    admin = login(AdminFactory())
    user = ClientFactory()

    response = admin.post(f"admin/users/{user.id}/reinstate")

    assert response.status_code == 409
    assert response.get_json()["error"]["details"]["status"] == "active"
    assert _audit_actions(user) == []


def _audit_actions(user: User) -> list[str]:
    return list(
        db.session.scalars(sa.select(AuditEntry.action).where(AuditEntry.target_id == user.id))
    )
