"""The audit's decision tables: the tier a workflow belongs to, the kind of provider and
where it should be, each with the reasons, in words a founder reads.

A table is an ordered tuple of rules. A rule names facts and the values that make it
apply (every one must hold), the outcome it gives and the sentence that says why. The
first rule that applies decides; every rule that applies and gives the same outcome adds
its reason, so a recommendation shows all that led there, and nothing that did not.

The facts are the workflow's answers (None: not answered yet), then, for the later
tables, its tier and two figures of the workflow (`it_work`, `small_volume`). An
unanswered fact leaves a rule undecided unless an answered one already fails it. An
undecided rule before the one that applies could still come first, so the outcome waits
for its answers, which `Decision.missing` names: a partial audit is told exactly what
could still change the outcome, and a decisive answer (central to the brand) needs no
other.

The tiers (docs/domain.md, "The four workflow tiers"):

1. strategic: keep it in house;
2. complex but not strategic: a specialist firm, ITO for IT work, else KPO;
3. standardised: a VA under 20 hours a week, else a BPO;
4. automate.

The edges, decided here and tested case by case in tests/test_workflow_rules.py:

- *Complex but strategic*: central to the brand keeps work in house, however complex or
  repeatable (the first rule): complexity is a reason to hire specialists only for work
  that does not set the business apart.
- *Repeatable but proprietary*: proprietary data (or sensitive customer information)
  alone does not keep work in house, nor sends it offshore. Standardised work that
  touches it goes to an *onshore* provider under the confidentiality terms (tier 3,
  onshore before any time-zone reason); with a costly mistake as well it is kept (tier 1);
  fully automatable work is automated whatever data it reads (no person sees it).
- *Automation* needs all three: rule-based, highly repeatable and a cheap mistake. Work
  that is rule-based but riskier stays with people (tier 3, with the advice to automate
  its routine steps).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from marketplace.profiles.models import ServiceModel
from marketplace.tasks.models import Shoring
from marketplace.workflows.models import Level, TimeNeed

LOW, MEDIUM, HIGH = Level.LOW, Level.MEDIUM, Level.HIGH
#: Below this many hours a week standardised work is one assistant's, not a team's.
VA_MAX_HOURS = 20
#: Catalog categories whose skills are IT work (an ITO's rather than a KPO's).
IT_CATEGORIES = frozenset({"it"})
#: Tiers that go to a provider (the others stay in house or go to software).
OUTSOURCED = (2, 3)


@dataclass(frozen=True)
class Rule:
    """One line of a decision table: `outcome` when every fact named in `when` has one of
    the values listed for it, because `reason`."""

    name: str
    outcome: Any
    when: Mapping[str, Collection[object]]
    reason: str

    def applies(self, facts: Mapping[str, object]) -> bool | None:
        """True or False, or None while an unanswered fact could still make it apply."""
        undecided = False
        for fact, values in self.when.items():
            value = facts.get(fact)
            if value is None:
                undecided = True
            elif value not in values:
                return False
        return None if undecided else True

    def unanswered(self, facts: Mapping[str, object]) -> set[str]:
        """The facts it reads that have no value yet."""
        return {fact for fact in self.when if facts.get(fact) is None}


@dataclass(frozen=True)
class Decision:
    """What a table decided: the outcome (None where no rule applies, or while
    `missing` is not empty), the rules that led there, and the facts still needed."""

    outcome: Any
    reasons: tuple[Rule, ...]
    missing: frozenset[str]


def decide(rules: Sequence[Rule], facts: Mapping[str, object]) -> Decision:
    """Run a table over the facts: the first rule that applies decides, unless a rule
    before it is undecided (then the outcome waits for the facts those rules read)."""
    missing: set[str] = set()
    for index, rule in enumerate(rules):
        verdict = rule.applies(facts)
        if verdict is None:
            missing |= rule.unanswered(facts)
        elif verdict and missing:
            break
        elif verdict:
            reasons = tuple(
                later
                for later in rules[index:]
                if later.outcome == rule.outcome and later.applies(facts)
            )
            return Decision(rule.outcome, reasons, frozenset())
    return Decision(None, (), frozenset(missing))


TIER_RULES: tuple[Rule, ...] = (
    Rule(
        "brand_central",
        1,
        {"brand_central": (True,)},
        "It is central to your brand or to what makes your business different. Keep it "
        "in house, and give your team better tools for it rather than handing it off.",
    ),
    Rule(
        "proprietary_and_costly",
        1,
        {"proprietary_data": (True,), "error_risk": (HIGH,)},
        "It works on proprietary data or sensitive customer information, and a mistake "
        "would be costly: that combination is safest kept in house.",
    ),
    Rule(
        "automatable",
        4,
        {"rule_based": (True,), "repeatable": (HIGH,), "error_risk": (LOW,)},
        "It follows fixed rules, comes round the same way every time, and a slip is cheap "
        "to put right: software can do it. Automate it rather than pay anyone to do it by "
        "hand.",
    ),
    Rule(
        "varies_each_time",
        2,
        {"repeatable": (LOW,)},
        "Each case is different, so it takes judgement rather than a checklist: a "
        "specialist firm that does this kind of work every day will do it better than a "
        "generalist.",
    ),
    Rule(
        "costly_mistakes",
        2,
        {"error_risk": (HIGH,)},
        "A mistake would be costly, so it needs specialists who answer for their quality, "
        "not a general assistant.",
    ),
    Rule(
        "no_playbook_yet",
        2,
        {"repeatable": (MEDIUM,), "has_sop": (False,)},
        "It recurs but differs from one time to the next, and nothing is written down: a "
        "managed provider that can work out the method with you suits it better than one "
        "that follows a playbook.",
    ),
    Rule(
        "runs_on_a_playbook",
        3,
        {"repeatable": (MEDIUM, HIGH), "has_sop": (True,)},
        "It recurs the same way and a written playbook (an SOP) exists: this is work a "
        "virtual assistant or a BPO team runs well, and where handing off saves the most.",
    ),
    Rule(
        "write_the_playbook",
        3,
        {"repeatable": (HIGH,), "has_sop": (False,)},
        "It comes round the same way every time: write down how it is done (an SOP) and a "
        "virtual assistant or a BPO team can run it.",
    ),
    Rule(
        "sensitive_but_contained",
        3,
        {"proprietary_data": (True,), "repeatable": (MEDIUM, HIGH), "error_risk": (LOW, MEDIUM)},
        "It touches proprietary data or sensitive customer information, but a mistake "
        "would not be costly: it can still be handed off, to a provider in your own country "
        "who accepts your confidentiality terms.",
    ),
    Rule(
        "automate_the_routine",
        3,
        {"rule_based": (True,), "repeatable": (MEDIUM, HIGH)},
        "Much of it follows fixed rules: automate those steps, and let the provider handle "
        "the cases that need a person.",
    ),
)

SERVICE_MODEL_RULES: tuple[Rule, ...] = (
    Rule(
        "it_specialists",
        ServiceModel.ITO,
        {"tier": (2,), "it_work": (True,)},
        "Its skills are IT work (helpdesk, infrastructure, development, testing): an IT "
        "outsourcing firm (ITO) has the specialists and the tooling for it.",
    ),
    Rule(
        "knowledge_specialists",
        ServiceModel.KPO,
        {"tier": (2,), "it_work": (False,)},
        "It is expert work outside IT: a knowledge process outsourcing firm (KPO), whose "
        "analysts and specialists do this kind of work every day.",
    ),
    Rule(
        "small_volume",
        ServiceModel.VA,
        {"tier": (3,), "small_volume": (True,)},
        f"At under {VA_MAX_HOURS} hours a week it is too little for a team: one virtual "
        "assistant (VA) can run it.",
    ),
    Rule(
        "team_volume",
        ServiceModel.BPO,
        {"tier": (3,), "small_volume": (False,)},
        f"At {VA_MAX_HOURS} hours a week or more it is a team's work: a BPO firm runs it "
        "under your playbook, with cover for holidays and sick days.",
    ),
)

SHORING_RULES: tuple[Rule, ...] = (
    Rule(
        "sensitive_data",
        Shoring.ONSHORE,
        {"tier": OUTSOURCED, "proprietary_data": (True,)},
        "It handles proprietary data or sensitive customer information: a provider in "
        "your own country works under the same law and is easy to talk to, which suits "
        "sensitive work, though it costs more.",
    ),
    Rule(
        "live_overlap",
        Shoring.NEARSHORE,
        {"tier": OUTSOURCED, "time_need": (TimeNeed.OVERLAP,)},
        "Your team needs live overlap for hand-offs: a nearshore provider, in a similar "
        "time zone, works while you do and costs less than one in your own country.",
    ),
    Rule(
        "off_hours_coverage",
        Shoring.OFFSHORE,
        {"tier": OUTSOURCED, "time_need": (TimeNeed.COVERAGE,)},
        "You need hours covered that your team does not work: an offshore provider, far "
        "away in time, covers them in its own daytime.",
    ),
    Rule(
        "cost",
        Shoring.OFFSHORE,
        {"tier": OUTSOURCED, "time_need": (TimeNeed.NONE,)},
        "It needs no live overlap with your team, so cost decides: offshore is the "
        "cheapest, with careful written hand-offs.",
    ),
)

#: What each table decides, in the order a recommendation gives its reasons.
TABLES: tuple[tuple[str, tuple[Rule, ...]], ...] = (
    ("tier", TIER_RULES),
    ("service_model", SERVICE_MODEL_RULES),
    ("shoring", SHORING_RULES),
)

#: The question each answer stands for: what a client is told is missing.
QUESTIONS = {
    "repeatable": "How repeatable is it: low, medium or high?",
    "error_risk": "How costly is a mistake: low, medium or high?",
    "proprietary_data": "Does it handle proprietary data or sensitive customer information?",
    "brand_central": "Is it central to your brand, or to what makes your business different?",
    "has_sop": "Is there a written playbook (an SOP) for it?",
    "time_need": "Does it need live overlap with your team (overlap), coverage of hours "
    "your team does not work (coverage), or neither (none)?",
    "rule_based": "Is it rule-based enough for software to do it?",
}
#: Derived facts, and the field of the workflow that gives each.
DERIVED = {"it_work": "skills", "small_volume": "hours_per_week"}


@dataclass(frozen=True)
class Advice:
    """Where a workflow belongs: tier, service model and shoring (None where it has none:
    tiers 1 and 4 go to no provider), each reason as (what it decided, rule); or, while
    `missing` names the workflow's fields still needed, nothing yet."""

    tier: int | None
    service_model: ServiceModel | None
    shoring: Shoring | None
    reasons: tuple[tuple[str, Rule], ...]
    missing: frozenset[str]


