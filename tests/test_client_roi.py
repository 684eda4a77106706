"""The realised return of a client's workflows (`GET /clients/me/roi`): the ledger's spend
per contract and month, the measured record's KPIs, the reported hours, the realised
monthly saving and the month-by-month series, and who may read it.

The money moves through the real flows (sandbox gateway): a trial task, its pilot funded
and released, the full contract extending it, a milestone of it funded and refunded.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest

from marketplace.contracts.models import Contract
from marketplace.extensions import db
from marketplace.payments import delivery, funding, payouts
from marketplace.record.kpis import METRICS
from marketplace.reporting.roi import months
from marketplace.workflows.models import Workflow
from marketplace.workflows.roi import half_up, monthly
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, make_company, task_payload
from tests.matching_world import client, provider
from tests.money import make_deal, money_post, usd

PATH = "clients/me/roi"
PILOT_BUDGET = {"type": "fixed", "min": 20_000, "max": 40_000, "currency": "usd"}
JAN, FEB, MAR = (datetime(2027, month, 10, 9, 0, tzinfo=UTC) for month in (1, 2, 3))

#: 10 h a week at 45.00 an hour: 10 x 4,500 x 52 / 12 = 195,000 a month.
SUPPORT = {"name": "Tier-one support tickets", "hours_per_week": 10, "in_house_rate": usd(4_500)}
SUPPORT_MONTHLY = 195_000
#: Answers that hand the work off (tier 3, a VA).
HANDED_OFF = {
    "repeatable": "high",
    "error_risk": "low",
    "proprietary_data": False,
    "brand_central": False,
    "has_sop": True,
    "time_need": "none",
    "rule_based": False,
}


def _workflow(api: Any, **fields: Any) -> uuid.UUID:
    response = api.post("workflows", json={**SUPPORT, **fields})
    assert response.status_code == 201, response.get_json()
    return uuid.UUID(response.get_json()["id"])


def _link(workflow_id: uuid.UUID, task_id: Any) -> None:
    """The workflow's pilot task (what `POST /workflows/{id}/pilot` records)."""
    workflow = db.session.get(Workflow, workflow_id)
    assert workflow is not None
    workflow.pilot_task_id = uuid.UUID(str(task_id))
    db.session.commit()


def _roi(api: Any) -> dict[str, Any]:
    """The answer, every amount of it (all in usd here) read as its integer."""
    response = api.get(PATH)
    assert response.status_code == 200, response.get_json()
    return _amounts(response.get_json())


