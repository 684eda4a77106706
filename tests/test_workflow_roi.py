"""The return estimate of a hand-off (marketplace/workflows/roi.py), figure by figure.

The case is the seeds' story: a support budget of 120,000 dollars a month that fell to
about 70,000 in six months (30,000 from moving tier-3 work to an onshore BPO, 12,000
from automation, 8,000 from less overtime), with the quality dip in the first 90 days.
Every figure is in USD cents at a 10% platform fee and the default assumptions, worked
out by hand and asserted exactly; the functions are called directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

import pytest
from flask import Flask

from marketplace.workflows import roi

FEE_BPS = 1000
DEFAULTS = roi.Assumptions()


@dataclass(frozen=True)
class Line:
    """One workflow of the support budget and the market's (p25, p50, p75) rates for it."""

    hours_per_week: Decimal
    in_house_rate: int
    rates: tuple[int, int, int]


#: Tier-3 tickets to an onshore BPO: 495 h a week (2145 h a month) at $40 in house.
TIER3 = Line(Decimal(495), 4000, (2000, 2200, 2500))
#: Ticket tagging and routing, automated: the software replaces the hours (rate 0) but the
#: client still manages it. 78 h a week, 338 h a month.
ROUTING = Line(Decimal(78), 4000, (0, 0, 0))
#: After-hours coverage at the overtime rate (1.5 x $40) to an offshore VA at $15:
#: 48 h a week, 208 h a month.
OVERTIME = Line(Decimal(48), 6000, (1500, 1500, 1500))
#: What stays in house of the support budget, a month.
REST_IN_HOUSE = 820_000


def estimate(line: Line, assumptions: roi.Assumptions = DEFAULTS) -> roi.Estimate:
    """The estimate of `line` in USD at the platform's fee."""
    return roi.estimate(
        hours_per_week=line.hours_per_week,
        in_house_rate=line.in_house_rate,
        currency="USD",
        rates=line.rates,
        fee_bps=FEE_BPS,
        assumptions=assumptions,
    )


def month(number: int, line: Line, rate: int, assumptions: roi.Assumptions = DEFAULTS) -> roi.Month:
    """The figures of month `number` of `line` priced at `rate`."""
    return roi.month_figures(
        number,
        hours_per_week=line.hours_per_week,
        in_house_rate=line.in_house_rate,
        rate=rate,
        fee_bps=FEE_BPS,
        assumptions=assumptions,
    )


@pytest.fixture
def seeds() -> dict[str, roi.Estimate]:
    """The three hand-offs of the seeds' support budget, estimated."""
    return {"tier3": estimate(TIER3), "routing": estimate(ROUTING), "overtime": estimate(OVERTIME)}


# (in house, provider, platform fee, management, rework, saving): months 1-3, then 4-12.
SEED_MONTHS = {
    # 2145 h: in house 2145 x 4000; provider 2145 x 2200, its fee 10%; management 25% then
    # 10% of in house; rework 15% of in house in months 1-3.
    "tier3": (
        (8_580_000, 4_719_000, 471_900, 2_145_000, 1_287_000, 429_000),
        (8_580_000, 4_719_000, 471_900, 858_000, 0, 3_003_000),
    ),
    # 338 h x 4000 = 1_352_000; 1_352_000 - 338_000 - 202_800; later 1_352_000 - 135_200.
    "routing": (
        (1_352_000, 0, 0, 338_000, 202_800, 811_200),
        (1_352_000, 0, 0, 135_200, 0, 1_216_800),
    ),
    # 208 h x 6000 = 1_248_000; 208 h x 1500 = 312_000; 1_248_000 - 312_000 - 312_000 -
    # 187_200; later 1_248_000 - 312_000 - 124_800.
    "overtime": (
        (1_248_000, 312_000, 31_200, 312_000, 187_200, 436_800),
        (1_248_000, 312_000, 31_200, 124_800, 0, 811_200),
    ),
}


def figures(m: roi.Month) -> tuple[int, int, int, int, int, int]:
    """A month's figures in the order of SEED_MONTHS."""
    return (m.in_house, m.provider, m.platform_fee, m.management, m.rework, m.saving)


def test_a_month_has_52_12ths_of_a_weeks_hours() -> None:
    assert roi.monthly(Decimal(1), 1) == Fraction(52, 12)  # a year's weeks over 12 months
    assert roi.monthly(Decimal(495), 1) == 2145
    assert roi.monthly(Decimal(78), 1) == 338
    assert roi.monthly(Decimal(48), 1) == 208
    assert roi.monthly(Decimal(40), 4000) == Fraction(2_080_000, 3)  # exact, not rounded


@pytest.mark.parametrize("name", SEED_MONTHS)
def test_each_seed_hand_off_month_by_month(seeds: dict[str, roi.Estimate], name: str) -> None:
    onboarding, after = SEED_MONTHS[name]
    result = seeds[name]
    assert [m.month for m in result.months] == list(range(1, 13))
    assert [figures(m) for m in result.months] == [onboarding] * 3 + [after] * 9
    assert result.in_house_monthly == onboarding[0]
    assert result.monthly_saving == after[-1]
    assert result.payback_month == 1  # saving from the first month
    # The quality dip: each of the first 90 days' months saves less than the fourth.
    assert all(m.saving < result.months[3].saving for m in result.months[:3])


