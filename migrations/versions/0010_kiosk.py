"""The front desk: kiosk tablets paired with a center by one-time codes, handovers, and each center's staff PIN.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('kiosk_device',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('last_seen_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoked_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['center_id'], ['center.id'], name=op.f('fk_kiosk_device_center_id_center'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_kiosk_device_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['revoked_by_id'], ['user_account.id'], name=op.f('fk_kiosk_device_revoked_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_device')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_kiosk_device_token_hash'))
    )
    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_device_center_id'), ['center_id'], unique=False)
    op.create_table('kiosk_pairing',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('center_id', sa.Integer(), nullable=False),
    sa.Column('device_name', sa.String(length=80), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('used_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['center_id'], ['center.id'], name=op.f('fk_kiosk_pairing_center_id_center'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_kiosk_pairing_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['device_id'], ['kiosk_device.id'], name=op.f('fk_kiosk_pairing_device_id_kiosk_device'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_kiosk_pairing')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_kiosk_pairing_code_hash'))
    )
    with op.batch_alter_table('kiosk_pairing', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_kiosk_pairing_center_id'), ['center_id'], unique=False)
    op.create_table('handover',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('person_name', sa.String(length=120), nullable=False),
    sa.Column('person_relationship', sa.String(length=80), nullable=False),
    sa.Column('on_list', sa.Boolean(), nullable=False),
    sa.Column('confirmed_by', sa.String(length=20), nullable=True),
    sa.Column('device_id', sa.Integer(), nullable=True),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('drop_off', 'pick_up')", name=op.f('ck_handover_kind')),
    sa.CheckConstraint("confirmed_by IN ('staff_pin')", name=op.f('ck_handover_confirmed_by')),
    sa.CheckConstraint('on_list OR confirmed_by IS NOT NULL', name=op.f('ck_handover_confirmed_unless_on_list')),
    sa.ForeignKeyConstraint(['session_id'], ['respite_session.id'], name=op.f('fk_handover_session_id_respite_session'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['device_id'], ['kiosk_device.id'], name=op.f('fk_handover_device_id_kiosk_device'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_handover')),
    sa.UniqueConstraint('session_id', 'kind', name='uq_handover_session_kind')
    )
    with op.batch_alter_table('center', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kiosk_pin_hash', sa.String(length=255), nullable=True))


def downgrade():
    _drop_column('center', 'kiosk_pin_hash')
    op.drop_table('handover')
    with op.batch_alter_table('kiosk_pairing', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_pairing_center_id'))
    op.drop_table('kiosk_pairing')
    with op.batch_alter_table('kiosk_device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_kiosk_device_center_id'))
    op.drop_table('kiosk_device')


def _drop_column(table, column):
    # SQLite (3.35 and later) drops a plain column in place; Alembic would rebuild
    # the table, which foreign keys pointing at it forbid inside a transaction.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)
