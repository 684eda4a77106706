"""The return of handing a workflow off, month by month: in-house cost against what the
provider costs, with the client's own time and the quality dip of the first months.

For each of the first `months` months (12):

- **in house**: the workflow's hours a week at the fully loaded in-house rate, times
  52/12 weeks a month;
- **provider**: the same hours at the provider's hourly rate. The platform's fee is part
  of what the client pays (it is kept from the provider's share on release), so it is
  shown apart (`platform_fee`) but not added;
- **management**: the client's own time to hand work off and review it, a share of the
  workflow's hours priced at the in-house rate: `onboarding_management_share` in the
  first `onboarding_months` months (90 days), `management_share` after;
- **rework**: the quality dip of the first `onboarding_months` months: a share
  (`rework_share`) of the work is done again in house, at the in-house rate;
- **saving** = in house - (provider + management + rework).

Each line is computed exactly (fractions) and rounded half up (away from zero) to the
currency's minor unit once, per month; the saving is what the rounded lines add up to, so
a client can check a month by adding them.

The payback month is the first month from which the running total of savings is no
longer negative; None when it never is within the months shown (the
hand-off does not pay). The 12-month figure is a range: the sum of the monthly savings at
the 75th percentile of the market's rates (low), the median (expected) and the 25th
percentile (high).

The assumptions come from the `WORKFLOW_ROI` setting and are returned with every
estimate, so a client sees what the figures rest on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from marketplace.ledger.services import fee_split

#: Weeks in an average month (a year's 52 over 12 months).
WEEKS_PER_MONTH = Fraction(52, 12)


@dataclass(frozen=True)
class Assumptions:
    """What an estimate assumes beyond the workflow's own figures (shares are fractions)."""

    management_share: Decimal = Decimal("0.10")
    onboarding_management_share: Decimal = Decimal("0.25")
    rework_share: Decimal = Decimal("0.15")
    onboarding_months: int = 3
    months: int = 12

    @classmethod
    def from_config(cls, values: Mapping[str, Any]) -> Assumptions:
        """The assumptions of the `WORKFLOW_ROI` setting (missing keys keep the defaults)."""
        return cls(**{name: values[name] for name in cls.__dataclass_fields__ if name in values})

    def management(self, month: int) -> Decimal:
        """The share of the workflow's hours the client spends managing it in `month`."""
        onboarding = month <= self.onboarding_months
        return self.onboarding_management_share if onboarding else self.management_share

    def rework(self, month: int) -> Decimal:
        """The share of the work done again in house in `month` (the quality dip)."""
        return self.rework_share if month <= self.onboarding_months else Decimal(0)


@dataclass(frozen=True)
class Month:
    """One month of the estimate, in minor units of its currency."""

    month: int
    in_house: int
    provider: int
    platform_fee: int
    management: int
    rework: int
    saving: int


@dataclass(frozen=True)
class Estimate:
    """The return of handing a workflow off at the market's rates."""

    currency: str
    rate: int  # the provider's hourly rate the months are priced at (the median)
    in_house_monthly: int
    months: tuple[Month, ...]
    monthly_saving: int  # once the first months are over, at the median rate
    payback_month: int | None
    twelve_month: dict[str, int]  # low / expected / high
    assumptions: Assumptions

    @property
    def saving_range(self) -> dict[str, Any]:
        """`twelve_month` with its currency (as money is shown)."""
        return {**self.twelve_month, "currency": self.currency}

    @property
    def month_lines(self) -> list[dict[str, Any]]:
        """The months with their currency (as money is shown)."""
        return [{**asdict(month), "currency": self.currency} for month in self.months]


def half_up(value: Fraction) -> int:
    """`value` to the nearest integer, an exact half away from zero."""
    quotient = Decimal(value.numerator) / Decimal(value.denominator)
    return int(quotient.to_integral_value(ROUND_HALF_UP))


def monthly(hours_per_week: Decimal, rate: int) -> Fraction:
    """What `hours_per_week` at `rate` an hour cost in a month, exactly."""
    return Fraction(hours_per_week) * rate * WEEKS_PER_MONTH


def in_house_monthly(hours_per_week: Decimal, rate: int) -> int:
    """The in-house cost of a month of the workflow, rounded half up."""
    return half_up(monthly(hours_per_week, rate))


def month_figures(
    month: int,
    *,
    hours_per_week: Decimal,
    in_house_rate: int,
    rate: int,
    fee_bps: int,
    assumptions: Assumptions,
) -> Month:
    """The figures of one month (1 is the first month after the hand-off)."""
    in_house = monthly(hours_per_week, in_house_rate)
    provider = monthly(hours_per_week, rate)
    management = in_house * Fraction(assumptions.management(month))
    rework = in_house * Fraction(assumptions.rework(month))
    here, there, managing, redone = (
        half_up(figure) for figure in (in_house, provider, management, rework)
    )
    return Month(
        month=month,
        in_house=here,
        provider=there,
        platform_fee=fee_split(there, fee_bps)[1],
        management=managing,
        rework=redone,
        saving=here - there - managing - redone,
    )


def payback_month(savings: list[int]) -> int | None:
    """The first month from which the running total of savings stays non-negative."""
    total, payback = 0, None
    for month, saving in enumerate(savings, 1):
        total += saving
        if total < 0:
            payback = None
        elif payback is None:
            payback = month
    return payback


def estimate(
    *,
    hours_per_week: Decimal,
    in_house_rate: int,
    currency: str,
    rates: tuple[int, int, int],
    fee_bps: int,
    assumptions: Assumptions,
) -> Estimate:
    """The estimate at the market's 25th, 50th and 75th percentile rates (`rates`)."""

    def months_at(rate: int) -> tuple[Month, ...]:
        return tuple(
            month_figures(
                month,
                hours_per_week=hours_per_week,
                in_house_rate=in_house_rate,
                rate=rate,
                fee_bps=fee_bps,
                assumptions=assumptions,
            )
            for month in range(1, assumptions.months + 1)
        )

    cheap, median, dear = rates
    months = months_at(median)
    savings = [month.saving for month in months]
    return Estimate(
        currency=currency,
        rate=median,
        in_house_monthly=in_house_monthly(hours_per_week, in_house_rate),
        months=months,
        monthly_saving=months[-1].saving,
        payback_month=payback_month(savings),
        twelve_month={
            "low": sum(month.saving for month in months_at(dear)),
            "expected": sum(savings),
            "high": sum(month.saving for month in months_at(cheap)),
        },
        assumptions=assumptions,
    )
