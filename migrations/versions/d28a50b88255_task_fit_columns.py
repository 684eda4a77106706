"""derived zone-fit columns of tasks for the discovery filters

The client's country (indexed), UTC offset range and weekly shift masks over each task's
period, and the days of search they stand for (marketplace.matching.task_fit). Existing
tasks get their client's country, which is always current, and figures that stand for no
day: searches check them exactly until `flask refresh-task-fit` (or the daily job)
computes them.

Revision ID: d28a50b88255
Revises: ea1c7211141b
Create Date: 2026-12-02 08:00:00.000000

"""
from datetime import date

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

# revision identifiers, used by Alembic.
revision = 'd28a50b88255'
down_revision = 'ea1c7211141b'
branch_labels = None
depends_on = None

MASK_BITS = 7 * 672
COLUMNS = (
    ("fit_offset_min", sa.SmallInteger(), 0),
    ("fit_offset_max", sa.SmallInteger(), 0),
    (
        "fit_masks",
        sa.String(length=MASK_BITS).with_variant(postgresql.BIT(length=MASK_BITS), "postgresql"),
        "0" * MASK_BITS,
    ),
    ("fit_from", sa.Date(), date.min),
    ("fit_until", sa.Date(), date.min),
)


def upgrade():
    # Added nullable, filled, then made NOT NULL.
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('fit_country', sa.String(length=2), nullable=True))
        for name, type_, _ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))
    tasks = sa.table('tasks', *(sa.column(name, type_) for name, type_, _ in COLUMNS))
    op.execute(tasks.update().values({name: value for name, _, value in COLUMNS}))
    op.execute(
        "UPDATE tasks SET fit_country = (SELECT NULLIF(country, '') FROM client_profiles "
        "WHERE client_profiles.id = tasks.client_profile_id)"
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        for name, type_, _ in COLUMNS:
            batch_op.alter_column(name, existing_type=type_, nullable=False)
        batch_op.create_index(batch_op.f('ix_tasks_fit_country'), ['fit_country'], unique=False)


def downgrade():
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_fit_country'))
        for name, _, _ in reversed(COLUMNS):
            batch_op.drop_column(name)
        batch_op.drop_column('fit_country')
