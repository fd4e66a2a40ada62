"""Notices for each person, their email choices per kind, and when a session's reminder went out.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None

KINDS = ("confirmed", "provider_changed", "time_changed", "cancelled", "declined", "checked_in", "checked_out",
         "care_card_changed", "message", "reminder", "handover")
KIND_CHECK = "kind IN ({})".format(", ".join(repr(k) for k in KINDS))


def upgrade():
    op.create_table('notice',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=True),
    sa.Column('conversation_id', sa.Integer(), nullable=True),
    sa.Column('recipient_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint(KIND_CHECK, name=op.f('ck_notice_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notice_user_id_user_account'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['respite_session.id'], name=op.f('fk_notice_session_id_respite_session'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['conversation_id'], ['conversation.id'], name=op.f('fk_notice_conversation_id_conversation'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['recipient_id'], ['care_recipient.id'], name=op.f('fk_notice_recipient_id_care_recipient'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_notice_actor_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notice'))
    )
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.create_index('ix_notice_user_id_id', ['user_id', 'id'], unique=False)
        batch_op.create_index('ix_notice_user_id_read_at', ['user_id', 'read_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_conversation_id'), ['conversation_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_recipient_id'), ['recipient_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_actor_id'), ['actor_id'], unique=False)
    op.create_table('notice_preference',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('by_email', sa.Boolean(), nullable=False),
    sa.CheckConstraint(KIND_CHECK, name=op.f('ck_notice_preference_kind')),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notice_preference_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'kind', name=op.f('pk_notice_preference'))
    )
    with op.batch_alter_table('respite_session', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder_sent_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    _drop_column('respite_session', 'reminder_sent_at')
    op.drop_table('notice_preference')
    with op.batch_alter_table('notice', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_actor_id'))
        batch_op.drop_index(batch_op.f('ix_notice_recipient_id'))
        batch_op.drop_index(batch_op.f('ix_notice_conversation_id'))
        batch_op.drop_index(batch_op.f('ix_notice_session_id'))
        batch_op.drop_index('ix_notice_user_id_read_at')
        batch_op.drop_index('ix_notice_user_id_id')
    op.drop_table('notice')


def _drop_column(table, column):
    # SQLite (3.35 and later) drops a plain column in place; Alembic would rebuild
    # the table, which foreign keys pointing at it forbid inside a transaction.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)
