"""SLA events: at risk, breached and recovered at their exact instants in service hours,
recorded and told exactly once however often (and on however many workers) the job runs."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from marketplace import permissions
from marketplace.contracts import services as contract_services
from marketplace.contracts.inputs import AwardTerms, SlaTargets
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.extensions import db
from marketplace.flows import contracts as contract_flows
from marketplace.jobs import outbox
from marketplace.jobs.celery import PERIODIC, run_task
from marketplace.jobs.models import OutboxEntry
from marketplace.messaging import services as messaging
from marketplace.notifications.models import Notification
from marketplace.payments import delivery, funding, payouts
from marketplace.record import events
from marketplace.record.models import Change, SlaEvent
from tests.factories import AdminFactory, ClientFactory, ProviderFactory
from tests.money import Deal, make_bid

BERLIN = ZoneInfo("Europe/Berlin")
NINE_TO_FIVE = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


def berlin(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment of March 2026 in Berlin (the 6th is a Friday, the 9th a Monday; Europe
    moves its clocks on the 29th, well after)."""
    return datetime(2026, 3, day, hour, minute, tzinfo=BERLIN)


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)


OPTIONAL_TARGETS = ("next_response_hours", "learning_speed_hours")


def make_contract(
    time_machine: Any, *, first_response_hours: float = 4, turnaround_hours: float = 8, **sla: Any
) -> Deal:
    """An active contract (made on Thursday 5 March) with a provider in Berlin working
    09:00-17:00 Monday to Friday: its service hours; `sla` adds targets to its terms."""
    time_machine.move_to(berlin(5, 10), tick=False)
    client = ClientFactory()
    provider = ProviderFactory(timezone="Europe/Berlin", country="DE")
    profile = permissions.acting_provider_profile(provider)
    profile.working_hours = NINE_TO_FIVE
    db.session.commit()
    bid = make_bid((40_000,), client=client, provider=provider)
    targets = SlaTargets(
        first_response_hours=first_response_hours, turnaround_hours=turnaround_hours
    )
    contract = contract_flows.award(user=client, bid_id=bid.id, terms=AwardTerms(sla=targets))
    contract_flows.accept_offer(user=provider, contract_id=contract.id)
    payouts.start_onboarding(user=provider)
    # Terms without the targets later defaults add, unless the test gives them.
    terms = contract.current_terms
    given = {k: v for k, v in terms.content["sla"].items() if k not in OPTIONAL_TARGETS}
    terms.content = {**terms.content, "sla": {**given, **sla}}
    db.session.commit()
    return Deal(client, provider, contract.id, [m.id for m in contract.milestones])


def say(deal: Deal, who: str, time_machine: Any, at: datetime) -> None:
    """`who` (client or provider) writes in the contract's thread at `at`."""
    time_machine.move_to(at, tick=False)
    user = deal.client if who == "client" else deal.provider
    thread = messaging.contract_conversation(user=user, contract_id=deal.contract_id)
    messaging.post_message(thread, user=user, body=f"A word from the {who}.")


def evaluate(time_machine: Any, at: datetime) -> int:
    time_machine.move_to(at, tick=False)
    return events.evaluate_all()


def recorded(deal: Deal) -> list[tuple[str, str, datetime]]:
    """The contract's events, oldest first: (metric, kind, at in Berlin)."""
    rows = db.session.scalars(
        sa.select(SlaEvent)
        .where(SlaEvent.contract_id == deal.contract_id)
        .order_by(SlaEvent.at, SlaEvent.kind)
    )
    return [(e.metric, e.kind.value, e.at.astimezone(BERLIN)) for e in rows]


def sla_notifications() -> list[tuple[Any, str]]:
    rows = db.session.execute(
        sa.select(Notification.user_id, Notification.subject).where(
            Notification.kind == "contract.sla"
        )
    )
    return sorted((user_id, subject) for user_id, subject in rows)


