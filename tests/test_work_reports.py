"""Work reports: filing a period's figures, the client's answer, the 7-day window that makes
silence a confirmation, the figures that feed the record, and who may do what."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.files import services as files
from marketplace.files.models import FilePurpose
from marketplace.flows import contracts as contract_flows
from marketplace.notifications.models import Notification
from marketplace.profiles.models import ServiceModel
from marketplace.record import reports
from marketplace.record.models import WorkReport, WorkReportStatus
from marketplace.statemachine import StatusChange
from tests.factories import AdminFactory, ClientFactory, ProviderFactory
from tests.reports_support import Engagement, engagement

#: The contract starts on Monday 2 March 2026 (09:00 in New York); reports come a week on.
STARTED = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
FILED = datetime(2026, 3, 9, 15, 0, tzinfo=UTC)
WEEK_ONE = {"period_start": "2026-03-02", "period_end": "2026-03-08"}
FIGURES = {
    **WEEK_ONE,
    "items_received": 210,
    "items_completed": 200,
    "items_with_errors": 3,
    "items_reworked": 5,
    "escalations": 2,
    "satisfaction_responses": 40,
    "satisfaction_average": 4.6,
    "improvement_suggestions": ["A macro for late deliveries", "Tag refunds by reason"],
    "sop_adherence": 0.97,
    "notes": "Quiet week.",
}


@pytest.fixture
def deal(time_machine: Any) -> Engagement:
    time_machine.move_to(STARTED, tick=False)
    made = engagement()
    time_machine.move_to(FILED, tick=False)
    return made


def _file(api: Any, deal: Engagement, **overrides: Any) -> Any:
    return api.post(f"contracts/{deal.contract.id}/work-reports", json={**FIGURES, **overrides})


def _filed(login: Any, deal: Engagement, **overrides: Any) -> dict[str, Any]:
    response = _file(login(deal.firm_agent), deal, **overrides)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(WorkReport)) or 0


def test_any_member_of_the_firm_files_a_report_and_the_client_is_told(login, deal, sent_mail):
    response = _file(login(deal.firm_agent), deal)

    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert {k: body[k] for k in FIGURES} == FIGURES
    assert body["status"] == "submitted" and body["auto_confirmed"] is False
    assert body["contract_id"] == str(deal.contract.id)
    assert body["submitted_by_id"] == str(deal.firm_agent.id)
    assert body["answer_due"] == "2026-03-16T15:00:00+00:00"
    assert body["answered_at"] is None and body["contest_reason"] is None
    stored = db.session.get(WorkReport, UUID(body["id"]))
    assert stored.items_completed == 200 and stored.status == WorkReportStatus.SUBMITTED
    told = db.session.scalars(
        sa.select(Notification.user_id).where(
            Notification.data["contract_id"].as_string() == str(deal.contract.id),
            Notification.kind == "work_report.filed",
        )
    ).all()
    assert sorted(told) == sorted([deal.client_owner.id, deal.client_manager.id])
    mail = [m for m in sent_mail if m.to == deal.client_owner.email]
    assert [m.subject for m in mail][-1].startswith("Work report to confirm:")
    assert "2026-03-02 to 2026-03-08" in mail[-1].body


@pytest.mark.parametrize(
    ("overrides", "fields"),
    [
        ({"items_completed": 211}, {"items_completed"}),
        ({"items_with_errors": 201}, {"items_with_errors"}),
        (
            {"items_reworked": 201, "items_with_errors": 202},
            {"items_reworked", "items_with_errors"},
        ),
        ({"escalations": -1}, {"escalations"}),
        (
            {
                "items_received": -5,
                "items_completed": 0,
                "items_with_errors": 0,
                "items_reworked": 0,
            },
            {"items_received"},
        ),
        ({"satisfaction_average": 5.5}, {"satisfaction_average"}),
        ({"satisfaction_average": 0}, {"satisfaction_average"}),
        ({"satisfaction_average": None}, {"satisfaction_average"}),
        ({"satisfaction_responses": 0}, {"satisfaction_average"}),
        ({"sop_adherence": 1.5}, {"sop_adherence"}),
        ({"items_received": 1.5}, {"items_received"}),
    ],
)
def test_impossible_figures_are_refused_field_by_field_and_store_nothing(
    login, deal, overrides, fields
):
    response = _file(login(deal.firm_owner), deal, **overrides)

    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == fields
    assert _count() == 0
    assert (
        db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Notification)
            .where(Notification.kind == "work_report.filed")
        )
        == 0
    )


@pytest.mark.parametrize(
    ("period", "field", "message"),
    [
        ({"period_start": "2026-03-05", "period_end": "2026-03-04"}, "period_end", "ends before"),
        ({"period_start": "2026-03-02", "period_end": "2026-03-10"}, "period_end", "not ended"),
        ({"period_start": "2026-03-01", "period_end": "2026-03-08"}, "period_start", "2026-03-02"),
    ],
)
def test_a_period_must_have_ended_and_fall_within_the_contract(login, deal, period, field, message):
    response = _file(login(deal.firm_owner), deal, **period)

    assert response.status_code == 422
    assert message in " ".join(response.get_json()["error"]["details"][field])
    assert _count() == 0


def test_a_period_spans_at_most_31_days(login, deal, time_machine):
    time_machine.move_to(datetime(2026, 4, 20, 15, 0, tzinfo=UTC), tick=False)
    api = login(deal.firm_owner)

    long = _file(api, deal, period_start="2026-03-02", period_end="2026-04-02")
    assert long.status_code == 422
    assert long.get_json()["error"]["details"]["period_end"] == ["A report covers at most 31 days."]
    assert _file(api, deal, period_start="2026-03-02", period_end="2026-04-01").status_code == 201


def test_the_period_is_read_in_the_clients_zone(login, deal, time_machine):
    # 03:00 UTC on Tuesday is still Monday evening in New York: Monday has not ended there.
    time_machine.move_to(datetime(2026, 3, 10, 3, 0, tzinfo=UTC), tick=False)
    api = login(deal.firm_owner)

    early = _file(api, deal, period_start="2026-03-09", period_end="2026-03-10")
    assert early.status_code == 422
    assert _file(api, deal, period_start="2026-03-09", period_end="2026-03-09").status_code == 201


def test_overlapping_periods_are_refused_and_adjacent_ones_taken(login, deal):
    api = login(deal.firm_owner)
    first = _filed(login, deal)

    for start, end in (
        ("2026-03-08", "2026-03-08"),
        ("2026-03-02", "2026-03-02"),
        ("2026-03-03", "2026-03-04"),
    ):
        clash = _file(api, deal, period_start=start, period_end=end)
        assert clash.status_code == 409, (start, end)
        assert clash.get_json()["error"]["details"] == {"work_report_id": first["id"]}
    assert "overlapping" in clash.get_json()["error"]["message"]
    assert _count() == 1
    assert _file(api, deal, period_start="2026-03-09", period_end="2026-03-09").status_code == 201


def test_racing_reports_for_overlapping_periods_file_one(login):
    made = engagement()
    today = utcnow().astimezone(ZoneInfo("America/New_York")).date()
    body = {**FIGURES, "period_start": today.isoformat(), "period_end": today.isoformat()}
    path = f"contracts/{made.contract.id}/work-reports"
    apis = [login(made.firm_owner) for _ in range(6)]

    with ThreadPoolExecutor(max_workers=len(apis)) as pool:
        statuses = [
            f.result()
            for f in [
                pool.submit(lambda api=api: api.post(path, json=body).status_code) for api in apis
            ]
        ]

    assert sorted(statuses) == [201] + [409] * 5
    assert _count() == 1


def test_a_kpo_contract_takes_no_reports(login, time_machine):
    time_machine.move_to(STARTED, tick=False)
    made = engagement(ServiceModel.KPO)
    time_machine.move_to(FILED, tick=False)

    response = _file(login(made.firm_owner), made)

    assert response.status_code == 409
    assert "operations work" in response.get_json()["error"]["message"]
    assert _count() == 0


def test_only_active_or_paused_contracts_take_reports(login, deal):
    client_api = login(deal.client_owner)
    assert client_api.post(f"contracts/{deal.contract.id}/pause", json={}).status_code == 200
    assert _file(login(deal.firm_owner), deal).status_code == 201

    contract_flows.terminate(
        user=deal.client_owner, contract_id=deal.contract.id, reason="We closed the store."
    )
    late = _file(login(deal.firm_owner), deal, period_start="2026-03-09", period_end="2026-03-09")
    assert late.status_code == 409
    assert "terminated" in late.get_json()["error"]["message"]


def test_only_the_provider_side_files_and_outsiders_see_nothing(login, deal):
    assert _file(login(deal.client_owner), deal).status_code == 403
    assert _file(login(AdminFactory()), deal).status_code == 403
    assert _file(login(ProviderFactory()), deal).status_code == 404
    assert _file(login(ClientFactory()), deal).status_code == 404
    assert _count() == 0


def test_the_client_contests_then_confirms_and_the_provider_is_told(login, deal, sent_mail):
    report = _filed(login, deal)
    client = login(deal.client_manager)

    contested = client.post(
        f"work-reports/{report['id']}/contest", json={"reason": "We counted 180."}
    )
    assert contested.status_code == 200
    body = contested.get_json()
    assert body["status"] == "contested" and body["contest_reason"] == "We counted 180."
    assert body["answered_by_id"] == str(deal.client_manager.id)
    assert body["answered_at"] == "2026-03-09T15:00:00+00:00"
    assert any(
        m.to == deal.firm_owner.email
        and m.subject.startswith("Work report contested")
        and "We counted 180." in m.body
        for m in sent_mail
    )
    again = client.post(f"work-reports/{report['id']}/contest", json={"reason": "Still 180."})
    assert again.status_code == 409

    # A contested report never lapses into a confirmation.
    reports.confirm_lapsed(now=FILED + timedelta(days=30))
    listed = client.get(f"contracts/{deal.contract.id}/work-reports").get_json()
    assert listed["items"][0]["status"] == "contested"

    confirmed = client.post(f"work-reports/{report['id']}/confirm")
    assert confirmed.status_code == 200
    assert confirmed.get_json()["status"] == "confirmed"
    assert confirmed.get_json()["auto_confirmed"] is False
    assert any(
        m.subject.startswith("Work report confirmed")
        for m in sent_mail
        if m.to == deal.firm_owner.email
    )
    assert client.post(f"work-reports/{report['id']}/confirm").status_code == 409
    assert (
        client.post(f"work-reports/{report['id']}/contest", json={"reason": "Oops."}).status_code
        == 409
    )
    moves = db.session.scalars(
        sa.select(StatusChange.to_status)
        .where(StatusChange.entity_id == UUID(report["id"]))
        .order_by(StatusChange.at, StatusChange.id)
    ).all()
    assert moves == ["contested", "confirmed"]


def test_only_the_clients_signers_answer(login, deal):
    report = _filed(login, deal)
    path = f"work-reports/{report['id']}"

    assert login(deal.client_agent).post(f"{path}/confirm").status_code == 403
    assert login(deal.firm_owner).post(f"{path}/confirm").status_code == 403
    assert login(AdminFactory()).post(f"{path}/confirm").status_code == 403
    assert login(ClientFactory()).post(f"{path}/confirm").status_code == 404
    assert (
        login(ProviderFactory()).post(f"{path}/contest", json={"reason": "No."}).status_code == 404
    )
    missing = login(deal.client_owner).post(f"{path}/contest", json={})
    assert missing.status_code == 422 and "reason" in missing.get_json()["error"]["details"]
    assert db.session.get(WorkReport, UUID(report["id"])).status == WorkReportStatus.SUBMITTED


def test_an_unanswered_report_counts_as_confirmed_after_seven_days(login, deal, time_machine, app):
    report = _filed(login, deal)
    client = login(deal.client_owner)
    path = f"contracts/{deal.contract.id}/work-reports"

    time_machine.move_to(FILED + timedelta(days=7, seconds=-1), tick=False)
    assert client.get(path).get_json()["items"][0]["status"] == "submitted"
    assert db.session.scalars(reports.counted(deal.contract.id, utcnow())).all() == []

    time_machine.move_to(FILED + timedelta(days=7), tick=False)
    item = client.get(path).get_json()["items"][0]
    assert item["status"] == "confirmed" and item["auto_confirmed"] is True
    assert item["answered_at"] == "2026-03-16T15:00:00+00:00" and item["answered_by_id"] is None
    assert [r.id for r in db.session.scalars(reports.counted(deal.contract.id, utcnow()))] == [
        db.session.get(WorkReport, UUID(report["id"])).id
    ]
    late = client.post(f"work-reports/{report['id']}/confirm")
    assert late.status_code == 409 and "counts as confirmed" in late.get_json()["error"]["message"]
    assert (
        client.post(
            f"work-reports/{report['id']}/contest", json={"reason": "Too late."}
        ).status_code
        == 409
    )

    time_machine.move_to(FILED + timedelta(days=9), tick=False)
    result = app.test_cli_runner().invoke(args=["confirm-work-reports"])
    assert result.output.strip() == "confirmed 1 work reports"
    db.session.expire_all()
    stored = db.session.get(WorkReport, UUID(report["id"]))
    assert stored.status == WorkReportStatus.CONFIRMED and stored.answered_by_id is None
    assert stored.answered_at == datetime(2026, 3, 16, 15, 0, tzinfo=UTC)
    assert reports.confirm_lapsed() == 0
    item = client.get(path).get_json()["items"][0]
    assert item["status"] == "confirmed" and item["auto_confirmed"] is True
    assert client.post(f"work-reports/{report['id']}/confirm").status_code == 409


def test_the_record_counts_confirmed_and_lapsed_reports_never_contested_ones(
    login, deal, time_machine
):
    ids = {}
    # Each filed at 15:00 UTC the day after its one-day period; the fresh one a week later.
    for day, name in ((2, "confirmed"), (3, "contested"), (4, "lapsed"), (5, "fresh")):
        filed = datetime(2026, 3, day + (8 if name == "fresh" else 1), 15, 0, tzinfo=UTC)
        time_machine.move_to(filed, tick=False)
        period = f"2026-03-0{day}"
        ids[name] = _filed(login, deal, period_start=period, period_end=period)["id"]
        client = login(deal.client_owner)
        if name == "confirmed":
            assert client.post(f"work-reports/{ids[name]}/confirm").status_code == 200
        if name == "contested":
            answer = client.post(f"work-reports/{ids[name]}/contest", json={"reason": "Wrong."})
            assert answer.status_code == 200
    now = datetime(2026, 3, 12, 15, 0, tzinfo=UTC)  # the lapsed one was filed on 5 March

    counted = {str(r.id) for r in db.session.scalars(reports.counted(deal.contract.id, now))}
    assert counted == {ids["confirmed"], ids["lapsed"]}
    earlier = now - timedelta(seconds=1)
    counted = {str(r.id) for r in db.session.scalars(reports.counted(deal.contract.id, earlier))}
    assert counted == {ids["confirmed"]}

    client.post(f"work-reports/{ids['contested']}/confirm")  # resolved
    counted = {str(r.id) for r in db.session.scalars(reports.counted(deal.contract.id, now))}
    assert counted == {ids["confirmed"], ids["lapsed"], ids["contested"]}


def test_the_list_shows_the_newest_period_first_to_the_parties_only(login, deal, time_machine):
    time_machine.move_to(datetime(2026, 3, 20, 15, 0, tzinfo=UTC), tick=False)
    for start, end in (
        ("2026-03-09", "2026-03-15"),
        ("2026-03-02", "2026-03-08"),
        ("2026-03-16", "2026-03-16"),
    ):
        _filed(login, deal, period_start=start, period_end=end)
    path = f"contracts/{deal.contract.id}/work-reports"

    page = login(deal.client_agent).get(path, query_string={"page_size": 2}).get_json()
    assert page["total"] == 3 and page["page_size"] == 2
    assert [i["period_start"] for i in page["items"]] == ["2026-03-16", "2026-03-09"]
    second = login(deal.firm_agent).get(path, query_string={"page": 2, "page_size": 2}).get_json()
    assert [i["period_start"] for i in second["items"]] == ["2026-03-02"]
    assert login(AdminFactory()).get(path).status_code == 200
    assert login(ClientFactory()).get(path).status_code == 404
    assert login(ProviderFactory()).get(path).status_code == 404


def test_files_attach_to_a_report_and_its_readers_get_them(login, deal):
    upload = files.upload(
        user=deal.firm_agent,
        purpose=FilePurpose.WORK_REPORT,
        stream=io.BytesIO(b"week,received,completed\n10,210,200\n"),
        filename="week-10.csv",
    )
    report = _filed(login, deal, files=[str(upload.id)])

    assert [f["id"] for f in report["files"]] == [str(upload.id)]
    assert login(deal.client_owner).get(f"files/{upload.id}").status_code == 200
    assert login(ClientFactory()).get(f"files/{upload.id}").status_code == 404
    foreign = files.upload(
        user=deal.firm_owner,
        purpose=FilePurpose.MESSAGE,
        stream=io.BytesIO(b"hello\n"),
        filename="note.txt",
    )
    wrong = _file(
        login(deal.firm_owner),
        deal,
        period_start="2026-03-09",
        period_end="2026-03-09",
        files=[str(foreign.id)],
    )
    assert wrong.status_code == 422
    assert _count() == 1


def test_report_dates_start_on_the_contract_day(deal):
    assert (
        reports.period_errors(
            deal.contract,
            reports.ReportFigures(
                period_start=date(2026, 3, 2),
                period_end=date(2026, 3, 8),
                items_received=1,
                items_completed=1,
            ),
        )
        == {}
    )
