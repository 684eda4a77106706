"""The match score (0 to 1): weighted skill, time-zone, price, record and availability fits.

Each part is itself between 0 and 1:
- skills: per required skill, 0.8 * levels above the minimum / levels possible above it
  + 0.2 * years (up to 10) / 10; averaged over the task's skills (1 when it needs none);
- time zone: the average daily overlap over the hours wanted (the overlap a task asks for,
  else the client's or the coverage window's hours per working day), at most 1;
- price: 1 within the budget, 0.8 below it, falling to 0 at twice the maximum above it,
  0.5 when it cannot be judged (no rate, another currency, a fixed-price task);
- record: the provider's measured record (`marketplace.record.standing`, all-time figures,
  recomputed by the periodic job `recompute-records`), one 0-1 term:

      record = sum over parts i of RECORD_PARTS[i] * (n_i * x_i + k * p) / (n_i + k)

  with p = `RECORD_PRIOR` (0.6, the neutral prior), k = `PRIOR_WEIGHT` (5 imaginary
  samples) and, per part, x_i in 0-1 and n_i its sample size:
  on-time rate (0.25, milestones), completion rate (0.25, ended contracts), rating
  ((average - 1) / 4, 0.25, published client reviews), SLA attainment (0.15,
  contract-weeks) and disputes not lost (1 - lost / contracts started, 0.10). A figure
  hidden for fewer than 3 samples counts as no samples. So a newcomer scores exactly the
  prior, one great review does not beat fifty good ones, and every part needs many
  samples to move far from the prior;
- availability: weekly hours still free (capacity minus live contracts' coverage) / 40.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marketplace.profiles.models import RECORD_PRIOR

LEVELS = 5  # skill levels run from 1 to 5 (the profile and task schemas)
WEIGHTS = {"skills": 0.35, "timezone": 0.25, "price": 0.15, "record": 0.15, "availability": 0.10}
PRIOR_WEIGHT = 5
FULL_WEEK_HOURS = 40
LEVEL_SHARE, YEARS_SHARE, FULL_YEARS = 0.8, 0.2, 10
PRICE_BELOW, PRICE_UNKNOWN = 0.8, 0.5


#: The parts of the record term and their weights (they sum to 1).
RECORD_PARTS = {
    "on_time_rate": 0.25,
    "completion_rate": 0.25,
    "rating": 0.25,
    "sla_attainment": 0.15,
    "disputes_lost": 0.10,
}
RECORD_WINDOW = "all"


def record_inputs(figures: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per part of the record term, its 0-1 value `x` (None without shown figure), its
    samples `n` and the shrunk value `shrunk`, from a record's figures (`{"12m", "all"}`)."""
    window = figures.get(RECORD_WINDOW) or {}
    inputs = {}
    for name in RECORD_PARTS:
        shown = window.get(name) or {}
        value, samples = shown.get("value"), int(shown.get("samples") or 0)
        if value is None:
            x, samples = None, 0
        elif name == "rating":
            x = (value - 1) / 4
        elif name == "disputes_lost":
            x = max(0.0, 1 - value / samples)
        else:
            x = float(value)
        shrunk = (samples * (x or 0.0) + PRIOR_WEIGHT * RECORD_PRIOR) / (samples + PRIOR_WEIGHT)
        inputs[name] = {
            "x": None if x is None else round(x, 4),
            "n": samples,
            "shrunk": round(shrunk, 4),
        }
    return inputs


def record_score(figures: dict[str, Any]) -> float:
    """The record term of a record's figures (the module docstring): newcomers get the prior."""
    inputs = record_inputs(figures)
    return round(sum(RECORD_PARTS[name] * part["shrunk"] for name, part in inputs.items()), 4)


def availability_fit(capacity_left: int) -> float:
    """Free weekly hours against a full week, at most 1."""
    return min(1.0, max(0, capacity_left) / FULL_WEEK_HOURS)


def static_part(*, record: float, capacity_left: int) -> float:
    """The weighted parts that do not depend on the task (record and availability)."""
    return round(
        WEIGHTS["record"] * record + WEIGHTS["availability"] * availability_fit(capacity_left), 4
    )


def skill_fit(required: list[tuple[int, int | None, int]]) -> float:
    """`required` is (min_level, provider's level, years) per required skill."""
    if not required:
        return 1.0
    total = 0.0
    for min_level, level, years in required:
        room = LEVELS - min_level
        above = 1.0 if room <= 0 else max(0, (level or 0) - min_level) / room
        total += LEVEL_SHARE * above + YEARS_SHARE * min(years, FULL_YEARS) / FULL_YEARS
    return total / len(required)


def timezone_fit(overlap_hours: float, wanted_hours: float) -> float:
    """Average daily overlap against the hours wanted, at most 1."""
    if wanted_hours <= 0:
        return 1.0
    return min(1.0, overlap_hours / wanted_hours)


def price_fit(rate_fit: str, amount: int | None, budget_max: int) -> float:
    """How well a price suits the budget, from its `rate_fit` class."""
    if rate_fit == "within":
        return 1.0
    if rate_fit == "below":
        return PRICE_BELOW
    if rate_fit == "above" and amount is not None:
        return max(0.0, 1 - (amount - budget_max) / budget_max)
    return PRICE_UNKNOWN


@dataclass(slots=True)
class Parts:
    """The five parts of a score, each 0 to 1."""

    skills: float
    timezone: float
    price: float
    record: float
    availability: float

    def total(self) -> float:
        """The weighted score, rounded to four places (ties then break by id)."""
        # The sum of `as_dict()`'s weighted values in its order, without building it: this
        # runs for every candidate of every match.
        return round(
            WEIGHTS["skills"] * self.skills
            + WEIGHTS["timezone"] * self.timezone
            + WEIGHTS["price"] * self.price
            + WEIGHTS["record"] * self.record
            + WEIGHTS["availability"] * self.availability,
            4,
        )

    def as_dict(self) -> dict[str, Any]:
        """The parts by name."""
        return {
            "skills": self.skills,
            "timezone": self.timezone,
            "price": self.price,
            "record": self.record,
            "availability": self.availability,
        }
