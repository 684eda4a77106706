"""Provider and client profiles: edits, validation, firms acting together, privacy."""

from __future__ import annotations

import pytest

from marketplace.extensions import db
from tests.factories import ClientFactory, ProviderFactory, make_firm

FULL_PROFILE = {
    "headline": "Bookkeeper and inbox wrangler",
    "bio": "Seven years with Xero and QuickBooks.",
    "hourly_rate": {"amount": 1800, "currency": "usd"},
    "languages": ["en", "tl"],
    "timezone": "Asia/Manila",
    "country": "PH",
    "working_hours": {"mon": [["22:00", "06:00"]], "tue": [["09:00", "12:00"], ["13:00", "17:00"]]},
    "capacity_hours_per_week": 30,
    "skills": [
        {"slug": "bookkeeping", "level": 4, "years": 7},
        {"slug": "inbox-management", "level": 3},
    ],
}


def test_provider_edits_own_profile(login):
    user = ProviderFactory()
    api = login(user)

    response = api.put("providers/me", json=FULL_PROFILE)

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["hourly_rate"] == {"amount": 1800, "currency": "usd"}
    assert body["working_hours"] == FULL_PROFILE["working_hours"]
    assert [(s["slug"], s["level"], s["years"]) for s in body["skills"]] == [
        ("bookkeeping", 4, 7),
        ("inbox-management", 3, 0),
    ]
    assert body["kind"] == "individual"
    assert body["display_name"] == user.name
    assert api.get("providers/me").get_json() == body

    response = api.put("providers/me", json={"headline": "Only this changes"})
    assert response.get_json()["skills"] == body["skills"]
    assert response.get_json()["headline"] == "Only this changes"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"timezone": "Asia/Atlantis"}, "timezone"),
        ({"country": "ZZ"}, "country"),
        ({"working_hours": {"mon": [["09:00", "17:00"], ["16:00", "18:00"]]}}, "working_hours"),
        (
            {"working_hours": {"mon": [["22:00", "06:00"]], "tue": [["05:00", "09:00"]]}},
            "working_hours",
        ),
        (
            {"working_hours": {"sun": [["20:00", "04:00"]], "mon": [["03:00", "05:00"]]}},
            "working_hours",
        ),
        ({"working_hours": {"mon": [["9am", "5pm"]]}}, "working_hours"),
        ({"working_hours": {"funday": [["09:00", "17:00"]]}}, "working_hours"),
        ({"working_hours": {"mon": [["09:00", "09:00"]]}}, "working_hours"),
        ({"hourly_rate": {"amount": -500, "currency": "usd"}}, "hourly_rate"),
        ({"hourly_rate": {"amount": 500, "currency": "doge"}}, "hourly_rate"),
        ({"hourly_rate": {"amount": 12.5, "currency": "usd"}}, "hourly_rate"),
        ({"languages": ["english"]}, "languages"),
        ({"skills": [{"slug": "bookkeeping", "level": 6}]}, "skills"),
        ({"skills": [{"slug": "basket-weaving", "level": 3}]}, "skills"),
        ({"skills": [{"slug": "payroll", "level": 3}, {"slug": "payroll", "level": 2}]}, "skills"),
        ({"capacity_hours_per_week": -1}, "capacity_hours_per_week"),
        ({"service_model": "bpo"}, "service_model"),
        ({"payouts_enabled": True}, "payouts_enabled"),
        ({"favourite_colour": "teal"}, "favourite_colour"),
        ({"skills": [{"level": 1, "years": 0}]}, "skills"),
        ({"hourly_rate": {"amount": 5}}, "hourly_rate"),
        ({"hourly_rate": {}}, "hourly_rate"),
    ],
)
def test_bad_provider_fields_get_a_422_and_change_nothing(login, change, field):
    user = ProviderFactory()
    api = login(user)
    before = api.get("providers/me").get_json()

    response = api.put("providers/me", json={"headline": "Should not be saved", **change})

    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"], error
    assert api.get("providers/me").get_json() == before


def test_unknown_skill_is_named_in_the_error(login):
    api = login(ProviderFactory())
    response = api.put("providers/me", json={"skills": [{"slug": "basket-weaving", "level": 3}]})
    assert response.get_json()["error"]["details"]["skills"] == ["Unknown skill: basket-weaving"]


def test_public_profile_hides_private_fields(login, api):
    owner = ProviderFactory()
    me = login(owner).get("providers/me").get_json()
    assert {"payouts_enabled", "stripe_account_id", "user_id"} <= set(me)

    for viewer in (api, login(ClientFactory()), login(ProviderFactory())):
        response = viewer.get(f"providers/{me['id']}")
        assert response.status_code == 200
        public = response.get_json()
        assert public["headline"] == me["headline"]
        assert not {
            "payouts_enabled",
            "stripe_account_id",
            "user_id",
            "organization_id",
            "email",
        } & set(public)


def test_unknown_provider_is_404(api):
    response = api.get("providers/00000000-0000-0000-0000-000000000000")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


def test_profiles_are_for_their_role(login):
    client = login(ClientFactory())
    provider = login(ProviderFactory())
    assert client.get("providers/me").status_code == 403
    assert client.put("providers/me", json={"headline": "x"}).status_code == 403
    assert provider.get("clients/me").status_code == 403


def test_client_edits_own_profile_and_sees_only_its_own(login):
    ana, bo = ClientFactory(), ClientFactory()
    ana_api, bo_api = login(ana), login(bo)

    response = ana_api.put(
        "clients/me",
        json={
            "company_name": "Ana's Shop",
            "timezone": "Europe/London",
            "country": "GB",
            "working_hours": {"mon": [["08:30", "17:30"]]},
        },
    )

    assert response.status_code == 200
    assert response.get_json()["company_name"] == "Ana's Shop"
    assert bo_api.get("clients/me").get_json()["company_name"] != "Ana's Shop"
    bad = ana_api.put("clients/me", json={"timezone": "London"})
    assert bad.status_code == 422
    assert "timezone" in bad.get_json()["error"]["details"]


@pytest.mark.parametrize("role", ["owner", "manager"])
def test_firm_owner_and_manager_edit_the_firm_profile(login, role):
    firm = make_firm(name="Manila Ops BPO", **{role: True})
    api = login(getattr(firm, role))

    response = api.put(
        "providers/me", json={"headline": "24/7 ticket desk", "service_model": "ito"}
    )

    assert response.status_code == 200
    body = response.get_json()
    assert (body["kind"], body["display_name"]) == ("firm", "Manila Ops BPO")
    assert body["organization_id"] == str(firm.organization.id)
    assert (body["headline"], body["service_model"]) == ("24/7 ticket desk", "ito")


def test_firm_agent_reads_but_cannot_edit_the_firm_profile(login):
    firm = make_firm(headline="Firm", agent=True)
    api = login(firm.agent)

    assert api.get("providers/me").get_json()["organization_id"] == str(firm.organization.id)
    response = api.put("providers/me", json={"headline": "Agent was here"})
    assert response.status_code == 403
    db.session.expire_all()
    assert api.get("providers/me").get_json()["headline"] == "Firm"


def test_an_empty_update_is_a_422(login):
    assert login(ProviderFactory()).put("providers/me", json={}).status_code == 422
    assert login(ClientFactory()).put("clients/me", json={}).status_code == 422