def test_the_fee_is_shown_apart_not_added(seeds: dict[str, roi.Estimate]) -> None:
    first = seeds["tier3"].months[0]
    assert first.platform_fee == 471_900
    assert first.saving == first.in_house - first.provider - first.management - first.rework


def test_the_estimate_says_what_it_rests_on(seeds: dict[str, roi.Estimate]) -> None:
    result = seeds["tier3"]
    assert (result.currency, result.rate) == ("USD", 2200)  # priced at the median
    assert result.assumptions == DEFAULTS
    assert (DEFAULTS.onboarding_management_share, DEFAULTS.management_share) == (
        Decimal("0.25"),
        Decimal("0.10"),
    )
    assert (DEFAULTS.rework_share, DEFAULTS.onboarding_months, DEFAULTS.months) == (
        Decimal("0.15"),
        3,
        12,
    )


def test_the_onboarding_ends_after_month_3() -> None:
    assert figures(month(3, TIER3, 2200)) == SEED_MONTHS["tier3"][0]
    assert figures(month(4, TIER3, 2200)) == SEED_MONTHS["tier3"][1]
    assert month(3, TIER3, 2200).month == 3


def test_the_support_budget_falls_from_120k_to_about_70k(seeds: dict[str, roi.Estimate]) -> None:
    baseline = sum(result.in_house_monthly for result in seeds.values()) + REST_IN_HOUSE
    assert baseline == 8_580_000 + 1_352_000 + 1_248_000 + 820_000 == 12_000_000
    budget = [
        baseline - sum(result.months[m].saving for result in seeds.values()) for m in range(12)
    ]
    assert budget[:3] == [12_000_000 - 1_677_000] * 3 == [10_323_000] * 3
    assert budget[3:] == [12_000_000 - 5_031_000] * 9 == [6_969_000] * 9
    sixth = budget[5]
    assert sixth == 6_969_000
    assert abs(sixth - 7_000_000) <= 7_000_000 // 100  # about 70,000 dollars
    # The savings: about 30,000, 12,000 and 8,000 dollars a month once the dip is over.
    assert [r.monthly_saving for r in seeds.values()] == [3_003_000, 1_216_800, 811_200]


def test_twelve_months_range_from_the_p75_to_the_p25_rate(seeds: dict[str, roi.Estimate]) -> None:
    in_house = Fraction(2145 * 4000)
    share = {"onboarding": Fraction(25, 100) + Fraction(15, 100), "after": Fraction(10, 100)}

    def year_at(rate: int) -> Fraction:
        provider = Fraction(2145 * rate)
        onboarding = in_house - provider - in_house * share["onboarding"]
        after = in_house - provider - in_house * share["after"]
        return 3 * onboarding + 9 * after

    # p50, 2200: 3 x 429_000 + 9 x 3_003_000.
    assert year_at(2200) == 3 * 429_000 + 9 * 3_003_000 == 28_314_000
    # p25, 2000 (provider 4_290_000): 3 x 858_000 + 9 x 3_432_000.
    assert year_at(2000) == 3 * 858_000 + 9 * 3_432_000 == 33_462_000
    # p75, 2500 (provider 5_362_500): 3 x -214_500 + 9 x 2_359_500.
    assert year_at(2500) == 3 * -214_500 + 9 * 2_359_500 == 20_592_000
    assert seeds["tier3"].twelve_month == {
        "low": 20_592_000,
        "expected": 28_314_000,
        "high": 33_462_000,
    }
    assert seeds["tier3"].twelve_month["expected"] == sum(m.saving for m in seeds["tier3"].months)


def test_a_dear_hand_off_pays_back_in_month_4() -> None:
    result = estimate(Line(TIER3.hours_per_week, TIER3.in_house_rate, (2500, 2500, 2500)))
    savings = [m.saving for m in result.months]
    assert savings[:4] == [-214_500] * 3 + [2_359_500]
    running = [sum(savings[: n + 1]) for n in range(4)]
    assert running == [-214_500, -429_000, -643_500, 1_716_000]
    assert result.payback_month == 4
    assert result.twelve_month == dict.fromkeys(("low", "expected", "high"), 20_592_000)


def test_a_hand_off_dearer_than_in_house_never_pays() -> None:
    # 2145 h at 4500: provider 9_652_500 (fee 965_250), above the in-house 8_580_000.
    result = estimate(Line(TIER3.hours_per_week, TIER3.in_house_rate, (4500, 4500, 4500)))
    assert figures(result.months[0]) == (
        8_580_000,
        9_652_500,
        965_250,
        2_145_000,
        1_287_000,
        -4_504_500,
    )
    assert result.monthly_saving == 8_580_000 - 9_652_500 - 858_000 == -1_930_500
    assert all(m.saving < 0 for m in result.months)
    assert result.payback_month is None
    year = 3 * -4_504_500 + 9 * -1_930_500
    assert year == -30_888_000
    assert result.twelve_month == {"low": year, "expected": year, "high": year}


