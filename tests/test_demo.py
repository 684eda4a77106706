"""`flask seed-demo`: demo accounts, firms and profiles, created once."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Flask

from marketplace.accounts.models import User
from marketplace.demo import data
from marketplace.extensions import db
from marketplace.organizations.models import Organization
from marketplace.profiles.models import ProviderProfile
from tests.money import usd


def _seed(app: Flask) -> str:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def _row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


def _filled_provider_profiles() -> list[ProviderProfile]:
    return [p for p in db.session.scalars(sa.select(ProviderProfile)) if p.working_hours]


def test_seed_demo_is_idempotent_and_prints_the_logins(app, api):
    first = _seed(app)

    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 15  # with the admin
    assert f"admin@{data.DOMAIN}" in first
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 4
    filled = _filled_provider_profiles()
    assert len(filled) == 7  # four VAs and three firms
    assert {p.service_model.value for p in filled} == {"va", "bpo", "kpo", "ito"}
    assert len({p.timezone for p in filled}) >= 5
    for entry in data.CLIENTS + data.ASSISTANTS + data.FIRMS:
        for local, *_ in [entry["who"], *entry.get("members", [])]:
            assert f"{local}@{data.DOMAIN}" in first
    counts = _row_counts()

    second = _seed(app)

    db.session.expire_all()
    assert _row_counts() == counts
    assert second.splitlines()[1:] == first.splitlines()[1:]  # the same table of logins

    login = {"email": f"maria.va@{data.DOMAIN}", "password": data.PASSWORD}
    response = api.post("auth/login", json=login)
    assert response.status_code == 200, response.get_json()
    profile = api.get("providers/me").get_json()
    assert profile["working_hours"]["mon"] == [["22:00", "06:00"]]
    assert profile["hourly_rate"] == {"amount": 1200, "currency": "usd"}

    # A BPO agent acts for the firm's profile.
    login = {"email": f"paolo.bpo@{data.DOMAIN}", "password": data.PASSWORD}
    assert api.post("auth/login", json=login).status_code == 200
    profile = api.get("providers/me").get_json()
    assert profile["kind"] == "firm"
    assert profile["service_model"] == "bpo"
    assert profile["timezone"] == "Asia/Manila"
    assert "customer-support-tier1" in {skill["slug"] for skill in profile["skills"]}


def test_demo_has_open_tasks_of_every_service_model_some_confidential(app, api):
    _seed(app)

    login = {"email": f"paolo.bpo@{data.DOMAIN}", "password": data.PASSWORD}
    assert api.post("auth/login", json=login).status_code == 200
    tasks = api.get("tasks?page_size=100").get_json()["items"]

    assert len(tasks) == len(data.task_drafts(date.today()))
    assert {t["status"] for t in tasks} == {"open"}
    assert {t["service_model"] for t in tasks} == {"va", "bpo", "ito", "kpo"}
    confidential = [t for t in tasks if t["confidentiality"] == "terms_required"]
    assert confidential
    task_id = confidential[0]["id"]
    assert api.get(f"tasks/{task_id}/confidential").status_code == 404
    seen = {"terms_hash": confidential[0]["confidentiality_terms"]["hash"]}
    assert api.post(f"tasks/{task_id}/confidentiality", json=seen).status_code == 201
    assert api.get(f"tasks/{task_id}/confidential").get_json()["confidential_details"]


def test_seed_demo_refuses_production(app, monkeypatch):
    monkeypatch.setitem(app.config, "ENV_NAME", "production")
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "never in production" in result.output
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_demo_has_a_running_contract_with_messages(app, api):
    _seed(app)

    login = {"email": f"ana.client@{data.DOMAIN}", "password": data.PASSWORD}
    assert api.post("auth/login", json=login).status_code == 200
    contracts = api.get("contracts").get_json()["items"]
    assert [c["status"] for c in contracts] == ["active"]
    task_id = contracts[0]["task_id"]
    bids = api.get(f"tasks/{task_id}/bids").get_json()["items"]
    assert sorted(b["status"] for b in bids) == ["accepted", "submitted"]
    accepted = next(b for b in bids if b["status"] == "accepted")
    assert api.get(f"bids/{accepted['id']}/messages").get_json()["total"] == 2
    assert [m["status"] for m in contracts[0]["milestones"]] == ["released", "submitted"]
    statement = api.get("statements/me").get_json()["totals"]
    assert statement == [
        {
            "funded": usd(150_000),
            "refunded": usd(0),
            "released": usd(30_000),
            "spend": usd(150_000),
            "in_escrow": usd(120_000),
        }
    ]
    result = app.test_cli_runner().invoke(args=["ledger-check"])
    assert result.exit_code == 0, result.output


def test_every_demo_task_has_matches(app, api):
    _seed(app)

    assert (
        api.post(
            "auth/login", json={"email": f"admin@{data.DOMAIN}", "password": data.PASSWORD}
        ).status_code
        == 200
    )
    tasks = api.get("tasks?page_size=100").get_json()["items"]
    assert len(tasks) == len(data.task_drafts(date.today()))
    for task in tasks:
        matches = api.get(f"tasks/{task['id']}/matches").get_json()
        assert matches["total"] >= 1, task["title"]
