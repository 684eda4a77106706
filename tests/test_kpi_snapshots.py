"""The KPIs' snapshot: served while nothing they are computed from changed and time alone
cannot have changed them; computed again when a message, a report's answer or the terms
change, when a running clock reaches 75 % or 100 % of its target, and when a report's
answer window lapses. Every read must equal a computation from scratch."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from marketplace.extensions import db
from marketplace.record import kpis
from marketplace.record.models import KpiSnapshot, WorkReport, WorkReportStatus
from tests.test_kpis import at, by_key, make_deal, report, talk


@pytest.fixture
def deal(login: Any) -> dict[str, Any]:
    """The contract of `test_kpis`: a provider working 08:00-16:00 UTC on weekdays."""
    return make_deal(login)


def read(api: Any, contract: Any, moment: Any, count_statements: Any) -> tuple[dict, Any]:
    """The KPIs by key as the API serves them at `moment` to the user `api` signs in, and
    the statements it sent."""
    with time_machine.travel(moment, tick=False):
        reader = api()
        with count_statements() as log:
            response = reader.get(f"contracts/{contract.id}/kpis")
    assert response.status_code == 200
    return by_key(response.get_json()), log


def computed(log: Any) -> bool:
    """Whether the read computed the KPIs (it read the work reports' figures)."""
    return any(s.startswith("SELECT work_reports.period_start") for s in log.during)


def test_a_running_wait_turns_at_risk_then_breached_with_time_alone(deal, login, count_statements):
    contract, client = deal["contract"], deal["client"]
    # A question at 09:00 on Wednesday, in the provider's hours (08:00-16:00): the target is
    # one hour, so the wait is at risk after 09:45 and breached after 10:00.
    talk(contract, client, deal["provider"], (at(21, 9), "c"))
    api = lambda: login(client)  # noqa: E731
    first, log = read(api, contract, at(21, 9, 30), count_statements)
    assert computed(log)
    assert first["first_response"]["status"] == "no_data"
    snapshot = db.session.get(KpiSnapshot, contract.id)
    assert snapshot.valid_until == at(21, 9, 45)

    again, log = read(api, contract, at(21, 9, 44), count_statements)
    assert not computed(log), log.report()
    assert again == first

    risky, log = read(api, contract, at(21, 9, 46), count_statements)
    assert computed(log)
    assert risky["first_response"]["status"] == "at_risk"
    db.session.expire_all()
    assert db.session.get(KpiSnapshot, contract.id).valid_until == at(21, 10)

    late, _ = read(api, contract, at(21, 10, 1), count_statements)
    assert late["first_response"]["status"] == "breached"
    # The answer stops the clock: a new message changes what the KPIs are computed from.
    talk(contract, client, deal["provider"], (at(21, 10, 5), "p"))
    answered, log = read(api, contract, at(21, 10, 6), count_statements)
    assert computed(log)
    assert (answered["first_response"]["actual"], answered["first_response"]["samples"]) == (
        65.0,
        1,
    )
    # The same as a computation from scratch.
    db.session.execute(sa.delete(KpiSnapshot))
    db.session.commit()
    assert not db.session.scalars(sa.select(KpiSnapshot)).all()
    assert read(api, contract, at(21, 10, 6), count_statements)[0] == answered


def test_a_report_counts_when_its_answer_window_lapses(deal, login, count_statements):
    contract, provider = deal["contract"], deal["provider"]
    # Submitted on Wednesday 14 January at 10:00 and never answered: it counts as confirmed
    # from 10:00 on the 21st.
    report(
        contract,
        provider,
        date(2026, 1, 12),
        items_received=100,
        items_completed=90,
        status=WorkReportStatus.SUBMITTED,
        created_at=at(14, 10),
    )
    db.session.commit()
    api = lambda: login(deal["client"])  # noqa: E731
    before, _ = read(api, contract, at(21, 9, 30), count_statements)
    assert before["completion_rate"]["status"] == "no_data"
    assert db.session.get(KpiSnapshot, contract.id).valid_until == at(21, 10)

    after, log = read(api, contract, at(21, 10, 1), count_statements)
    assert computed(log)
    assert (after["completion_rate"]["actual"], after["completion_rate"]["status"]) == (
        0.9,
        "breached",
    )


def test_an_answer_to_a_report_is_read_at_once(deal, login, count_statements):
    contract, provider = deal["contract"], deal["provider"]
    report(
        contract,
        provider,
        date(2026, 1, 12),
        items_received=100,
        items_completed=99,
        status=WorkReportStatus.SUBMITTED,
        created_at=at(19, 10),
    )
    db.session.commit()
    api = lambda: login(deal["client"])  # noqa: E731
    before, _ = read(api, contract, at(21, 9), count_statements)
    assert before["completion_rate"]["status"] == "no_data"
    (report_id,) = db.session.scalars(sa.select(WorkReport.id))
    with time_machine.travel(at(21, 9, 5), tick=False):
        assert api().post(f"work-reports/{report_id}/confirm").status_code == 200
    after, log = read(api, contract, at(21, 9, 10), count_statements)
    assert computed(log)
    assert (after["completion_rate"]["actual"], after["completion_rate"]["status"]) == (
        0.99,
        "met",
    )


def test_a_snapshot_lasts_until_the_next_midnight_at_most(deal, login, count_statements):
    contract = deal["contract"]
    api = lambda: login(deal["client"])  # noqa: E731
    read(api, contract, at(21, 23, 30), count_statements)
    assert db.session.get(KpiSnapshot, contract.id).valid_until == at(22, 0)
    read(api, contract, at(21, 12), count_statements)  # earlier than it was computed: again
    db.session.expire_all()
    snapshot = db.session.get(KpiSnapshot, contract.id)
    assert (snapshot.computed_at, snapshot.valid_until) == (
        at(21, 12),
        at(21, 12) + kpis.SNAPSHOT_TTL,
    )
    assert timedelta(hours=1) >= kpis.SNAPSHOT_TTL
