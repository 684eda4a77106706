"""uploaded files, and the files of tasks, messages, deliveries and disputes

`files`: one row per upload (its owner, use, safe name, size, sniffed content type,
SHA-256, storage key, and the object it is attached to). Tasks (`confidential_files`),
messages, milestone submissions and disputes (`files`) keep their attached files'
metadata as JSON lists, empty for existing rows.

Revision ID: b5c1d7e9a304
Revises: b6d41c2e8f07
Create Date: 2026-12-02 18:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b5c1d7e9a304'
down_revision = 'b6d41c2e8f07'
branch_labels = None
depends_on = None

PURPOSES = ('task', 'message', 'submission', 'evidence', 'work_report')
LISTS = (
    ('tasks', 'confidential_files'),
    ('messages', 'files'),
    ('milestone_submissions', 'files'),
    ('disputes', 'files'),
)


def upgrade():
    op.create_table(
        'files',
        sa.Column('owner_id', sa.Uuid(), nullable=False),
        sa.Column(
            'purpose',
            sa.Enum(*PURPOSES, name='filepurpose', native_enum=False, create_constraint=True, length=20),
            nullable=False,
        ),
        sa.Column('name', sa.String(length=255), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('content_type', sa.String(length=120), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('storage_key', sa.String(length=200), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('attached_id', sa.Uuid(), nullable=True),
        sa.Column('attached_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.CheckConstraint('size >= 0', name=op.f('ck_files_size_positive')),
        sa.ForeignKeyConstraint(
            ['owner_id'], ['users.id'], name=op.f('fk_files_owner_id_users'), ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_files')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_files_storage_key')),
    )
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.create_index('ix_files_attached', ['purpose', 'attached_id'], unique=False)
        batch_op.create_index('ix_files_unattached', ['attached_at', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_files_owner_id'), ['owner_id'], unique=False)
    # The server default fills existing rows on SQLite and PostgreSQL alike.
    for table, column in LISTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column(column, sa.JSON(), nullable=False, server_default='[]'))


def downgrade():
    for table, column in LISTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_files_owner_id'))
        batch_op.drop_index('ix_files_unattached')
        batch_op.drop_index('ix_files_attached')
    op.drop_table('files')