def _amounts(value: Any) -> Any:
    """`value` with each `{"amount", "currency": "usd"}` replaced by its amount."""
    if isinstance(value, dict):
        if set(value) == {"amount", "currency"}:
            assert value["currency"] == "usd", value
            return value["amount"]
        return {key: _amounts(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_amounts(item) for item in value]
    return value


def _pay(client: Any, provider: Any, contract_id: Any, *, release: bool = True) -> None:
    """Fund every pending milestone of the contract (and release it unless told not to)."""
    contract = db.session.get(Contract, uuid.UUID(str(contract_id)))
    assert contract is not None
    for milestone in contract.milestones:
        funding.fund(user=client, milestone_id=milestone.id)
        if release:
            delivery.submit(user=provider, milestone_id=milestone.id, note="Done.", deliverables=[])
            delivery.approve(user=client, milestone_id=milestone.id)


@pytest.fixture
def pilot(login, time_machine):
    """In January 2027: a client's workflow whose trial task's pilot (30,000) was funded
    and released, and extended into a full contract (50,000 + 40,000), still offered."""
    time_machine.move_to(JAN, tick=False)
    client, provider = ClientFactory(), ProviderFactory()
    client_api, provider_api = login(client), login(provider)
    workflow_id = _workflow(client_api)
    task = client_api.post(
        "tasks",
        json=task_payload(trial=True, confidentiality="public", budget=PILOT_BUDGET),
    ).get_json()
    client_api.post(f"tasks/{task['id']}/publish", json={})
    _link(workflow_id, task["id"])
    bid = provider_api.post(
        f"tasks/{task['id']}/bids",
        json={
            "price": usd(30_000),
            "milestones": [{"title": "One month of tickets", "amount": usd(30_000)}],
            "timeline_days": 30,
            "cover_letter": "We run support queues for Shopify stores every day.",
        },
    ).get_json()
    pilot = client_api.post(f"bids/{bid['id']}/accept", json={}).get_json()
    assert provider_api.post(f"contracts/{pilot['id']}/accept").status_code == 200
    payouts.start_onboarding(user=provider)
    _pay(client, provider, pilot["id"])
    full = client_api.post(
        f"contracts/{pilot['id']}/extend",
        json={
            "milestones": [
                {"title": "February", "amount": usd(50_000)},
                {"title": "March", "amount": usd(40_000)},
            ]
        },
    )
    assert full.status_code == 201, full.get_json()
    return {
        "client": client,
        "provider": provider,
        "client_api": client_api,
        "provider_api": provider_api,
        "workflow_id": workflow_id,
        "pilot_id": pilot["id"],
        "full_id": full.get_json()["id"],
    }


def _move_to(when: datetime, world: dict[str, Any], login: Any, time_machine: Any) -> None:
    """Move the clock on; both parties sign in again (a session lasts 14 days)."""
    time_machine.move_to(when, tick=False)
    world["client_api"], world["provider_api"] = login(world["client"]), login(world["provider"])


def _run_full_contract(world: dict[str, Any], login: Any, time_machine: Any) -> None:
    """The full contract accepted at once; in February both its milestones funded, the
    second refunded at the client's request."""
    accepted = world["provider_api"].post(f"contracts/{world['full_id']}/accept")
    assert accepted.status_code == 200, accepted.get_json()
    _move_to(FEB, world, login, time_machine)
    provider_api, client_api = world["provider_api"], world["client_api"]
    _pay(world["client"], world["provider"], world["full_id"], release=False)
    second = db.session.get(Contract, uuid.UUID(world["full_id"])).milestones[1].id
    requested = client_api.post(
        f"milestones/{second}/refund-request", json={"reason": "March is done in house."}
    )
    assert requested.status_code == 201, requested.get_json()
    approved = money_post(provider_api, f"milestones/{second}/refund-request/approve")
    assert approved.get_json()["status"] == "refunded", approved.get_json()


# Per workflow ----------------------------------------------------------------------------


def test_a_released_pilot_is_spend_of_its_month_and_the_offered_extension_has_no_record(pilot):
    raw = pilot["client_api"].get(PATH).get_json()
    assert raw["workflows"][0]["spend"] == usd(30_000)  # every amount is money
    assert raw["series"][0]["saving"] == usd(165_000)
    body = _roi(pilot["client_api"])

    (line,) = body["workflows"]
    pilot_line = line["contracts"][0]
    assert pilot_line["kpis"] is not None
    assert line == {
        "workflow_id": str(pilot["workflow_id"]),
        "name": "Tier-one support tickets",
        "currency": "usd",
        "in_house_monthly": SUPPORT_MONTHLY,
        "hours_saved_per_week": None,
        "estimate": None,
        "contracts": [
            {
                "id": pilot["pilot_id"],
                "status": "completed",
                "pilot": True,
                "spend": 30_000,  # funded; the release moves it on, it is still spent
                "kpis": pilot_line["kpis"],
            },
            {
                "id": pilot["full_id"],
                "status": "offered",
                "pilot": False,
                "spend": 0,
                "kpis": None,  # never accepted: no record
            },
        ],
        "spend": 30_000,
        # one month of spend: 195,000 - 30,000
        "realised_monthly_saving": 165_000,
    }
    assert body["series"] == [
        {"month": "2027-01", "currency": "usd", "baseline": 195_000, "spend": 30_000,
         "saving": 165_000},
    ]  # fmt: skip


def test_the_kpis_are_the_measured_records_current_figures(pilot):
    line = _roi(pilot["client_api"])["workflows"][0]["contracts"][0]

    served = pilot["client_api"].get(f"contracts/{pilot['pilot_id']}/kpis").get_json()
    assert [metric["key"] for metric in line["kpis"]["metrics"]] == [m.key for m in METRICS]
    assert line["kpis"] == {
        "metrics": [
            {name: value for name, value in metric.items() if name != "series"}
            for metric in served["metrics"]
        ]
    }


def test_a_refund_reduces_the_spend_of_its_month_and_the_series_runs_to_this_month(
    pilot, login, time_machine
):
    _run_full_contract(pilot, login, time_machine)
    _move_to(MAR, pilot, login, time_machine)

    body = _roi(pilot["client_api"])

    (line,) = body["workflows"]
    assert [(c["status"], c["pilot"], c["spend"]) for c in line["contracts"]] == [
        ("completed", True, 30_000),
        ("active", False, 50_000),  # 50,000 + 40,000 funded, 40,000 refunded
    ]
    assert line["contracts"][1]["kpis"] is not None
    assert line["spend"] == 80_000
    # 195,000 - 80,000 / 3 months (January to March) = 168,333.33...
    assert line["realised_monthly_saving"] == 168_333
    assert body["series"] == [
        {"month": "2027-01", "currency": "usd", "baseline": 195_000, "spend": 30_000,
         "saving": 165_000},
        {"month": "2027-02", "currency": "usd", "baseline": 195_000, "spend": 50_000,
         "saving": 145_000},
        {"month": "2027-03", "currency": "usd", "baseline": 195_000, "spend": 0,
         "saving": 195_000},
    ]  # fmt: skip


def test_the_hours_the_client_reports_saving_replace_the_in_house_hours(pilot, login, time_machine):
    _run_full_contract(pilot, login, time_machine)
    _move_to(MAR, pilot, login, time_machine)
    changed = pilot["client_api"].patch(
        f"workflows/{pilot['workflow_id']}", json={"hours_saved_per_week": 7.5}
    )
    assert changed.status_code == 200, changed.get_json()

    body = _roi(pilot["client_api"])

    (line,) = body["workflows"]
    assert line["hours_saved_per_week"] == 7.5
    assert line["in_house_monthly"] == SUPPORT_MONTHLY  # still the whole workflow's cost
    # 7.5 x 4,500 x 52 / 12 = 146,250; less 80,000 / 3 = 119,583.33...
    assert line["realised_monthly_saving"] == 119_583
    assert [(p["month"], p["baseline"], p["saving"]) for p in body["series"]] == [
        ("2027-01", 146_250, 116_250),
        ("2027-02", 146_250, 96_250),
        ("2027-03", 146_250, 146_250),
    ]


def test_a_workflow_is_in_the_baseline_while_its_work_is_handed_off(
    pilot, login, time_machine, count_statements
):
    _run_full_contract(pilot, login, time_machine)
    # Another workflow of the client (4 h a week at 30.00: 52,000 a month), whose own
    # task's contract is paid in February only; a third one has no pilot.
    later = _workflow(
        pilot["client_api"], name="Order entry", hours_per_week=4, in_house_rate=usd(3_000)
    )
    deal = make_deal((20_000,), client=pilot["client"])
    _link(later, deal.contract.task_id)
    _pay(pilot["client"], deal.provider, deal.contract_id)
    time_machine.move_to(FEB + timedelta(hours=1), tick=False)
    none = _workflow(pilot["client_api"], name="Bookkeeping")
    _move_to(MAR, pilot, login, time_machine)

    with count_statements() as log:
        body = _roi(pilot["client_api"])

    # The three contracts' spend comes from one aggregate query of the ledger.
    ledger_reads = [sql for sql in log.during if "ledger_entries" in sql]
    assert len(ledger_reads) == 1, log.report()
    by_id = {line["workflow_id"]: line for line in body["workflows"]}
    assert [line["workflow_id"] for line in body["workflows"]] == [
        str(none),
        str(later),
        str(pilot["workflow_id"]),
    ]  # newest first (created in February, February, January)
    assert by_id[str(none)]["contracts"] == []
    assert (by_id[str(none)]["spend"], by_id[str(none)]["realised_monthly_saving"]) == (0, None)
    other = by_id[str(later)]
    assert [(c["id"], c["pilot"], c["spend"]) for c in other["contracts"]] == [
        (str(deal.contract_id), True, 20_000)
    ]
    # Its contract was paid and completed in February, so its work was handed off that
    # month only: 52,000 - 20,000 / 1 month; the baseline has it in February alone.
    assert (other["in_house_monthly"], other["realised_monthly_saving"]) == (52_000, 32_000)
    assert body["series"] == [
        {"month": "2027-01", "currency": "usd", "baseline": 195_000, "spend": 30_000,
         "saving": 165_000},
        {"month": "2027-02", "currency": "usd", "baseline": 247_000, "spend": 70_000,
         "saving": 177_000},
        {"month": "2027-03", "currency": "usd", "baseline": 195_000, "spend": 0,
         "saving": 195_000},
    ]  # fmt: skip


def test_without_workflows_or_spend_there_is_no_series(login, time_machine):
    time_machine.move_to(JAN, tick=False)
    client_api = login(ClientFactory())
    assert _roi(client_api) == {"workflows": [], "series": []}

    _workflow(client_api)
    body = _roi(client_api)
    assert body["series"] == []
    assert body["workflows"][0]["realised_monthly_saving"] is None


def test_amounts_round_half_up_once_at_the_end():
    # 0.5 h a week at 0.03: 0.5 x 3 x 52 / 12 = 6.5 exactly; halves go away from zero,
    # as the estimate's do.
    assert monthly(Decimal("0.5"), 3) == Fraction(13, 2)
    assert half_up(Fraction(13, 2)) == 7
    assert half_up(Fraction(-13, 2)) == -7
    assert half_up(Fraction(20, 3)) == 7
    assert months("2026-11", "2027-02") == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert months("2027-02", "2027-01") == []


def test_the_estimate_is_the_recommendations_return(login, time_machine):
    time_machine.move_to(JAN, tick=False)
    owner = client("America/New_York", "US")
    for n, rate in enumerate((2_000, 2_500, 3_000, 3_500, 4_000)):
        provider(skills={"customer-support-tier1": (n + 1, 2)}, hourly_rate_amount=rate)
    owner_api = login(owner)
    audited = _workflow(owner_api, skills=["customer-support-tier1"], answers=HANDED_OFF)
    time_machine.move_to(JAN + timedelta(minutes=1), tick=False)
    _workflow(owner_api, name="Not audited yet")

    lines = _roi(owner_api)["workflows"]

    recommended = _amounts(owner_api.get(f"workflows/{audited}/recommendation").get_json())
    assert recommended["roi"] is not None
    assert [line["estimate"] for line in lines] == [
        None,  # answers missing: no recommendation
        {
            "monthly_saving": recommended["roi"]["monthly_saving"],
            "twelve_month": recommended["roi"]["twelve_month"],
        },
    ]


# Who sees what ---------------------------------------------------------------------------


def test_another_clients_workflows_never_appear(pilot, login):
    stranger = ClientFactory()
    stranger_api = login(stranger)
    theirs = _workflow(stranger_api, name="Their payroll")

    assert [line["workflow_id"] for line in _roi(stranger_api)["workflows"]] == [str(theirs)]
    assert [line["workflow_id"] for line in _roi(pilot["client_api"])["workflows"]] == [
        str(pilot["workflow_id"])
    ]


def test_any_member_of_a_company_sees_the_companys_workflows(login, time_machine):
    time_machine.move_to(JAN, tick=False)
    company = make_company(owner=True, agent=True)
    made = _workflow(login(company.owner))

    lines = _roi(login(company.agent))["workflows"]

    assert [line["workflow_id"] for line in lines] == [str(made)]


@pytest.mark.parametrize("factory", [ProviderFactory, AdminFactory])
def test_providers_and_admins_are_refused(login, factory):
    response = login(factory()).get(PATH)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


def test_signing_in_is_required(api):
    response = api.get(PATH)
    assert response.status_code == 401
