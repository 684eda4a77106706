"""The provider's measured record: its figures, the sample-size rule, the endpoint, and the
record term of matching (shrunk toward a prior) in the ranking."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine

from marketplace.accounts.models import User
from marketplace.contracts.models import (
    Contract,
    ContractStatus,
    Milestone,
    MilestoneStatus,
    MilestoneSubmission,
    MilestoneTransition,
)
from marketplace.extensions import db
from marketplace.matching import records as match_records
from marketplace.matching import scoring
from marketplace.messaging.models import Message, Thread
from marketplace.payments.models import Dispute, DisputeStatus
from marketplace.profiles.models import ClientProfile, ProviderProfile, ServiceModel
from marketplace.record import standing
from marketplace.record.models import ProviderRecord, Review, ReviewSide, SlaEvent, SlaEventKind
from marketplace.tasks.inputs import RequiredSkill
from marketplace.tasks.models import Task
from tests.factories import make_firm
from tests.matching_world import client as client_user
from tests.matching_world import open_task, provider

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SKILL = "customer-support-tier1"


def at(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


@pytest.fixture
def frozen() -> Any:
    with time_machine.travel(NOW, tick=False):
        yield NOW


class History:
    """Contracts of one client with `profile`, built row by row."""

    def __init__(self, profile: ProviderProfile, owner: User | None = None) -> None:
        self.owner = owner or client_user("America/New_York", "US")
        self.client = db.session.scalar(sa.select(ClientProfile).filter_by(user_id=self.owner.id))
        self.task = open_task(self.owner)
        self.profile = profile
        self.worker = profile.user_id or self.owner.id

    def contract(
        self,
        status: ContractStatus,
        accepted: datetime | None,
        ended: datetime | None = None,
        *,
        task: Task | None = None,
        pilot_of: Contract | None = None,
    ) -> Contract:
        contract = Contract(
            task=task or self.task,
            client_profile_id=self.client.id,
            provider_profile_id=self.profile.id,
            status=status,
            accepted_at=accepted,
            ended_at=ended,
            pilot_of=pilot_of,
        )
        db.session.add(contract)
        db.session.flush()
        return contract

    def milestone(
        self,
        contract: Contract,
        due: date | None,
        status: MilestoneStatus = MilestoneStatus.RELEASED,
        submitted: tuple[datetime, ...] = (),
        changes: tuple[datetime, ...] = (),
        by: Any = None,
    ) -> Milestone:
        milestone = Milestone(
            contract_id=contract.id,
            position=len(contract.milestones) + 1,
            title="Work",
            # No money: rows built by hand post nothing to the ledger, so nothing is expected
            # in escrow.
            amount=0,
            currency="usd",
            due_date=due,
            status=status,
        )
        db.session.add(milestone)
        db.session.flush()
        for revision, moment in enumerate(submitted, start=1):
            db.session.add(
                MilestoneSubmission(
                    milestone_id=milestone.id,
                    revision=revision,
                    note="done",
                    submitted_by_id=by or self.worker,
                    at=moment,
                )
            )
        for moment in changes:
            db.session.add(
                MilestoneTransition(
                    milestone_id=milestone.id,
                    from_status=MilestoneStatus.SUBMITTED,
                    to_status=MilestoneStatus.CHANGES_REQUESTED,
                    at=moment,
                )
            )
        db.session.flush()
        return milestone

    def review(
        self,
        contract: Contract,
        rating: int,
        created: datetime,
        published: datetime | None = None,
        side: ReviewSide = ReviewSide.CLIENT,
    ) -> None:
        db.session.add(
            Review(
                contract_id=contract.id,
                side=side,
                author_id=self.owner.id if side == ReviewSide.CLIENT else self.worker,
                provider_profile_id=self.profile.id,
                client_profile_id=self.client.id,
                rating=rating,
                created_at=created,
                published_at=published,
            )
        )

    def dispute(
        self,
        milestone: Milestone,
        side: str,
        created: datetime,
        split: tuple[int, int] | None = None,
        resolved: datetime | None = None,
    ) -> None:
        db.session.add(
            Dispute(
                milestone_id=milestone.id,
                contract_id=milestone.contract_id,
                side=side,
                reason="Not as agreed.",
                milestone_status=MilestoneStatus.SUBMITTED,
                status=DisputeStatus.RESOLVED if split else DisputeStatus.OPEN,
                release_amount=split[0] if split else None,
                refund_amount=split[1] if split else None,
                resolved_at=resolved,
                created_at=created,
            )
        )

    def sla(self, contract: Contract, kind: SlaEventKind, moment: datetime, key: str) -> None:
        db.session.add(
            SlaEvent(
                contract_id=contract.id, metric="first_response", key=key, kind=kind, at=moment
            )
        )


def shown(value: Any, samples: int) -> dict[str, Any]:
    return {"value": value, "samples": samples, "shown": True}


def hidden(samples: int) -> dict[str, Any]:
    return {"value": None, "samples": samples, "shown": False}


def build_history(profile: ProviderProfile) -> History:
    """Six contracts over 17 months (see the expected figures in the test below)."""
    h = History(profile)
    trial = open_task(h.owner, trial=True)
    c1 = h.contract(ContractStatus.COMPLETED, at(2026, 1, 5), at(2026, 3, 2))
    c2 = h.contract(ContractStatus.COMPLETED, at(2025, 1, 6), at(2025, 3, 3))
    c3 = h.contract(ContractStatus.TERMINATED, at(2026, 2, 2), at(2026, 4, 6))
    c4 = h.contract(ContractStatus.ACTIVE, at(2026, 5, 4))
    c5 = h.contract(ContractStatus.COMPLETED, at(2026, 5, 1), at(2026, 5, 25), task=trial)
    h.contract(ContractStatus.ACTIVE, at(2026, 5, 28), task=trial, pilot_of=c5)
    # Milestones: m1 on time, m2 late and sent back once, m3 on time (long ago) and sent
    # back once, m4 overdue, m5 not due yet, m6 without a due date, m7 disputed.
    h.milestone(c1, date(2026, 2, 1), submitted=(at(2026, 1, 30, 15),))
    m2 = h.milestone(
        c1,
        date(2026, 2, 15),
        submitted=(at(2026, 2, 16, 9), at(2026, 2, 18)),
        changes=(at(2026, 2, 17),),
    )
    m3 = h.milestone(
        c2,
        date(2025, 2, 1),
        submitted=(at(2025, 1, 31, 23), at(2025, 2, 3)),
        changes=(at(2025, 2, 2),),
    )
    h.milestone(c4, date(2026, 5, 20), MilestoneStatus.FUNDED)
    h.milestone(c4, date(2026, 6, 30), MilestoneStatus.FUNDED)
    h.milestone(c4, None, MilestoneStatus.SUBMITTED, submitted=(at(2026, 5, 10),))
    m7 = h.milestone(c3, None, MilestoneStatus.RESOLVED)
    # Reviews: c1 published, c2 and c3 past their 14 days, c5 still hidden (7 days), and
    # the provider's review of the client (not the provider's record).
    h.review(c1, 5, at(2026, 3, 3), published=at(2026, 3, 5))
    h.review(c2, 4, at(2025, 3, 4))
    h.review(c3, 2, at(2026, 4, 7))
    h.review(c5, 1, at(2026, 5, 26))
    h.review(c1, 1, at(2026, 3, 3), published=at(2026, 3, 5), side=ReviewSide.PROVIDER)
    # Disputes: lost (3/4 refunded), won (1/4 refunded), and one the provider raised.
    h.dispute(m7, "client", at(2026, 3, 10), (10_000, 30_000), at(2026, 3, 20))
    h.dispute(m2, "client", at(2026, 2, 20), (30_000, 10_000), at(2026, 2, 25))
    h.dispute(m3, "provider", at(2025, 2, 10))
    # SLA events: two breaches in c1's first week, one in c3's third, one in c2's third; an
    # at-risk event is no breach.
    h.sla(c1, SlaEventKind.BREACHED, at(2026, 1, 6), "a")
    h.sla(c1, SlaEventKind.BREACHED, at(2026, 1, 7), "b")
    h.sla(c3, SlaEventKind.BREACHED, at(2026, 2, 20), "c")
    h.sla(c2, SlaEventKind.BREACHED, at(2025, 1, 20), "d")
    h.sla(c4, SlaEventKind.AT_RISK, at(2026, 5, 12), "e")
    db.session.commit()
    return h


def test_the_record_measures_the_contracts_history(frozen):
    profile = provider()
    build_history(profile)
    figures = standing.record_of(profile.id)
    assert figures["all"] == {
        # Due and submitted or overdue: m1, m2, m3, m4; on time: m1, m3.
        "on_time_rate": shown(0.5, 4),
        # Six submissions, two changes requested.
        "rework_rate": shown(0.3333, 6),
        "first_response_hours": hidden(0),
        # 8 + 8 + 9 + 5 + 4 + 1 contract-weeks, 3 of them with a breach.
        "sla_attainment": shown(round(32 / 35, 4), 35),
        # Completed c1, c2, c5; terminated c3.
        "completion_rate": shown(0.75, 4),
        "disputes_opened": shown(2, 6),
        "disputes_lost": shown(1, 6),
        # 5, 4 and 2: c5's review is still hidden, the provider's own is not about it.
        "rating": shown(round(11 / 3, 4), 3),
        "pilots_converted": hidden(1),
    }
    assert figures["12m"] == {
        "on_time_rate": shown(0.3333, 3),
        "rework_rate": shown(0.25, 4),
        "first_response_hours": hidden(0),
        "sla_attainment": shown(round(25 / 27, 4), 27),
        "completion_rate": shown(0.6667, 3),
        "disputes_opened": shown(2, 5),
        "disputes_lost": shown(1, 5),
        "rating": hidden(2),
        "pilots_converted": hidden(1),
    }


def test_the_median_first_response_counts_service_hours_only(frozen):
    # Manila, 09:00-17:00 on weekdays (UTC+8): a message at 16:50 on a Friday answered at
    # 09:20 on Monday took 30 service minutes.
    profile = provider("Asia/Manila", "PH")
    h = History(profile)
    contract = h.contract(ContractStatus.ACTIVE, at(2026, 5, 1))
    thread = Thread(contract_id=contract.id)
    db.session.add(thread)
    db.session.flush()
    says = [
        (h.owner.id, datetime(2026, 5, 15, 8, 50, tzinfo=UTC)),  # Fri 16:50: opens
        (profile.user_id, datetime(2026, 5, 18, 1, 20, tzinfo=UTC)),  # Mon 09:20: 30 min
        (h.owner.id, datetime(2026, 5, 19, 2, 0, tzinfo=UTC)),  # Tue 10:00: opens
        (profile.user_id, datetime(2026, 5, 19, 3, 0, tzinfo=UTC)),  # 60 min
        (h.owner.id, datetime(2026, 5, 21, 1, 0, tzinfo=UTC)),  # Thu 09:00: opens
        (profile.user_id, datetime(2026, 5, 21, 1, 15, tzinfo=UTC)),  # 15 min
        (h.owner.id, datetime(2026, 5, 21, 1, 30, tzinfo=UTC)),  # a next response, not first
        (profile.user_id, datetime(2026, 5, 21, 2, 30, tzinfo=UTC)),
    ]
    for sender, moment in says:
        db.session.add(Message(thread_id=thread.id, sender_id=sender, body="-", created_at=moment))
    db.session.commit()
    figures = standing.record_of(profile.id, first_responses=standing.first_responses)
    assert figures["all"]["first_response_hours"] == shown(0.5, 3)
    # Two answered exchanges only: hidden.
    db.session.execute(sa.delete(Message).where(Message.created_at >= at(2026, 5, 21)))
    db.session.commit()
    figures = standing.record_of(profile.id, first_responses=standing.first_responses)
    assert figures["12m"]["first_response_hours"] == hidden(2)


def test_a_figure_shows_from_three_samples(frozen):
    profile = provider()
    h = History(profile)
    for month in (1, 2):
        h.contract(ContractStatus.COMPLETED, at(2026, month, 1), at(2026, month, 20))
    db.session.commit()
    assert standing.record_of(profile.id)["all"]["completion_rate"] == hidden(2)
    h.contract(ContractStatus.TERMINATED, at(2026, 3, 1), at(2026, 3, 20))
    db.session.commit()
    assert standing.record_of(profile.id)["all"]["completion_rate"] == shown(0.6667, 3)


def test_the_endpoint_is_public_and_serves_the_stored_record(frozen, client):
    profile = provider()
    build_history(profile)
    # Before the job: computed on the fly.
    response = client.get(f"/api/v1/providers/{profile.id}/record")
    assert response.status_code == 200
    body = response.get_json()
    assert body["min_samples"] == 3
    assert body["windows"]["all"]["completion_rate"] == shown(0.75, 4)
    assert body["windows"]["12m"]["rating"] == hidden(2)
    on_the_fly = body["score"]
    assert db.session.get(ProviderRecord, profile.id) is None

    stored, _ = match_records.recompute_records()
    assert stored == 1
    record = db.session.get(ProviderRecord, profile.id)
    assert record is not None
    assert record.score == on_the_fly
    # Stored: what the endpoint serves, even when the history moves on until the next run.
    record.figures = {**record.figures, "all": {**record.figures["all"], "rating": hidden(0)}}
    db.session.commit()
    body = client.get(f"/api/v1/providers/{profile.id}/record").get_json()
    assert body["windows"]["all"]["rating"] == hidden(0)
    assert body["computed_at"].startswith("2026-06-01T12:00:00")

    newcomer = provider()
    body = client.get(f"/api/v1/providers/{newcomer.id}/record").get_json()
    assert body["windows"]["all"] == standing.empty()["all"]
    assert body["score"] == scoring.RECORD_PRIOR


def test_unknown_and_hidden_providers_are_not_found(client):
    assert (
        client.get("/api/v1/providers/01890000-0000-7000-8000-000000000000/record").status_code
        == 404
    )
    team = make_firm(owner=True)
    # A member's personal profile is hidden while they act for the firm.
    personal = db.session.scalar(sa.select(ProviderProfile).filter_by(user_id=team.owner.id))
    if personal is not None:
        assert client.get(f"/api/v1/providers/{personal.id}/record").status_code == 404
    assert client.get(f"/api/v1/providers/{team.profile.id}/record").status_code == 200


def test_a_firms_record_is_its_contracts_whoever_worked_them(frozen):
    team = make_firm(owner=True, agent=True)
    firm = team.profile
    h = History(firm)
    members = [team.owner.id, team.agent.id, team.agent.id]
    for n, member in enumerate(members):
        contract = h.contract(ContractStatus.COMPLETED, at(2026, 2, 1 + n), at(2026, 3, 1 + n))
        h.milestone(contract, date(2026, 2, 20), submitted=(at(2026, 2, 10 + n),), by=member)
        h.review(contract, 5 - n, at(2026, 3, 2 + n), published=at(2026, 3, 3 + n))
    db.session.commit()
    figures = standing.record_of(firm.id)["all"]
    assert figures["on_time_rate"] == shown(1.0, 3)
    assert figures["completion_rate"] == shown(1.0, 3)
    assert figures["rating"] == shown(4.0, 3)
    match_records.recompute_records()
    assert db.session.get(ProviderRecord, firm.id) is not None


def _figures(**window: tuple[float, int]) -> dict[str, Any]:
    values = {
        name: {"value": v if n >= 3 else None, "samples": n, "shown": n >= 3}
        for name, (v, n) in window.items()
    }
    return {"all": values, "12m": values}


def test_the_record_term_shrinks_toward_the_prior():
    assert scoring.record_score(standing.empty()) == scoring.RECORD_PRIOR
    one_great = scoring.record_score(_figures(rating=(5.0, 1)))
    three_great = scoring.record_score(_figures(rating=(5.0, 3)))
    fifty_good = scoring.record_score(_figures(rating=(4.6, 50)))
    assert one_great == scoring.RECORD_PRIOR  # one review is not shown, so not used
    assert one_great < three_great < fifty_good
    # 0.25 * (50 * 0.9 + 5 * 0.6) / 55 + 0.75 * 0.6
    assert fifty_good == round(0.25 * (45 + 3) / 55 + 0.75 * 0.6, 4)
    # A poor record falls below a newcomer's.
    assert scoring.record_score(_figures(completion_rate=(0.2, 10))) < scoring.RECORD_PRIOR


def _equal_providers() -> tuple[ProviderProfile, ProviderProfile]:
    fields: dict[str, Any] = {"skills": {SKILL: (4, 5)}, "hourly_rate_amount": 1000}
    return provider(**fields), provider(**fields)


def test_fifty_good_reviews_rank_above_one_great_one(frozen, login):
    owner = client_user("Asia/Manila", "PH")
    task = open_task(owner, service_model=ServiceModel.VA, skills=(RequiredSkill(SKILL, 3),))
    # Created first, so it would win a tie on the id.
    one, fifty = _equal_providers()
    h1 = History(one, owner)
    contract = h1.contract(ContractStatus.COMPLETED, at(2026, 1, 1), at(2026, 1, 20))
    h1.review(contract, 5, at(2026, 1, 21), published=at(2026, 1, 22))
    h50 = History(fifty, owner)
    for n in range(50):
        contract = h50.contract(ContractStatus.COMPLETED, at(2026, 1, 1), at(2026, 1, 20))
        h50.review(contract, 5 if n < 30 else 4, at(2026, 1, 21), published=at(2026, 1, 22))
    db.session.commit()
    match_records.recompute_records()
    items = login(owner).get(f"/api/v1/tasks/{task.id}/matches").get_json()["items"]
    order = [item["provider"]["id"] for item in items]
    assert order.index(str(fifty.id)) < order.index(str(one.id))
    best = items[order.index(str(fifty.id))]
    assert best["explanation"]["record"]["rating"] == {"x": 0.9, "n": 50, "shrunk": 0.8727}
    assert best["explanation"]["record"]["completion_rate"]["n"] == 50
    assert best["explanation"]["parts"]["record"] == db.session.get(ProviderRecord, fifty.id).score


def test_two_equal_providers_rank_in_their_records_order(frozen, login):
    owner = client_user("Asia/Manila", "PH")
    task = open_task(owner, service_model=ServiceModel.VA, skills=(RequiredSkill(SKILL, 3),))
    late, punctual = _equal_providers()
    for profile, on_time in ((late, False), (punctual, True)):
        h = History(profile, owner)
        for _ in range(6):
            contract = h.contract(ContractStatus.COMPLETED, at(2026, 1, 1), at(2026, 3, 1))
            day = 10 if on_time else 25
            h.milestone(contract, date(2026, 2, 20), submitted=(at(2026, 2, day),))
    db.session.commit()
    api = login(owner)
    matches = f"/api/v1/tasks/{task.id}/matches"
    before = [i["provider"]["id"] for i in api.get(matches).get_json()["items"]]
    assert before.index(str(late.id)) < before.index(str(punctual.id))  # a tie: by id
    match_records.recompute_records()
    db.session.expire_all()
    assert (
        db.session.get(ProviderProfile, punctual.id).record_score
        > db.session.get(ProviderProfile, late.id).record_score
    )
    items = api.get(matches).get_json()["items"]
    after = [i["provider"]["id"] for i in items]
    assert after.index(str(punctual.id)) < after.index(str(late.id))
    record = items[after.index(str(punctual.id))]["explanation"]["record"]
    assert record["on_time_rate"] == {"x": 1.0, "n": 6, "shrunk": round((6 + 3) / 11, 4)}


def test_recomputing_writes_only_changed_match_scores(frozen):
    profile = provider()
    build_history(profile)
    stored, changed = match_records.recompute_records()
    assert (stored, changed) == (1, 1)
    assert match_records.recompute_records() == (1, 0)
    db.session.expire_all()
    fresh = db.session.get(ProviderProfile, profile.id)
    record = db.session.get(ProviderRecord, profile.id)
    assert fresh.record_score == record.score
    assert fresh.match_quality == scoring.static_part(
        record=record.score, capacity_left=fresh.capacity_left
    )


def test_the_command_recomputes(frozen, app):
    profile = provider()
    build_history(profile)
    result = app.test_cli_runner().invoke(args=["recompute-records"])
    assert result.exit_code == 0, result.output
    assert "recomputed 1 provider records" in result.output
    assert db.session.get(ProviderRecord, profile.id) is not None
