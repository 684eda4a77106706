"""client profiles remember their first completed contract

Revision ID: 5f1c2a7d9e30
Revises: 0b507de28787
Create Date: 2026-12-02 05:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5f1c2a7d9e30'
down_revision = '0b507de28787'
branch_labels = None
depends_on = None


def upgrade():
    # Whether a client is new (its postings go to review) is a fact about the client, so the
    # tasks area reads it from the profile instead of querying contracts.
    with op.batch_alter_table('client_profiles', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('first_completion_at', sa.DateTime(timezone=True), nullable=True)
        )
    op.execute(
        "UPDATE client_profiles SET first_completion_at = ("
        " SELECT MIN(COALESCE(contracts.ended_at, contracts.updated_at)) FROM contracts"
        " WHERE contracts.client_profile_id = client_profiles.id"
        " AND contracts.status = 'completed')"
    )


def downgrade():
    with op.batch_alter_table('client_profiles', schema=None) as batch_op:
        batch_op.drop_column('first_completion_at')
