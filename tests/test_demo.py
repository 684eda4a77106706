"""`flask seed-demo`: demo accounts, firms and profiles, created once; demo data that shows
the product (a coverable coverage task, matches with real overlap, a deal with history)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction

import pyotp
import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask

from marketplace.accounts.models import User
from marketplace.demo import data
from marketplace.extensions import db
from marketplace.jobs.mail import Mail
from marketplace.jobs.models import OutboxEntry, OutboxStatus
from marketplace.organizations.models import Organization
from marketplace.profiles.models import ProviderProfile
from marketplace.tasks.models import Task
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


def _logins_table(output: str) -> list[str]:
    """The lines from the summary on: the summary, then the table of logins."""
    lines = output.splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith("Demo data ready")) :]


def _sign_in(api, local: str) -> None:
    login = {"email": f"{local}@{data.DOMAIN}", "password": data.PASSWORD}
    if local == data.ADMIN[0]:  # with the code of the published secret, as the seed says
        login["code"] = pyotp.TOTP(data.ADMIN_TOTP_SECRET).now()
    response = api.post("auth/login", json=login)
    assert response.status_code == 200, response.get_json()


def _filled_provider_profiles() -> list[ProviderProfile]:
    return [p for p in db.session.scalars(sa.select(ProviderProfile)) if p.working_hours]


def test_seed_demo_is_idempotent_and_prints_the_logins(app, api):
    first = _seed(app)

    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 20  # with the admin
    assert f"admin@{data.DOMAIN}" in first
    assert db.session.scalar(sa.select(sa.func.count(Organization.id))) == 4
    filled = _filled_provider_profiles()
    assert len(filled) == 12  # nine VAs and three firms
    assert {p.service_model.value for p in filled} == {"va", "bpo", "kpo", "ito"}
    assert len({p.timezone for p in filled}) >= 5
    for entry in data.CLIENTS + data.ASSISTANTS + data.FIRMS:
        for local, *_ in [entry["who"], *entry.get("members", [])]:
            assert f"{local}@{data.DOMAIN}" in first
    counts = _row_counts()

    second = _seed(app)

    db.session.expire_all()
    assert _row_counts() == counts
    assert _logins_table(second)[1:] == _logins_table(first)[1:]  # the same table of logins

    login = {"email": f"maria.va@{data.DOMAIN}", "password": data.PASSWORD}
    response = api.post("auth/login", json=login)
    assert response.status_code == 200, response.get_json()
    profile = api.get("providers/me").get_json()
    # Manila's Tuesday to Saturday daytime: New York's weeknights.
    assert profile["working_hours"]["tue"] == [["10:00", "19:00"]]
    assert "mon" not in profile["working_hours"]
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


def test_seed_demo_prints_the_logins_after_the_emails_it_sends(app, monkeypatch):
    """The first run's e-mails (welcomes, notifications) are printed before the table of
    logins, so that `make run` leaves the logins on screen."""

    class PrintingBackend:
        """Prints one line per e-mail to standard output, as the console backend does."""

        def send(self, mail: Mail) -> None:
            print(f"MAIL-SENT {mail.to}", flush=True)

    monkeypatch.setitem(app.extensions, "mail_backend", PrintingBackend())
    output = _seed(app)

    lines = output.splitlines()
    mails = [n for n, line in enumerate(lines) if line.startswith("MAIL-SENT ")]
    table = len(lines) - len(_logins_table(output))
    assert len(mails) > 20  # a welcome for each of the 19 people, then the deal's news
    assert max(mails) < table
    assert lines[table + 1].split() == ["E-MAIL", "ROLE", "WHO"]
    assert lines[-3].startswith(f"joao.ito@{data.DOMAIN}")  # the last login, then the
    # admin's two-factor secret and how to get its current code
    assert data.ADMIN_TOTP_SECRET in lines[-2] and "otpauth://totp/" in lines[-2]
    assert f"pyotp.TOTP('{data.ADMIN_TOTP_SECRET}').now()" in lines[-1]
    pending = sa.select(sa.func.count(OutboxEntry.id)).where(
        OutboxEntry.status == OutboxStatus.PENDING
    )
    assert db.session.scalar(pending) == 0  # everything the seeding queued went out


@pytest.mark.parametrize(
    "today",
    [datetime(2027, 1, 12, 15, tzinfo=UTC), datetime(2027, 7, 13, 15, tzinfo=UTC)],
    ids=["winter", "summer"],
)
def test_the_night_shift_task_is_fully_covered_summer_and_winter(app, api, today):
    """New York's weeknights (22:00-06:00) are Manila's daytime: the Manila VA covers them,
    whether New York is on EST or EDT."""
    with time_machine.travel(today, tick=True):
        _seed(app)
        _sign_in(api, "ana.client")
        mine = api.get("tasks?mine=true&page_size=100").get_json()["items"]
        task = next(
            t for t in mine if t["timezone_need"] and t["timezone_need"]["mode"] == "coverage"
        )
        response = api.post(f"tasks/{task['id']}/coverage-plan")

    assert response.status_code == 200, response.get_json()
    plan = response.get_json()
    assert plan["window_hours"] == 40
    assert plan["coverage_percent"] == 100
    assert plan["uncovered"] == []
    [chosen] = plan["providers"]
    assert chosen["covered_hours"] == 40
    maria = db.session.scalar(
        sa.select(ProviderProfile.id).join(User).where(User.email == f"maria.va@{data.DOMAIN}")
    )
    assert chosen["provider"]["id"] == str(maria)


def _deal_contracts(api) -> dict[str, dict]:
    """The signed-in party's contracts on the deal's task, by status."""
    task = db.session.scalar(sa.select(Task.id).where(Task.title == data.DEAL_TASK))
    items = api.get("contracts", query_string={"page_size": 100}).get_json()["items"]
    return {c["status"]: c for c in items if c["task_id"] == str(task)}


def test_demo_has_a_deal_with_history(app, api):
    """A running contract with a released, a submitted and a funded milestone, and a
    completed trial, with messages before and after the award, and statements and a
    ledger that show them."""
    _seed(app)

    _sign_in(api, "ana.client")
    contracts = _deal_contracts(api)
    assert sorted(contracts) == ["active", "completed"]
    contract, trial = contracts["active"], contracts["completed"]
    assert [(m["status"], m["amount"]) for m in contract["milestones"]] == [
        ("released", usd(30_000)),
        ("submitted", usd(120_000)),
        ("funded", usd(120_000)),
    ]
    assert [(m["status"], m["amount"]) for m in trial["milestones"]] == [("released", usd(40_000))]
    bids = api.get(f"tasks/{contract['task_id']}/bids").get_json()["items"]
    assert sorted(b["status"] for b in bids) == ["accepted", "accepted"]
    firm_bid = next(b for b in bids if b["id"] == contract["bid_id"])
    assert api.get(f"bids/{firm_bid['id']}/messages").get_json()["total"] == 2
    thread = api.get(f"contracts/{contract['id']}/messages").get_json()
    assert thread["total"] == 8
    # With the workflow audit's pilot (240) and its extension (three months of 468, two
    # released, the third funded).
    assert api.get("statements/me").get_json()["totals"] == [
        {
            "funded": usd(310_000 + 24_000 + 3 * 46_800),
            "refunded": usd(0),
            "released": usd(70_000 + 24_000 + 2 * 46_800),
            "spend": usd(310_000 + 24_000 + 3 * 46_800),
            "in_escrow": usd(240_000 + 46_800),
        }
    ]
    ledger = api.get(f"contracts/{contract['id']}/ledger").get_json()
    assert ledger["escrow"] == [{"amount": 240_000, "currency": "usd"}]
    kinds = sorted(t["kind"] for t in ledger["items"])
    assert kinds == ["funding", "funding", "funding", "payout", "release"]

    # The firm's side: the set-up milestone earned (less the 10 % fee) and paid out.
    _sign_in(api, "liza.bpo")
    assert api.get(f"contracts/{contract['id']}/messages").get_json()["total"] == 8
    earnings = api.get("statements/me").get_json()["totals"]
    assert [(e["earned"], e["fees"], e["paid_out"]) for e in earnings] == [
        (usd(27_000), usd(3_000), usd(27_000))
    ]
    result = app.test_cli_runner().invoke(args=["ledger-check"])
    assert result.exit_code == 0, result.output


def test_demo_has_a_measured_record(app, api):
    """Weeks of history on the firm's contract: a Friday-evening question answered past
    the one-hour target (at risk, breached, recovered), weekly reports confirmed,
    contested and unanswered (confirmed after 7 days), a change adopted in five service
    hours; the trial reviewed by both sides; and every provider's record stored."""
    _seed(app)
    _sign_in(api, "ana.client")
    contracts = _deal_contracts(api)
    contract, trial = contracts["active"]["id"], contracts["completed"]["id"]

    events = api.get(f"contracts/{contract}/sla-events").get_json()["items"]
    assert [(e["metric"], e["kind"]) for e in events] == [
        ("first_response", "recovered"),
        ("first_response", "breached"),
        ("first_response", "at_risk"),
    ]
    reports = api.get(f"contracts/{contract}/work-reports").get_json()["items"]
    assert [r["status"] for r in reports] == ["confirmed", "contested", "confirmed"]
    assert [r["auto_confirmed"] for r in reports] == [True, False, False]
    (change,) = api.get(f"contracts/{contract}/changes").get_json()["items"]
    assert change["adoption_minutes"] == 300
    kpis = {m["key"]: m for m in api.get(f"contracts/{contract}/kpis").get_json()["metrics"]}
    assert kpis["first_response"]["samples"] > 0
    assert kpis["learning_speed"]["status"] == "met"
    # Every item by the SOP, against a 100 % target: met, not "at risk".
    assert (kpis["sop_adherence"]["actual"], kpis["sop_adherence"]["status"]) == (1.0, "met")
    assert kpis["csat"]["actual"] == 4.6

    reviews = api.get(f"contracts/{trial}/reviews").get_json()["items"]
    assert sorted(r["rating"] for r in reviews) == [5, 5]
    assert all(r["published"] for r in reviews)
    valentina = db.session.scalar(
        sa.select(ProviderProfile.id)
        .join(User, User.id == ProviderProfile.user_id)
        .where(User.email == f"valentina.va@{data.DOMAIN}")
    )
    listed = api.get(f"providers/{valentina}/reviews").get_json()
    assert listed["summary"] == {"average_rating": 5.0, "count": 1}
    record = api.get(f"providers/{valentina}/record").get_json()
    assert record["windows"]["all"]["rating"] == {"value": None, "samples": 1, "shown": False}


