"""workflow pilots and reported savings

`workflows.pilot_task_id` (the draft trial task made from a workflow's recommendation),
`workflows.hours_saved_hundredths` (hours a week the client reports saving), and a wider
range of in-house hours (a team's work, up to 4,000 hours a week, not one person's 168).

Revision ID: c5d358c94736
Revises: 77eefb18f479
Create Date: 2026-12-04 20:21:49.224856

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c5d358c94736'
down_revision = '77eefb18f479'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pilot_task_id', sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column('hours_saved_hundredths', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_workflows_pilot_task_id'), ['pilot_task_id'])
        batch_op.create_foreign_key(batch_op.f('fk_workflows_pilot_task_id_tasks'), 'tasks', ['pilot_task_id'], ['id'], ondelete='SET NULL')
        batch_op.drop_constraint(batch_op.f('ck_workflows_hours_range'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_workflows_hours_per_week_range'),
            'hours_per_week_hundredths BETWEEN 1 AND 400000',
        )
        batch_op.create_check_constraint(
            batch_op.f('ck_workflows_hours_saved_range'),
            'hours_saved_hundredths BETWEEN 0 AND 400000',
        )


def downgrade():
    with op.batch_alter_table('workflows', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_workflows_hours_saved_range'), type_='check')
        batch_op.drop_constraint(batch_op.f('ck_workflows_hours_per_week_range'), type_='check')
        batch_op.create_check_constraint(
            batch_op.f('ck_workflows_hours_range'), 'hours_per_week_hundredths BETWEEN 1 AND 16800'
        )
        batch_op.drop_constraint(batch_op.f('fk_workflows_pilot_task_id_tasks'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_workflows_pilot_task_id'), type_='unique')
        batch_op.drop_column('hours_saved_hundredths')
        batch_op.drop_column('pilot_task_id')
