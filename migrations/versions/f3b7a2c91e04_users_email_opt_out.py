"""users choose which notification kinds are e-mailed

`users.email_opt_out`: the notification kinds a user does not want e-mailed (a JSON list of
kind names, empty for everyone at first: every e-mail is sent as before). Kinds about money,
security and invitations to answer are e-mailed whatever it holds
(marketplace.jobs.emails.KINDS).

Revision ID: f3b7a2c91e04
Revises: d28a50b88255
Create Date: 2026-12-02 13:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3b7a2c91e04'
down_revision = 'd28a50b88255'
branch_labels = None
depends_on = None


def upgrade():
    # The server default fills existing rows on SQLite and PostgreSQL alike.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('email_opt_out', sa.JSON(), nullable=False, server_default='[]')
        )


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_opt_out')
