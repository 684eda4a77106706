"""What the benchmarks share: the synthetic data they load, and the CPU check.

- `load_providers`: N providers by COPY (users, profiles with their matching index computed
  as the app computes it, skills), with Zipf-like skill frequencies: bench/matching.py and
  bench/api.py.
- `add_clients`, `add_searching_provider`, `add_open_tasks`: clients in six zones, one
  provider in Manila who searches, and open tasks spread over the clients, through the ORM
  so the session's events run: bench/discovery.py and bench/api.py.
- `bench_client`, `skill_pairs`, `publish_bench_task`: a task for a skill pair (or one
  skill) of a chosen frequency class, made and published by the services: bench/matching.py
  and bench/api.py.

Every function runs inside an app context, on the app's session.
"""

from __future__ import annotations

import itertools
import json
import random
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher

from marketplace.accounts.models import Role, User
from marketplace.catalog.models import Skill
from marketplace.database import new_id, utcnow
from marketplace.extensions import db
from marketplace.matching import index, scoring
from marketplace.profiles.models import ClientProfile, ProviderProfile, ProviderSkill, ServiceModel
from marketplace.tasks import lifecycle
from marketplace.tasks import services as tasks
from marketplace.tasks.inputs import Budget, OverlapNeed, RequiredSkill, TaskDraft
from marketplace.tasks.models import BudgetType, Shoring, Task, TaskLanguage, TaskSkill
from marketplace.tasks.states import TaskStatus

# Where providers are (weights roughly like a VA and BPO marketplace's).
PROVIDER_ZONES = [
    ("Asia/Manila", "PH", 22), ("Asia/Kolkata", "IN", 18), ("America/New_York", "US", 8),
    ("America/Chicago", "US", 4), ("America/Los_Angeles", "US", 4), ("Europe/London", "GB", 4),
    ("America/Mexico_City", "MX", 5), ("America/Bogota", "CO", 4), ("America/Sao_Paulo", "BR", 4),
    ("Africa/Lagos", "NG", 4), ("Africa/Nairobi", "KE", 3), ("Asia/Karachi", "PK", 5),
    ("Europe/Kyiv", "UA", 3), ("Europe/Warsaw", "PL", 2), ("Africa/Johannesburg", "ZA", 3),
    ("Asia/Dhaka", "BD", 3), ("Asia/Jakarta", "ID", 2), ("Australia/Sydney", "AU", 1),
    ("Asia/Kathmandu", "NP", 1),
]  # fmt: skip
SHIFTS = [
    ("09:00", "17:00"), ("08:00", "16:00"), ("10:00", "18:00"), ("21:00", "05:00"),
    ("13:00", "21:00"), ("06:00", "14:00"), ("22:00", "06:00"), ("12:00", "20:00"),
]  # fmt: skip
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
LANGUAGES = [("en", 0.9), ("es", 0.15), ("tl", 0.18), ("hi", 0.12), ("fr", 0.06), ("pt", 0.05)]
LEVELS = [1, 2, 3, 4, 5]
LEVEL_WEIGHTS = [0.1, 0.25, 0.3, 0.23, 0.12]
# Where clients are, in turn.
CLIENT_ZONES = [
    ("America/New_York", "US"),
    ("Europe/London", "GB"),
    ("Europe/Berlin", "DE"),
    ("Australia/Sydney", "AU"),
    ("America/Chicago", "US"),
    ("Asia/Singapore", "SG"),
]
# Expected shares of providers having both skills of a pair, per frequency class.
CLASSES = {"common": (0.02, 1.0), "mid": (0.002, 0.008), "rare": (0.00005, 0.0004)}
PAIRS_PER_CLASS = 4
PASSWORD = "bench-password-1"
TASK_BATCH = 5_000


