"""The matching index: derived columns of provider profiles that the matching SQL reads.

- `match_keys`: an integer per skill *and every level up to the provider's* (so "level >=
  minimum" is array containment, GIN-indexed on PostgreSQL) and one per language.
- `skill_experience`: skill number, level and years in one integer per skill, so the
  re-ranking reads years with the candidate row;
- `availability`: the weekly working hours as 672 quarter-hour slots of the UTC week, at
  the zone's offset on the day it was computed (`availability_offset`); a cheap SQL
  estimate of overlap. Ranking recomputes overlap exactly, with the zone rules.
- `capacity_left`, `completed_contracts`, `record_score` and `match_quality` (the part of
  the score that does not depend on the task);
- `matchable`: false for a suspended individual, a firm whose owner is suspended, and the
  personal profile of someone who now acts for a firm.

Session events keep them in step on every flush that touches a profile, its skills, its
contracts, its user or memberships, so services, the demo loader and test factories
cannot leave them stale.
"""

from __future__ import annotations

import math
import uuid
from collections import Counter
from datetime import date
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.orm import Session

from marketplace.accounts.models import User, UserStatus
from marketplace.catalog.models import Skill
from marketplace.contracts import terms as contract_terms
from marketplace.contracts.models import Contract, ContractStatus, ContractTerms
from marketplace.contracts.states import RUNNING
from marketplace.database import utcnow
from marketplace.extensions import db
from marketplace.hours import MINUTES_PER_WEEK, WorkingHours, billing_week, week_intervals
from marketplace.matching import scoring, timezones
from marketplace.organizations.models import MemberRole, Membership
from marketplace.profiles.models import (
    RECORD_PRIOR,
    WEEK_SLOTS,
    ProviderProfile,
    ProviderSkill,
)

LEVELS = scoring.LEVELS
KEY_STRIDE = 8  # skill number * 8 + level: levels 1..5 of one skill stay together
SLOT_MINUTES = MINUTES_PER_WEEK // WEEK_SLOTS
_STALE = "matching_stale_profiles"


def skill_key(number: int, level: int) -> int:
    """The key a provider at `level` or above in skill `number` carries."""
    return number * KEY_STRIDE + level


def language_key(code: str) -> int:
    """A language's key: negative, so it never meets a skill key."""
    first, second = (ord(c) - ord("a") for c in code.lower()[:2])
    return -(first * 26 + second + 1)


def experience_value(number: int, level: int, years: int) -> int:
    """Skill number, level and years (up to 99) in one integer, for `skill_experience`."""
    return number * 10_000 + level * 100 + min(max(years, 0), 99)


def experience_parts(value: int) -> tuple[int, int, int]:
    """(skill number, level, years) back from `experience_value`."""
    number, rest = divmod(value, 10_000)
    return number, rest // 100, rest % 100


def profile_keys(levels: dict[int, int], languages: list[str]) -> list[int]:
    """Sorted keys for skill numbers at their levels, and languages."""
    keys = {skill_key(n, lvl) for n, top in levels.items() for lvl in range(1, top + 1)}
    keys |= {language_key(code) for code in languages if len(code) >= 2}
    return sorted(keys)