def sla_mails() -> list[OutboxEntry]:
    entries = db.session.scalars(sa.select(OutboxEntry).where(OutboxEntry.kind == "email")).all()
    return [e for e in entries if e.payload["subject"].startswith("SLA ")]


# The instants ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "at_risk", "breached"),
    [
        # An hour of Friday counts (16:00-17:00): 3 h in at 11:00 on Monday, 4 h at 12:00.
        (berlin(6, 16), berlin(9, 11), berlin(9, 12)),
        # Sent after hours, the clock starts on Monday morning.
        (berlin(6, 18, 30), berlin(9, 12), berlin(9, 13)),
    ],
)
def test_a_friday_message_is_at_risk_and_breached_on_monday_in_service_hours(
    time_machine, sent, at_risk, breached
):
    """The reply comes half an hour after the breach: 4 h 30 min of service hours."""
    deal = make_contract(time_machine)
    say(deal, "client", time_machine, sent)

    assert evaluate(time_machine, berlin(6, 23)) == 0
    assert evaluate(time_machine, berlin(8, 20)) == 0  # the weekend does not count
    assert evaluate(time_machine, at_risk - timedelta(minutes=1)) == 0
    assert evaluate(time_machine, at_risk) == 1
    assert recorded(deal) == [("first_response", "at_risk", at_risk)]
    assert evaluate(time_machine, breached + timedelta(minutes=7)) == 1
    reply = breached + timedelta(minutes=30)
    say(deal, "provider", time_machine, reply)
    assert evaluate(time_machine, reply + timedelta(minutes=5)) == 1

    assert recorded(deal) == [
        ("first_response", "at_risk", at_risk),
        ("first_response", "breached", breached),
        ("first_response", "recovered", reply),
    ]
    recovered = db.session.scalar(sa.select(SlaEvent).where(SlaEvent.kind == "recovered"))
    message_id = recovered.key
    assert recovered.details == {
        "target_minutes": 240,
        "started_at": utc(sent).isoformat(),
        "message_id": message_id,
        "minutes": 4 * 60 + 30,
        "stopped_at": utc(reply).isoformat(),
    }
    at_risk_event = db.session.scalar(sa.select(SlaEvent).where(SlaEvent.kind == "at_risk"))
    assert at_risk_event.details["minutes"] == 180
    assert at_risk_event.details["breaches_at"] == utc(breached).isoformat()


def test_a_clock_stopped_before_the_job_saw_it_gets_its_whole_history(time_machine):
    deal = make_contract(time_machine)
    say(deal, "client", time_machine, berlin(6, 16))
    say(deal, "provider", time_machine, berlin(9, 12, 30))

    assert evaluate(time_machine, berlin(9, 13)) == 3
    assert recorded(deal) == [
        ("first_response", "at_risk", berlin(9, 11)),
        ("first_response", "breached", berlin(9, 12)),
        ("first_response", "recovered", berlin(9, 12, 30)),
    ]


def test_a_reply_within_75_percent_raises_nothing_and_one_before_the_target_only_a_risk(
    time_machine,
):
    deal = make_contract(time_machine)
    say(deal, "client", time_machine, berlin(9, 9))
    say(deal, "provider", time_machine, berlin(9, 11, 59))  # 179 of 240 minutes
    assert evaluate(time_machine, berlin(9, 17)) == 0

    # Two days later (past the 24 h of quiet that opens a new exchange).
    say(deal, "client", time_machine, berlin(11, 9))
    say(deal, "provider", time_machine, berlin(11, 12, 30))  # 210 of 240 minutes
    assert evaluate(time_machine, berlin(11, 17)) == 1
    assert recorded(deal) == [("first_response", "at_risk", berlin(11, 12))]


