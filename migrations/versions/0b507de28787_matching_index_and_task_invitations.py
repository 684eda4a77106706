"""matching index and task invitations

Skill numbers; the derived matching columns of provider profiles (skill-level and
language keys with a GIN index on PostgreSQL, weekly UTC availability, capacity left,
record, matchable), backfilled here; task invitations.

Revision ID: 0b507de28787
Revises: bbaca6669d2a
Create Date: 2026-12-01 07:54:40.341430

"""
import json
import math
import uuid
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = '0b507de28787'
down_revision = 'bbaca6669d2a'
branch_labels = None
depends_on = None



WEEK_SLOTS = 672
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RECORD_PRIOR, PRIOR_WEIGHT = 0.6, 5
COLUMNS = (
    ("matchable", sa.Boolean()),
    ("match_keys", sa.JSON().with_variant(postgresql.ARRAY(sa.Integer()), "postgresql")),
    ("skill_experience", sa.JSON().with_variant(postgresql.ARRAY(sa.Integer()), "postgresql")),
    ("availability", sa.String(length=672).with_variant(postgresql.BIT(length=672), "postgresql")),
    ("availability_offset", sa.SmallInteger()),
    ("capacity_left", sa.Integer()),
    ("completed_contracts", sa.Integer()),
    ("record_score", sa.Float()),
    ("match_quality", sa.Float()),
)


