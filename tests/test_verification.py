"""E-mail verification: the link sign-up sends, used once and before it expires; the resend,
rate-limited; an unverified user may look around but commits to nothing (a 403
`email_unverified` on each gated action); demo accounts, admins and existing rows are
verified."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from marketplace import create_app
from marketplace.accounts import passwords
from marketplace.accounts.models import User
from marketplace.bids.models import Bid
from marketplace.config import TestingConfig
from marketplace.contracts.models import Contract, ContractStatus, Milestone, MilestoneStatus
from marketplace.extensions import db
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks import services as tasks
from marketplace.tasks.models import Task, TaskStatus
from tests.factories import (
    PASSWORD,
    ClientFactory,
    ProviderFactory,
    task_draft,
    task_payload,
)
from tests.matching_world import open_task
from tests.money import make_bid, make_deal, money_post

FRONTEND = "http://localhost:3000"
SIGNUP = {
    "email": "Ana.Reyes@Example.com",
    "password": "a-long-enough-password",
    "name": "Ana Reyes",
    "role": "provider",
    "timezone": "Asia/Manila",
    "country": "PH",
}
START = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
LINK = re.compile(r"(http://localhost:3000/[\w/-]+)#token=([\w.-]+)")


def link_token(mail: Any, path: str) -> str:
    """The token of the e-mail's link to the frontend page `path` (both parts carry it)."""
    found = LINK.search(mail.body)
    assert found, mail.body
    assert found.group(1) == FRONTEND + path
    assert f"{found.group(1)}#token={found.group(2)}" in (mail.html or "")
    return found.group(2)


def verification_mails(sent_mail: list[Any], to: str) -> list[Any]:
    return [m for m in sent_mail if m.to == to and m.subject == "Confirm your e-mail address"]


def _user(email: str) -> User:
    db.session.expire_all()
    user = db.session.scalar(sa.select(User).where(User.email == email))
    assert user is not None
    return user


def _sign_up(api: Any, sent_mail: list[Any]) -> str:
    assert api.post("auth/signup", json=SIGNUP).status_code == 202
    (mail,) = verification_mails(sent_mail, "ana.reyes@example.com")
    return link_token(mail, "/verify-email")


def test_sign_up_e_mails_a_link_that_verifies_the_address_once(api, sent_mail):
    token = _sign_up(api, sent_mail)
    assert _user("ana.reyes@example.com").email_verified_at is None
    (mail,) = verification_mails(sent_mail, "ana.reyes@example.com")
    assert "It works once" in mail.body

    response = api.post("auth/verify-email", json={"token": token})

    assert response.status_code == 200
    assert response.get_json() == {"message": "Your e-mail address is confirmed."}
    user = _user("ana.reyes@example.com")
    assert user.email_verified_at is not None
    api.post("auth/login", json={"email": SIGNUP["email"], "password": SIGNUP["password"]})
    assert api.get("auth/me").get_json()["email_verified_at"] is not None
    # Single use: the same link again is refused, and the verification time stays.
    again = api.post("auth/verify-email", json={"token": token})
    assert again.status_code == 400
    assert again.get_json()["error"]["code"] == "invalid_token"
    assert _user("ana.reyes@example.com").email_verified_at == user.email_verified_at


def test_a_verification_link_expires_after_48_hours(api, sent_mail):
    with time_machine.travel(START, tick=False) as clock:
        token = _sign_up(api, sent_mail)
        clock.shift(timedelta(hours=48, seconds=1))
        response = api.post("auth/verify-email", json={"token": token})
        assert response.status_code == 400
        error = response.get_json()["error"]
        assert error["code"] == "token_expired"
        assert "ask for a new one" in error["message"]
        assert _user("ana.reyes@example.com").email_verified_at is None


def test_a_verification_link_works_until_it_expires(api, sent_mail):
    with time_machine.travel(START, tick=False) as clock:
        token = _sign_up(api, sent_mail)
        clock.shift(timedelta(hours=47, minutes=59))
        assert api.post("auth/verify-email", json={"token": token}).status_code == 200