def test_every_open_demo_task_has_a_match_with_real_overlap(app, api):
    """Each open task is matched by at least one provider whose working hours overlap the
    client's (or, for the coverage task, the window's) hours."""
    _seed(app)

    _sign_in(api, "admin")
    tasks = api.get("tasks?page_size=100").get_json()["items"]
    assert len(tasks) == len(data.task_drafts(date.today()))
    assert {t["status"] for t in tasks} == {"open"}
    for task in tasks:
        matches = api.get(f"tasks/{task['id']}/matches").get_json()
        overlaps = [m["explanation"]["overlap_hours"] for m in matches["items"]]
        assert matches["total"] >= 1, task["title"]
        assert max(overlaps) > 0, (task["title"], overlaps)


@pytest.mark.parametrize(
    ("today", "statuses", "this_week_minutes"),
    [
        # Wednesday 15:00 UTC: last week's invoice in review, the auditors' week paid and
        # in its security period, the week before released; this week's five stretches.
        (datetime(2027, 1, 13, 15, tzinfo=UTC), ["in_review", "paid", "released"], 630),
        # Monday 06:00 UTC: last week is still open for edits (invoiced at 12:00); this
        # week has its first morning.
        (datetime(2027, 1, 11, 6, tzinfo=UTC), ["paid", "released"], 120),
    ],
    ids=["wednesday", "monday-morning"],
)
def test_demo_has_an_hourly_contract_with_paid_weeks_and_an_open_one(
    app, api, time_machine, today, statuses, this_week_minutes
):
    """Northbank's bookkeeping by the Kolkata VA, by the hour: closed weeks invoiced and
    paid (their money on the ledger), one over its weekly limit with the over time paid
    as a bonus, and the current week open with the time logged so far."""
    time_machine.move_to(today, tick=False)
    _seed(app)

    _sign_in(api, "oliver.client")
    (contract,) = [
        c
        for c in api.get("contracts").get_json()["items"]
        if c["task"]["title"] == data.HOURLY_TASK
    ]
    assert contract["status"] == "active"
    assert contract["provider"]["display_name"] == "Priya Sharma"
    hourly = contract["current_terms"]["content"]["hourly"]
    assert hourly["rate"] == usd(1100)
    assert hourly["weekly_limits"][0]["hours"] == data.HOURLY_LIMIT_HOURS

    response = api.get(f"contracts/{contract['id']}/invoices")
    assert response.status_code == 200, response.get_json()
    invoices = response.get_json()["items"]
    assert [i["status"] for i in invoices] == statuses
    audit = next(i for i in invoices if i["status"] == "paid")
    assert (audit["logged_minutes"], audit["billed_minutes"]) == (1_290, 1_200)
    assert (audit["over_limit_minutes"], audit["amount"]) == (90, usd(22_000))  # 20 h x 11.00
    released = invoices[-1]
    assert (released["billed_minutes"], released["amount"]) == (1_050, usd(19_250))

    # Each paid week's money came in on the card and sits in escrow or went to the VA;
    # the bonus for the 1 h 30 min over the limit went to her at once.
    ledger = api.get(f"contracts/{contract['id']}/ledger?page_size=100").get_json()
    funded = {
        t["milestone_id"]: sum(
            e["amount"]["amount"] for e in t["entries"] if e["account_kind"] == "escrow"
        )
        for t in ledger["items"]
        if t["kind"] == "funding"
    }
    for invoice in invoices:
        if invoice["status"] in ("paid", "released"):
            assert funded.pop(invoice["milestone_id"]) == invoice["amount"]["amount"]
    assert list(funded.values()) == [1_650]  # the bonus
    assert ledger["escrow"] == [usd(22_000)]  # the auditors' week, in its security period
    assert sorted(t["kind"] for t in ledger["items"]).count("release") == 2

    week = today.date() - timedelta(days=today.weekday())
    response = api.get(f"contracts/{contract['id']}/time-entries?week={week}&page_size=100")
    assert response.status_code == 200, response.get_json()
    entries = response.get_json()["items"]
    assert sum(e["minutes"] for e in entries) == this_week_minutes
    assert all(datetime.fromisoformat(e["end"]) <= today for e in entries)
    assert {e["worker"]["name"] for e in entries} == {"Priya Sharma"}
    everything = api.get(f"contracts/{contract['id']}/time-entries?page_size=100").get_json()
    assert sum(e["over_limit_minutes"] for e in everything["items"]) == 90

    # The VA sees the same weeks; the agency's ops lead (a manager) too.
    for local in ("priya.va", "sophie.client"):
        _sign_in(api, local)
        listed = api.get(f"contracts/{contract['id']}/invoices").get_json()["items"]
        assert [i["status"] for i in listed] == statuses
    result = app.test_cli_runner().invoke(args=["ledger-check"])
    assert result.exit_code == 0, result.output


