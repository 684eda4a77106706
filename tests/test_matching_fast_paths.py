"""The fast paths of matching give what the plain ones give.

Matches are served from Core rows (`cards`), a task query that also says who may read it,
cached statements that run a plan's tiers together, and a re-ranking tuned per candidate;
each is checked here against the straightforward computation it replaces.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.matching import (
    candidates,
    cards,
    explain,
    pool,
    ranking,
    scoring,
    services,
    timezones,
)
from marketplace.matching import statistics as match_stats
from marketplace.profiles.models import ProviderProfile, ServiceModel
from marketplace.profiles.schemas import PublicProviderProfileSchema
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import Budget, RequiredSkill
from marketplace.tasks.models import BudgetType, Task
from tests.factories import AdminFactory, ClientFactory, ProviderFactory, make_company, make_firm
from tests.matching_world import client, hours, open_task, provider

SKILL = "customer-support-tier1"
ZONES = [("America/Bogota", "CO"), ("Europe/London", "GB"), ("Asia/Manila", "PH"),
         ("America/Chicago", "US"), ("Asia/Kolkata", "IN"), ("Europe/Lisbon", "PT")]  # fmt: skip


def _task(owner: Any, **overrides: Any) -> Task:
    fields = {"service_model": ServiceModel.VA, "skills": (RequiredSkill(SKILL, 2),)}
    return open_task(owner, **{**fields, **overrides})


def test_cards_show_what_the_profiles_show(app):
    owner = client("America/New_York", "US")
    # Skills added out of alphabetical order: the card keeps the profile's order.
    varied = provider(skills={"data-entry": (2, 1), SKILL: (5, 9), "bookkeeping": (3, 4)})
    no_rate = provider("Europe/London", "GB", skills={SKILL: (3, 0)}, hourly_rate_amount=None)
    firm = make_firm(
        name="Sun BPO",
        owner=True,
        service_model=ServiceModel.VA,
        country="CO",
        timezone="America/Bogota",
        working_hours=hours("08:00", "16:00"),
    ).profile
    task = _task(owner)
    db.session.expire_all()
    profiles = [varied, no_rate, firm]
    found = cards.cards([p.id for p in profiles])
    schema = PublicProviderProfileSchema()
    for profile in profiles:
        card = found[profile.id]
        assert schema.dump(card) == schema.dump(profile)
        assert explain.explain(task, card) == explain.explain(task, profile)
    assert found[firm.id].display_name == "Sun BPO" and found[firm.id].kind == "firm"
    assert cards.cards([]) == {}


def test_who_may_read_matches_is_who_owns_the_task(app):
    """`matchable_task` decides in its query what `tasks.is_owner` (or being an admin) says."""
    individual = ClientFactory()
    company = make_company(owner=True, agent=True, working_hours=hours("09:00", "17:00"))
    boss, colleague = company.owner, company.agent
    outsider = make_company(owner=True, agent=True).agent
    people = [individual, boss, colleague, outsider, ClientFactory(), ProviderFactory(),
              AdminFactory()]  # fmt: skip
    for poster in (individual, boss):
        task = _task(poster)
        for user in people:
            allowed = user.is_admin or tasks.is_owner(user, task)
            try:
                assert services.matchable_task(user=user, task_id=task.id).id == task.id
                assert allowed, user
            except NotFound:
                assert not allowed, user


def _plain_score(task: Task, profile: ProviderProfile, overlap: float) -> float:
    """The score from the models, part by part, as the README states it."""
    levels = {s.skill_id: (s.level, s.years) for s in profile.skills}
    skills = scoring.skill_fit([(s.min_level, *levels.get(s.skill_id, (None, 0)))
                                for s in task.skills])  # fmt: skip
    need = task.timezone_need or {}
    hourly = task.budget_type == BudgetType.HOURLY
    amount = profile.hourly_rate_amount if hourly else None
    fit = explain.rate_fit(task, amount, profile.hourly_rate_currency)
    parts = scoring.Parts(
        skills=skills,
        timezone=round(scoring.timezone_fit(overlap, float(need["hours"])), 4),
        price=round(scoring.price_fit(fit, amount, task.budget_max), 4),
        record=profile.record_score,
        availability=scoring.availability_fit(profile.capacity_left),
    )
    return parts.total()


def _reference_fit(task: Task, profile: ProviderProfile) -> tuple[str, float]:
    """(shoring, overlap hours) by the day-by-day reference."""
    client = task.client_profile
    first, last = timezones.work_period(task.start_date, task.deadline, datetime.now(UTC).date())
    zones = {"client_zone": client.timezone, "provider_zone": profile.timezone}
    return (
        timezones.shoring(
            client_country=client.country,
            provider_country=profile.country,
            first=first,
            last=last,
            **zones,
        ),
        timezones.average_overlap_hours(
            client_hours=explain.window_of(task),
            provider_hours=profile.working_hours,
            first=first,
            last=last,
            **zones,
        ),
    )


@pytest.mark.parametrize("budget", ["hourly", "fixed"])
def test_scores_and_explanations_are_the_plain_computation(app, budget):
    rng = random.Random(budget)
    owner = client("America/New_York", "US")
    for _ in range(16):
        zone, country = rng.choice(ZONES)
        start = rng.randint(6, 13)
        provider(zone, country, working=hours(f"{start:02d}:00", f"{start + 8:02d}:00"),
                 skills={SKILL: (rng.randint(2, 5), rng.randint(0, 12))},
                 hourly_rate_amount=rng.choice([None, 700, 1000, 1400, 2500, 4000]))  # fmt: skip
    task = _task(owner, budget=Budget(BudgetType(budget), 800, 1500, "usd"))
    page = services.matches(user=owner, task_id=task.id, page_size=50)
    assert page.total == 16
    for match in page.items:
        profile = db.session.get(ProviderProfile, match.provider.id)
        plain = explain.explain(task, profile)
        shown = match.explanation
        assert {k: v for k, v in shown.items() if k not in ("parts", "record")} == plain
        # No record measured yet: every part of the record term at the prior.
        assert shown["record"] == scoring.record_inputs({})
        assert (plain["shoring"], plain["overlap_hours"]) == _reference_fit(task, profile)
        assert match.score == _plain_score(task, profile, plain["overlap_hours"])


def test_candidate_rows_hold_the_light_columns():
    assert pool.Candidate._fields == (*(column.name for column in pool.LIGHT), "pre")


@pytest.mark.postgres
def test_a_plan_split_over_several_queries_finds_the_same(app, monkeypatch):
    """The tiers the statistics expect are read in one query; when fewer pass than they
    expected, the next query starts at the next tier, with the same outcome."""
    owner = client("America/New_York", "US")
    for level in (5, 5, 4, 4, 4, 3, 3, 3, 3, 3, 2, 2):
        provider(skills={SKILL: (level, 3)})
    task = _task(owner)
    db.session.execute(sa.text("ANALYZE provider_profiles"))
    match_stats.forget()
    monkeypatch.setattr(candidates, "SELECTIVE_ROWS", 2)
    needs = ranking.TaskView.of(task).needs
    assert len(candidates._tiers(needs)) == 4  # levels 5, 4, 3 and 2
    together = candidates.candidates(needs, limit=9)
    monkeypatch.setattr(candidates, "TIER_MARGIN", 0)  # one tier a query
    assert candidates.candidates(needs, limit=9) == together
    assert len(together) == 9
    match_stats.forget()


@pytest.mark.postgres
def test_a_tier_read_in_storage_order_first_finds_the_same(app, monkeypatch):
    """A tier that starts with a scan of the table's first blocks, then uses the index for
    the rest, finds the same providers in the same order as the index alone, wherever the
    scanned blocks end; pools cut short keep the first providers in storage order."""
    rng = random.Random(7)
    owner = client("America/New_York", "US")
    for _ in range(30):
        # Long bios spread the providers over several blocks.
        bio = "".join(rng.choices("abcdefghij ", k=1000))
        provider(skills={SKILL: (rng.randint(1, 5), 3)}, bio=bio)
    task = _task(owner)
    db.session.execute(sa.text("ANALYZE provider_profiles"))
    match_stats.forget()
    monkeypatch.setattr(candidates, "ROW_CAP", 7)
    needs = ranking.TaskView.of(task).needs
    monkeypatch.setattr(candidates, "_scan_blocks", lambda keys: None)
    by_index = candidates.candidates(needs, limit=5)
    assert len(by_index) == 5
    blocks = db.session.scalar(sa.text("SELECT pg_relation_size('provider_profiles') / 8192"))
    assert blocks >= 4
    for scanned in range(blocks + 2):
        monkeypatch.setattr(candidates, "_scan_blocks", lambda keys, scanned=scanned: scanned)
        assert candidates.candidates(needs, limit=5) == by_index
    match_stats.forget()


def test_only_tiers_most_providers_are_in_start_with_a_scan(monkeypatch):
    """A scan of storage order reads the rows before `ROW_CAP` of the tier are found; the
    index's bitmap holds all of the tier: the scan is for keys carried by many providers,
    and reads a few times the blocks expected to hold `ROW_CAP` of them."""
    common, other, english = 13, 21, -118
    stats = match_stats.KeyStats(
        rows=1_000_000, blocks=66_000, freqs={common: 0.085, other: 0.045, english: 0.9}, rare=1e-4
    )
    monkeypatch.setattr(match_stats, "key_frequencies", lambda: stats)
    monkeypatch.setattr(candidates, "is_postgresql", lambda: True)
    # 76,500 carry both keys: 3 x 500 of them are expected in the first 19,608 rows.
    assert candidates._scan_blocks([common, english]) == 1295
    assert candidates._scan_blocks([common, other, english]) is None  # 3,443: the index
    stats = stats._replace(rows=100_000, blocks=6_600)
    assert candidates._scan_blocks([common, english]) is None  # 7,650: the index
