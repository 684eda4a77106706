"""Confidential details: gated by accepted terms, versioned, and every read logged."""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.tasks import terms
from marketplace.tasks.models import ConfidentialAccess, TermsAcceptance
from tests.factories import (
    AdminFactory,
    ClientFactory,
    ProviderFactory,
    make_firm,
    task_payload,
    terms_acceptance,
)


def _open_task(api, **overrides):
    task = api.post("tasks", json=task_payload(**overrides)).get_json()
    return api.post(f"tasks/{task['id']}/publish", json={}).get_json()["task"]


def _accept(api, task, **kwargs):
    """Accept the task's terms with the hash of their text as it reads now."""
    return api.post(f"tasks/{task['id']}/confidentiality", json=terms_acceptance(), **kwargs)


def test_provider_sees_only_the_public_part_until_accepting(login):
    client_api = login(ClientFactory())
    task = _open_task(client_api)
    provider = ProviderFactory()
    api = login(provider)

    public = api.get(f"tasks/{task['id']}").get_json()
    assert "confidential_details" not in public and "attachments" not in public
    assert public["confidentiality_terms"]["hash"] == task["confidentiality_terms"]["hash"]
    assert "Confidentiality terms" in public["confidentiality_terms"]["text"]
    response = api.get(f"tasks/{task['id']}/confidential")
    assert response.status_code == 404

    response = _accept(
        api,
        task,
        headers={"User-Agent": "pytest-browser"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    )
    assert response.status_code == 201
    acceptance = db.session.scalar(sa.select(TermsAcceptance))
    assert (acceptance.user_id, acceptance.ip_address, acceptance.user_agent) == (
        provider.id,
        "203.0.113.7",
        "pytest-browser",
    )
    assert acceptance.terms_hash == task["confidentiality_terms"]["hash"]
    assert acceptance.terms_version == 1

    response = api.get(f"tasks/{task['id']}/confidential")
    assert response.status_code == 200
    assert response.get_json()["confidential_details"].startswith("Macros")
    assert response.get_json()["attachments"][0]["sha256"] == "a" * 64


def test_every_read_is_logged_and_only_the_client_reads_the_log(login):
    client_api = login(ClientFactory())
    task = _open_task(client_api)
    provider = ProviderFactory()
    api = login(provider)
    _accept(api, task)
    api.get(f"tasks/{task['id']}/confidential", environ_base={"REMOTE_ADDR": "198.51.100.4"})
    api.get(f"tasks/{task['id']}/confidential")

    log = client_api.get(f"tasks/{task['id']}/confidential/access-log").get_json()

    assert log["total"] == 2
    assert {entry["user_id"] for entry in log["items"]} == {str(provider.id)}
    assert "198.51.100.4" in {entry["ip_address"] for entry in log["items"]}
    assert log["items"][0]["user_name"] == provider.name
    assert api.get(f"tasks/{task['id']}/confidential/access-log").status_code == 404
    assert (
        login(ClientFactory()).get(f"tasks/{task['id']}/confidential/access-log").status_code == 404
    )
    assert (
        login(AdminFactory()).get(f"tasks/{task['id']}/confidential/access-log").status_code == 200
    )


def test_changing_confidential_material_needs_a_new_acceptance(login):
    client_api = login(ClientFactory())
    task = _open_task(client_api)
    api = login(ProviderFactory())
    _accept(api, task)
    assert api.get(f"tasks/{task['id']}/confidential").status_code == 200

    edited = client_api.patch(
        f"tasks/{task['id']}", json={"title": "Same task, new title"}
    ).get_json()
    assert edited["confidentiality_terms"]["version"] == 1
    assert api.get(f"tasks/{task['id']}/confidential").status_code == 200

    edited = client_api.patch(
        f"tasks/{task['id']}", json={"confidential_details": "New SOP: refunds over $20."}
    ).get_json()
    assert edited["confidentiality_terms"]["version"] == 2
    # The hash names the terms' text only; it must not reveal anything about the details.
    assert edited["confidentiality_terms"]["hash"] == task["confidentiality_terms"]["hash"]
    assert api.get(f"tasks/{task['id']}/confidential").status_code == 404

    response = _accept(api, task)
    assert response.get_json()["terms_version"] == 2
    body = api.get(f"tasks/{task['id']}/confidential").get_json()
    assert body["confidential_details"] == "New SOP: refunds over $20."


def test_accepting_twice_records_one_acceptance(login):
    task = _open_task(login(ClientFactory()))
    api = login(ProviderFactory())
    first = _accept(api, task).get_json()
    second = _accept(api, task).get_json()
    assert first["id"] == second["id"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TermsAcceptance)) == 1


