"""A contract's KPIs against its targets (`GET /contracts/{id}/kpis`): every metric computed
with exact numbers from constructed messages, milestone steps, changes and counted work
reports; statuses and series per period in the client's zone; who may read them; and a
statement count that does not grow with the thread."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from marketplace.contracts.models import Contract, MilestoneStatus, MilestoneTransition
from marketplace.extensions import db
from marketplace.messaging import services as messaging
from marketplace.messaging.models import Message
from marketplace.record import clocks, events, kpis, samples
from marketplace.record.models import (
    Change,
    SlaSample,
    SlaSampleMark,
    WorkReport,
    WorkReportStatus,
)
from tests.factories import AdminFactory, ClientFactory, ProviderFactory
from tests.test_sla_clocks import award

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
NOW = datetime(2026, 1, 21, 11, 50, tzinfo=UTC)  # Wednesday of the third week


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of January 2026, in UTC."""
    return datetime(2026, 1, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def deal(login: Any) -> dict[str, Any]:
    return make_deal(login)


def make_deal(login: Any) -> dict[str, Any]:
    """A BPO contract (targets: responses 1 h, turnaround 24 h, errors 2 %, rework 5 %,
    learning 8 h) started on Monday 5 January 2026, with a provider who works 08:00-16:00
    UTC on weekdays and a client in UTC."""
    client = ClientFactory(timezone="UTC")
    provider = ProviderFactory(timezone="UTC")
    contract, client_api, provider_api = award(login, client, provider)
    contract.accepted_at = START
    db.session.commit()
    return {
        "contract": contract,
        "client": client,
        "provider": provider,
        "client_api": client_api,
        "provider_api": provider_api,
    }


def talk(contract: Contract, client: Any, provider: Any, *lines: tuple[datetime, str]) -> None:
    """Messages in the contract's thread: `(when, "c" or "p")`."""
    thread = messaging.contract_conversation(user=client, contract_id=contract.id).thread
    for when, who in lines:
        sender = client if who == "c" else provider
        db.session.add(Message(thread_id=thread.id, sender_id=sender.id, body="-", created_at=when))
    db.session.commit()


def step(milestone: Any, status: MilestoneStatus, when: datetime) -> None:
    db.session.add(
        MilestoneTransition(milestone_id=milestone.id, to_status=status, at=when, reason=None)
    )


def report(contract: Contract, provider: Any, first: date, **figures: Any) -> None:
    fields: dict[str, Any] = {
        "items_with_errors": 0,
        "satisfaction_responses": 0,
        "satisfaction_average": None,
        "improvement_suggestions": [],
        "sop_adherence": None,
        "status": WorkReportStatus.CONFIRMED,
        "created_at": datetime.combine(first + timedelta(days=7), datetime.min.time(), UTC),
        **figures,
    }
    db.session.add(
        WorkReport(
            contract_id=contract.id,
            submitted_by_id=provider.id,
            period_start=first,
            period_end=first + timedelta(days=6),
            **fields,
        )
    )


def change(contract: Contract, client: Any, announced: datetime, adopted: datetime | None) -> None:
    db.session.add(
        Change(
            contract_id=contract.id,
            announced_by_id=client.id,
            title="New refund policy",
            description="Refunds over $50 now need a photo.",
            to_adopt="Ask for the photo before refunding.",
            announced_at=announced,
            adopted_at=adopted,
        )
    )


def history(deal: dict[str, Any]) -> None:
    """Three weeks of a contract's life (the numbers each test expects are worked out in
    its comments)."""
    contract, client, provider = deal["contract"], deal["client"], deal["provider"]
    talk(
        contract, client, provider,
        # week 1: a first response in 30 minutes, next ones in 60 and 75 (overnight)
        (at(5, 9), "c"), (at(5, 9, 30), "p"),
        (at(5, 10), "c"), (at(5, 11), "p"),
        (at(5, 15, 30), "c"), (at(6, 8, 45), "p"),
        # week 2: after a quiet day, a first response in 240 minutes
        (at(14, 9), "c"), (at(14, 13), "p"),
        # week 3: a first response in 20, a next one in 10; then a first one running
        (at(19, 9), "c"), (at(19, 9, 20), "p"),
        (at(19, 10), "c"), (at(19, 10, 10), "p"),
        (at(21, 11), "c"),
    )  # fmt: skip
    first, second = sorted(contract.milestones, key=lambda m: m.position)
    first.due_date, second.due_date = date(2026, 1, 9), date(2026, 1, 16)
    step(first, MilestoneStatus.FUNDED, at(5, 8))
    step(first, MilestoneStatus.SUBMITTED, at(7, 8))  # 960 minutes, on time
    step(first, MilestoneStatus.CHANGES_REQUESTED, at(8, 10))
    step(first, MilestoneStatus.SUBMITTED, at(8, 14))  # 240 minutes
    step(second, MilestoneStatus.FUNDED, at(12, 8))
    step(second, MilestoneStatus.SUBMITTED, at(19, 12))  # 2400 + 240 minutes, late
    report(
        contract,
        provider,
        date(2026, 1, 5),
        items_received=100,
        items_completed=96,
        items_with_errors=1,
        satisfaction_responses=10,
        satisfaction_average=4.5,
        improvement_suggestions=["Macro for late parcels"],
        sop_adherence=1.0,
    )
    # Unanswered for 7 days: counts as confirmed.
    report(
        contract,
        provider,
        date(2026, 1, 12),
        items_received=200,
        items_completed=180,
        items_with_errors=5,
        satisfaction_responses=30,
        satisfaction_average=4.0,
        improvement_suggestions=["Tag refunds", "Merge duplicates"],
        sop_adherence=0.9,
        status=WorkReportStatus.SUBMITTED,
        created_at=at(12, 9),
    )
    # Not counted: submitted two days ago, and contested.
    report(
        contract,
        provider,
        date(2026, 1, 19),
        items_received=50,
        items_completed=1,
        status=WorkReportStatus.SUBMITTED,
        created_at=at(19, 9),
    )
    report(
        contract,
        provider,
        date(2026, 1, 26),
        items_received=50,
        items_completed=1,
        status=WorkReportStatus.CONTESTED,
        created_at=at(20, 9),
    )
    change(contract, client, at(6, 15), at(7, 10))  # adopted in 60 + 120 minutes
    change(contract, client, at(12, 8), None)  # overdue: 2400 + 480 + 480 + 230 so far
    change(contract, client, at(21, 8), None)  # 230 so far, within its 480
    db.session.commit()  # fmt: skip


def by_key(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {metric["key"]: metric for metric in body["metrics"]}


def brief(series: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [(str(p["period_start"]), p["actual"], p["samples"], p["status"]) for p in series]


def test_every_metric_with_exact_numbers(deal):
    history(deal)
    metrics = by_key(kpis.contract_kpis(deal["contract"], now=NOW))
    assert list(metrics) == [metric.key for metric in kpis.METRICS]

    first = metrics["first_response"]
    assert (first["target"], first["actual"], first["samples"]) == (60, 20, 1)
    # Met this week, but the response running for 50 of its 60 minutes puts it at risk.
    assert first["status"] == "at_risk"
    assert brief(first["series"]) == [
        ("2026-01-05", 30, 1, "met"),
        ("2026-01-12", 240, 1, "breached"),
        ("2026-01-19", 20, 1, "met"),
    ]
    assert [p["within_target"] for p in first["series"]] == [1.0, 0.0, 1.0]

    following = metrics["next_response"]
    assert (following["actual"], following["samples"], following["status"]) == (10, 1, "met")
    assert brief(following["series"]) == [
        ("2026-01-05", 67.5, 2, "breached"),  # median of 60 and 75; half within the hour
        ("2026-01-12", None, 0, "no_data"),
        ("2026-01-19", 10, 1, "met"),
    ]
    assert following["series"][0]["within_target"] == 0.5

    turnaround = metrics["turnaround"]
    assert (turnaround["target"], turnaround["actual"], turnaround["status"]) == (
        1440, 2640, "breached"
    )  # fmt: skip
    assert brief(turnaround["series"])[0] == ("2026-01-05", 600, 2, "met")  # 960 and 240

    on_time = metrics["on_time_rate"]  # by due date: the first on time, the second late
    assert brief(on_time["series"]) == [
        ("2026-01-05", 1.0, 1, "met"),
        ("2026-01-12", 0.0, 1, "breached"),
        ("2026-01-19", None, 0, "no_data"),
    ]
    assert (on_time["actual"], on_time["status"]) == (0.0, "breached")

    rework = metrics["rework_rate"]  # one changes request, three submissions
    assert (rework["target"], rework["samples"], rework["status"]) == (0.05, 3, "breached")
    assert rework["actual"] == pytest.approx(1 / 3)

    completion = metrics["completion_rate"]
    assert brief(completion["series"]) == [
        ("2026-01-05", 0.96, 1, "at_risk"),  # within 2 points of 95 %
        ("2026-01-12", 0.9, 1, "breached"),
        ("2026-01-19", None, 0, "no_data"),  # that week's report is not counted yet
    ]
    errors = metrics["error_rate"]  # (1 + 5) / (96 + 180)
    assert (errors["samples"], errors["status"]) == (2, "breached")
    assert errors["actual"] == pytest.approx(6 / 276)
    csat = metrics["csat"]  # (4.5 x 10 + 4.0 x 30) / 40
    assert (csat["target"], csat["actual"], csat["samples"], csat["status"]) == (
        4.0, 4.125, 40, "at_risk"
    )  # fmt: skip
    improvements = metrics["improvements"]
    assert (improvements["actual"], improvements["samples"], improvements["status"]) == (
        3, 2, "met"
    )  # fmt: skip
    assert brief(improvements["series"]) == [("2026-01-01", 3, 2, "met")]
    sop = metrics["sop_adherence"]  # two weeks from the contract's first Monday
    assert brief(sop["series"]) == [
        ("2026-01-05", 0.95, 2, "breached"),
        ("2026-01-19", None, 0, "no_data"),
    ]
    learning = metrics["learning_speed"]  # 180, and 3590 for the change still overdue
    assert (learning["target"], learning["actual"], learning["samples"]) == (480, 1885, 2)
    assert learning["status"] == "breached"


def test_the_contracts_response_clocks_carry_their_opening_messages_ids(deal):
    history(deal)
    found = clocks.contract_response_clocks(deal["contract"])
    assert [c.metric[0] for c in found] == ["f", "n", "n", "f", "f", "n", "f"]
    opening = db.session.get(Message, uuid.UUID(found[0].key))
    assert opening is not None and opening.created_at == at(5, 9)
    assert found[-1].running and not found[-2].running


def test_no_data_without_samples(deal):
    metrics = by_key(kpis.contract_kpis(deal["contract"], now=NOW))
    assert {m["status"] for m in metrics.values()} == {"no_data"}
    assert {m["samples"] for m in metrics.values()} == {0}
    assert len(metrics["first_response"]["series"]) == 3


def test_a_running_clock_past_its_target_breaches_and_an_improvement_short_month_is_at_risk(deal):
    contract, client, provider = deal["contract"], deal["client"], deal["provider"]
    talk(contract, client, provider, (at(21, 9), "c"))  # 170 minutes waiting at NOW
    report(contract, provider, date(2026, 1, 5), items_received=10, items_completed=10)
    db.session.commit()
    metrics = by_key(kpis.contract_kpis(contract, now=NOW))
    assert (metrics["first_response"]["samples"], metrics["first_response"]["status"]) == (
        0, "breached"
    )  # fmt: skip
    # No suggestion yet this month, which is still running: at risk, not breached.
    assert (metrics["improvements"]["actual"], metrics["improvements"]["status"]) == (0, "at_risk")
    february = by_key(kpis.contract_kpis(contract, now=datetime(2026, 2, 2, tzinfo=UTC)))
    assert brief(february["improvements"]["series"])[0] == ("2026-01-01", 0, 1, "breached")


def test_periods_start_in_the_clients_zone(login):
    client = ClientFactory(timezone="America/New_York")
    provider = ProviderFactory(timezone="UTC")
    contract, *_ = award(login, client, provider)
    contract.accepted_at = START + timedelta(hours=12)  # Monday 07:00 in New York
    # Answered on Sunday 11 January 23:30 in New York (Monday 04:30 UTC): the first week
    # there; an hour of service time (Friday 15:00-16:00 UTC), at risk of its hour.
    talk(contract, client, provider, (at(9, 15), "c"), (at(12, 4, 30), "p"))
    metrics = by_key(kpis.contract_kpis(contract, now=NOW))
    assert brief(metrics["first_response"]["series"])[:2] == [
        ("2026-01-05", 60, 1, "at_risk"),
        ("2026-01-12", None, 0, "no_data"),
    ]


def test_targets_come_from_the_terms_and_the_award_overrides_them(login):
    client, provider = ClientFactory(), ProviderFactory()
    contract, *_ = award(login, client, provider)
    sla = contract.current_terms.content["sla"]
    assert (sla["min_completion_rate"], sla["min_sop_adherence"], sla["min_csat"]) == (
        0.95, 1.0, 4.0
    )  # fmt: skip
    assert (sla["max_error_rate"], sla["min_improvements_per_month"]) == (0.02, 2)


def test_parties_and_admins_read_the_kpis_outsiders_get_404(deal, login):
    history(deal)
    path = f"contracts/{deal['contract'].id}/kpis"
    with time_machine.travel(NOW, tick=False):
        # Signed in on the day (a session from December is not valid in January).
        for reader in (login(deal["client"]), login(deal["provider"]), login(AdminFactory())):
            response = reader.get(path)
            assert response.status_code == 200, response.get_json()
        body = response.get_json()
        for outsider in (login(ClientFactory()), login(ProviderFactory())):
            response = outsider.get(path)
            assert response.status_code == 404
            assert "metrics" not in response.get_json()
        assert login(ClientFactory()).get(f"contracts/{uuid.uuid4()}/kpis").status_code == 404
    metrics = by_key(body)
    assert metrics["first_response"]["series"][1] == {
        "period_start": "2026-01-12",
        "actual": 240.0,
        "samples": 1,
        "status": "breached",
        "within_target": 0.0,
    }
    assert metrics["csat"]["actual"] == 4.125


def test_the_statement_count_does_not_grow_with_the_thread(deal, login, count_statements):
    contract, client, provider = deal["contract"], deal["client"], deal["provider"]
    path = f"contracts/{contract.id}/kpis"
    talk(contract, client, provider, (at(2, 9), "c"), (at(2, 10), "p"))
    with time_machine.travel(NOW, tick=False):
        assert login(client).get(path).status_code == 200  # the samples' mark is set
    counts, quiet = [], []
    for week in range(2):
        lines = [
            (at(5 + 7 * week, 9) + timedelta(minutes=n), "c" if n % 2 == 0 else "p")
            for n in range(40 * (week + 1))
        ]
        talk(contract, client, provider, *lines)
        report(contract, provider, date(2026, 1, 5 + 7 * week), items_received=5,
               items_completed=5)  # fmt: skip
        change(contract, client, at(6 + 7 * week, 9), at(6 + 7 * week, 10))
        db.session.commit()
        with time_machine.travel(NOW, tick=False):
            reader = login(client)
            with count_statements() as log:  # new messages: counted and stored
                assert reader.get(path).status_code == 200
            counts.append(log.count)
            with count_statements() as again:  # nothing new
                assert reader.get(path).status_code == 200
            quiet.append(again.count)
    assert counts[0] == counts[1], log.report()
    assert counts[1] <= 24, log.report()
    # Nothing new: the snapshot is served (the user, the contract, its fingerprint and the
    # snapshot), and nothing is written.
    assert quiet[0] == quiet[1] <= 5, again.report()
    assert not [s for s in again.during if s.startswith(("INSERT", "UPDATE", "SAVEPOINT"))]


def test_a_second_read_with_nothing_new_counts_nothing(deal, login, count_statements):
    history(deal)
    contract = deal["contract"]
    path = f"contracts/{contract.id}/kpis"
    with time_machine.travel(NOW, tick=False):
        reader = login(deal["client"])
        with count_statements() as first:
            body = reader.get(path).get_json()
        with count_statements() as second:
            assert reader.get(path).get_json() == body
    assert any(s.startswith("INSERT INTO sla_samples") for s in first.during), first.report()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaSample)) == 6
    mark = db.session.get(SlaSampleMark, contract.id)
    assert (mark.messages, mark.last_message_at, mark.waiting_since) == (13, at(21, 11), at(21, 11))
    assert mark.waiting_metric == clocks.FIRST_RESPONSE
    # No message read, nothing written: the stored samples and the running wait are used.
    writes = ("SELECT messages.", "INSERT", "UPDATE", "DELETE", "SAVEPOINT")
    assert not [s for s in second.during if s.startswith(writes)], second.report()
    assert second.count < first.count


def recounted(contract: Contract, now: datetime) -> dict[str, Any]:
    """The KPIs counted from the first message again (the stored samples deleted)."""
    db.session.execute(sa.delete(SlaSample).where(SlaSample.contract_id == contract.id))
    db.session.execute(sa.delete(SlaSampleMark).where(SlaSampleMark.contract_id == contract.id))
    db.session.expire_all()
    return kpis.contract_kpis(contract, now=now)


def test_a_message_after_a_read_is_counted(deal):
    history(deal)
    contract, client, provider = deal["contract"], deal["client"], deal["provider"]
    kpis.contract_kpis(contract, now=NOW)
    # The first response running since 11:00 is answered at 11:30; then a new wait opens.
    talk(contract, client, provider, (at(21, 11, 30), "p"), (at(21, 11, 40), "c"))
    metrics = by_key(kpis.contract_kpis(contract, now=NOW))
    first = metrics["first_response"]
    assert brief(first["series"])[-1] == ("2026-01-19", 25, 2, "met")  # 20 and 30
    following = metrics["next_response"]
    assert (following["samples"], following["status"]) == (1, "met")  # 10 minutes waiting
    assert db.session.get(SlaSampleMark, contract.id).waiting_since == at(21, 11, 40)
    assert metrics == by_key(recounted(contract, NOW))


def test_a_message_dated_before_the_mark_recounts_the_thread(deal):
    history(deal)
    contract, client, provider = deal["contract"], deal["client"], deal["provider"]
    kpis.contract_kpis(contract, now=NOW)
    # An answer at 15:45 to the 15:30 question of 5 January: 15 minutes, not 75.
    talk(contract, client, provider, (at(5, 15, 45), "p"))
    metrics = by_key(kpis.contract_kpis(contract, now=NOW))
    assert brief(metrics["next_response"]["series"])[0] == ("2026-01-05", 37.5, 2, "met")
    assert metrics == by_key(recounted(contract, NOW))


def test_new_service_hours_recount_the_stored_samples(deal):
    history(deal)
    contract = deal["contract"]
    before = by_key(kpis.contract_kpis(contract, now=NOW))
    assert brief(before["next_response"]["series"])[0][1] == 67.5  # 60 and 75
    # An amendment: every hour of the week is service time now.
    terms = contract.current_terms
    every_day = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri",
                                                       "sat", "sun")}  # fmt: skip
    terms.content = {**terms.content, "service_hours": {"zone": "UTC", "hours": every_day}}
    db.session.commit()
    metrics = by_key(kpis.contract_kpis(contract, now=NOW))
    # 60, and 17 h 15 from 15:30 to 08:45 the next morning.
    assert brief(metrics["next_response"]["series"])[0] == ("2026-01-05", 547.5, 2, "breached")
    stored = db.session.scalars(sa.select(SlaSample.minutes).order_by(SlaSample.started_at))
    assert list(stored) == [30, 60, 1035, 240, 20, 10]
    assert metrics == by_key(recounted(contract, NOW))