def test_next_responses_use_the_first_response_target_until_terms_give_their_own(time_machine):
    deal = make_contract(time_machine)
    say(deal, "client", time_machine, berlin(9, 9))
    say(deal, "provider", time_machine, berlin(9, 9, 30))
    say(deal, "client", time_machine, berlin(9, 10))  # a next response is owed

    evaluate(time_machine, berlin(9, 14, 30))
    assert recorded(deal) == [
        ("next_response", "at_risk", berlin(9, 13)),
        ("next_response", "breached", berlin(9, 14)),
    ]

    own = make_contract(time_machine, next_response_hours=2)
    say(own, "client", time_machine, berlin(9, 9))
    say(own, "provider", time_machine, berlin(9, 9, 30))
    say(own, "client", time_machine, berlin(9, 10))
    evaluate(time_machine, berlin(9, 12, 30))
    assert recorded(own) == [
        ("next_response", "at_risk", berlin(9, 11, 30)),
        ("next_response", "breached", berlin(9, 12)),
    ]


def test_turnaround_runs_from_funding_to_submission(time_machine):
    deal = make_contract(time_machine, turnaround_hours=8)
    time_machine.move_to(berlin(9, 13), tick=False)
    funding.fund(user=deal.client, milestone_id=deal.milestone_ids[0])

    # Monday 13:00-17:00 is 4 h; 6 h at 11:00 on Tuesday, 8 h at 13:00.
    assert evaluate(time_machine, berlin(10, 12)) == 1
    time_machine.move_to(berlin(10, 14), tick=False)
    delivery.submit(
        user=deal.provider, milestone_id=deal.milestone_ids[0], note="Done.", deliverables=[]
    )
    assert evaluate(time_machine, berlin(10, 15)) == 2

    assert recorded(deal) == [
        ("turnaround", "at_risk", berlin(10, 11)),
        ("turnaround", "breached", berlin(10, 13)),
        ("turnaround", "recovered", berlin(10, 14)),
    ]
    event = db.session.scalar(sa.select(SlaEvent).where(SlaEvent.kind == "recovered"))
    assert event.key == f"{deal.milestone_ids[0]}:1"
    assert event.details["milestone_id"] == str(deal.milestone_ids[0])
    assert event.details["round"] == 1
    assert event.details["minutes"] == 9 * 60


def _announce(deal: Deal, at: datetime, adopted_at: datetime | None = None) -> Change:
    change = Change(
        contract_id=deal.contract_id,
        announced_by_id=deal.client.id,
        title="New refund policy",
        description="Refunds over $50 need a manager.",
        to_adopt="Escalate refunds over $50.",
        announced_at=at,
        adopted_at=adopted_at,
        adopted_by_id=deal.provider.id if adopted_at else None,
    )
    db.session.add(change)
    db.session.commit()
    return change


def test_learning_speed_is_measured_only_against_a_target_the_terms_give(time_machine):
    without = make_contract(time_machine)
    _announce(without, berlin(9, 9))
    assert evaluate(time_machine, berlin(13, 17)) == 0

    deal = make_contract(time_machine, learning_speed_hours=16)
    change = _announce(deal, berlin(9, 9), adopted_at=berlin(11, 10))
    # 12 h in at 13:00 on Tuesday, 16 h at 17:00 (Monday's and Tuesday's 8 h each).
    assert evaluate(time_machine, berlin(11, 11)) == 3
    assert recorded(deal) == [
        ("learning_speed", "at_risk", berlin(10, 13)),
        ("learning_speed", "breached", berlin(10, 17)),
        ("learning_speed", "recovered", berlin(11, 10)),
    ]
    assert {e.details["change_id"] for e in db.session.scalars(sa.select(SlaEvent))} == {
        str(change.id)
    }


def test_paused_and_completed_contracts_are_not_evaluated(time_machine):
    paused = make_contract(time_machine)
    say(paused, "client", time_machine, berlin(9, 9))
    contract_services.pause(user=paused.client, contract_id=paused.contract_id, reason=None)
    completed = make_contract(time_machine)
    say(completed, "client", time_machine, berlin(9, 9))
    contract_services.complete(completed.contract, actor=None)
    db.session.commit()

    assert evaluate(time_machine, berlin(13, 17)) == 0
    assert db.session.scalar(sa.select(sa.func.count()).select_from(SlaEvent)) == 0
    assert sla_notifications() == []


