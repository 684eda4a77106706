"""two-factor sign-in: TOTP secrets on users and one-time recovery codes

`users.totp_secret`, `users.totp_last_step` (the last time step whose code was accepted,
against replays) and `users.two_factor_enabled_at` (null: two-factor sign-in is off, as it
is for every existing user); `recovery_codes` holds the SHA-256 hashes of each user's
one-time recovery codes.

Revision ID: b6d41c2e8f07
Revises: a7c4e9d2b160
Create Date: 2026-12-02 17:50:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6d41c2e8f07'
down_revision = 'a7c4e9d2b160'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('totp_secret', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column('two_factor_enabled_at', sa.DateTime(timezone=True), nullable=True)
        )

    op.create_table(
        'recovery_codes',
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('code_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ['user_id'], ['users.id'],
            name=op.f('fk_recovery_codes_user_id_users'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_codes')),
    )
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_codes_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recovery_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_codes_user_id'))
    op.drop_table('recovery_codes')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('two_factor_enabled_at')
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_secret')
