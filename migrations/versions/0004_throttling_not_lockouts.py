"""Sign-in throttling replaces the account lockout: the failure count and the locked-until time go.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    _drop_column('user_account', 'locked_until')
    _drop_column('user_account', 'failed_logins')


def downgrade():
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True))


def _drop_column(table, column):
    # SQLite (3.35 and later) drops a plain column in place; Alembic would rebuild
    # the table, which foreign keys pointing at it forbid inside a transaction.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    else:
        op.drop_column(table, column)