def test_a_firm_accepts_once_for_all_its_members(login):
    task = _open_task(login(ClientFactory()))
    firm = make_firm(manager=True, agent=True)

    _accept(login(firm.manager), task)

    assert login(firm.agent).get(f"tasks/{task['id']}/confidential").status_code == 200
    assert login(ProviderFactory()).get(f"tasks/{task['id']}/confidential").status_code == 404


def test_who_else_may_not_read_or_accept(login):
    task = _open_task(login(ClientFactory()))
    other_client = login(ClientFactory())
    assert other_client.get(f"tasks/{task['id']}/confidential").status_code == 404
    assert _accept(other_client, task).status_code == 403
    draft = login(ClientFactory()).post("tasks", json=task_payload()).get_json()
    provider = login(ProviderFactory())
    assert _accept(provider, draft).status_code == 404
    assert provider.get(f"tasks/{draft['id']}/confidential").status_code == 404


def test_owner_and_admin_read_and_are_logged_too(login):
    client_api = login(ClientFactory())
    task = _open_task(client_api)
    assert client_api.get(f"tasks/{task['id']}/confidential").status_code == 200
    assert login(AdminFactory()).get(f"tasks/{task['id']}/confidential").status_code == 200
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConfidentialAccess)) == 2


def test_public_tasks_show_details_to_any_provider_and_log_it(login):
    task = _open_task(login(ClientFactory()), confidentiality="public")
    assert task["confidentiality_terms"] is None
    api = login(ProviderFactory())
    assert api.get(f"tasks/{task['id']}/confidential").status_code == 200
    assert _accept(api, task).status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConfidentialAccess)) == 1


def test_lists_never_carry_confidential_details(login):
    client_api = login(ClientFactory())
    _open_task(client_api)
    provider_api = login(ProviderFactory())
    for api, path in [(provider_api, "tasks"), (client_api, "tasks?mine=true")]:
        items = api.get(path).get_json()["items"]
        assert items
        assert all("confidential_details" not in t and "attachments" not in t for t in items)


def test_the_public_hash_is_of_the_terms_text_alone(login):
    task = _open_task(login(ClientFactory()))
    text = task["confidentiality_terms"]["text"]
    assert task["confidentiality_terms"]["hash"] == hashlib.sha256(text.encode()).hexdigest()
    other = _open_task(login(ClientFactory()), confidential_details="Entirely different")
    assert other["confidentiality_terms"]["hash"] == task["confidentiality_terms"]["hash"]


def test_new_platform_terms_need_a_new_acceptance(login, monkeypatch):
    client_api = login(ClientFactory())
    task = _open_task(client_api)
    api = login(ProviderFactory())
    _accept(api, task)
    monkeypatch.setattr(terms, "TERMS_TEXT", terms.TERMS_TEXT + "6. A new clause.\n")
    assert api.get(f"tasks/{task['id']}/confidential").status_code == 404

    edited = client_api.patch(f"tasks/{task['id']}", json={"title": "Touched"}).get_json()

    assert edited["confidentiality_terms"]["version"] == 2
    assert "A new clause" in edited["confidentiality_terms"]["text"]
    assert api.get(f"tasks/{task['id']}/confidential").status_code == 404


def test_accepting_names_the_terms_read_and_refuses_stale_ones(login, monkeypatch):
    client_api = login(ClientFactory())
    task = _open_task(client_api)
    shown = task["confidentiality_terms"]
    api = login(ProviderFactory())
    path = f"tasks/{task['id']}/confidentiality"

    missing = api.post(path, json={})
    assert missing.status_code == 422
    assert "terms_hash" in missing.get_json()["error"]["details"]
    assert api.post(path, json={"terms_hash": "wrong"}).status_code == 422
    assert api.post(path, json={"terms_hash": "0" * 64}).status_code == 409
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TermsAcceptance)) == 0

    # The client changes the details after the provider read version 1 of the terms.
    client_api.patch(f"tasks/{task['id']}", json={"confidential_details": "New SOP v2."})
    stale = api.post(path, json={"terms_hash": shown["hash"], "terms_version": shown["version"]})
    assert stale.status_code == 409
    error = stale.get_json()["error"]
    assert error["code"] == "conflict"
    assert error["details"]["current_version"] == 2
    assert error["details"]["current_hash"] == shown["hash"]

    # New platform terms: the hash the provider was shown is no longer current.
    monkeypatch.setattr(terms, "TERMS_TEXT", terms.TERMS_TEXT + "6. A new clause.\n")
    stale = api.post(path, json={"terms_hash": shown["hash"]})
    assert stale.status_code == 409
    assert stale.get_json()["error"]["details"]["current_hash"] == terms.terms_hash()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(TermsAcceptance)) == 0

    accepted = api.post(path, json={"terms_hash": terms.terms_hash(), "terms_version": 2})
    assert accepted.status_code == 201
    assert accepted.get_json()["terms_hash"] == terms.terms_hash()