def test_demo_client_has_an_audit_with_a_pilot_extended(app, api):
    """Ana's audit: one workflow per tier, the data entry priced from the five data-entry
    VAs, piloted with Grace, extended, and reported as saving 10 hours a week."""
    _seed(app)
    _sign_in(api, "ana.client")

    listed = api.get("workflows").get_json()["items"]
    by_name = {w["name"]: w for w in listed}
    tiers = {
        name: api.get(f"workflows/{w['id']}/recommendation").get_json()["tier"]
        for name, w in by_name.items()
    }
    assert tiers == {
        "Pricing and promotions calendar": 1,
        "Monthly management accounts": 2,
        "Supplier invoice data entry": 3,
        "Order tagging and routing": 4,
    }
    piloted = by_name[data.PILOTED_WORKFLOW]
    advice = api.get(f"workflows/{piloted['id']}/recommendation").get_json()
    assert (advice["service_model"], advice["shoring"]) == ("va", "offshore")
    # Grace, Rafiq, Joy, Andrei and Thanh: $9, $8, $11, $12, $10 (Chidi's week is full).
    assert advice["market_rate"]["providers"] == {
        "count": 5,
        "p25": 900,
        "p50": 1_000,
        "p75": 1_100,
    }
    # 12 h a week at $32 is 166,400 a month in house; at $10, 52,000; Ana's time 10 % after
    # the first three months (16,640), 25 % and 15 % rework in them.
    assert advice["roi"]["monthly_saving"] == usd(166_400 - 52_000 - 16_640)
    assert advice["roi"]["months"][0]["saving"] == usd(166_400 - 52_000 - 41_600 - 24_960)
    assert advice["roi"]["payback_month"] == 1
    assert advice["pilot"]["budget"] == usd(24_000)  # 24 h at the median rate

    assert piloted["hours_saved_per_week"] == 10
    pilot = piloted["pilot"]
    assert pilot["task"]["status"] == "filled"
    assert pilot["contract"]["status"] == "completed"
    assert pilot["extension"]["status"] == "active"
    task = api.get(f"tasks/{pilot['task']['id']}").get_json()
    assert (task["trial"], task["budget"]["max"]) == (True, 24_000)
    full = api.get(f"contracts/{pilot['extension']['id']}").get_json()
    assert full["pilot_of_id"] == pilot["contract"]["id"]
    assert [m["status"] for m in full["milestones"]] == ["released", "released", "funded"]
    for name, workflow in by_name.items():
        if name != data.PILOTED_WORKFLOW:
            assert workflow["pilot"] is None

    # The realised return: $240 for the pilot, then 3 x $468 funded into the extension.
    roi = api.get("clients/me/roi").get_json()
    (line,) = [w for w in roi["workflows"] if w["spend"]["amount"]]
    assert line["workflow_id"] == piloted["id"]
    assert [(c["pilot"], c["spend"]) for c in line["contracts"]] == [
        (True, usd(24_000)),
        (False, usd(3 * 46_800)),
    ]
    assert line["estimate"]["monthly_saving"] == advice["roi"]["monthly_saving"]
    series = roi["series"]
    spent = 24_000 + 3 * 46_800
    assert sum(row["spend"]["amount"] for row in series) == spent
    assert line["spend"] == usd(spent)
    # 10 hours a week saved at $32 is 138,666.67 a month, less the average monthly spend
    # over the months handed off (the extension still runs: every month of the series).
    saved = Fraction(10 * 3_200 * 52, 12)
    realised = round(saved - Fraction(spent, len(series)))
    assert line["realised_monthly_saving"] == usd(realised)
    assert {row["baseline"]["amount"] for row in series} == {138_667}