@pytest.mark.parametrize("alter", ["tamper", "truncate", "garbage", "reset_token"])
def test_altered_or_foreign_tokens_are_refused(api, sent_mail, alter):
    token = _sign_up(api, sent_mail)
    if alter == "tamper":
        token = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    elif alter == "truncate":
        token = token[: len(token) // 2]
    elif alter == "garbage":
        token = "not-a-token"
    else:  # a password-reset token of the same user: signed for another purpose
        api.post("auth/password-reset", json={"email": SIGNUP["email"]})
        (reset,) = [m for m in sent_mail if m.subject == "Choose a new password"]
        token = link_token(reset, "/reset-password")

    response = api.post("auth/verify-email", json={"token": token})

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_token"
    assert _user("ana.reyes@example.com").email_verified_at is None


def test_the_link_of_an_address_no_longer_the_accounts_is_refused(api, sent_mail):
    token = _sign_up(api, sent_mail)
    user = _user("ana.reyes@example.com")
    user.email = "ana@elsewhere.example.com"
    db.session.commit()

    response = api.post("auth/verify-email", json={"token": token})

    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_token"


def test_a_bad_body_is_a_422(api):
    for body in ({}, {"token": ""}, {"token": 5}, {"token": "x", "extra": 1}):
        response = api.post("auth/verify-email", json=body)
        assert response.status_code == 422, body
        assert response.get_json()["error"]["code"] == "validation_error"


def test_an_unverified_user_signs_in_browses_and_fills_in_profiles(login):
    provider = ProviderFactory(unverified=True)
    client = ClientFactory(unverified=True)
    provider_api, client_api = login(provider), login(client)

    me = provider_api.get("auth/me").get_json()
    assert me["email_verified_at"] is None
    put = provider_api.put("providers/me", json={"headline": "Inbox zero, every day"})
    assert put.status_code == 200, put.get_json()
    assert provider_api.get("tasks").status_code == 200
    assert provider_api.get("providers/me/recommended-tasks").status_code == 200
    assert client_api.put("clients/me", json={"company_name": "Reyes Dental"}).status_code == 200
    draft = client_api.post("tasks", json=task_payload())
    assert draft.status_code == 201, draft.get_json()
    assert client_api.patch("auth/me", json={"name": "Ben C."}).status_code == 200


def _assert_unverified(response: Any, user: User) -> None:
    assert response.status_code == 403, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "email_unverified"
    assert user.email in error["message"]
    assert "POST /api/v1/auth/verify-email/resend" in error["message"]
    assert error["details"] == {}


def _unverify(user: User) -> None:
    user.email_verified_at = None
    db.session.commit()


def test_an_unverified_client_cannot_publish_a_task(login):
    client = ClientFactory(unverified=True)
    task = tasks.create_task(user=client, draft=task_draft())

    response = login(client).post(f"tasks/{task.id}/publish", json={})

    _assert_unverified(response, client)
    assert db.session.get(Task, task.id).status == TaskStatus.DRAFT


def test_an_unverified_provider_cannot_bid(login):
    task = open_task(ClientFactory(), confidentiality="public")
    provider = ProviderFactory(unverified=True)
    body = {
        "price": {"amount": 1200, "currency": "usd"},
        "timeline_days": 10,
        "cover_letter": "Happy to start next Monday on your queue.",
    }

    response = login(provider).post(f"tasks/{task.id}/bids", json=body)

    _assert_unverified(response, provider)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Bid)) == 0


def test_an_unverified_client_cannot_award_a_bid(login):
    client = ClientFactory()
    bid = make_bid((40_000,), client=client, provider=ProviderFactory())
    _unverify(client)

    response = login(client).post(f"bids/{bid.id}/accept", json={})

    _assert_unverified(response, client)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Contract)) == 0


def test_an_unverified_provider_cannot_accept_a_contract(login):
    from marketplace.contracts.inputs import AwardTerms
    from marketplace.flows import contracts as contract_flows

    client, provider = ClientFactory(), ProviderFactory()
    bid = make_bid((40_000,), client=client, provider=provider)
    contract = contract_flows.award(user=client, bid_id=bid.id, terms=AwardTerms())
    _unverify(provider)

    response = login(provider).post(f"contracts/{contract.id}/accept")

    _assert_unverified(response, provider)
    assert db.session.get(Contract, contract.id).status == ContractStatus.OFFERED


def test_an_unverified_client_cannot_fund_a_milestone(login):
    deal = make_deal((40_000,))
    _unverify(deal.client)

    response = money_post(login(deal.client), f"milestones/{deal.milestone_ids[0]}/fund", json={})

    _assert_unverified(response, deal.client)
    assert db.session.get(Milestone, deal.milestone_ids[0]).status == MilestoneStatus.PENDING


def test_an_unverified_provider_cannot_set_up_payouts_so_receives_none(login):
    provider = ProviderFactory(unverified=True)

    response = login(provider).post("providers/me/payouts/onboarding")

    _assert_unverified(response, provider)
    profile = db.session.scalar(
        sa.select(ProviderProfile).where(ProviderProfile.user_id == provider.id)
    )
    assert profile.stripe_account_id is None and not profile.receives_payouts


def test_after_verifying_the_gated_action_works(api, sent_mail):
    token = _sign_up(api, sent_mail)
    api.post("auth/login", json={"email": SIGNUP["email"], "password": SIGNUP["password"]})
    _assert_unverified(api.post("providers/me/payouts/onboarding"), _user("ana.reyes@example.com"))

    assert api.post("auth/verify-email", json={"token": token}).status_code == 200

    response = api.post("providers/me/payouts/onboarding")
    assert response.status_code == 200, response.get_json()


