"""confidential accesses say which endpoint served the material

Revision ID: a4d7e2c91b05
Revises: 7c3e9b14a2d6
Create Date: 2026-12-05 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a4d7e2c91b05'
down_revision = '7c3e9b14a2d6'
branch_labels = None
depends_on = None


def upgrade():
    # Contracts and their terms history serve confidential material too, so the log says
    # where each read happened. Every earlier read went through the task's endpoint.
    with op.batch_alter_table('confidential_accesses', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                'via',
                sa.String(length=120),
                nullable=False,
                server_default='GET /api/v1/tasks/{task_id}/confidential',
            )
        )
    with op.batch_alter_table('confidential_accesses', schema=None) as batch_op:
        batch_op.alter_column('via', server_default=None)


def downgrade():
    with op.batch_alter_table('confidential_accesses', schema=None) as batch_op:
        batch_op.drop_column('via')
