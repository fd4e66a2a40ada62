"""Centers' opening hours, the program's settings (the default yearly hours), and invitations as emailed links.

`center.opening_hours` maps a weekday ("mon".."sun") to when the center opens
and closes; a day not named is closed. `program_settings` holds one row, once a
coordinator has set something (until then the configuration's defaults hold).
An invitation is now an `email_link` of purpose "invitation": links made before
this migration were signed tokens, which stop working; the coordinator sends a
new one from the invitations page.

SQLite can't alter a check constraint: `email_link` is rebuilt (nothing points
at it, so it may be inside this transaction), its rows copied as they are.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

PURPOSE_CHECK = 'ck_email_link_purpose'
OLD_PURPOSES = "purpose IN ('sign_up', 'reset')"
NEW_PURPOSES = "purpose IN ('sign_up', 'reset', 'invitation')"


def upgrade():
    op.add_column('center', sa.Column('opening_hours', sa.JSON(), nullable=False, server_default='{}'))
    op.create_table('program_settings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('default_allotment_minutes', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_program_settings_one_row')),
    sa.CheckConstraint('default_allotment_minutes >= 0', name=op.f('ck_program_settings_allotment_not_negative')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_program_settings'))
    )
    _purposes(OLD_PURPOSES, NEW_PURPOSES)


def downgrade():
    op.execute("DELETE FROM email_link WHERE purpose = 'invitation'")
    _purposes(NEW_PURPOSES, OLD_PURPOSES)
    op.drop_table('program_settings')
    _drop_column('center', 'opening_hours')


def _purposes(old, new):
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f(PURPOSE_CHECK), 'email_link', type_='check')
        op.create_check_constraint(op.f(PURPOSE_CHECK), 'email_link', new)
        return
    with op.batch_alter_table('email_link', copy_from=_email_link(old), recreate='always') as batch_op:
        batch_op.drop_constraint(op.f(PURPOSE_CHECK), type_='check')
        batch_op.create_check_constraint(op.f(PURPOSE_CHECK), new)


def _email_link(purposes):
    """email_link as migration 0005 made it, with its purposes' check as given."""
    return sa.Table(
        'email_link',
        sa.MetaData(),
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.String(length=20), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(purposes, name=PURPOSE_CHECK),
        sa.ForeignKeyConstraint(
            ['user_id'], ['user_account.id'], name='fk_email_link_user_id_user_account', ondelete='CASCADE'
        ),
        sa.PrimaryKeyConstraint('id', name='pk_email_link'),
        sa.UniqueConstraint('token_hash', name='uq_email_link_token_hash'),
        sa.Index('ix_email_link_email', 'email'),
        sa.Index('ix_email_link_user_id', 'user_id'),
    )


def _drop_column(table, column):
    # SQLite (3.35 and later) drops a plain column in place; Alembic would rebuild
    # the table, which foreign keys pointing at it forbid inside a transaction.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)