def test_accepting_an_organization_invitation_verifies_the_address(login):
    from marketplace.organizations import services as organizations
    from marketplace.organizations.models import MemberRole
    from tests.factories import make_firm

    firm = make_firm(name="Northwind Support", owner=True)
    invitee = ProviderFactory(unverified=True)
    invitation, token = organizations.invite_member(
        actor=firm.owner,
        organization_id=firm.organization.id,
        email=invitee.email,
        role=MemberRole.AGENT,
    )

    response = login(invitee).post(
        f"organizations/invitations/{invitation.id}/accept", json={"token": token}
    )

    assert response.status_code == 200, response.get_json()
    assert _user(invitee.email).email_verified_at is not None


def test_resend_mails_a_new_link_and_either_link_verifies_once(api, sent_mail):
    first = _sign_up(api, sent_mail)
    api.post("auth/login", json={"email": SIGNUP["email"], "password": SIGNUP["password"]})

    response = api.post("auth/verify-email/resend")

    assert response.status_code == 202
    assert response.get_json() == {"message": "We have sent a new link to ana.reyes@example.com."}
    mails = verification_mails(sent_mail, "ana.reyes@example.com")
    assert len(mails) == 2
    second = link_token(mails[1], "/verify-email")
    assert api.post("auth/verify-email", json={"token": second}).status_code == 200
    # The address is verified: every earlier link is spent with it.
    assert api.post("auth/verify-email", json={"token": first}).status_code == 400


def test_resend_for_a_verified_address_is_a_409_and_sends_nothing(login, sent_mail):
    response = login(ClientFactory()).post("auth/verify-email/resend")

    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"
    assert sent_mail == []


def test_resend_needs_a_signed_in_user(api, sent_mail):
    response = api.post("auth/verify-email/resend")
    assert response.status_code == 401
    assert sent_mail == []


def test_resend_is_rate_limited_per_user(app, login, sent_mail, monkeypatch):
    monkeypatch.setitem(app.config, "VERIFY_EMAIL_RATE_LIMIT", "2 per hour")
    user = ProviderFactory(unverified=True)
    session = login(user)

    statuses = [session.post("auth/verify-email/resend").status_code for _ in range(3)]

    assert statuses == [202, 202, 429]
    response = session.post("auth/verify-email/resend")
    assert response.status_code == 429
    assert response.get_json()["error"]["code"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0
    assert len(verification_mails(sent_mail, user.email)) == 2
    # Another user has their own allowance.
    assert (
        login(ProviderFactory(unverified=True)).post("auth/verify-email/resend").status_code == 202
    )


def test_create_admin_makes_a_verified_admin(app):
    result = app.test_cli_runner().invoke(
        args=[
            "create-admin",
            "--email",
            "Root@Example.com",
            "--password",
            "a long admin passphrase",
        ]
    )

    assert result.exit_code == 0, result.output
    assert _user("root@example.com").email_verified_at is not None


def test_demo_accounts_are_verified_and_get_no_verification_mail(app, sent_mail):
    from marketplace.demo import seed_admin, seed_demo

    seed_demo()
    seed_admin()

    users = list(db.session.scalars(sa.select(User)))
    assert users and all(u.email_verified_at is not None for u in users)
    assert not [m for m in sent_mail if m.subject == "Confirm your e-mail address"]


def test_the_migration_verifies_every_existing_account(tmp_path):
    config = type(
        "Fresh", (TestingConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'old.db'}"}
    )
    app = create_app(config)
    from flask_migrate import upgrade

    with app.app_context():
        upgrade(revision="f3b7a2c91e04")  # the schema before verification
        now, user_id = datetime.now(UTC), uuid.uuid4()
        users = sa.table(
            "users",
            *(sa.column(n) for n in ("email", "password_hash", "name", "role", "status")),
            *(sa.column(n) for n in ("timezone", "email_opt_out")),
            sa.column("id", sa.Uuid()),
            sa.column("created_at", sa.DateTime(timezone=True)),
            sa.column("updated_at", sa.DateTime(timezone=True)),
        )
        with db.engine.begin() as conn:
            conn.execute(users.insert().values(
                id=user_id, email="old@example.com", name="Old", role="client", status="active",
                password_hash=passwords.hash_password(PASSWORD), timezone="UTC",
                email_opt_out="[]", created_at=now, updated_at=now,
            ))  # fmt: skip
        upgrade()
        user = db.session.get(User, user_id)
        assert user is not None and user.email_verified_at is not None
        assert abs(user.email_verified_at - datetime.now(UTC)) < timedelta(minutes=5)
        db.session.remove()
        db.engine.dispose()
