"""Follow-the-sun coverage plans: a few providers whose shifts together cover a window.

The window is the client's weekly window in the client's zone, placed on a real week (the
first Monday on or after the task starts) with the zone rules, like every provider's
shifts, so the plan is right in a week when one side changes its clocks. Greedy set
cover: take the provider who covers the most of what is still uncovered (a firm counts
as one provider: its hours are its members' shifts together), the match score breaking
ties, then the id; stop when all is covered, nobody adds anything, or at `MAX_PROVIDERS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from marketplace.hours import DAYS, WorkingHours
from marketplace.matching.overlap import utc_shifts
from marketplace.profiles.models import ProviderProfile

MAX_PROVIDERS = 10
Span = tuple[datetime, datetime]


@dataclass
class PlanEntry:
    """A chosen provider and the window hours a week it adds to the plan."""

    provider: ProviderProfile
    score: float
    covered_hours: float


@dataclass
class Plan:
    """The chosen providers, how much of the window they cover, and what is left."""

    providers: list[PlanEntry]
    window_hours: float
    coverage_percent: float
    uncovered: list[dict[str, Any]]
    week_of: date


def _merge(spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(s for s in spans if s[1] > s[0]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _intersect(a: list[Span], b: list[Span]) -> list[Span]:
    result, i, j = [], 0, 0
    while i < len(a) and j < len(b):
        start, end = max(a[i][0], b[j][0]), min(a[i][1], b[j][1])
        if end > start:
            result.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return result


def _subtract(a: list[Span], b: list[Span]) -> list[Span]:
    result = []
    for start, end in a:
        for b_start, b_end in b:
            if b_end <= start or b_start >= end:
                continue
            if b_start > start:
                result.append((start, b_start))
            start = max(start, b_end)
            if start >= end:
                break
        if end > start:
            result.append((start, end))
    return result


def _hours(spans: list[Span]) -> float:
    return sum((end - start).total_seconds() for start, end in spans) / 3600


def _week(hours: WorkingHours, zone: str, monday: date, margin: int) -> list[Span]:
    first, last = monday - timedelta(days=margin), monday + timedelta(days=6 + margin)
    return _merge(utc_shifts(hours, zone, first, last))


def _local(spans: list[Span], zone: str) -> list[dict[str, Any]]:
    """Spans as the client reads them: per local day, `HH:MM` to `HH:MM` (24:00 at midnight)."""
    tz, pieces = ZoneInfo(zone), []
    for start, end in spans:
        local, stop = start.astimezone(tz), end.astimezone(tz)
        while local < stop:
            midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tz)
            piece_end = min(stop, midnight.astimezone(UTC).astimezone(tz))
            pieces.append(
                {
                    "date": local.date(),
                    "day": DAYS[local.weekday()],
                    "start": local.strftime("%H:%M"),
                    "end": "24:00" if piece_end == midnight else piece_end.strftime("%H:%M"),
                }
            )
            local = piece_end
    return pieces


def plan(
    *, window: WorkingHours, zone: str, first: date, ranked: list[tuple[ProviderProfile, float]]
) -> Plan:
    """Greedy set cover of the window's week by the ranked providers."""
    monday = first + timedelta(days=-first.weekday() % 7)
    universe = _week(window, zone, monday, margin=0)
    covers = [
        (
            provider,
            score,
            _intersect(_week(provider.working_hours, provider.timezone, monday, 2), universe),
        )
        for provider, score in ranked
    ]
    uncovered, chosen = universe, list[PlanEntry]()
    while uncovered and len(chosen) < MAX_PROVIDERS and covers:
        gains = [(_hours(_intersect(spans, uncovered)), score, p) for p, score, spans in covers]
        gain, score, provider = max(gains, key=lambda g: (g[0], g[1], -g[2].id.int))
        if gain <= 0:
            break
        spans = next(s for p, _, s in covers if p is provider)
        chosen.append(PlanEntry(provider=provider, score=score, covered_hours=round(gain, 2)))
        uncovered = _subtract(uncovered, spans)
        covers = [c for c in covers if c[0] is not provider]
    total = _hours(universe)
    percent = 100.0 if not total else round(100 * (1 - _hours(uncovered) / total), 2)
    return Plan(
        providers=chosen,
        window_hours=round(total, 2),
        coverage_percent=percent,
        uncovered=_local(uncovered, zone),
        week_of=monday,
    )
