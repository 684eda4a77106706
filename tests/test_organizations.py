"""Organizations: firms and companies, their owners and members."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.jobs.mail import MemoryBackend
from marketplace.organizations.models import Membership
from marketplace.profiles.models import ClientProfile, ProviderProfile
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, task_payload


def _create_firm(api, name="Lagos Support Co", service_model="bpo"):
    response = api.post("organizations", json={"name": name, "service_model": service_model})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_provider_creates_a_firm_with_its_profile(login):
    owner = ProviderFactory(timezone="Africa/Lagos", country="NG")
    api = login(owner)

    firm = _create_firm(api)

    assert firm["kind"] == "provider"
    assert [(m["user_id"], m["role"]) for m in firm["members"]] == [(str(owner.id), "owner")]
    profile = db.session.scalar(
        sa.select(ProviderProfile).where(ProviderProfile.organization_id == uuid.UUID(firm["id"]))
    )
    assert (profile.service_model, profile.timezone, profile.country) == (
        "bpo",
        "Africa/Lagos",
        "NG",
    )
    me = api.get("auth/me").get_json()
    assert me["membership"]["organization_id"] == firm["id"]
    assert me["membership"]["role"] == "owner"
    assert api.get("providers/me").get_json()["kind"] == "firm"


def test_client_creates_a_company_with_its_client_profile(login):
    api = login(ClientFactory())
    response = api.post("organizations", json={"name": "Acme Retail"})
    assert response.status_code == 201
    assert response.get_json()["kind"] == "client"
    assert api.get("clients/me").get_json()["company_name"] == "Acme Retail"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ClientProfile)) == 2


def test_company_has_no_service_model_and_admins_make_no_organizations(login):
    response = login(ClientFactory()).post(
        "organizations", json={"name": "A", "service_model": "bpo"}
    )
    assert response.status_code == 422
    assert "service_model" in response.get_json()["error"]["details"]
    assert login(AdminFactory()).post("organizations", json={"name": "A"}).status_code == 403


def _invite(owner_api, organization_id, email, role="agent"):
    """Invite, and read the token from the invitation e-mail as the invitee would."""
    response = owner_api.post(
        f"organizations/{organization_id}/members", json={"email": email, "role": role}
    )
    assert response.status_code == 201, response.get_json()
    invitation = response.get_json()
    mail = [m for m in MemoryBackend.outbox if m.to == invitation["email"]][-1]
    # The e-mail links to the frontend's invitation page, the token in the fragment.
    link = re.search(r"http://localhost:3000/invitations/([^#\s]+)#token=(\S+)", mail.body)
    assert link.group(1) == invitation["id"] and link.group(2) in mail.html
    invitation["token"] = link.group(2)
    return invitation


def _accept(api, invitation):
    return api.post(
        f"organizations/invitations/{invitation['id']}/accept", json={"token": invitation["token"]}
    )


def test_invited_member_joins_only_by_accepting_then_acts_for_the_firm(login, sent_mail):
    owner_api = login(ProviderFactory())
    firm = _create_firm(owner_api)
    agent = ProviderFactory(email="agent@example.com")
    agent_api = login(agent)

    invitation = _invite(owner_api, firm["id"], "AGENT@example.com")

    assert (invitation["email"], invitation["status"]) == ("agent@example.com", "pending")
    assert any(m.to == "agent@example.com" and "invited" in m.subject for m in sent_mail)
    assert agent_api.get("providers/me").get_json()["kind"] == "individual"
    assert [
        i["email"] for i in owner_api.get(f"organizations/{firm['id']}").get_json()["invitations"]
    ] == ["agent@example.com"]
    mine = agent_api.get("organizations/invitations").get_json()["items"]
    assert [i["id"] for i in mine] == [invitation["id"]]

    response = _accept(agent_api, invitation)

    assert response.status_code == 200
    assert response.get_json()["role"] == "agent"
    assert agent_api.get("providers/me").get_json()["organization_id"] == firm["id"]
    body = agent_api.get(f"organizations/{firm['id']}").get_json()
    assert len(body["members"]) == 2 and body["invitations"] == []
    assert _accept(agent_api, invitation).status_code == 404

    response = owner_api.delete(f"organizations/{firm['id']}/members/{agent.id}")
    assert response.status_code == 204
    assert agent_api.get(f"organizations/{firm['id']}").status_code == 404
    assert agent_api.get("providers/me").get_json()["kind"] == "individual"


def test_a_member_can_leave_but_not_the_owner(login):
    owner = ProviderFactory()
    owner_api = login(owner)
    firm = _create_firm(owner_api)
    agent = ProviderFactory()
    agent_api = login(agent)
    invitation = _invite(owner_api, firm["id"], agent.email)
    _accept(agent_api, invitation)

    assert agent_api.delete(f"organizations/{firm['id']}/members/{agent.id}").status_code == 204
    assert owner_api.delete(f"organizations/{firm['id']}/members/{owner.id}").status_code == 409


def test_invitations_reveal_nothing_about_accounts(login):
    owner_api = login(ProviderFactory())
    firm = _create_firm(owner_api)
    client = ClientFactory()
    for email in (client.email, "ghost@example.com", ProviderFactory().email):
        assert _invite(owner_api, firm["id"], email)["status"] == "pending"


def test_invitee_of_the_wrong_kind_or_already_in_a_firm_cannot_join(login):
    owner_api = login(ProviderFactory())
    firm = _create_firm(owner_api)
    client = ClientFactory()
    busy = ProviderFactory()
    _create_firm(login(busy), name="Busy Co")
    wrong_kind = _invite(owner_api, firm["id"], client.email)
    taken = _invite(owner_api, firm["id"], busy.email)

    response = _accept(login(client), wrong_kind)
    assert response.status_code == 422
    response = _accept(login(busy), taken)
    assert response.status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 2


def test_only_the_invitee_answers_and_declining_works(login):
    owner_api = login(ProviderFactory())
    firm = _create_firm(owner_api)
    invitee = ProviderFactory()
    invitation = _invite(owner_api, firm["id"], invitee.email)

    stranger = login(ProviderFactory())
    assert _accept(stranger, invitation).status_code == 404
    assert stranger.get("organizations/invitations").get_json()["total"] == 0
    response = login(invitee).post(f"organizations/invitations/{invitation['id']}/decline")
    assert response.get_json()["status"] == "declined"
    assert _accept(login(invitee), invitation).status_code == 404


def test_only_the_owner_invites_or_removes(login):
    owner_api = login(ProviderFactory())
    firm = _create_firm(owner_api)
    manager = ProviderFactory()
    invitation = _invite(owner_api, firm["id"], manager.email, role="manager")
    manager_api = login(manager)
    _accept(manager_api, invitation)
    agent = ProviderFactory()
    invitation = _invite(owner_api, firm["id"], agent.email)
    _accept(login(agent), invitation)

    response = manager_api.post(
        f"organizations/{firm['id']}/members", json={"email": "new@example.com"}
    )
    assert response.status_code == 403
    response = manager_api.delete(f"organizations/{firm['id']}/members/{agent.id}")
    assert response.status_code == 403
    assert (
        owner_api.post(
            f"organizations/{firm['id']}/members", json={"email": "x@example.com", "role": "owner"}
        ).status_code
        == 422
    )
    assert owner_api.post("organizations", json={"name": "Second"}).status_code == 409


def test_members_personal_provider_profiles_are_hidden_while_they_act_for_a_firm(login, api):
    owner = ProviderFactory()
    personal = login(owner).get("providers/me").get_json()["id"]
    assert api.get(f"providers/{personal}").status_code == 200

    firm = _create_firm(login(owner))

    assert api.get(f"providers/{personal}").status_code == 404
    firm_profile = login(owner).get("providers/me").get_json()["id"]
    assert api.get(f"providers/{firm_profile}").get_json()["display_name"] == firm["name"]


def test_outsiders_cannot_see_or_change_an_organization(login, api):
    firm = _create_firm(login(ProviderFactory()))
    outsider = login(ProviderFactory())
    victim = ProviderFactory()

    assert outsider.get(f"organizations/{firm['id']}").status_code == 404
    response = outsider.post(f"organizations/{firm['id']}/members", json={"email": victim.email})
    assert response.status_code == 404
    response = outsider.delete(f"organizations/{firm['id']}/members/{victim.id}")
    assert response.status_code == 404
    assert api.get(f"organizations/{firm['id']}").status_code == 401
    assert login(AdminFactory()).get(f"organizations/{firm['id']}").status_code == 200


def test_an_invitation_needs_the_token_from_its_e_mail(login):
    owner_api = login(ProviderFactory())
    firm = _create_firm(owner_api)
    invitee = ProviderFactory()
    invitation = _invite(owner_api, firm["id"], invitee.email)
    api = login(invitee)

    response = api.post(
        f"organizations/invitations/{invitation['id']}/accept",
        json={"token": "guessed-token-value"},
    )
    assert response.status_code == 403
    assert (
        api.post(f"organizations/invitations/{invitation['id']}/accept", json={}).status_code == 422
    )
    assert _accept(api, invitation).status_code == 200


def test_the_owner_revokes_an_invitation(login):
    owner_api = login(ProviderFactory())
    firm = _create_firm(owner_api)
    invitee = ProviderFactory()
    invitation = _invite(owner_api, firm["id"], invitee.email)
    path = f"organizations/{firm['id']}/invitations/{invitation['id']}"

    assert login(invitee).delete(path).status_code == 404
    assert owner_api.delete(path).get_json()["status"] == "revoked"
    assert _accept(login(invitee), invitation).status_code == 404


def test_joining_with_live_personal_work_is_refused(login):
    owner_api = login(ClientFactory())
    company = owner_api.post("organizations", json={"name": "Acme"}).get_json()
    busy = ClientFactory()
    busy_api = login(busy)
    busy_api.post("tasks", json=task_payload())
    invitation = _invite(owner_api, company["id"], busy.email)

    response = _accept(busy_api, invitation)

    assert response.status_code == 409
    assert busy_api.get("tasks?mine=true").get_json()["total"] == 1