@pytest.mark.parametrize(
    ("savings", "payback"),
    [
        ([], None),
        ([5], 1),
        ([0], 1),  # breaking even is paid back
        ([-1, 2], 2),
        ([-3, 2, 2], 3),  # running total -3, -1, +1
        # 2, then -3 and -2: it went negative after month 1, so it pays back in month 4 (8).
        ([2, -5, 1, 10], 4),
        ([5, -10], None),  # negative again at the end: not paid back within the months
        ([-1, -1], None),
    ],
)
def test_payback_month(savings: list[int], payback: int | None) -> None:
    assert roi.payback_month(savings) == payback


@pytest.mark.parametrize(
    ("hours_per_week", "rate", "minor"),
    [
        (Decimal("1.5"), 1, 7),  # 1.5 x 13/3 = 6.5 exactly: half up
        (Decimal("0.03"), 1, 0),  # 0.13
        (Decimal("2.5"), 1, 11),  # 10.833...
        (Decimal(1), 1, 4),  # 4.333...
        (Decimal(2), 1, 9),  # 8.666...
        (Decimal("7.5"), 4001, 130_033),  # 130_032.5 exactly: half up
    ],
)
def test_in_house_monthly_rounds_half_up(hours_per_week: Decimal, rate: int, minor: int) -> None:
    assert roi.in_house_monthly(hours_per_week, rate) == minor


def test_each_month_figure_rounds_half_up_once() -> None:
    # 1.5 h at 1 in house and 3 at the provider: in house 6.5 -> 7, provider 19.5 -> 20,
    # its fee 10% of the rounded 20 = 2, management 25% of 6.5 = 1.625 -> 2, rework 15% of
    # 6.5 = 0.975 -> 1, saving 6.5 - 19.5 - 1.625 - 0.975 = -15.6 -> -16.
    line = Line(Decimal("1.5"), 1, (3, 3, 3))
    assert figures(month(1, line, 3)) == (7, 20, 2, 2, 1, -16)
    # The fee is rounded down (fee_split): 9 h at 1 is 39 a month, its fee 3.9 -> 3.
    assert month(1, Line(Decimal(9), 1, (1, 1, 1)), 1).platform_fee == 3


def test_the_saving_is_what_the_rounded_lines_add_up_to() -> None:
    # 1 h at 2502 in house and 2000 at the provider: in house 10_842 exactly, provider
    # 8_666.67 -> 8_667, management 2_710.5 -> 2_711, rework 1_626.3 -> 1_626; the saving
    # is what those lines give, -2_162 (not the exact -2_161.47 rounded): a client checks
    # the month by adding up its lines.
    m = month(1, Line(Decimal(1), 2502, (2000, 2000, 2000)), 2000)
    assert figures(m) == (10_842, 8_667, 866, 2_711, 1_626, -2_162)
    assert m.saving == m.in_house - m.provider - m.management - m.rework


def test_a_negative_half_rounds_away_from_zero() -> None:
    # Nothing in house, 1.5 h at 1 at the provider: the saving is -6.5 after the onboarding;
    # half up is away from zero (Decimal's ROUND_HALF_UP), the mirror of +6.5 -> 7.
    m = month(4, Line(Decimal("1.5"), 0, (1, 1, 1)), 1)
    assert (m.provider, m.saving) == (7, -7)


def test_assumptions_from_the_setting(app: Flask) -> None:
    assert roi.Assumptions.from_config(app.config["WORKFLOW_ROI"]) == DEFAULTS
    assert roi.Assumptions.from_config({}) == DEFAULTS
    partial = roi.Assumptions.from_config({"rework_share": Decimal("0.30")})
    assert partial == roi.Assumptions(rework_share=Decimal("0.30"))
    assert partial.management_share == Decimal("0.10")
    assert partial.onboarding_management_share == Decimal("0.25")
    assert (partial.onboarding_months, partial.months) == (3, 12)


def test_a_doubled_rework_share_doubles_the_rework_line() -> None:
    assumptions = roi.Assumptions.from_config({"rework_share": Decimal("0.30")})
    result = estimate(TIER3, assumptions)
    first, fourth = result.months[0], result.months[3]
    assert first.rework == 2 * 1_287_000 == 2_574_000
    assert first.saving == 429_000 - 1_287_000 == -858_000
    assert figures(fourth) == SEED_MONTHS["tier3"][1]  # the dip is over: nothing changes
    assert result.payback_month == 4  # -858_000 x 3 = -2_574_000, + 3_003_000 = 429_000
    assert result.assumptions is assumptions


def test_a_shorter_onboarding_from_the_setting() -> None:
    assumptions = roi.Assumptions.from_config({"onboarding_months": 1})
    result = estimate(TIER3, assumptions)
    assert [m.saving for m in result.months[:3]] == [429_000, 3_003_000, 3_003_000]
    assert result.twelve_month["expected"] == 429_000 + 11 * 3_003_000 == 33_462_000
