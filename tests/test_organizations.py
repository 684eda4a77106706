"""Organizations: firms and companies, their owners and members."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.organizations.models import Membership
from marketplace.profiles.models import ClientProfile, ProviderProfile
from tests.factories import AdminFactory, ClientFactory, ProviderFactory


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


def test_owner_adds_and_removes_members_who_then_act_for_the_firm(login, sent_mail):
    owner_api = login(ProviderFactory())
    firm = _create_firm(owner_api)
    agent = ProviderFactory(email="agent@example.com")

    response = owner_api.post(
        f"organizations/{firm['id']}/members", json={"email": "AGENT@example.com", "role": "agent"}
    )

    assert response.status_code == 201
    assert response.get_json()["role"] == "agent"
    assert any(m.to == "agent@example.com" for m in sent_mail)
    agent_api = login(agent)
    assert agent_api.get("providers/me").get_json()["organization_id"] == firm["id"]
    assert len(agent_api.get(f"organizations/{firm['id']}").get_json()["members"]) == 2

    response = owner_api.delete(f"organizations/{firm['id']}/members/{agent.id}")
    assert response.status_code == 204
    assert agent_api.get(f"organizations/{firm['id']}").status_code == 404
    assert agent_api.get("providers/me").get_json()["kind"] == "individual"


def test_members_personal_provider_profiles_are_hidden_while_they_act_for_a_firm(login, api):
    owner = ProviderFactory()
    personal = login(owner).get("providers/me").get_json()["id"]
    assert api.get(f"providers/{personal}").status_code == 200

    firm = _create_firm(login(owner))

    assert api.get(f"providers/{personal}").status_code == 404
    assert (
        api.get(f"providers/{login(owner).get('providers/me').get_json()['id']}").get_json()[
            "display_name"
        ]
        == firm["name"]
    )


def test_only_the_owner_manages_members(login):
    owner_api = login(ProviderFactory())
    firm = _create_firm(owner_api)
    manager = ProviderFactory()
    owner_api.post(
        f"organizations/{firm['id']}/members", json={"email": manager.email, "role": "manager"}
    )
    newcomer = ProviderFactory()

    response = login(manager).post(
        f"organizations/{firm['id']}/members", json={"email": newcomer.email}
    )

    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Membership)) == 2


def test_member_rules(login):
    owner = ProviderFactory()
    owner_api = login(owner)
    firm = _create_firm(owner_api)
    path = f"organizations/{firm['id']}/members"
    client = ClientFactory()
    other_owner_api = login(ProviderFactory())
    taken = other_owner_api.post("organizations", json={"name": "Other"}).get_json()

    assert owner_api.post(path, json={"email": client.email}).status_code == 422
    assert owner_api.post(path, json={"email": "ghost@example.com"}).status_code == 422
    assert (
        owner_api.post(path, json={"email": ProviderFactory().email, "role": "owner"}).status_code
        == 422
    )
    other_owner = taken["members"][0]["email"]
    assert owner_api.post(path, json={"email": other_owner}).status_code == 409
    assert owner_api.post("organizations", json={"name": "Second"}).status_code == 409
    assert owner_api.delete(f"{path}/{owner.id}").status_code == 409


def test_outsiders_cannot_see_or_change_an_organization(login, api):
    firm = _create_firm(login(ProviderFactory()))
    outsider = login(ProviderFactory())
    victim = ProviderFactory()

    assert outsider.get(f"organizations/{firm['id']}").status_code == 404
    response = outsider.post(f"organizations/{firm['id']}/members", json={"email": victim.email})
    assert response.status_code == 404
    assert api.get(f"organizations/{firm['id']}").status_code == 401
    assert login(AdminFactory()).get(f"organizations/{firm['id']}").status_code == 200
