"""The audit's rule tables, case by case: each tier, the edges (repeatable but proprietary,
complex but strategic), the service models, every shoring, and what a partial audit is
told it still needs. The tables are data (marketplace/workflows/rules.py); these tests read
them through `advise`, as the recommendation does."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from marketplace.profiles.models import ServiceModel
from marketplace.tasks.models import Shoring
from marketplace.workflows import rules
from marketplace.workflows.models import ANSWERS, Level, TimeNeed

LOW, MEDIUM, HIGH = Level.LOW, Level.MEDIUM, Level.HIGH

#: A standardised workflow: repeatable with a playbook, cheap mistakes, nothing sensitive,
#: no special hours. Each case changes what it is about.
PLAYBOOK_WORK: dict[str, Any] = {
    "repeatable": HIGH,
    "error_risk": LOW,
    "proprietary_data": False,
    "brand_central": False,
    "has_sop": True,
    "time_need": TimeNeed.NONE,
    "rule_based": False,
}
SUPPORT = ["inquiry-routing", "live-chat-support"]
CATEGORIES = {
    "inquiry-routing": "customer-service",
    "live-chat-support": "customer-service",
    "legal-research": "knowledge",
    "financial-analysis": "finance",
    "it-helpdesk": "it",
    "cloud-infrastructure": "it",
}


def advise(skills: list[str] | None = None, hours: str = "30", **answers: Any) -> rules.Advice:
    """The advice for PLAYBOOK_WORK changed by `answers` (None: unanswered)."""
    return rules.advise(
        {**PLAYBOOK_WORK, **answers},
        skill_categories=[CATEGORIES[slug] for slug in (SUPPORT if skills is None else skills)],
        hours_per_week=Decimal(hours),
    )


def reasons(advice: rules.Advice, about: str = "tier") -> list[str]:
    return [rule.name for what, rule in advice.reasons if what == about]


# The four tiers --------------------------------------------------------------------------


def test_tier_1_work_central_to_the_brand_is_kept_in_house():
    advice = advise(brand_central=True)

    assert (advice.tier, advice.service_model, advice.shoring) == (1, None, None)
    assert reasons(advice) == ["brand_central"]
    assert [about for about, _ in advice.reasons] == ["tier"]


def test_tier_2_work_that_varies_each_time_goes_to_a_specialist_firm():
    advice = advise(repeatable=LOW, has_sop=False, skills=["legal-research"])

    assert (advice.tier, advice.service_model) == (2, ServiceModel.KPO)
    assert reasons(advice) == ["varies_each_time"]
    assert reasons(advice, "service_model") == ["knowledge_specialists"]


def test_tier_2_gives_every_reason_that_led_there():
    advice = advise(repeatable=LOW, error_risk=HIGH, skills=["legal-research"])

    assert advice.tier == 2
    assert reasons(advice) == ["varies_each_time", "costly_mistakes"]


def test_tier_2_recurring_work_without_a_playbook_needs_a_managed_provider():
    advice = advise(repeatable=MEDIUM, has_sop=False)

    assert advice.tier == 2
    assert reasons(advice) == ["no_playbook_yet"]


def test_tier_3_repeatable_work_with_a_playbook_goes_to_a_va_or_a_bpo():
    advice = advise()

    assert (advice.tier, advice.service_model, advice.shoring) == (
        3,
        ServiceModel.BPO,
        Shoring.OFFSHORE,
    )
    assert reasons(advice) == ["runs_on_a_playbook"]
    assert reasons(advice, "service_model") == ["team_volume"]
    assert reasons(advice, "shoring") == ["cost"]
    assert [about for about, _ in advice.reasons] == ["tier", "service_model", "shoring"]


def test_tier_3_highly_repeatable_work_without_a_playbook_is_told_to_write_one():
    advice = advise(has_sop=False)

    assert advice.tier == 3
    assert reasons(advice) == ["write_the_playbook"]


def test_tier_4_rule_based_repeatable_low_risk_work_is_automated():
    advice = advise(rule_based=True)

    assert (advice.tier, advice.service_model, advice.shoring) == (4, None, None)
    assert reasons(advice) == ["automatable"]


@pytest.mark.parametrize(
    ("answers", "tier"),
    [
        ({"repeatable": MEDIUM}, 3),  # automation needs highly repeatable work
        ({"error_risk": MEDIUM}, 3),  # ... and a cheap mistake
        ({"error_risk": HIGH}, 2),
    ],
)
def test_rule_based_work_that_is_not_safe_to_automate_stays_with_people(answers, tier):
    advice = advise(rule_based=True, **answers)

    assert advice.tier == tier
    if tier == 3:
        assert "automate_the_routine" in reasons(advice)


# The edges -------------------------------------------------------------------------------


def test_complex_but_strategic_work_is_kept_not_handed_to_specialists():
    advice = advise(brand_central=True, repeatable=LOW, error_risk=HIGH, has_sop=False)

    assert (advice.tier, advice.service_model, advice.shoring) == (1, None, None)
    assert reasons(advice) == ["brand_central"]  # no tier-2 reason: they did not decide


def test_repeatable_but_proprietary_work_goes_onshore_not_offshore():
    advice = advise(proprietary_data=True, time_need=TimeNeed.COVERAGE)

    assert (advice.tier, advice.shoring) == (3, Shoring.ONSHORE)
    assert reasons(advice) == ["runs_on_a_playbook", "sensitive_but_contained"]
    assert reasons(advice, "shoring") == ["sensitive_data"]


def test_repeatable_but_proprietary_work_with_costly_mistakes_is_kept_in_house():
    advice = advise(proprietary_data=True, error_risk=HIGH)

    assert (advice.tier, advice.service_model, advice.shoring) == (1, None, None)
    assert reasons(advice) == ["proprietary_and_costly"]


def test_repeatable_but_proprietary_work_that_software_can_do_is_automated():
    advice = advise(proprietary_data=True, rule_based=True)

    assert (advice.tier, advice.shoring) == (4, None)


def test_proprietary_complex_work_goes_to_an_onshore_specialist():
    advice = advise(proprietary_data=True, repeatable=LOW, time_need=TimeNeed.OVERLAP)

    assert (advice.tier, advice.shoring) == (2, Shoring.ONSHORE)


# Service models and shoring -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("skills", "model"),
    [
        (["it-helpdesk"], ServiceModel.ITO),
        (["it-helpdesk", "cloud-infrastructure"], ServiceModel.ITO),
        (["it-helpdesk", "financial-analysis"], ServiceModel.ITO),  # half of them is IT
        (["it-helpdesk", "financial-analysis", "legal-research"], ServiceModel.KPO),
        (["financial-analysis"], ServiceModel.KPO),
    ],
)
def test_tier_2_goes_to_an_ito_for_mostly_it_skills_else_a_kpo(skills, model):
    assert advise(repeatable=LOW, skills=skills).service_model == model


@pytest.mark.parametrize(
    ("hours", "model", "rule"),
    [
        ("0.25", ServiceModel.VA, "small_volume"),
        ("19.99", ServiceModel.VA, "small_volume"),
        ("20", ServiceModel.BPO, "team_volume"),
        ("168", ServiceModel.BPO, "team_volume"),
    ],
)
def test_tier_3_goes_to_a_va_under_20_hours_a_week_else_a_bpo(hours, model, rule):
    advice = advise(hours=hours)

    assert advice.service_model == model
    assert reasons(advice, "service_model") == [rule]


@pytest.mark.parametrize(
    ("answers", "shoring", "rule"),
    [
        ({"proprietary_data": True}, Shoring.ONSHORE, "sensitive_data"),
        ({"time_need": TimeNeed.OVERLAP}, Shoring.NEARSHORE, "live_overlap"),
        ({"time_need": TimeNeed.COVERAGE}, Shoring.OFFSHORE, "off_hours_coverage"),
        ({"time_need": TimeNeed.NONE}, Shoring.OFFSHORE, "cost"),
        # sensitive data wins over the hours it is needed in
        ({"proprietary_data": True, "time_need": TimeNeed.OVERLAP}, Shoring.ONSHORE, None),
    ],
)
@pytest.mark.parametrize("tier_answers", [{}, {"repeatable": LOW}], ids=["tier3", "tier2"])
def test_each_shoring_with_its_reason(answers, shoring, rule, tier_answers):
    advice = advise(**tier_answers, **answers)

    assert advice.tier == (2 if tier_answers else 3)
    assert advice.shoring == shoring
    assert reasons(advice, "shoring") == [rule or "sensitive_data"]


# A partial audit ------------------------------------------------------------------------


def test_an_empty_audit_needs_every_answer_and_the_skills():
    advice = rules.advise(dict.fromkeys(ANSWERS), skill_categories=[], hours_per_week=Decimal(10))

    assert advice.tier is None
    assert advice.missing == {*ANSWERS, "skills"}


def test_a_decisive_answer_needs_no_other():
    advice = rules.advise(
        {**dict.fromkeys(ANSWERS), "brand_central": True},
        skill_categories=[],
        hours_per_week=Decimal(10),
    )

    assert (advice.tier, advice.missing) == (1, frozenset())


def test_an_answer_before_the_deciding_rule_is_still_needed():
    # Repeatable with a playbook would be tier 3, but unless it is known whether it is
    # central to the brand (or rule-based), it could be tier 1 (or 4).
    advice = advise(brand_central=None, rule_based=None)

    assert advice.tier is None
    assert advice.missing == {"brand_central", "rule_based"}


def test_the_shoring_asks_for_the_time_need_only_when_it_decides():
    assert advise(time_need=None).missing == {"time_need"}
    assert advise(time_need=None, proprietary_data=True).missing == frozenset()
    assert advise(time_need=None, brand_central=True).missing == frozenset()


def test_specialist_work_without_skills_asks_for_them():
    assert advise(repeatable=LOW, skills=[]).missing == {"skills"}
    assert advise(skills=[]).missing == frozenset()  # a VA or a BPO, whatever the skills


def test_the_missing_details_ask_the_questions():
    details = rules.missing_details({"time_need", "has_sop", "skills"})

    assert details == {
        "answers": {
            "has_sop": [rules.QUESTIONS["has_sop"]],
            "time_need": [rules.QUESTIONS["time_need"]],
        },
        "skills": [details["skills"][0]],
    }
    assert "ITO" in details["skills"][0]


# The tables as a whole ----------------------------------------------------------------------

CHOICES: dict[str, tuple[Any, ...]] = {
    "repeatable": tuple(Level),
    "error_risk": tuple(Level),
    "proprietary_data": (False, True),
    "brand_central": (False, True),
    "has_sop": (False, True),
    "time_need": tuple(TimeNeed),
    "rule_based": (False, True),
}


def _every_audit() -> list[dict[str, Any]]:
    return [
        dict(zip(CHOICES, values, strict=True)) for values in itertools.product(*CHOICES.values())
    ]


def test_every_complete_audit_gets_a_whole_recommendation():
    """432 answer sets: each gets a tier with a reason; tiers 2 and 3 a provider and a
    shoring, tiers 1 and 4 neither."""
    tiers = set()
    for answers in _every_audit():
        advice = rules.advise(answers, skill_categories=["it"], hours_per_week=Decimal(5))
        assert advice.missing == frozenset(), answers
        assert advice.tier in (1, 2, 3, 4) and reasons(advice), answers
        outsourced = advice.tier in (2, 3)
        assert (advice.service_model is not None) is outsourced, answers
        assert (advice.shoring is not None) is outsourced, answers
        tiers.add(advice.tier)
    assert tiers == {1, 2, 3, 4}


def test_every_rule_decides_some_audit():
    """No dead rows: every rule of every table is a reason in some recommendation."""
    seen = set()
    for answers, categories, hours in itertools.product(
        _every_audit(), (["it"], ["finance"]), (Decimal(5), Decimal(40))
    ):
        advice = rules.advise(answers, skill_categories=categories, hours_per_week=hours)
        seen |= {(about, rule.name) for about, rule in advice.reasons}
    assert seen == {(about, rule.name) for about, table in rules.TABLES for rule in table}


def test_the_tables_read_well():
    for about, table in rules.TABLES:
        names = [rule.name for rule in table]
        assert len(names) == len(set(names)), about
        for rule in table:
            assert rule.reason.endswith(".") and rule.reason[0].isupper(), rule.name
            assert set(rule.when) <= {*ANSWERS, "tier", "it_work", "small_volume"}, rule.name
