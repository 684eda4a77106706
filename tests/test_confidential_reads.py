"""Confidential material wherever it is served: every read is in the task's access log, and
a contract keeps serving the version it was made with after the client changes the details."""

from __future__ import annotations

import marshmallow as ma
import pytest
import sqlalchemy as sa

from marketplace.contracts.schemas import TermsContentField
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.tasks.models import ConfidentialAccess
from marketplace.tasks.schemas import ConfidentialSchema
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, task_payload
from tests.factories import terms_acceptance as accepted
from tests.money import usd

FIXED = {"type": "fixed", "min": 50_000, "max": 120_000, "currency": "usd"}
BID = {
    "price": {"amount": 100_000, "currency": "usd"},
    "milestones": [{"title": "The whole month", "amount": usd(100_000)}],
    "timeline_days": 30,
    "cover_letter": "We run support queues for Shopify stores every day.",
}
OLD_DETAILS = "Macros live in the shared drive; refunds over $50 escalate."
NEW_DETAILS = "New SOP: refunds over $20 escalate to Dana."


@pytest.fixture
def deal(login):
    """A confidential task (two positions), Ana's accepted contract on it, and Bo's bid."""
    client, ana, bo = ClientFactory(), ProviderFactory(), ProviderFactory()
    client_api, ana_api, bo_api = login(client), login(ana), login(bo)
    task = client_api.post("tasks", json=task_payload(budget=FIXED)).get_json()
    client_api.post(f"tasks/{task['id']}/publish", json={})
    bids = {}
    for name, api in (("ana", ana_api), ("bo", bo_api)):
        api.post(f"tasks/{task['id']}/confidentiality", json=accepted())
        bids[name] = api.post(f"tasks/{task['id']}/bids", json=BID).get_json()
    contract = client_api.post(f"bids/{bids['ana']['id']}/accept", json={}).get_json()
    ana_api.post(f"contracts/{contract['id']}/accept")
    db.session.execute(sa.delete(ConfidentialAccess))  # start each test with an empty log
    db.session.commit()
    return {
        "client": client,
        "ana": ana,
        "bo": bo,
        "client_api": client_api,
        "ana_api": ana_api,
        "bo_api": bo_api,
        "task": task,
        "contract": contract,
    }


def _log(deal):
    path = f"tasks/{deal['task']['id']}/confidential/access-log"
    return deal["client_api"].get(path).get_json()["items"]


def test_a_provider_reading_its_contract_is_in_the_clients_access_log(deal):
    contract_id = deal["contract"]["id"]

    shown = deal["ana_api"].get(f"contracts/{contract_id}").get_json()
    history = deal["ana_api"].get(f"contracts/{contract_id}/terms").get_json()

    assert shown["current_terms"]["content"]["scope"]["confidential_details"] == OLD_DETAILS
    assert history["items"][0]["content"]["scope"]["confidential_details"] == OLD_DETAILS
    log = _log(deal)
    assert [(e["user_id"], e["terms_version"], e["via"]) for e in log] == [
        (str(deal["ana"].id), 1, "GET /api/v1/contracts/{contract_id}/terms"),
        (str(deal["ana"].id), 1, "GET /api/v1/contracts/{contract_id}"),
    ]
    assert {e["provider_profile_id"] for e in log} == {deal["contract"]["provider_profile_id"]}


def test_answers_that_carry_the_terms_are_reads_too(deal, login):
    contract_id = deal["contract"]["id"]
    deal["client_api"].post(f"contracts/{contract_id}/pause", json={})
    login(AdminFactory()).get(f"contracts/{contract_id}")

    # The client's own people and admins are logged as well: the client sees every reader.
    assert [e["via"] for e in _log(deal)] == [
        "GET /api/v1/contracts/{contract_id}",
        "POST /api/v1/contracts/{contract_id}/pause",
    ]


def test_contract_lists_withhold_the_confidential_part_and_log_nothing(deal):
    listed = deal["ana_api"].get("contracts").get_json()["items"]

    scope = listed[0]["current_terms"]["content"]["scope"]
    assert scope["confidential_details"] is None and scope["attachments"] is None
    assert scope["summary"] == deal["task"]["summary"]
    assert OLD_DETAILS not in str(listed)
    assert _log(deal) == []


def test_the_contracted_provider_keeps_its_version_and_hears_of_the_new_one(deal, sent_mail):
    task_path = f"tasks/{deal['task']['id']}"
    edited = deal["client_api"].patch(task_path, json={"confidential_details": NEW_DETAILS})
    assert edited.get_json()["confidentiality_terms"]["version"] == 2

    held = deal["ana_api"].get(f"{task_path}/confidential")
    assert held.status_code == 200
    assert (held.get_json()["confidential_details"], held.get_json()["terms_version"]) == (
        OLD_DETAILS,
        1,
    )
    assert deal["bo_api"].get(f"{task_path}/confidential").status_code == 404
    for person in (deal["ana"], deal["bo"]):
        kinds = db.session.scalars(
            sa.select(Notification.kind).where(Notification.user_id == person.id)
        ).all()
        assert "task.terms_changed" in kinds
        assert any(m.to == person.email and "version 2" in m.body for m in sent_mail)
    assert not db.session.scalars(
        sa.select(Notification).where(
            Notification.user_id == deal["client"].id, Notification.kind == "task.terms_changed"
        )
    ).all()

    deal["ana_api"].post(f"{task_path}/confidentiality", json=accepted())
    current = deal["ana_api"].get(f"{task_path}/confidential").get_json()
    assert (current["confidential_details"], current["terms_version"]) == (NEW_DETAILS, 2)
    # The contract's terms still say what was agreed.
    contract = deal["ana_api"].get(f"contracts/{deal['contract']['id']}").get_json()
    assert contract["current_terms"]["content"]["scope"]["confidential_details"] == OLD_DETAILS
    versions = [e["terms_version"] for e in _log(deal)]
    assert versions == [1, 2, 1]


def _schemas(base=ma.Schema):
    for schema in base.__subclasses__():
        yield schema
        yield from _schemas(schema)


def test_confidential_material_is_dumped_only_through_the_disclosure_service(app):
    """A guard against the next bypass: no response schema reads the material itself."""
    confidential = {"confidential_details", "attachments"}
    for schema in _schemas():
        if not schema.__module__.startswith("marketplace.") or schema.__module__.endswith(
            "input_schemas"  # bodies the client sends, never dumped
        ):
            continue
        for name, field in schema._declared_fields.items():
            source = field.attribute or name
            if source in confidential:
                assert schema is ConfidentialSchema, f"{schema.__name__}.{name}"
            if source == "content":
                assert isinstance(field, TermsContentField), f"{schema.__name__}.{name}"
