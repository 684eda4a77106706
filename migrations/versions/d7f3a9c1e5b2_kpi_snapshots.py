"""the grouped stored response samples kept on their mark, and KPI snapshots

Revision ID: d7f3a9c1e5b2
Revises: c4e8a1f2b9d3
Create Date: 2026-12-03 16:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd7f3a9c1e5b2'
down_revision = 'c4e8a1f2b9d3'
branch_labels = None
depends_on = None


def upgrade():
    # Marks without a digest are counted again on their next read.
    with op.batch_alter_table('sla_sample_marks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('digest', sa.JSON(), nullable=True))
    op.create_table('kpi_snapshots',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('fingerprint', sa.String(length=64), nullable=False),
    sa.Column('computed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_kpi_snapshots_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', name=op.f('pk_kpi_snapshots'))
    )


def downgrade():
    op.drop_table('kpi_snapshots')
    with op.batch_alter_table('sla_sample_marks', schema=None) as batch_op:
        batch_op.drop_column('digest')