# Exactly once ---------------------------------------------------------------------------


def test_each_event_is_recorded_and_told_once_however_often_the_job_runs(time_machine, sent_mail):
    deal = make_contract(time_machine)
    say(deal, "client", time_machine, berlin(6, 16))
    for _ in range(2):
        evaluate(time_machine, berlin(9, 11, 30))
    say(deal, "provider", time_machine, berlin(9, 12, 30))
    for _ in range(2):
        evaluate(time_machine, berlin(9, 13))
    outbox.deliver_due()

    assert [kind for _, kind, _ in recorded(deal)] == ["at_risk", "breached", "recovered"]
    task = deal.contract.task.title
    people = (deal.client.id, deal.provider.id)
    assert sla_notifications() == sorted(
        (user_id, f"SLA {word}: First response ({task})")
        for word in ("at risk", "breached", "recovered")
        for user_id in people
    )
    mails = sorted((m.to, m.subject) for m in sent_mail if m.subject.startswith("SLA "))
    assert mails == sorted(
        (user.email, f"SLA {word}: First response ({task})")
        for word in ("at risk", "breached", "recovered")
        for user in (deal.client, deal.provider)
    )
    breached = next(m for m in sent_mail if m.subject.startswith("SLA breached"))
    assert "a message from the client" in breached.body
    assert "4 h" in breached.body


def test_history_older_than_a_week_when_first_seen_is_recorded_without_telling(time_machine):
    deal = make_contract(time_machine)
    say(deal, "client", time_machine, berlin(6, 16))
    say(deal, "provider", time_machine, berlin(9, 12, 30))
    # The job's first run, eight days on: the record is complete, nobody gets old alerts.
    assert evaluate(time_machine, berlin(17, 12, 31)) == 3
    assert [kind for _, kind, _ in recorded(deal)] == ["at_risk", "breached", "recovered"]
    assert sla_notifications() == []
    assert sla_mails() == []


@pytest.mark.postgres
def test_concurrent_runs_record_and_tell_each_event_once(app, time_machine):
    deal = make_contract(time_machine)
    say(deal, "client", time_machine, berlin(6, 16))
    say(deal, "provider", time_machine, berlin(9, 12, 30))
    time_machine.move_to(berlin(9, 13), tick=False)
    db.session.commit()
    threads = 8
    start = threading.Barrier(threads)

    def run() -> int:
        with app.app_context():
            start.wait()
            try:
                return events.evaluate_all()
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = [f.result() for f in [pool.submit(run) for _ in range(threads)]]

    assert sum(results) == 3
    assert [kind for _, kind, _ in recorded(deal)] == ["at_risk", "breached", "recovered"]
    assert len(sla_notifications()) == 3 * 2
    assert len(sla_mails()) == 3 * 2


