"""stored response samples of the SLA clocks, and their mark, for the KPIs

Revision ID: c4e8a1f2b9d3
Revises: 51377c92d9c8
Create Date: 2026-12-03 09:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4e8a1f2b9d3'
down_revision = '51377c92d9c8'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sla_samples',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('metric', sa.String(length=40), nullable=False),
    sa.Column('key', sa.String(length=120), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('stopped_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_sla_samples_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', 'metric', 'key', name=op.f('pk_sla_samples'))
    )
    op.create_table('sla_sample_marks',
    sa.Column('contract_id', sa.Uuid(), nullable=False),
    sa.Column('basis', sa.String(length=64), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('last_message_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_message_id', sa.Uuid(), nullable=True),
    sa.Column('waiting_metric', sa.String(length=40), nullable=True),
    sa.Column('waiting_key', sa.String(length=120), nullable=True),
    sa.Column('waiting_since', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contract_id'], ['contracts.id'], name=op.f('fk_sla_sample_marks_contract_id_contracts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('contract_id', name=op.f('pk_sla_sample_marks'))
    )


def downgrade():
    op.drop_table('sla_sample_marks')
    op.drop_table('sla_samples')
