"""amendments can be declined (with a reason) or withdrawn

Revision ID: ea1c7211141b
Revises: a4d7e2c91b05
Create Date: 2026-12-04 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa

OLD_STATUSES = "'proposed', 'accepted', 'lapsed'"
NEW_STATUSES = "'proposed', 'accepted', 'declined', 'withdrawn', 'lapsed'"


# revision identifiers, used by Alembic.
revision = 'ea1c7211141b'
down_revision = 'a4d7e2c91b05'
branch_labels = None
depends_on = None


def upgrade():
    # The other party declines an amendment with a reason, or its proposer withdraws it;
    # existing amendments were only ever proposed, accepted or lapsed, so nothing to backfill.
    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('end_reason', sa.Text(), nullable=True))
        batch_op.drop_constraint(op.f('ck_amendments_amendmentstatus'), type_='check')
        batch_op.create_check_constraint('amendmentstatus', sa.text(f"status IN ({NEW_STATUSES})"))


def downgrade():
    # Declined and withdrawn amendments changed nothing in the terms, as lapsed ones did.
    op.execute("UPDATE amendments SET status = 'lapsed' WHERE status IN ('declined', 'withdrawn')")
    with op.batch_alter_table('amendments', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_amendments_amendmentstatus'), type_='check')
        batch_op.create_check_constraint('amendmentstatus', sa.text(f"status IN ({OLD_STATUSES})"))
        batch_op.drop_column('end_reason')