def is_it_work(categories: Sequence[str]) -> bool | None:
    """Whether the skills are mostly IT work: at least half in an IT category (None
    without skills)."""
    if not categories:
        return None
    return 2 * sum(category in IT_CATEGORIES for category in categories) >= len(categories)


def advise(
    answers: Mapping[str, object], *, skill_categories: Sequence[str], hours_per_week: Decimal
) -> Advice:
    """Run the three tables over a workflow's answers, its skills' catalog categories and
    its hours; `missing` names the answers (or `skills`) that could still change any of
    the outcomes."""
    facts: dict[str, object] = {
        **answers,
        "it_work": is_it_work(skill_categories),
        "small_volume": hours_per_week < VA_MAX_HOURS,
    }
    decisions: dict[str, Decision] = {}
    for about, rules in TABLES:
        decisions[about] = decide(rules, facts)
        facts[about] = decisions[about].outcome
    missing = frozenset(
        DERIVED.get(fact, fact)
        for decision in decisions.values()
        for fact in decision.missing
        if fact not in decisions
    )
    if missing:
        return Advice(None, None, None, (), missing)
    return Advice(
        tier=decisions["tier"].outcome,
        service_model=decisions["service_model"].outcome,
        shoring=decisions["shoring"].outcome,
        reasons=tuple((about, rule) for about, d in decisions.items() for rule in d.reasons),
        missing=frozenset(),
    )


def missing_details(missing: Collection[str]) -> dict[str, Any]:
    """The 422's details for what a recommendation still needs, nested as the workflow's
    fields are (`{"answers": {"time_need": [question]}, "skills": [...]}`)."""
    details: dict[str, Any] = {}
    answers = {name: [QUESTIONS[name]] for name in QUESTIONS if name in missing}
    if answers:
        details["answers"] = answers
    if "skills" in missing:
        details["skills"] = [
            "Name the skills it needs: whether an IT (ITO) or another specialist firm (KPO) "
            "suits it depends on them."
        ]
    return details
