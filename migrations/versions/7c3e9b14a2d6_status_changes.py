"""status changes: who moved an entity without a transitions table of its own, and when

Revision ID: 7c3e9b14a2d6
Revises: 5f1c2a7d9e30
Create Date: 2026-12-03 09:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7c3e9b14a2d6'
down_revision = '5f1c2a7d9e30'
branch_labels = None
depends_on = None


def upgrade():
    # One table for the status history of payments, transfers, refunds, refund requests,
    # disputes, reports, outbox entries, webhook events, idempotency keys, users,
    # invitations and amendments (marketplace/statemachine.py says why). No foreign key
    # to the entity, which lives in any of those tables; earlier changes were not
    # recorded, so there is nothing to backfill.
    op.create_table('status_changes',
    sa.Column('entity', sa.String(length=40), nullable=False),
    sa.Column('entity_id', sa.Uuid(), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('from_status', sa.String(length=30), nullable=True),
    sa.Column('to_status', sa.String(length=30), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_status_changes_actor_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_changes'))
    )
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.create_index('ix_status_changes_entity', ['entity', 'entity_id', 'at'], unique=False)


def downgrade():
    with op.batch_alter_table('status_changes', schema=None) as batch_op:
        batch_op.drop_index('ix_status_changes_entity')

    op.drop_table('status_changes')