def _minutes(text):
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _availability(zone, hours):
    """The profile's weekly hours as quarter-hours of the UTC week, at today's offset."""
    noon = datetime.combine(datetime.now(UTC).date(), time(12), tzinfo=UTC)
    offset = int(noon.astimezone(ZoneInfo(zone)).utcoffset().total_seconds() // 60)
    slots = bytearray(b"0" * WEEK_SLOTS)
    for index, day in enumerate(DAYS):
        for start_text, end_text in hours.get(day, []):
            start, end = _minutes(start_text), _minutes(end_text)
            end += 1440 if end <= start else 0
            first = math.ceil((index * 1440 + start - offset) / 15)
            last = math.floor((index * 1440 + end - offset) / 15)
            for slot in range(first, last):
                slots[slot % WEEK_SLOTS] = ord("1")
    return slots.decode(), offset


def _loads(value):
    return json.loads(value) if isinstance(value, str) else (value or {})


def _backfill(conn):
    """Compute the derived columns of every existing provider profile (as the app would)."""
    conn.execute(sa.text(
        "UPDATE skills SET number = (SELECT count(*) FROM skills AS s WHERE s.slug <= skills.slug)"
    ))
    levels, contracts = {}, {}
    for row in conn.execute(sa.text(
        "SELECT ps.profile_id, s.number, ps.level, ps.years FROM provider_skills ps "
        "JOIN skills s ON s.id = ps.skill_id"
    )):
        levels.setdefault(row.profile_id, []).append((row.number, row.level, row.years))
    for row in conn.execute(sa.text(
        "SELECT c.provider_profile_id, c.status, t.content FROM contracts c LEFT JOIN "
        "contract_terms t ON t.contract_id = c.id AND t.version = c.terms_version"
    )):
        contracts.setdefault(row.provider_profile_id, []).append((row.status, _loads(row.content)))
    hidden = {row.id for row in conn.execute(sa.text(
        "SELECT p.id FROM provider_profiles p JOIN users u ON u.id = p.user_id "
        "WHERE u.status = 'suspended' OR EXISTS (SELECT 1 FROM memberships m WHERE m.user_id = u.id) "
        "UNION SELECT p.id FROM provider_profiles p JOIN memberships m ON "
        "m.organization_id = p.organization_id AND m.role = 'owner' JOIN users u ON u.id = m.user_id "
        "WHERE u.status = 'suspended'"
    ))}
    table = sa.table("provider_profiles", sa.column("id", sa.Uuid()), *(sa.column(n, t) for n, t in COLUMNS))
    for row in conn.execute(sa.text(
        "SELECT id, languages, timezone, working_hours, capacity_hours_per_week FROM provider_profiles"
    )):
        mine_skills = levels.get(row.id, [])
        keys = {number * 8 + level for number, top, _ in mine_skills for level in range(1, top + 1)}
        experience = sorted(n * 10_000 + lvl * 100 + min(max(y, 0), 99) for n, lvl, y in mine_skills)
        keys |= {-((ord(c[0]) - 97) * 26 + ord(c[1]) - 97 + 1) for c in _loads(row.languages) if len(c) >= 2}
        bits, offset = _availability(row.timezone or "UTC", _loads(row.working_hours))
        mine = contracts.get(row.id, [])
        completed = sum(1 for status, _ in mine if status == "completed")
        failed = sum(1 for status, _ in mine if status == "terminated")
        committed = sum(
            float((content.get("sla") or {}).get("coverage_hours") or 0)
            for status, content in mine if status in ("active", "paused")
        )
        capacity = max(0, (row.capacity_hours_per_week or 0) - math.ceil(committed))
        record = round((completed + PRIOR_WEIGHT * RECORD_PRIOR) / (completed + failed + PRIOR_WEIGHT), 4)
        profile_id = row.id if isinstance(row.id, uuid.UUID) else uuid.UUID(row.id)  # SQLite: text
        conn.execute(table.update().where(table.c.id == profile_id).values(
            matchable=row.id not in hidden,
            match_keys=sorted(keys),
            skill_experience=experience,
            availability=bits,
            availability_offset=offset,
            capacity_left=capacity,
            completed_contracts=completed,
            record_score=record,
            match_quality=round(0.15 * record + 0.10 * min(1.0, capacity / 40), 4),
        ))


def upgrade():
    op.create_table('task_invitations',
    sa.Column('task_id', sa.Uuid(), nullable=False),
    sa.Column('provider_profile_id', sa.Uuid(), nullable=False),
    sa.Column('invited_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['invited_by_id'], ['users.id'], name=op.f('fk_task_invitations_invited_by_id_users')),
    sa.ForeignKeyConstraint(['provider_profile_id'], ['provider_profiles.id'], name=op.f('fk_task_invitations_provider_profile_id_provider_profiles'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_invitations_task_id_tasks'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_invitations')),
    sa.UniqueConstraint('task_id', 'provider_profile_id', name=op.f('uq_task_invitations_task_id_provider_profile_id'))
    )
    with op.batch_alter_table('task_invitations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_task_invitations_provider_profile_id'), ['provider_profile_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_task_invitations_task_id'), ['task_id'], unique=False)

    # Added nullable, backfilled, then made NOT NULL: existing rows get computed values.
    with op.batch_alter_table('skills', schema=None) as batch_op:
        batch_op.add_column(sa.Column('number', sa.Integer(), nullable=True))
    with op.batch_alter_table('provider_profiles', schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    _backfill(op.get_bind())
    with op.batch_alter_table('skills', schema=None) as batch_op:
        batch_op.alter_column('number', existing_type=sa.Integer(), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_skills_number'), ['number'])
    with op.batch_alter_table('provider_profiles', schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
    # Skill levels and languages as GIN-indexed integer keys (PostgreSQL; SQLite scans).
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE INDEX ix_provider_profiles_match_keys ON provider_profiles USING gin (match_keys)"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_provider_profiles_match_keys")
    with op.batch_alter_table('skills', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_skills_number'), type_='unique')
        batch_op.drop_column('number')

    with op.batch_alter_table('provider_profiles', schema=None) as batch_op:
        for name, _ in reversed(COLUMNS):
            batch_op.drop_column(name)

    with op.batch_alter_table('task_invitations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_task_invitations_task_id'))
        batch_op.drop_index(batch_op.f('ix_task_invitations_provider_profile_id'))

    op.drop_table('task_invitations')
