"""users verify their e-mail address

`users.email_verified_at`: when the user opened the link of the verification e-mail. Until
it is set, a user may sign in, browse and fill in profiles, but not publish a task, bid,
award or accept a contract, fund a milestone or set up payouts (a 403 `email_unverified`).

Every user that exists when this runs is marked verified at the time of the upgrade: they
signed up before addresses were checked, and a marketplace already in use must not lock its
people out of work they are doing. Only accounts made from now on start unverified.

Revision ID: a7c4e9d2b160
Revises: f3b7a2c91e04
Create Date: 2026-12-02 17:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c4e9d2b160'
down_revision = 'f3b7a2c91e04'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', sa.DateTime(timezone=True), nullable=True))
    # Existing accounts count as verified (see above). CURRENT_TIMESTAMP is UTC on SQLite
    # and a timestamptz on PostgreSQL.
    op.execute(sa.text("UPDATE users SET email_verified_at = CURRENT_TIMESTAMP"))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