def availability_bits(zone: str, hours: WorkingHours, on: date) -> tuple[str, int]:
    """The quarter-hours of the UTC week (from Monday 00:00 UTC) fully inside a shift, at
    the zone's offset on `on`; and that offset in minutes."""
    offset = int(timezones.utc_offset(zone, on).total_seconds() // 60)
    slots = bytearray(b"0" * WEEK_SLOTS)
    for start, end in week_intervals(hours):
        first = math.ceil((start - offset) / SLOT_MINUTES)
        last = math.floor((end - offset) / SLOT_MINUTES)
        for slot in range(first, last):
            slots[slot % WEEK_SLOTS] = ord("1")
    return slots.decode(), offset


def committed_hours(profile_id: uuid.UUID, session: Session) -> tuple[float, Counter[str]]:
    """Weekly hours promised in live contracts (their SLA coverage), and contracts by status."""

    rows = session.execute(
        sa.select(Contract.status, ContractTerms.content)
        .outerjoin(
            ContractTerms,
            sa.and_(
                ContractTerms.contract_id == Contract.id,
                ContractTerms.version == Contract.terms_version,
            ),
        )
        .where(Contract.provider_profile_id == profile_id)
    ).all()
    statuses: Counter[str] = Counter(str(status) for status, _ in rows)
    this_week = billing_week(utcnow())
    hours = sum(
        _promised(content or {}, this_week) for status, content in rows if status in RUNNING
    )
    return hours, statuses


def _promised(content: dict[str, Any], this_week: date) -> float:
    """The weekly hours a terms version takes of the provider: an hourly contract's weekly
    limit this week, else its SLA coverage."""
    if "hourly" in content:
        return float(contract_terms.weekly_limit(content, this_week))
    return float((content.get("sla") or {}).get("coverage_hours") or 0)


def is_matchable(profile: ProviderProfile, session: Session) -> bool:
    """Whether the profile may be matched at all (see the module docstring)."""

    if profile.user_id is not None:
        user = session.get(User, profile.user_id)
        member = session.scalar(
            sa.select(Membership.id).where(Membership.user_id == profile.user_id).limit(1)
        )
        return user is not None and user.status == UserStatus.ACTIVE and member is None
    suspended_owner = session.scalar(
        sa.select(Membership.id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.organization_id == profile.organization_id,
            Membership.role == MemberRole.OWNER,
            User.status == UserStatus.SUSPENDED,
        )
        .limit(1)
    )
    return suspended_owner is None


def refresh(profile: ProviderProfile, session: Session) -> None:
    """Recompute the profile's derived columns; assign only what changed."""

    numbers = dict(
        session.execute(
            sa.select(Skill.id, Skill.number).where(
                Skill.id.in_([s.skill_id for s in profile.skills if s.skill_id])
            )
        ).all()
    )
    known = [s for s in profile.skills if s.skill_id in numbers]
    levels = {numbers[s.skill_id]: s.level for s in known}
    experience = sorted(experience_value(numbers[s.skill_id], s.level, s.years) for s in known)
    keys = profile_keys(levels, list(profile.languages or []))
    bits, offset = availability_bits(
        profile.timezone or "UTC", profile.working_hours or {}, utcnow().date()
    )
    hours, statuses = (
        (0.0, Counter[str]()) if profile.id is None else committed_hours(profile.id, session)
    )
    completed = statuses[ContractStatus.COMPLETED]
    # The record term is the periodic record job's (`apply_records`); until it has run for
    # the profile, the neutral prior.
    record = RECORD_PRIOR if profile.record_score is None else profile.record_score
    capacity = max(0, (profile.capacity_hours_per_week or 0) - math.ceil(hours))
    values: dict[str, Any] = {
        "matchable": is_matchable(profile, session),
        "match_keys": keys,
        "skill_experience": experience,
        "availability": bits,
        "availability_offset": offset,
        "capacity_left": capacity,
        "completed_contracts": completed,
        "record_score": record,
        "match_quality": scoring.static_part(record=record, capacity_left=capacity),
    }
    for name, value in values.items():
        if getattr(profile, name) != value:
            setattr(profile, name, value)


def _note_stale(session: Session, flush_context: Any) -> None:

    stale: set[tuple[str, Any]] = session.info.setdefault(_STALE, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, ProviderProfile) and obj not in session.deleted:
            stale.add(("profile", obj.id))
        elif isinstance(obj, ProviderSkill):
            stale.add(("profile", obj.profile_id))
        elif isinstance(obj, Contract):
            stale.add(("profile", obj.provider_profile_id))
        elif isinstance(obj, User):
            stale.add(("user", obj.id))
        elif isinstance(obj, Membership):
            stale.update({("user", obj.user_id), ("organization", obj.organization_id)})


def _profiles_of(session: Session, stale: set[tuple[str, Any]]) -> set[Any]:
    """Resolve noted users and organizations to the provider profiles they affect."""

    ids = {value for kind, value in stale if kind == "profile"}
    users = [value for kind, value in stale if kind == "user" and value is not None]
    organizations = {value for kind, value in stale if kind == "organization"}
    if users:
        ids |= set(
            session.scalars(sa.select(ProviderProfile.id).where(ProviderProfile.user_id.in_(users)))
        )
        organizations |= set(
            session.scalars(
                sa.select(Membership.organization_id).where(
                    Membership.user_id.in_(users), Membership.role == MemberRole.OWNER
                )
            )
        )
    organizations.discard(None)
    if organizations:
        ids |= set(
            session.scalars(
                sa.select(ProviderProfile.id).where(
                    ProviderProfile.organization_id.in_(organizations)
                )
            )
        )
    return ids - {None}


def _refresh_stale(session: Session, flush_context: Any) -> None:
    stale = session.info.pop(_STALE, set())
    if not stale:
        return
    with session.no_autoflush:
        ids = _profiles_of(session, stale)
    for profile_id in ids:
        profile = session.get(ProviderProfile, profile_id)
        if profile is not None:
            # A change here makes the profile dirty again: commit flushes once more, and the
            # second refresh finds nothing to change.
            with session.no_autoflush:
                refresh(profile, session)


def install(session: Any) -> None:
    """Keep the index up to date on every flush of `session` (the app's scoped session)."""
    for name, listener in (("after_flush", _note_stale), ("after_flush_postexec", _refresh_stale)):
        if not sa.event.contains(session, name, listener):
            sa.event.listen(session, name, listener)


def refresh_availability(*, batch: int = 500) -> int:
    """Recompute `availability` where the zone's UTC offset has changed since (daylight
    saving began or ended); returns how many profiles changed. Run daily."""

    session, today = db.session(), utcnow().date()
    stale = [
        (zone, offset)
        for zone, offset in session.execute(
            sa.select(ProviderProfile.timezone, ProviderProfile.availability_offset).distinct()
        )
        if int(timezones.utc_offset(zone, today).total_seconds() // 60) != offset
    ]
    changed = 0
    for zone, offset in stale:
        while True:
            profiles = list(
                session.scalars(
                    sa.select(ProviderProfile)
                    .where(
                        ProviderProfile.timezone == zone,
                        ProviderProfile.availability_offset == offset,
                    )
                    .limit(batch)
                )
            )
            for profile in profiles:
                refresh(profile, session)
            session.commit()
            changed += len(profiles)
            if len(profiles) < batch:
                break
    return changed


def apply_records(scores: dict[Any, float], *, batch: int = 5_000) -> int:
    """Set the record term (and `match_quality`) of every profile from freshly recomputed
    record scores (profiles missing from `scores` get the prior); only rows that change
    are written. Returns how many changed."""
    session = db.session()
    table = cast(sa.Table, ProviderProfile.__table__)
    changes = []
    for profile_id, record, capacity, quality in session.execute(
        sa.select(table.c.id, table.c.record_score, table.c.capacity_left, table.c.match_quality)
    ).all():
        new = scores.get(profile_id, RECORD_PRIOR)
        new_quality = scoring.static_part(record=new, capacity_left=capacity)
        if new != record or new_quality != quality:
            changes.append({"pid": profile_id, "record": new, "quality": new_quality})
    statement = (
        table.update()
        .where(table.c.id == sa.bindparam("pid"))
        .values(record_score=sa.bindparam("record"), match_quality=sa.bindparam("quality"))
    )
    for start in range(0, len(changes), batch):
        session.execute(statement, changes[start : start + batch])
    return len(changes)
