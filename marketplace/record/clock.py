"""Service hours and the business-minute clocks of the SLAs.

A contract's service hours are a weekly schedule of local shifts in one IANA zone (the
coverage window in the client's zone for a coverage task, the provider's working hours
in its own zone otherwise), fixed in its terms. An SLA clock counts only the minutes
inside them. Each shift is placed on its real calendar date by `hours.shifts_on`, the
placement the matching engine uses, so daylight-saving changes, night shifts and
half-hour zones come out exactly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from marketplace.contracts import terms as contract_terms
from marketplace.contracts.models import Contract
from marketplace.hours import DAYS, Interval, WorkingHours, shifts_on

ONE_DAY = timedelta(days=1)
#: A deadline further than this many days of calendar time is never reached (no shifts).
HORIZON_DAYS = 800


@lru_cache(maxsize=65_536)
def _day_shifts(zone: str, hours_json: str, day: date) -> tuple[Interval, ...]:
    return tuple(shifts_on(day, json.loads(hours_json), ZoneInfo(zone)))


@dataclass(frozen=True)
class ServiceHours:
    """A weekly schedule in one zone; `hours` as `marketplace.hours` describes them."""

    zone: str
    hours_json: str

    @classmethod
    def of(cls, zone: str, hours: WorkingHours) -> ServiceHours:
        return cls(zone, json.dumps(hours, sort_keys=True))

    @classmethod
    def from_terms(cls, content: dict[str, Any]) -> ServiceHours | None:
        """The service hours a terms version fixes (`{"zone", "hours", ...}`), if any."""
        fixed = content.get("service_hours")
        if not fixed or not fixed.get("hours"):
            return None
        return cls.of(fixed["zone"], fixed["hours"])

    @property
    def hours(self) -> WorkingHours:
        result: WorkingHours = json.loads(self.hours_json)
        return result

    def _local_day(self, moment: datetime) -> date:
        return moment.astimezone(ZoneInfo(self.zone)).date()

    def shifts(self, start: datetime, end: datetime) -> list[Interval]:
        """The UTC shifts that meet `[start, end)`, clipped to it, in order."""
        # In UTC: arithmetic between two times of one zone ignores its offsets.
        start, end = as_utc(start), as_utc(end)
        spans: list[Interval] = []
        # A shift starting the local day before `start` may still be running at `start`.
        day = self._local_day(start) - ONE_DAY
        last = self._local_day(end)
        while day <= last:
            for shift_start, shift_end in _day_shifts(self.zone, self.hours_json, day):
                clipped = (max(shift_start, start), min(shift_end, end))
                if clipped[0] < clipped[1]:
                    spans.append(clipped)
            day += ONE_DAY
        return spans

    def minutes_between(self, start: datetime, end: datetime) -> int:
        """Whole service minutes from `start` to `end` (0 if `end` is not later)."""
        if end <= start:
            return 0
        counted = sum(((b - a) for a, b in self.shifts(start, end)), timedelta())
        return counted // timedelta(minutes=1)

    def minutes_of(self, spans: Sequence[tuple[datetime, datetime]]) -> list[int]:
        """`minutes_between` of many spans at once, in one sweep over the shifts from the
        earliest instant to the latest (a running total of service time at each instant):
        linear in the spans and the days, instead of a walk over the days per span."""
        if not spans:
            return []
        spans = [(as_utc(start), as_utc(end)) for start, end in spans]
        instants = sorted({moment for span in spans for moment in span})
        shifts = self.shifts(instants[0], instants[-1])
        total: dict[datetime, timedelta] = {}
        done, index = timedelta(), 0
        for moment in instants:
            while index < len(shifts) and shifts[index][1] <= moment:
                done += shifts[index][1] - shifts[index][0]
                index += 1
            inside = index < len(shifts) and shifts[index][0] < moment
            total[moment] = done + (moment - shifts[index][0] if inside else timedelta())
        one = timedelta(minutes=1)
        return [(total[end] - total[start]) // one if end > start else 0 for start, end in spans]

    def deadline(self, start: datetime, minutes: float) -> datetime | None:
        """The instant at which `minutes` service minutes have passed since `start` (None
        if the schedule has no shifts)."""
        if not self.hours_json or self.hours_json == "{}":
            return None
        start, left = as_utc(start), timedelta(minutes=minutes)
        day = self._local_day(start) - ONE_DAY
        for _ in range(HORIZON_DAYS):
            for shift_start, shift_end in _day_shifts(self.zone, self.hours_json, day):
                begin = max(shift_start, start)
                if begin >= shift_end:
                    continue
                if shift_end - begin >= left:
                    return begin + left
                left -= shift_end - begin
            day += ONE_DAY
        return None


def as_utc(moment: datetime) -> datetime:
    """A stored (aware or naive-UTC) time as an aware UTC one."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


#: Every minute of the week: the clocks of a contract whose service hours are empty.
ALWAYS = ServiceHours.of("UTC", {day: [["00:00", "24:00"]] for day in DAYS})


def contract_service_hours(contract: Contract) -> ServiceHours:
    """The service hours of the contract's current terms (for contracts whose terms predate
    them, those its task and provider give now); every minute if they hold no shift."""
    content = contract.current_terms.content
    fixed = content.get("service_hours") or contract_terms.service_hours(
        contract.task, contract.provider_profile
    )
    return ServiceHours.from_terms({"service_hours": fixed}) or ALWAYS