def test_the_sla_evaluation_brings_the_samples_up_to_date(deal):
    history(deal)
    contract = deal["contract"]
    events.evaluate_contract(contract.id, now=NOW)
    db.session.commit()
    mark = db.session.get(SlaSampleMark, contract.id)
    assert (mark.messages, mark.waiting_since) == (13, at(21, 11))
    minutes = db.session.scalars(sa.select(SlaSample.minutes).order_by(SlaSample.started_at))
    assert list(minutes) == [30, 60, 75, 240, 20, 10]


def test_samples_stored_meanwhile_by_another_read_are_counted_without_storing(deal, monkeypatch):
    history(deal)
    contract = deal["contract"]
    expected = by_key(recounted(contract, NOW))
    db.session.execute(sa.delete(SlaSample))
    db.session.execute(sa.delete(SlaSampleMark))
    db.session.commit()
    count = samples._count

    def beaten(*args: Any, **kwargs: Any) -> Any:
        count(*args, **kwargs)
        raise sa.exc.IntegrityError("INSERT INTO sla_samples ...", {}, Exception("duplicate"))

    # A concurrent read stored the same samples first: this one's savepoint is rolled back,
    # and it counts the clocks without storing them.
    monkeypatch.setattr(samples, "_count", beaten)
    assert by_key(kpis.contract_kpis(contract, now=NOW)) == expected
    assert db.session.get(SlaSampleMark, contract.id) is None
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaSample)) == 0