def test_the_job_runs_every_five_minutes_and_as_a_command(app, time_machine):
    assert PERIODIC["evaluate-slas"] == ("marketplace.record.jobs.evaluate_slas", 300.0)
    deal = make_contract(time_machine)
    say(deal, "client", time_machine, berlin(6, 16))
    time_machine.move_to(berlin(9, 11, 30), tick=False)

    assert run_task("marketplace.record.jobs.evaluate_slas").result == 1
    say(deal, "provider", time_machine, berlin(9, 12, 30))
    result = app.test_cli_runner().invoke(args=["evaluate-slas"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "recorded 2 SLA events"


# The list and the admins' figures -------------------------------------------------------


def _history(time_machine: Any) -> Deal:
    """A contract with a recovered first-response breach and a breached turnaround."""
    deal = make_contract(time_machine)
    say(deal, "client", time_machine, berlin(6, 16))
    say(deal, "provider", time_machine, berlin(9, 12, 30))
    time_machine.move_to(berlin(9, 13), tick=False)
    funding.fund(user=deal.client, milestone_id=deal.milestone_ids[0])
    evaluate(time_machine, berlin(10, 16))
    return deal


def test_the_parties_and_admins_list_the_events_newest_first_and_filtered(
    time_machine, login, bearer
):
    deal = _history(time_machine)
    path = f"contracts/{deal.contract_id}/sla-events"
    admin = AdminFactory()

    for api in (login(deal.client), login(deal.provider), bearer(admin)):
        response = api.get(path)
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["total"] == 5
        assert [(e["metric"], e["kind"]) for e in body["items"]] == [
            ("turnaround", "breached"),  # Tuesday 13:00 in Berlin
            ("turnaround", "at_risk"),  # Tuesday 11:00
            ("first_response", "recovered"),
            ("first_response", "breached"),
            ("first_response", "at_risk"),
        ]
        assert body["items"][0]["at"] == "2026-03-10T12:00:00+00:00"
        assert body["items"][0]["details"]["target_minutes"] == 480

    api = login(deal.client)
    only = api.get(path, query_string={"metric": "first_response", "kind": "breached"})
    assert [(e["metric"], e["kind"]) for e in only.get_json()["items"]] == [
        ("first_response", "breached")
    ]
    paged = api.get(path, query_string={"page": 2, "page_size": 2}).get_json()
    assert (paged["total"], len(paged["items"])) == (5, 2)
    assert paged["items"][0]["kind"] == "recovered"
    for bad in ({"metric": "uptime"}, {"kind": "late"}):
        response = api.get(path, query_string=bad)
        assert response.status_code == 422, response.get_json()


def test_outsiders_do_not_see_a_contracts_events(time_machine, login):
    deal = _history(time_machine)
    path = f"contracts/{deal.contract_id}/sla-events"
    for outsider in (ClientFactory(), ProviderFactory()):
        response = login(outsider).get(path)
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "not_found"
        assert "items" not in response.get_json()


def test_the_admins_see_breaches_in_their_stats(time_machine, login, bearer):
    old = make_contract(time_machine)  # a breach three weeks ago, recovered
    say(old, "client", time_machine, berlin(6, 16))
    say(old, "provider", time_machine, berlin(9, 12, 30))
    evaluate(time_machine, berlin(9, 13))
    deal = make_contract(time_machine)  # a breach this week, still open
    say(deal, "client", time_machine, berlin(25, 9))
    evaluate(time_machine, berlin(25, 14))
    paused = make_contract(time_machine)  # an open breach on a paused contract counts
    say(paused, "client", time_machine, berlin(25, 9))
    evaluate(time_machine, berlin(25, 14))
    contract_services.pause(user=paused.client, contract_id=paused.contract_id, reason=None)
    ended = make_contract(time_machine)  # one on an ended contract does not
    say(ended, "client", time_machine, berlin(25, 9))
    evaluate(time_machine, berlin(25, 14))
    contract_services.complete(ended.contract, actor=None)
    db.session.commit()

    time_machine.move_to(berlin(30, 12), tick=False)
    response = bearer(AdminFactory()).get("admin/stats/slas")
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "breaches_last_7_days": 3,
        "breaches_last_30_days": 4,
        "at_risk_last_7_days": 3,
        "recoveries_last_30_days": 1,
        "contracts_with_unrecovered_breach": 2,
    }
    assert login(deal.client).get("admin/stats/slas").status_code == 403


def test_the_contract_row_is_untouched_by_evaluation(time_machine):
    """Evaluation only adds events (no lock or write on the contract users act on)."""
    deal = make_contract(time_machine)
    say(deal, "client", time_machine, berlin(6, 16))
    before = db.session.execute(sa.select(Contract.__table__)).mappings().one()
    evaluate(time_machine, berlin(9, 13))
    after = db.session.execute(sa.select(Contract.__table__)).mappings().one()
    assert dict(before) == dict(after)
    assert deal.contract.status == ContractStatus.ACTIVE
