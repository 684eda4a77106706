"""the parties' evidence on a dispute

`dispute_evidence`: what either party adds to an open dispute before its deadline (a
statement and the attached files' metadata), by whom, on which side and when.

Revision ID: 7d2f0c4b9e61
Revises: d7f3a9c1e5b2
Create Date: 2026-12-04 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2f0c4b9e61'
down_revision = 'd7f3a9c1e5b2'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'dispute_evidence',
        sa.Column('dispute_id', sa.Uuid(), nullable=False),
        sa.Column('author_id', sa.Uuid(), nullable=False),
        sa.Column('side', sa.String(length=10), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('files', sa.JSON(), server_default='[]', nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ['author_id'], ['users.id'], name=op.f('fk_dispute_evidence_author_id_users')
        ),
        sa.ForeignKeyConstraint(
            ['dispute_id'],
            ['disputes.id'],
            name=op.f('fk_dispute_evidence_dispute_id_disputes'),
            ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute_evidence')),
    )
    with op.batch_alter_table('dispute_evidence', schema=None) as batch_op:
        batch_op.create_index(
            'ix_dispute_evidence_dispute_created', ['dispute_id', 'created_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('dispute_evidence', schema=None) as batch_op:
        batch_op.drop_index('ix_dispute_evidence_dispute_created')
    op.drop_table('dispute_evidence')