def _copy(conn: Any, table: str, columns: list[str], rows: Any) -> None:
    with (
        conn.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def _measured(completed: int, failed: int, rng: random.Random) -> dict[str, Any]:
    """Record figures (all time) as `marketplace.record.standing` stores them, for a
    provider with these contract outcomes: the record term runs on measured figures."""

    def shown(value: float, samples: int) -> dict[str, Any]:
        ok = samples >= 3
        return {"value": value if ok else None, "samples": samples, "shown": ok}

    ended = completed + failed
    milestones, reviews = ended * 3, completed
    window = {
        "completion_rate": shown(completed / ended if ended else 0.0, ended),
        "on_time_rate": shown(rng.uniform(0.7, 1.0), milestones),
        "rating": shown(round(rng.uniform(3.5, 5.0), 2), reviews),
        "sla_attainment": shown(rng.uniform(0.8, 1.0), ended * 8),
        "disputes_lost": shown(rng.choice([0, 0, 0, 1]) if ended else 0, ended),
    }
    return {"all": window, "12m": window}


def load_providers(count: int) -> None:
    """COPY `count` providers with skills; the matching columns computed as the app does."""
    rng = random.Random(count)
    skills = list(db.session.execute(sa.select(Skill.id, Skill.number).order_by(Skill.number)))
    weights = [1 / (rank + 1) ** 1.1 for rank in range(len(skills))]
    now, today = datetime.now(UTC), date.today()
    bits = {
        (zone, shift): index.availability_bits(zone, {d: [list(shift)] for d in WEEKDAYS}, today)
        for zone, _, _ in PROVIDER_ZONES
        for shift in SHIFTS
    }
    users, profiles, provider_skills, records = [], [], [], []
    for n in range(count):
        zone, country, _ = rng.choices(PROVIDER_ZONES, weights=[z[2] for z in PROVIDER_ZONES])[0]
        shift = rng.choice(SHIFTS)
        user_id, profile_id = new_id(), new_id()
        users.append((user_id, f"p{n}@bench.example", "x", f"P{n}", "provider", "active",
                      zone, country, now, now))  # fmt: skip
        mine = {skills[i] for i in rng.choices(range(len(skills)), weights=weights, k=4)}
        levels, experience = {}, []
        for skill_id, number in mine:
            level, years = rng.choices(LEVELS, weights=LEVEL_WEIGHTS)[0], rng.randint(0, 12)
            levels[number] = level
            experience.append(index.experience_value(number, level, years))
            provider_skills.append((new_id(), profile_id, skill_id, level, years))
        languages = [code for code, share in LANGUAGES if rng.random() < share] or ["en"]
        completed = rng.choice([0, 0, 0, 1, 2, 5, 12])
        failed = rng.choice([0, 0, 0, 1])
        measured = _measured(completed, failed, rng)
        record = scoring.record_score(measured)
        if completed + failed:
            records.append((profile_id, json.dumps(measured), record, now))
        capacity = rng.choice([40, 40, 40, 30, 20, 0])
        availability, offset = bits[(zone, shift)]
        profiles.append((
            profile_id, user_id, "va", f"VA {n}", "", rng.randint(4, 40) * 100, "usd",
            json.dumps(languages), zone, country, json.dumps({d: [list(shift)] for d in WEEKDAYS}),
            capacity, "unverified", False, now, now, True,
            index.profile_keys(levels, languages), sorted(experience), availability, offset,
            capacity, completed, record, scoring.static_part(record=record, capacity_left=capacity),
        ))  # fmt: skip
    conn = db.session.connection().connection.driver_connection
    assert conn is not None
    # Building the GIN index once after the load is much faster than growing it row by row.
    conn.execute("DROP INDEX ix_provider_profiles_match_keys")
    _copy(conn, "users", ["id", "email", "password_hash", "name", "role", "status", "timezone",
                          "country", "created_at", "updated_at"], users)  # fmt: skip
    _copy(conn, "provider_profiles", [
        "id", "user_id", "service_model", "headline", "bio", "hourly_rate_amount",
        "hourly_rate_currency", "languages", "timezone", "country", "working_hours",
        "capacity_hours_per_week", "verification_status", "payouts_enabled", "created_at",
        "updated_at", "matchable", "match_keys", "skill_experience", "availability",
        "availability_offset", "capacity_left", "completed_contracts", "record_score",
        "match_quality",
    ], profiles)  # fmt: skip
    _copy(conn, "provider_skills", ["id", "profile_id", "skill_id", "level", "years"],
          provider_skills)  # fmt: skip
    _copy(conn, "provider_records", ["provider_profile_id", "figures", "score", "computed_at"],
          records)  # fmt: skip
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute(
        "CREATE INDEX ix_provider_profiles_match_keys ON provider_profiles USING gin (match_keys)"
    )
    db.session.commit()
    vacuum_analyze()


def vacuum_analyze() -> None:
    """Fresh planner statistics (and visibility maps) after a bulk load, as autovacuum would
    leave them some time later."""
    with db.engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(sa.text("VACUUM ANALYZE"))


def add_clients(count: int) -> list[ClientProfile]:
    """Clients `client0@bench.example`... in the six zones in turn, working 9 to 5 on
    weekdays (not committed)."""
    password = PasswordHasher().hash(PASSWORD)
    weekdays = {d: [["09:00", "17:00"]] for d in WEEKDAYS}
    profiles = []
    for n in range(count):
        zone, country = CLIENT_ZONES[n % len(CLIENT_ZONES)]
        user = User(email=f"client{n}@bench.example", password_hash=password, name=f"C{n}",
                    role=Role.CLIENT, timezone=zone, country=country,
                    email_verified_at=utcnow())  # fmt: skip
        profile = ClientProfile(user=user, timezone=zone, country=country, working_hours=weekdays)
        db.session.add(profile)
        profiles.append(profile)
    db.session.flush()
    return profiles


def loaded_clients() -> list[ClientProfile]:
    """The clients `add_clients` made, in the order it made them."""
    return list(
        db.session.scalars(
            sa.select(ClientProfile)
            .join(User, User.id == ClientProfile.user_id)
            .where(User.email.regexp_match(r"^client[0-9]+@bench\.example$"))
            .order_by(ClientProfile.id)  # time-ordered ids: the order of creation
        )
    )


def add_searching_provider() -> User:
    """`provider@bench.example`, a VA in Manila working nights (not committed): the
    provider who searches open tasks."""
    weekdays = {d: [["21:00", "05:00"]] for d in WEEKDAYS}
    provider = User(
        email="provider@bench.example",
        password_hash=PasswordHasher().hash(PASSWORD),
        name="P",
        role=Role.PROVIDER,
        timezone="Asia/Manila",
        country="PH",
        email_verified_at=utcnow(),
    )
    profile = ProviderProfile(
        user=provider,
        service_model=ServiceModel.VA,
        timezone="Asia/Manila",
        country="PH",
        working_hours=weekdays,
    )
    db.session.add(profile)
    db.session.flush()
    return provider


def add_open_tasks(count: int, clients: Sequence[ClientProfile], *, first: int = 0) -> None:
    """Open tasks number `first` to `first + count - 1`, each of a random client, needing two
    random skills at level 2 and English, hourly in USD; committed in batches. The higher
    the number, the earlier the task opened."""
    rng = random.Random(7 + first)
    owners = [(client.id, client.user_id) for client in clients]
    skills = list(db.session.scalars(sa.select(Skill.id).order_by(Skill.number)))
    now, today = utcnow(), date.today()
    for start in range(first, first + count, TASK_BATCH):
        for n in range(start, min(start + TASK_BATCH, first + count)):
            client_profile_id, user_id = rng.choice(owners)
            task = Task(
                client_profile_id=client_profile_id,
                created_by_id=user_id,
                terms_hash="x",
                title=f"Weekly reports and bookkeeping {n}",
                summary="Prepare reports.",
                tier=3,
                budget_type=BudgetType.HOURLY,
                budget_min=500,
                budget_max=rng.randint(600, 5000),
                currency="usd",
                status=TaskStatus.OPEN,
                start_date=today + timedelta(days=rng.randint(0, 30)),
                deadline=today + timedelta(days=rng.randint(40, 200)),
                opened_at=now - timedelta(minutes=n),
                expires_at=now + timedelta(days=30),
            )
            task.skills = [TaskSkill(skill_id=s, min_level=2) for s in rng.sample(skills, 2)]
            task.language_rows = [TaskLanguage(code="en")]
            db.session.add(task)
        db.session.commit()


def bench_client() -> User:
    """`client@bench.example` in New York, working 9 to 5 (made on first use)."""
    user = db.session.scalar(sa.select(User).filter_by(email="client@bench.example"))
    if user is None:
        user = User(email="client@bench.example", password_hash="x", name="C", role="client",
                    timezone="America/New_York", country="US",
                    email_verified_at=utcnow())  # fmt: skip
        weekdays = {d: [["09:00", "17:00"]] for d in WEEKDAYS}
        db.session.add(ClientProfile(user=user, timezone=user.timezone, country="US",
                                     working_hours=weekdays))  # fmt: skip
        db.session.commit()
    return user


def _shares(count: int) -> dict[str, float]:
    """Share of the `count` providers at level 3 or above in each skill, by slug."""
    rows = db.session.execute(
        sa.select(Skill.slug, sa.func.count())
        .join(ProviderSkill, ProviderSkill.skill_id == Skill.id)
        .where(ProviderSkill.level >= 3)
        .group_by(Skill.slug)
    )
    return {slug: n / count for slug, n in rows}


def skill_pairs(count: int) -> dict[str, list[tuple[str, str]]]:
    """Skill pairs (at level 3 or above) whose expected share of the `count` loaded
    providers falls in each class of `CLASSES`."""
    shares = _shares(count)
    found: dict[str, list[tuple[str, str]]] = {name: [] for name in CLASSES}
    used: set[str] = set()
    for a, b in itertools.combinations(sorted(shares, key=shares.__getitem__, reverse=True), 2):
        share = shares[a] * shares[b] * 0.9  # most speak English
        for name, (low, high) in CLASSES.items():
            fresh = not {a, b} & used  # varied pairs, not one skill with many partners
            if low <= share < high and len(found[name]) < PAIRS_PER_CLASS and fresh:
                found[name].append((a, b))
                used |= {a, b}
    return found


def publish_bench_task(owner: User, skills: tuple[str, ...], shoring: str) -> uuid.UUID:
    """An hourly VA task needing `skills` (at level 3 for a pair, at any level for one),
    English and three hours' overlap, made and published through the services (a new
    client's goes to review)."""
    level = 3 if len(skills) > 1 else 1
    draft = TaskDraft(
        title=f"Bench {' and '.join(skills)}", summary="Ongoing work.", tier=3,
        service_model=ServiceModel.VA, skills=tuple(RequiredSkill(s, level) for s in skills),
        budget=Budget(BudgetType.HOURLY, 800, 2000, "usd"),
        start_date=date.today() + timedelta(days=3), deadline=date.today() + timedelta(days=40),
        timezone_need=OverlapNeed(3), shoring=Shoring(shoring), languages=("en",),
    )  # fmt: skip
    task = tasks.create_task(user=owner, draft=draft)
    lifecycle.publish_task(user=owner, task_id=task.id, confirm_strategic=False)
    return task.id


def cpu_ms() -> float:
    """Milliseconds a fixed Python loop takes, best of five: how fast the machine is now."""
    best = float("inf")
    for _ in range(5):
        started, total = time.perf_counter(), 0
        for n in range(2_000_000):
            total += n & 7
        best = min(best, (time.perf_counter() - started) * 1000)
    return best


def bench_parties(
    password_hash: str,
    *,
    client_age_days: int,
    service_model: ServiceModel,
    headline: str,
    bio: str,
) -> tuple[User, User]:
    """A verified client in New York and a provider in Manila, both working 09:00-17:00 on
    weekdays, with their profiles (committed): the two sides of a benchmark's contract."""
    weekdays = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
    people = {}
    for role, zone, country in ((Role.CLIENT, "America/New_York", "US"),
                                (Role.PROVIDER, "Asia/Manila", "PH")):  # fmt: skip
        people[role] = User(
            email=f"{role.value}@bench.example", password_hash=password_hash,
            name=f"Bench {role.value}", role=role, timezone=zone, country=country,
            email_verified_at=utcnow(),
        )  # fmt: skip
    client, provider = people[Role.CLIENT], people[Role.PROVIDER]
    db.session.add(
        ClientProfile(
            user=client,
            company_name="Bench Co",
            country="US",
            timezone="America/New_York",
            working_hours=weekdays,
            created_at=utcnow() - timedelta(days=client_age_days),
        )
    )
    db.session.add(
        ProviderProfile(
            user=provider,
            service_model=service_model,
            headline=headline,
            bio=bio,
            hourly_rate_amount=1500,
            hourly_rate_currency="usd",
            languages=["en"],
            country="PH",
            timezone="Asia/Manila",
            working_hours=weekdays,
        )
    )
    db.session.commit()
    return client, provider
